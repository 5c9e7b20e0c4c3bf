/**
 * Results as JSON (`results/latest.json`) and as a Markdown table with ratios (ours / floor, ours /
 * jsforce), API calls per million records and the issue's targets, each met or missed.
 */
import type { RunResult, Subject } from "./Run.js"

export interface Machine {
  readonly cpu: string
  readonly cores: number
  readonly memoryGiB: number
  readonly node: string
  readonly platform: string
  /** `GLIBC_TUNABLES` of every measured process and of the org ("" when none). */
  readonly glibcTunables?: string
}

export interface Results {
  readonly generatedAt: string
  readonly command: string
  readonly machine: Machine
  readonly recordBytes: number
  readonly runs: ReadonlyArray<RunResult>
  /** Small syncs: 100 records end to end with the emulator's default processing delay. */
  readonly small: ReadonlyArray<RunResult>
}

export interface Target {
  readonly name: string
  readonly measured: string
  readonly met: boolean | undefined
}

const perMillion = 1_000_000
const fixed = (value: number, digits = 2) => value.toFixed(digits)
const grouped = (value: number) => Math.round(value).toLocaleString("en-US")

const find = (runs: ReadonlyArray<RunResult>, subject: Subject, records: number) =>
  runs.find((run) => run.subject === subject && run.records === records)

/** A ratio of two runs' figures, or undefined when either is missing or failed. */
const ratio = (ours: RunResult | undefined, theirs: RunResult | undefined, figure: (run: RunResult) => number) =>
  ours === undefined || theirs === undefined || !theirs.ok ? undefined : figure(ours) / figure(theirs)

/** The size the targets compare subjects at: 1,000,000 when measured, else the smallest. */
export const targetSize = (sizes: ReadonlyArray<number>): number => (sizes.includes(perMillion) ? perMillion : Math.min(...sizes))

/** The issue's targets, judged on these results (undefined when not measured). */
export const targets = (results: Results): Array<Target> => {
  const { runs, small } = results
  const sizes = [...new Set(runs.map((run) => run.records))].sort((a, b) => a - b)
  const million = sizes.length === 0 ? 0 : targetSize(sizes)
  const connector = find(runs, "connector", million)
  const floor = find(runs, "floor", million)
  const floorRatio = ratio(connector, floor, (run) => run.wallSeconds)
  const nullOrgRatio = ratio(find(runs, "connector-null-org", million), floor, (run) => run.wallSeconds)
  const nullOrg = nullOrgRatio === undefined ? "" : `; against the null org ${fixed(nullOrgRatio)} ×`
  const jsforce = find(runs, "jsforce", million)
  const wallVsJsforce = ratio(connector, jsforce, (run) => run.wallSeconds)
  const rssVsJsforce = ratio(connector, jsforce, (run) => run.peakRssMiB)
  const connectors = sizes.map((size) => find(runs, "connector", size)).filter((run) => run !== undefined)
  const rss = connectors.map((run) => run.peakRssMiB)
  const rssSpread = rss.length < 2 ? undefined : Math.max(...rss) / Math.min(...rss) - 1
  const calls = connectors.map((run) => (run.apiCalls * perMillion) / run.records)
  const smallConnector = small.find((run) => run.subject === "connector")
  const n = `N = ${grouped(million)}`
  return [
    {
      name: `connector wall time ≤ 1.5 × floor (${n})`,
      measured: floorRatio === undefined ? "not measured" : `${fixed(floorRatio)} ×${nullOrg}`,
      met: floorRatio === undefined ? undefined : floorRatio <= 1.5
    },
    {
      name: `connector faster than jsforce end to end (${n})`,
      measured: wallVsJsforce === undefined ? "not measured" : `${fixed(wallVsJsforce)} × jsforce's wall time`,
      met: wallVsJsforce === undefined ? undefined : wallVsJsforce < 1
    },
    {
      name: `connector peak RSS ≤ ¼ of jsforce's (${n})`,
      measured: rssVsJsforce === undefined ? "not measured" : `${fixed(rssVsJsforce)} × jsforce's peak RSS`,
      met: rssVsJsforce === undefined ? undefined : rssVsJsforce <= 0.25
    },
    {
      name: "connector peak RSS < 300 MB at every N",
      measured: rss.length === 0 ? "not measured" : rss.map((value) => `${fixed(value, 0)} MiB`).join(", "),
      met: rss.length === 0 ? undefined : rss.every((value) => value * 1024 * 1024 < 300_000_000)
    },
    {
      name: "connector peak RSS within 15 % between sizes",
      measured: rssSpread === undefined ? "needs two sizes" : `${fixed(rssSpread * 100, 1)} % apart`,
      met: rssSpread === undefined ? undefined : rssSpread <= 0.15
    },
    {
      name: "≤ 30 API calls per 1,000,000 records",
      measured: calls.length === 0 ? "not measured" : calls.map((value) => fixed(value, 1)).join(", "),
      met: calls.length === 0 ? undefined : calls.every((value) => value <= 30)
    },
    {
      name: "100 records end to end < 3 s (default processing delay)",
      measured: smallConnector === undefined ? "not measured" : `${fixed(smallConnector.wallSeconds)} s`,
      met: smallConnector === undefined ? undefined : smallConnector.ok && smallConnector.wallSeconds < 3
    }
  ]
}

