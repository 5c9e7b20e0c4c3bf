import { describe, expect, it } from "@effect/vitest"
import { medianRun, type RunResult } from "../src/Run.js"

const run = (wallSeconds: number, ok = true): RunResult => ({
  subject: "floor",
  records: 1_000,
  wallSeconds,
  cpuSeconds: wallSeconds,
  peakRssMiB: 100 + wallSeconds,
  exitCode: ok ? 0 : 1,
  recordsPerSecond: 1_000 / wallSeconds,
  apiCalls: 0,
  callsByKind: {},
  loaded: 1_000,
  failed: 0,
  ok
})

describe("medianRun", () => {
  it("keeps a single run as it is", () => {
    expect(medianRun(run(2), [])).toEqual(run(2))
  })

  it("takes the run with the median wall time, with every run's wall time", () => {
    const median = medianRun(run(2.9), [run(2.4), run(2.5)])
    expect([median.wallSeconds, median.peakRssMiB, median.wallSecondsOfRuns, median.ok]).toEqual([2.5, 102.5, [2.9, 2.4, 2.5], true])
  })

  it("takes the lower middle of an even count, and fails if any run failed", () => {
    const median = medianRun(run(4), [run(1), run(3, false), run(2)])
    expect([median.wallSeconds, median.ok]).toEqual([2, false])
  })
})
