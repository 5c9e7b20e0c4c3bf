/**
 * Interruption over a real loopback socket, without MSW in the process: MSW's fetch interceptor
 * does not cancel an in-flight request on abort, which real fetch does.
 */
import { afterAll, describe, expect, it } from "@effect/vitest"
import { EmulatorServer, Org } from "@sfdc-activation/salesforce-emulator"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import { Pipeline, StreamPlans } from "../src/index.js"
import { bulkLayer, localRejects, tempDirectory } from "./support.js"

const org = Org.make()
afterAll(() => org.shutdown())

describe("interruption", () => {
  it.live("aborts the open job, and does not hang when the abort itself hangs", () =>
    Effect.gen(function* () {
      const running = yield* Effect.acquireRelease(
        Effect.promise(() => EmulatorServer.start(org, { port: 0 })),
        (server) => Effect.promise(() => server.close())
      )
      org.setFaults({ processingDelayMs: 0, slowResponses: [{ call: "upload", delayMs: 60_000 }] })
      const plan = yield* StreamPlans.plan({
        stream: { name: "leads" },
        object: "Lead",
        operation: "insert",
        columns: [
          { column: "LastName", source: { key: "last" } },
          { column: "Company", source: { key: "company" } }
        ]
      }).pipe(Effect.provide(bulkLayer(org, running.url)))
      const run = (abortGracePeriod: Duration.DurationInput) =>
        Stream.make(Pipeline.record("leads", { last: "Interrupted", company: "Acme" })).pipe(
          Pipeline.run(new Map([["leads", plan]]), { ingest: { abortGracePeriod } }),
          Stream.runDrain,
          Effect.provide(Layer.merge(bulkLayer(org, running.url), localRejects(tempDirectory("interrupt-")))),
          Effect.fork
        )
      const waitForUpload = (count: number) =>
        Effect.gen(function* () {
          const deadline = Date.now() + 20_000
          while (org.stats().calls.upload < count && Date.now() < deadline) yield* Effect.sleep("10 millis")
          expect(org.stats().calls.upload).toBeGreaterThanOrEqual(count)
        })

      const fiber = yield* run("10 seconds")
      yield* waitForUpload(1)
      yield* Fiber.interrupt(fiber)
      expect(org.stats().jobs["Aborted"]).toBe(1)

      org.setFaults({ processingDelayMs: 0, slowResponses: [{ call: "upload", delayMs: 60_000 }, { call: "abort", delayMs: 60_000 }] })
      const hung = yield* run("200 millis")
      yield* waitForUpload(2)
      const started = Date.now()
      yield* Fiber.interrupt(hung)
      expect(Date.now() - started).toBeLessThan(5_000)
    }).pipe(Effect.scoped), 60_000)
})
