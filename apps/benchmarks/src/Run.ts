/** What one measured run of a subject produced, and the context every subject gets. */
import type { Dataset } from "./Data.js"
import type { Emulator } from "./Emulator.js"
import type { ProcessFigures } from "./Measure.js"

/**
 * `connector-null-org`: the connector against the null org (its own cost, no Salesforce processing).
 * `connector-upsert`, `connector-refused`, `connector-failing-jobs`, `connector-many-streams`, `connector-fan-out`: the connector's other paths
 * (see `subjects/Connector.ts`); `runner-file`: the runner with a CSV file source.
 */
export type Subject =
  | "floor"
  | "connector"
  | "connector-null-org"
  | "connector-upsert"
  | "connector-refused"
  | "connector-failing-jobs"
  | "connector-many-streams"
  | "connector-fan-out"
  | "runner"
  | "runner-file"
  | "jsforce"

/** What the org must hold after a run for it to count as ok: rows stored and rows refused. */
export interface Expected {
  readonly loaded: number
  readonly failed: number
}

export interface RunContext {
  readonly dataset: Dataset
  /** A fresh emulator for this run (absent for the floor). */
  readonly emulator: Emulator
  /** A scratch directory for configs and outputs of this run. */
  readonly directory: string
  /** Extra node flags (`--cpu-prof …`) for the measured process. */
  readonly nodeFlags: ReadonlyArray<string>
  /** Contacts the emulator held before the run (its fixture's seed records). */
  readonly storedBefore: number
  /** API calls the emulator had counted before the run, by kind (and `total`). */
  readonly callsBefore: Readonly<Record<string, number>>
  /** Rows the emulator had refused before the run. */
  readonly failedBefore: number
  /** The emulator's CPU seconds before the run, when they can be read. */
  readonly emulatorCpuBefore: number | undefined
}

export interface RunResult extends ProcessFigures {
  readonly subject: Subject
  readonly records: number
  readonly recordsPerSecond: number
  /** Salesforce API calls the emulator counted (admin calls excluded), by kind. */
  readonly apiCalls: number
  readonly callsByKind: Readonly<Record<string, number>>
  /** Rows the emulator stored / rejected. */
  readonly loaded: number
  readonly failed: number
  readonly ok: boolean
  /** CPU seconds the emulator spent during the run (it shares the machine's cores). */
  readonly emulatorCpuSeconds?: number
  /** Wall times of every run when the subject ran more than once; the figures are the median run's. */
  readonly wallSecondsOfRuns?: ReadonlyArray<number>
  readonly note?: string
}

/** A run's context, with the emulator's counts as they stand now (what the run is measured from). */
export const contextOf = async (
  base: Pick<RunContext, "dataset" | "emulator" | "directory" | "nodeFlags">
): Promise<RunContext> => {
  const stats = await base.emulator.stats()
  return {
    ...base,
    storedBefore: stats.records["Contact"] ?? 0,
    callsBefore: stats.calls,
    failedBefore: stats.rowsFailed,
    emulatorCpuBefore: base.emulator.cpuSeconds()
  }
}

/** The figures of a finished process plus the emulator's view of what was loaded. */
export const result = async (
  subject: Subject,
  context: RunContext,
  figures: ProcessFigures,
  note?: string,
  expected: Expected = { loaded: context.dataset.count, failed: 0 }
): Promise<RunResult> => {
  const stats = await context.emulator.stats()
  const { total, ...byKind } = stats.calls
  const loaded = (stats.records["Contact"] ?? 0) - context.storedBefore
  const failed = stats.rowsFailed - context.failedBefore
  const callsByKind = Object.fromEntries(
    Object.entries(byKind)
      .map(([kind, count]) => [kind, count - (context.callsBefore[kind] ?? 0)] as const)
      .filter(([, count]) => count > 0)
  )
  const ok = figures.exitCode === 0 && loaded === expected.loaded && failed === expected.failed
  const emulatorCpuAfter = context.emulator.cpuSeconds()
  const emulatorCpuSeconds =
    emulatorCpuAfter === undefined || context.emulatorCpuBefore === undefined ? undefined : emulatorCpuAfter - context.emulatorCpuBefore
  return {
    subject,
    records: context.dataset.count,
    ...figures,
    recordsPerSecond: context.dataset.count / figures.wallSeconds,
    apiCalls: total - (context.callsBefore["total"] ?? 0),
    callsByKind,
    loaded,
    failed,
    ok,
    ...(emulatorCpuSeconds === undefined ? {} : { emulatorCpuSeconds }),
    ...(note === undefined ? {} : { note })
  }
}

/**
 * Repeated runs of one subject as one result: the run with the median wall time (the lower
 * middle one for an even count), failed if any run failed, with every run's wall time.
 */
export const medianRun = (first: RunResult, more: ReadonlyArray<RunResult>): RunResult => {
  if (more.length === 0) return first
  const all = [first, ...more]
  const byWall = [...all].sort((left, right) => left.wallSeconds - right.wallSeconds)
  const median = byWall[Math.floor((byWall.length - 1) / 2)] ?? first
  return { ...median, ok: all.every((run) => run.ok), wallSecondsOfRuns: all.map((run) => run.wallSeconds) }
}

/**
 * The order of one size's runs: the floor's runs spread through the sitting, one before each other
 * subject (any left over at the end), so a machine that slows for minutes weighs on the floor's
 * median as on the subjects measured against it.
 */
export const sittingOrder = (subjects: ReadonlyArray<Subject>, floorRuns: number): ReadonlyArray<Subject> => {
  const others = subjects.filter((subject) => subject !== "floor")
  const floors = subjects.includes("floor") ? floorRuns : 0
  const order: Array<Subject> = []
  for (let index = 0; index < Math.max(floors, others.length); index++) {
    if (index < floors) order.push("floor")
    const other = others[index]
    if (other !== undefined) order.push(other)
  }
  return order
}

/** Runs the floor and a target's subject get at least: a median of 3 against a median of 3. */
const comparedRuns = 3

/**
 * How many times a subject runs at a size. The floor is cheap and every ratio's denominator: at
 * least 3 runs, spread through the sitting (`sittingOrder`). The connector, which the floor target
 * is about, runs as often at the size the targets are judged at. A profiled subject runs once.
 */
export const runsOf = (subject: Subject, size: number, options: { readonly repeats: number; readonly profiled: boolean; readonly targetSize: number }): number => {
  if (subject === "floor") return Math.max(comparedRuns, options.repeats)
  if (options.profiled) return 1
  return subject === "connector" && size === options.targetSize ? Math.max(comparedRuns, options.repeats) : options.repeats
}
