import { Batcher, CsvEncoder } from "@sfdc-activation/batcher"
import type { FieldMetadata } from "@sfdc-activation/batcher"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"

// Encode records for an upsert, batch them, upload each batch; return the local rejects.
export const load = (
  describe: FieldMetadata.ObjectMetadata,
  records: Stream.Stream<Record<string, unknown>>,
  upload: (batch: Batcher.Batch) => Effect.Effect<void>
) =>
  Effect.gen(function* () {
    const encoder = yield* CsvEncoder.make({
      object: describe,
      operation: "upsert",
      externalIdFieldName: "External_Id__c",
      columns: [
        { column: "External_Id__c", source: { key: "id" } },
        { column: "LastName", source: { key: "last_name" } },
        { column: "Email", source: { key: "email" }, nullPolicy: "leave" }
      ]
    })
    const rejects: Array<string> = []
    yield* records.pipe(
      Stream.zipWithIndex,
      Stream.filterMap(([record, ordinal]) => {
        const encoded = encoder.encode(record)
        if (encoded._tag === "Row") return Option.some(Batcher.row(ordinal, encoded))
        rejects.push(`${ordinal} ${CsvEncoder.formatError(encoded)}`)
        return Option.none()
      }),
      Batcher.batches({ header: encoder.header, maxBatchRows: 10_000, maxBatchAge: "30 seconds" }),
      Stream.mapEffect((output) => (output._tag === "Batch" ? Batcher.use(output, upload) : Effect.void)),
      Stream.runDrain
    )
    return rejects
  })
