/**
 * The fault matrix: a real `write` against the emulated org (MSW) and s3rver, under one fault
 * at a time, then the data-safety invariant. Runs that fail must fail with a clear error and
 * still keep the invariant.
 */
import { describe, expect, it } from "@effect/vitest"
import type { Faults } from "@sfdc-activation/salesforce-emulator"
import * as Effect from "effect/Effect"
import { reliabilitySuite } from "./harness.js"
import { runScenario, type Scenario } from "./scenario.js"

const env = reliabilitySuite()
const { s3 } = env

const burst = (call: Faults.CallKind, status: number, times = 2): Faults.Config => ({ httpErrors: [{ call, status, times }] })

const succeedingScenarios: ReadonlyArray<Scenario> = [
  { name: "no fault (baseline)", faults: {}, outcome: "succeeds", proof: (stats) => expect(stats.calls.create).toBeGreaterThanOrEqual(4) },
  { name: "no fault, insert", faults: {}, mode: "insert", outcome: "succeeds" },
  ...(["token", "create", "upload", "close", "poll", "results"] as const).flatMap((call): Array<Scenario> =>
    [500, 503].map((status) => ({
      name: `${status} burst on ${call}`,
      faults: burst(call, status),
      outcome: "succeeds",
      proof: (stats) => expect(stats.calls[call]).toBeGreaterThanOrEqual(3)
    }))
  ),
  {
    name: "dropped connection mid-upload (Salesforce got the body, the client saw the connection die)",
    faults: { dropConnections: [{ call: "upload", every: 2, times: 2, afterBytes: 0 }] },
    http: true,
    outcome: "succeeds",
    proof: (stats) => expect(stats.calls.abort).toBeGreaterThanOrEqual(2)
  },
  {
    name: "dropped connection before an upload is answered",
    faults: { dropConnections: [{ call: "upload", times: 1 }] },
    outcome: "succeeds",
    proof: (stats) => expect(stats.calls.abort).toBeGreaterThanOrEqual(1)
  },
  {
    name: "dropped connection mid-results-download",
    faults: { dropConnections: [{ call: "results", every: 2, times: 3, afterBytes: 40 }] },
    http: true,
    outcome: "succeeds",
    proof: (stats) => expect(stats.calls.results).toBeGreaterThanOrEqual(6)
  },
  {
    name: "dropped connection after a close was applied",
    faults: { dropConnections: [{ call: "close", times: 1, afterBytes: 10 }] },
    http: true,
    outcome: "succeeds"
  },
  {
    name: "dropped connection on poll",
    faults: { dropConnections: [{ call: "poll", every: 2, times: 2 }] },
    outcome: "succeeds"
  },
  ...(["create", "upload", "close", "poll", "results"] as const).map(
    (call): Scenario => ({
      name: `session expiry (401 INVALID_SESSION_ID) on ${call}`,
      faults: { httpErrors: [{ call, status: 401, times: 1 }] },
      outcome: "succeeds",
      proof: (stats) => expect(stats.calls.token).toBeGreaterThanOrEqual(2)
    })
  ),
  {
    name: "sessions that die every 4 requests",
    faults: { sessionTtlRequests: 4 },
    outcome: "succeeds",
    proof: (stats) => expect(stats.calls.token).toBeGreaterThanOrEqual(5)
  },
  {
    name: "refresh-token rotation during the run (sessions die every 5 requests)",
    faults: { sessionTtlRequests: 5, rotateRefreshToken: true },
    outcome: "succeeds",
    proof: (stats, output) => {
      expect(stats.calls.token).toBeGreaterThanOrEqual(3)
      expect(output.messages.some((message) => message.type === "CONTROL")).toBe(true)
    }
  },
  {
    name: "a job that ends Failed part way (unprocessed rows resent, then rejected as UNPROCESSED when every job keeps failing)",
    faults: { failJobAfterRows: 4 },
    extraRejects: ["UNPROCESSED", "UNABLE_TO_LOCK_ROW"],
    outcome: "succeeds",
    proof: (stats) => expect(stats.jobs["Failed"] ?? 0).toBeGreaterThanOrEqual(1)
  },
  {
    name: "UNABLE_TO_LOCK_ROW on many rows",
    faults: { lockErrorRate: 0.6 },
    outcome: "succeeds",
    proof: (stats) => expect(stats.rowsFailed).toBeGreaterThanOrEqual(20)
  },
  {
    name: "UNABLE_TO_LOCK_ROW on many rows, insert",
    faults: { lockErrorRate: 0.6 },
    mode: "insert",
    outcome: "succeeds",
    proof: (stats) => expect(stats.rowsFailed).toBeGreaterThanOrEqual(20)
  },
  {
    name: "latency on every call",
    faults: { latencyMs: 5, processingDelayMs: 20 },
    outcome: "succeeds"
  }
]

describe("fault matrix: the run gets through, every record accounted for", () => {
  for (const scenario of succeedingScenarios) {
    it.live(scenario.name, () => Effect.asVoid(runScenario(env, s3(), scenario)))
  }
})

describe("fault matrix: the run fails cleanly, nothing acknowledged that is not safe", () => {
  it.live("REQUEST_LIMIT_EXCEEDED mid-run: stops, keeps states for committed work, says which limit and when it frees up", () =>
    Effect.gen(function* () {
      // One job at a time; the allowance runs out at the third job's creation. (Run out while a
      // closed job is polled, the run waits for that job instead: Salesforce commits it anyway.)
      const { output, report } = yield* runScenario(env, s3(), {
        name: "daily API limit",
        faults: { httpErrors: [{ call: "create", status: 403, errorCode: "REQUEST_LIMIT_EXCEEDED", message: "TotalRequests Limit exceeded.", every: 3, times: 1 }] },
        maxConcurrentJobs: 1,
        outcome: { failsWith: ["REQUEST_LIMIT_EXCEEDED", "TotalRequests", "24 hours"], failureType: "transient_error" }
      })
      expect(report.acknowledged).toBeGreaterThan(0)
      expect(report.pending).toBeGreaterThan(0)
      expect(output.states.length).toBeGreaterThan(0)
    }))

  it.live("a refusal that no retry cures (403 API_DISABLED_FOR_ORG on the 3rd create): stops at once, earlier work acknowledged", () =>
    Effect.gen(function* () {
      const { report } = yield* runScenario(env, s3(), {
        name: "create refused",
        faults: { httpErrors: [{ call: "create", status: 403, every: 3, errorCode: "API_DISABLED_FOR_ORG", message: "API is not enabled for this Organization or Partner" }] },
        outcome: { failsWith: ["create call failed", "Forbidden", "API_DISABLED_FOR_ORG"], failureType: "system_error" }
      })
      expect(report.stored).toBeGreaterThan(0)
      expect(report.pending).toBeGreaterThan(0)
    }))

  it.live("the token endpoint refusing the refresh token mid-run fails as a config error", () =>
    Effect.gen(function* () {
      yield* runScenario(env, s3(), {
        name: "revoked",
        faults: { sessionTtlRequests: 6, httpErrors: [{ call: "token", status: 400, every: 2 }] },
        outcome: { failsWith: ["Salesforce authentication failed"], failureType: "config_error" }
      })
    }))
})
