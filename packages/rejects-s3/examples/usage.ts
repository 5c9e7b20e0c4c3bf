import { RejectedRecord, RejectReader, RejectSink } from "@sfdc-activation/rejects-s3"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"

// Store the rows of a failed Bulk API job, flush (only then acknowledge), and read them back.
export const storeAndReplay = (directory: string) =>
  Effect.gen(function* () {
    const sink = yield* RejectSink.RejectSink
    const sfError = "REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --"
    yield* sink.write([
      {
        row: { Email: "ann@example.com", FirstName: "Ann" },
        sfError,
        ...RejectedRecord.parseSfError(sfError),
        jobId: "750xx0000000001AAA",
        object: "Contact",
        operation: "upsert",
        stream: { name: "contacts", namespace: "crm" },
        syncId: "42",
        rejectedAt: new Date().toISOString()
      }
    ])
    yield* sink.flush // durable from here: safe to echo the Airbyte STATE
    return yield* Stream.runCollect(RejectReader.read({ _tag: "Local", directory, prefix: "rejected/42/" }))
  }).pipe(
    Effect.provide(RejectSink.layerLocal({ directory, bucketPath: "rejected", syncId: "42", compression: "gzip" }))
  )
