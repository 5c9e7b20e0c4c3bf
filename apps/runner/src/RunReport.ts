/**
 * What a run did, per sync: counts, rejects (by status code, a few examples, where they were
 * stored) and outcome; the process exit code that follows; and the run as JSON (`--report`),
 * as a human summary, and as Markdown for `$GITHUB_STEP_SUMMARY`.
 */

export type SyncStatus = "succeeded" | "failed" | "configError" | "thresholdExceeded" | "skipped"

export interface RejectSample {
  readonly statusCode: string
  readonly message: string
  readonly fields: ReadonlyArray<string>
}

export interface SyncResult {
  readonly name: string
  readonly object: string
  readonly operation: string
  readonly org: string
  readonly status: SyncStatus
  readonly recordsIn: number
  readonly created: number
  readonly updated: number
  readonly deleted: number
  readonly rejected: number
  readonly rejectedLocally: number
  readonly rejectedByStatusCode: Readonly<Record<string, number>>
  readonly rejectSamples: ReadonlyArray<RejectSample>
  readonly jobs: number
  readonly bytesUploaded: number
  /** Where this sync's rejected records were stored, if anywhere. */
  readonly rejectsLocation?: string | undefined
  /** The rejects store failed: the rejected records may not all be stored (the next run sends them again). */
  readonly rejectsStoreFailed?: boolean | undefined
  /** Why it failed, was skipped, or which threshold it crossed. */
  readonly detail?: string | undefined
  readonly durationMs: number
  /** Records read but neither confirmed in Salesforce nor rejected (a failed run's): the next run sends them again. Set by `make`. */
  readonly unsettled?: number | undefined
}

export interface RunReport {
  readonly command: "sync" | "replay"
  readonly runId: string
  readonly startedAt: string
  readonly finishedAt: string
  readonly durationMs: number
  readonly exitCode: number
  readonly syncs: ReadonlyArray<SyncResult>
  readonly totals: {
    readonly recordsIn: number
    readonly created: number
    readonly updated: number
    readonly deleted: number
    readonly rejected: number
    readonly unsettled: number
    readonly jobs: number
  }
}

export const ExitCode = {
  ok: 0,
  failed: 1,
  configError: 2,
  thresholdExceeded: 3
} as const

/** The run's exit code: a configuration error first, then a failure, then a crossed threshold. */
export const exitCodeOf = (syncs: ReadonlyArray<Pick<SyncResult, "status">>): number => {
  const has = (status: SyncStatus) => syncs.some((sync) => sync.status === status)
  if (has("configError")) return ExitCode.configError
  if (has("failed") || has("skipped")) return ExitCode.failed
  if (has("thresholdExceeded")) return ExitCode.thresholdExceeded
  return ExitCode.ok
}

/** Records a sync read but neither confirmed in Salesforce nor rejected. */
export const unsettledOf = (sync: Pick<SyncResult, "recordsIn" | "created" | "updated" | "deleted" | "rejected">): number =>
  Math.max(0, sync.recordsIn - sync.created - sync.updated - sync.deleted - sync.rejected)

export const make = (fields: Omit<RunReport, "totals" | "exitCode" | "durationMs">): RunReport => {
  const syncs = fields.syncs.map((sync) => ({ ...sync, unsettled: unsettledOf(sync) }))
  const sum = (pick: (sync: SyncResult) => number) => syncs.reduce((total, sync) => total + pick(sync), 0)
  return {
    ...fields,
    syncs,
    durationMs: Date.parse(fields.finishedAt) - Date.parse(fields.startedAt),
    exitCode: exitCodeOf(fields.syncs),
    totals: {
      recordsIn: sum((sync) => sync.recordsIn),
      created: sum((sync) => sync.created),
      updated: sum((sync) => sync.updated),
      deleted: sum((sync) => sync.deleted),
      rejected: sum((sync) => sync.rejected),
      unsettled: sum(unsettledOf),
      jobs: sum((sync) => sync.jobs)
    }
  }
}

/** `failWhen`: the threshold a sync's rejects crossed, if any. */
export const thresholdCrossed = (
  failWhen: { readonly rejectedMoreThan?: number | undefined; readonly rejectedPercentAbove?: number | undefined } | undefined,
  counts: { readonly recordsIn: number; readonly rejected: number }
): string | undefined => {
  if (failWhen === undefined) return undefined
  if (failWhen.rejectedMoreThan !== undefined && counts.rejected > failWhen.rejectedMoreThan) {
    return `${counts.rejected} records rejected, more than failWhen.rejectedMoreThan (${failWhen.rejectedMoreThan})`
  }
  if (failWhen.rejectedPercentAbove !== undefined && counts.recordsIn > 0) {
    const percent = (counts.rejected / counts.recordsIn) * 100
    if (percent > failWhen.rejectedPercentAbove) {
      return `${percent.toFixed(1)}% of records rejected, above failWhen.rejectedPercentAbove (${failWhen.rejectedPercentAbove}%)`
    }
  }
  return undefined
}

const statusMark: Record<SyncStatus, string> = {
  succeeded: "ok",
  failed: "FAILED",
  configError: "CONFIG ERROR",
  thresholdExceeded: "THRESHOLD EXCEEDED",
  skipped: "SKIPPED"
}

