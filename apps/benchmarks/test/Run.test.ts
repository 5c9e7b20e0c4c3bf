import { describe, expect, it } from "@effect/vitest"
import * as NullOrg from "../src/NullOrg.js"
import { contextOf, medianRun, result, type RunResult, runsOf, sittingOrder } from "../src/Run.js"
import { targetSize } from "../src/Report.js"

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

describe("result", () => {
  const figures = { wallSeconds: 2, cpuSeconds: 1, peakRssMiB: 100, exitCode: 0 }
  const dataset = { count: 3, jsonl: "", csv: "", jsonlBytes: 0, csvBytes: 0 }

  it("counts only the calls and rows since the context was taken, and judges them against what was expected", async () => {
    const org = await NullOrg.start({ Contact: { name: "Contact" } })
    try {
      const load = async (rows: number) => {
        const create = await fetch(`${org.url}/services/data/v62.0/jobs/ingest`, { method: "POST", body: JSON.stringify({ object: "Contact", operation: "insert" }) })
        const { id } = (await create.json()) as { id: string }
        await fetch(`${org.url}/services/data/v62.0/jobs/ingest/${id}/batches`, { method: "PUT", body: `LastName\n${"Name\n".repeat(rows)}` })
        await fetch(`${org.url}/services/data/v62.0/jobs/ingest/${id}`, { method: "PATCH", body: JSON.stringify({ state: "UploadComplete" }) })
      }
      await load(5)
      const context = await contextOf({ dataset, emulator: org, directory: "", nodeFlags: [] })
      await load(3)
      const measured = await result("connector", context, figures)
      expect([measured.ok, measured.loaded, measured.apiCalls, measured.callsByKind]).toEqual([true, 3, 3, { create: 1, upload: 1, close: 1 }])
      const refused = await result("connector-refused", context, figures, undefined, { loaded: 0, failed: 3 })
      expect(refused.ok).toBe(false)
    } finally {
      await org.stop()
    }
  })
})

describe("sittingOrder", () => {
  it("puts one of the floor's runs before each other subject, and the rest at the end", () => {
    expect(sittingOrder(["floor", "connector", "connector-null-org", "runner", "jsforce"], 3)).toEqual([
      "floor",
      "connector",
      "floor",
      "connector-null-org",
      "floor",
      "runner",
      "jsforce"
    ])
    expect(sittingOrder(["connector", "floor"], 3)).toEqual(["floor", "connector", "floor", "floor"])
  })

  it("runs no floor when the floor is not a subject", () => {
    expect(sittingOrder(["connector", "runner"], 3)).toEqual(["connector", "runner"])
  })
})

describe("runsOf", () => {
  const once = { repeats: 1, profiled: false, targetSize: 1_000_000 }

  it("runs the floor, and the connector at the size the targets are judged at, at least 3 times", () => {
    expect({
      floor: runsOf("floor", 3_000_000, once),
      connectorAtTarget: runsOf("connector", 1_000_000, once),
      connectorElsewhere: runsOf("connector", 3_000_000, once),
      nullOrg: runsOf("connector-null-org", 1_000_000, once),
      jsforce: runsOf("jsforce", 1_000_000, once)
    }).toEqual({ floor: 3, connectorAtTarget: 3, connectorElsewhere: 1, nullOrg: 1, jsforce: 1 })
  })

  it("repeats every subject as asked, and a profiled one once (the floor is never profiled)", () => {
    expect([runsOf("runner", 1_000_000, { ...once, repeats: 5 }), runsOf("connector", 1_000_000, { ...once, repeats: 5 })]).toEqual([5, 5])
    expect([runsOf("connector", 1_000_000, { ...once, profiled: true }), runsOf("floor", 1_000_000, { ...once, profiled: true })]).toEqual([1, 3])
  })

  it("judges targets at 1,000,000 rows when measured, else at the smallest size", () => {
    expect([targetSize([1_000_000, 3_000_000]), targetSize([3_000_000, 100_000]), targetSize([3_000_000])]).toEqual([1_000_000, 100_000, 3_000_000])
  })
})
