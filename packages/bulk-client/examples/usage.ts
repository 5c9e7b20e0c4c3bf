import type { AuthError } from "@sfdc-activation/auth"
import { type BulkApiError, BulkClient, type ResultRows } from "@sfdc-activation/bulk-client"
import type * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"

interface UpsertOutcome {
  readonly state: string
  readonly processed: number | null | undefined
  readonly refused: Chunk.Chunk<ResultRows.ResultRow>
}

// Upserts accounts by external id and returns the rows Salesforce refused, with their errors.
export const upsertAccounts = (
  csv: string
): Effect.Effect<UpsertOutcome, BulkApiError.BulkApiError | AuthError.AuthError, BulkClient.BulkClient> =>
  Effect.gen(function* () {
    const bulk = yield* BulkClient.BulkClient
    const body = new TextEncoder().encode(csv)
    const job = yield* bulk.createJob({ object: "Account", operation: "upsert", externalIdFieldName: "External_Id__c" })
    yield* bulk.upload(job.id, Stream.make(body), body.length)
    yield* bulk.closeJob(job.id)
    const done = yield* bulk.awaitJob(job.id, { timeout: "2 hours" })
    const refused = yield* Stream.runCollect(bulk.results(job.id, "failedResults"))
    return { state: done.state, processed: done.numberRecordsProcessed, refused }
  })