const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? "" : "s"}`

const seconds = (millis: number) => `${(millis / 1000).toFixed(1)}s`

const outcome = (sync: SyncResult) => {
  const parts = [`${sync.recordsIn} read`]
  if (sync.created > 0 || sync.operation === "insert" || sync.operation === "upsert") parts.push(`${sync.created} created`)
  if (sync.updated > 0 || sync.operation === "update" || sync.operation === "upsert") parts.push(`${sync.updated} updated`)
  if (sync.deleted > 0 || sync.operation === "delete" || sync.operation === "hardDelete") parts.push(`${sync.deleted} deleted`)
  parts.push(`${sync.rejected} rejected`)
  const unsettled = unsettledOf(sync)
  if (unsettled > 0) parts.push(`${unsettled} unsettled`)
  return `${parts.join(", ")} (${plural(sync.jobs, "job")})`
}

const byCode = (counts: Readonly<Record<string, number>>) =>
  Object.entries(counts)
    .sort(([, a], [, b]) => b - a)
    .map(([code, count]) => `${code} ×${count}`)
    .join(", ")

/** Where a sync's rejected records are, after their counts. */
const whereRejectsAre = (sync: SyncResult): string =>
  sync.rejectsStoreFailed === true
    ? " (not all stored: the rejects store failed; the next run sends them again)"
    : sync.rejectsLocation === undefined
      ? " (not stored: rejects: none)"
      : ` → ${sync.rejectsLocation}`

const unsettledNote = (count: number) =>
  `Unsettled records: ${count}, neither confirmed in Salesforce nor stored as rejected (their sync failed or was stopped first); the next run sends them again`

/** The summary printed at the end of a run. */
export const human = (report: RunReport, replayCommand?: (location: string) => string): string => {
  const lines = [`${report.command} ${report.runId}: ${plural(report.syncs.length, "sync")} in ${seconds(report.durationMs)}`]
  const width = Math.max(...report.syncs.map((sync) => sync.name.length), 4)
  for (const sync of report.syncs) {
    const target = `${sync.object} ${sync.operation} (${sync.org})`
    const body = sync.status === "skipped" || sync.status === "configError" ? (sync.detail ?? "") : outcome(sync)
    lines.push(`  ${sync.name.padEnd(width)}  ${statusMark[sync.status].padEnd(6)}  → ${target}: ${body}`)
    if (sync.detail !== undefined && sync.status !== "skipped" && sync.status !== "configError") lines.push(`  ${"".padEnd(width)}          ${sync.detail}`)
  }
  const rejected = report.syncs.filter((sync) => sync.rejected > 0)
  if (rejected.length > 0) {
    lines.push("", `Rejected records: ${report.totals.rejected}`)
    for (const sync of rejected) {
      lines.push(`  ${sync.name}: ${byCode(sync.rejectedByStatusCode)}${whereRejectsAre(sync)}`)
      for (const sample of sync.rejectSamples) {
        lines.push(`    ${sample.statusCode}: ${sample.message}`)
      }
    }
    const locations = [...new Set(rejected.flatMap((sync) => (sync.rejectsLocation === undefined ? [] : [sync.rejectsLocation])))]
    if (replayCommand !== undefined && locations.length > 0) {
      lines.push("", "After a fix, resubmit them with:")
      for (const location of locations) lines.push(`  ${replayCommand(location)}`)
    }
  }
  if (report.totals.unsettled > 0) lines.push("", unsettledNote(report.totals.unsettled))
  lines.push("", `exit code ${report.exitCode}`)
  return `${lines.join("\n")}\n`
}

const cell = (text: string) => text.replaceAll("|", "\\|").replaceAll("\n", " ")

/** The summary as Markdown, for `$GITHUB_STEP_SUMMARY`. */
export const markdown = (report: RunReport): string => {
  const lines = [
    `### Salesforce ${report.command} \`${report.runId}\` — ${report.exitCode === 0 ? "succeeded" : `exit code ${report.exitCode}`}`,
    "",
    "| sync | status | object | read | created | updated | deleted | rejected | jobs |",
    "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
  ]
  for (const sync of report.syncs) {
    lines.push(
      `| ${cell(sync.name)} | ${statusMark[sync.status]} | ${cell(`${sync.object} ${sync.operation}`)} | ${sync.recordsIn} | ${sync.created} | ${sync.updated} | ${sync.deleted} | ${sync.rejected} | ${sync.jobs} |`
    )
  }
  const notes = report.syncs.filter((sync) => sync.detail !== undefined || sync.rejected > 0)
  if (notes.length > 0) lines.push("")
  for (const sync of notes) {
    if (sync.detail !== undefined) lines.push(`- **${cell(sync.name)}**: ${cell(sync.detail)}`)
    if (sync.rejected > 0) {
      const where = sync.rejectsLocation === undefined ? cell(whereRejectsAre(sync)) : ` → \`${sync.rejectsLocation}\``
      lines.push(`- **${cell(sync.name)}** rejected: ${cell(byCode(sync.rejectedByStatusCode))}${where}`)
      for (const sample of sync.rejectSamples) lines.push(`  - \`${sample.statusCode}\`: ${cell(sample.message)}`)
    }
  }
  if (report.totals.unsettled > 0) lines.push("", `${unsettledNote(report.totals.unsettled)}.`)
  lines.push("", `${report.totals.recordsIn} records read, ${report.totals.rejected} rejected, ${plural(report.totals.jobs, "job")}, ${seconds(report.durationMs)}.`, "")
  return lines.join("\n")
}
