import { describe, expect, it } from "@effect/vitest"
import { markdown, type Results, targets } from "../src/Report.js"
import type { RunResult, Subject } from "../src/Run.js"

const run = (subject: Subject, records: number, wallSeconds: number, peakRssMiB: number, apiCalls: number): RunResult => ({
  subject,
  records,
  wallSeconds,
  cpuSeconds: wallSeconds,
  peakRssMiB,
  exitCode: 0,
  recordsPerSecond: records / wallSeconds,
  apiCalls,
  callsByKind: {},
  loaded: records,
  failed: 0,
  ok: true
})

const results = (runs: ReadonlyArray<RunResult>, small: ReadonlyArray<RunResult> = []): Results => ({
  generatedAt: "2026-01-01T00:00:00.000Z",
  command: "pnpm bench",
  machine: { cpu: "test", cores: 2, memoryGiB: 4, node: "20", platform: "linux" },
  recordBytes: 370,
  runs,
  small
})

describe("targets", () => {
  it("judges each target from the runs", () => {
    const judged = targets(
      results(
        [
          run("floor", 1_000_000, 4, 100, 0),
          run("connector", 1_000_000, 5, 200, 12),
          run("jsforce", 1_000_000, 10, 1_000, 10),
          run("connector", 3_000_000, 15, 220, 40)
        ],
        [run("connector", 100, 1.2, 120, 7)]
      )
    )
    expect(judged.map((target) => target.met)).toEqual([true, true, true, true, true, true, true])
    expect(judged[0]?.measured).toBe("1.25 ×")
  })

  it("marks missed targets and unmeasured ones", () => {
    const judged = targets(results([run("floor", 1_000_000, 2, 100, 0), run("connector", 1_000_000, 4, 400, 50)]))
    expect(judged.map((target) => target.met)).toEqual([false, undefined, undefined, false, undefined, false, undefined])
  })

  it("shows the connector against the null org beside the floor ratio, judging only the real load", () => {
    const judged = targets(
      results([run("floor", 1_000_000, 2, 100, 0), run("connector", 1_000_000, 4, 180, 15), run("connector-null-org", 1_000_000, 2.8, 180, 6)])
    )
    expect([judged[0]?.measured, judged[0]?.met]).toEqual(["2.00 ×; against the null org 1.40 ×", false])
  })
})

describe("markdown", () => {
  it("prints a table per size with ratios against the floor and jsforce", () => {
    const text = markdown(
      results([run("floor", 1_000, 1, 50, 0), { ...run("connector", 1_000, 2, 100, 8), emulatorCpuSeconds: 1.5 }, run("jsforce", 1_000, 4, 300, 9)])
    )
    expect(text).toContain("### N = 1,000")
    expect(text).toContain("| connector | 2.00 | 500 | 2.00 | 1.50 | 100 | 8 | 8000.0 | 2.00 | 0.50 |")
    expect(
      markdown(results([{ ...run("floor", 1_000, 1, 50, 0), wallSecondsOfRuns: [1.2, 1, 0.9] }, run("connector", 1_000, 2, 100, 8)]))
    ).toContain("Median of repeated runs (wall times): floor 1.20 / 1.00 / 0.90 s.")
    // the emulator's CPU is shown only when it was measured
    expect(text).toContain("| jsforce | 4.00 | 250 | 4.00 | – | 300 | 9 | 9000.0 | 4.00 | – |")
    expect(text).toContain("Command: `pnpm bench`")
  })

  it("names the allocator setting the processes ran with, when there was one", () => {
    const base = results([run("floor", 1_000, 1, 50, 0)])
    const tuned = markdown({ ...base, machine: { ...base.machine, glibcTunables: "glibc.malloc.hugetlb=1" } })
    expect(tuned).toContain("emulator server in its own process on loopback; every process with `GLIBC_TUNABLES=glibc.malloc.hugetlb=1`.")
    expect(markdown(base)).toContain("emulator server in its own process on loopback.")
  })
})
