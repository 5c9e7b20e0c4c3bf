import { describe, expect, it } from "@effect/vitest"
import { BulkClient } from "@sfdc-activation/bulk-client"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import { Pipeline, StreamPlans } from "../src/index.js"
import { bulkLayer, emulatedOrgSuite, localRejects, tempDirectory } from "./support.js"

const { org } = emulatedOrgSuite()

/** The org's Bulk API client, counting how many jobs are awaited at once. */
const countingClient = (peak: { current: number; max: number }) =>
  Layer.effect(
    BulkClient.BulkClient,
    Effect.map(BulkClient.BulkClient, (client) => ({
      ...client,
      awaitJob: (jobId: string, options?: BulkClient.PollOptions) =>
        Effect.acquireUseRelease(
          Effect.sync(() => {
            peak.current++
            peak.max = Math.max(peak.max, peak.current)
          }),
          () => client.awaitJob(jobId, options),
          () => Effect.sync(() => peak.current--)
        )
    }))
  ).pipe(Layer.provide(bulkLayer(org)))

const jobsAtOnce = (serial: boolean) =>
  Effect.gen(function* () {
    org.setFaults({ processingDelayMs: 40 })
    const peak = { current: 0, max: 0 }
    const plan = yield* StreamPlans.plan({
      stream: { name: "leads" },
      object: "Lead",
      operation: "insert",
      serial,
      columns: [
        { column: "LastName", source: { key: "last" } },
        { column: "Company", source: { key: "company" } }
      ]
    }).pipe(Effect.provide(bulkLayer(org)))
    const records = Array.from({ length: 40 }, (_, index) => Pipeline.record("leads", { last: `Lead ${index}`, company: "Acme" }))
    yield* Stream.fromIterable(records).pipe(
      Pipeline.run(new Map([["leads", plan]]), { maxBatchRows: 5, maxConcurrentJobs: 4 }),
      Stream.runDrain,
      Effect.provide(Layer.merge(countingClient(peak), localRejects(tempDirectory("concurrency-"))))
    )
    return peak.max
  })

describe("job concurrency", () => {
  it.live("runs up to maxConcurrentJobs jobs at once, and one at a time for a serial stream", () =>
    Effect.gen(function* () {
      const parallel = yield* jobsAtOnce(false)
      expect(parallel).toBeGreaterThan(1)
      expect(parallel).toBeLessThanOrEqual(4)
      expect(yield* jobsAtOnce(true)).toBe(1)
    }))
})