const mark = (met: boolean | undefined) => (met === undefined ? "–" : met ? "met" : "**missed**")

const row = (run: RunResult, floor: RunResult | undefined, jsforce: RunResult | undefined) => {
  const vsFloor = run.subject === "floor" ? undefined : ratio(run, floor, (r) => r.wallSeconds)
  const vsJsforce = run.subject === "jsforce" || run.subject === "floor" ? undefined : ratio(run, jsforce, (r) => r.wallSeconds)
  const callsPerMillion = run.subject === "floor" ? "–" : fixed((run.apiCalls * perMillion) / run.records, 1)
  return `| ${run.subject}${run.ok ? "" : " (failed)"} | ${fixed(run.wallSeconds)} | ${grouped(run.recordsPerSecond)} | ${fixed(run.cpuSeconds)} | ${run.subject === "floor" || run.emulatorCpuSeconds === undefined ? "–" : fixed(run.emulatorCpuSeconds)} | ${fixed(run.peakRssMiB, 0)} | ${run.subject === "floor" ? "–" : run.apiCalls} | ${callsPerMillion} | ${vsFloor === undefined ? "–" : fixed(vsFloor)} | ${vsJsforce === undefined ? "–" : fixed(vsJsforce)} |`
}

const header = [
  "| subject | wall s | records/s | CPU s | org CPU s | peak RSS MiB | API calls | calls / 1M | wall ÷ floor | wall ÷ jsforce |",
  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
]

/** The Markdown report: one table per size, the small sync, the targets. */
export const markdown = (results: Results): string => {
  const sizes = [...new Set(results.runs.map((run) => run.records))].sort((a, b) => a - b)
  const sections = sizes.map((size) => {
    const runs = results.runs.filter((run) => run.records === size)
    const floor = find(runs, "floor", size)
    const jsforce = find(runs, "jsforce", size)
    const repeated = runs.flatMap((run) =>
      run.wallSecondsOfRuns === undefined ? [] : [`${run.subject} ${run.wallSecondsOfRuns.map((seconds) => fixed(seconds)).join(" / ")} s`]
    )
    const medians = repeated.length === 0 ? [] : ["", `Median of repeated runs (wall times): ${repeated.join("; ")}.`]
    return [`### N = ${grouped(size)}`, "", ...header, ...runs.map((run) => row(run, floor, jsforce)), ...medians].join("\n")
  })
  const small = results.small.length === 0 ? [] : ["### Small sync: 100 records, default processing delay (200 ms)", "", ...header, ...results.small.map((run) => row(run, undefined, undefined))].join("\n")
  const notes = results.runs.concat(results.small).filter((run) => run.note !== undefined || !run.ok)
  const machine = results.machine
  return [
    `Measured ${results.generatedAt} on ${machine.cores} × ${machine.cpu}, ${machine.memoryGiB} GiB, Node ${machine.node} (${machine.platform}); rows of ~${results.recordBytes} bytes of JSON; emulator server in its own process on loopback${machine.glibcTunables ? `; every process with \`GLIBC_TUNABLES=${machine.glibcTunables}\`` : ""}.`,
    "",
    `Command: \`${results.command}\``,
    "",
    ...sections.flatMap((section) => [section, ""]),
    ...(small.length === 0 ? [] : [small, ""]),
    "### Targets",
    "",
    "| target | measured | |",
    "|---|---|---|",
    ...targets(results).map((target) => `| ${target.name} | ${target.measured} | ${mark(target.met)} |`),
    "",
    ...[...new Set(notes.map((run) => `- ${run.subject}: ${run.note ?? `exit ${run.exitCode}, ${run.loaded} loaded, ${run.failed} failed`}`))],
    ""
  ].join("\n")
}
