import type { BulkClient } from "@sfdc-activation/bulk-client"
import { Pipeline, type PipelineError, StreamPlans } from "@sfdc-activation/pipeline"
import type { RejectSink } from "@sfdc-activation/rejects-s3"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"

// Upserts contacts by external id; prints each checkpoint once all rows before it are settled.
export const syncContacts = (
  rows: Stream.Stream<Record<string, unknown>>
): Effect.Effect<void, PipelineError.PipelineError, BulkClient.BulkClient | RejectSink.RejectSink> =>
  Effect.gen(function* () {
    const plan = yield* StreamPlans.plan({
      stream: { name: "contacts" },
      object: "Contact",
      operation: "upsert",
      externalIdFieldName: "External_Id__c",
      columns: [
        { column: "External_Id__c", source: { key: "id" } },
        { column: "LastName", source: { key: "last_name" } },
        { column: "Email", source: { key: "email" } },
        { column: "Account.External_Id__c", source: { key: "account_key" } }
      ]
    })
    const inputs = rows.pipe(
      Stream.map((row) => Pipeline.record<string>("contacts", row)),
      Stream.concat(Stream.make(Pipeline.checkpoint("end of input")))
    )
    yield* inputs.pipe(
      Pipeline.run(new Map([["contacts", plan]]), { maxConcurrentJobs: 4 }),
      Stream.runForEach((event) =>
        event._tag === "CheckpointReleased"
          ? Effect.log(`checkpoint ${event.payload}: ${event.recordCount} records, ${event.rejectedCount} rejected`)
          : Effect.log(`done: ${event.summary.totals.created} created, ${event.summary.totals.updated} updated`)
      )
    )
  })
