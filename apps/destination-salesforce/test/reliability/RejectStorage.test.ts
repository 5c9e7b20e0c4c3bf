/**
 * Rejects storage (s3rver) failing during a write: briefly (retried, the run completes) and
 * for good (the run fails; no state covering an unstored reject is acknowledged). Its own file
 * so the slow give-up (the S3 client's whole retry budget) runs beside the rest of the suite.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { reliabilitySuite } from "./harness.js"
import { runScenario } from "./scenario.js"

const env = reliabilitySuite()
const { s3 } = env

describe("fault matrix: S3 (s3rver) for rejects", () => {
  it.live("S3 answering 503 for a moment: retried, the run completes", () =>
    Effect.gen(function* () {
      s3().inject({ status: 503, code: "SlowDown" }, 3)
      const before = s3().requests()
      yield* runScenario(env, s3(), { name: "s3 blip", faults: {}, outcome: "succeeds" })
      expect(s3().requests() - before).toBeGreaterThan(3)
    }))

  it.live("S3 down for good: the run fails, no state covering a reject is acknowledged", () =>
    Effect.gen(function* () {
      yield* Effect.promise(() => s3().stop())
      const { output, report } = yield* runScenario(env, s3(), {
        name: "s3 down",
        faults: {},
        outcome: { failsWith: ["RejectSinkFailed"], failureType: "transient_error" }
      })
      // Record 3 (no LastName) is rejected in the first epoch, so nothing can be acknowledged.
      expect(output.states).toEqual([])
      expect(report.acknowledged).toBe(0)
    }), 60_000)
})
