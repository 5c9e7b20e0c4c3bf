/**
 * Where a run speaks. Logs go to stderr — plain lines, or JSON lines with `--log-format json`
 * — and every line is scrubbed of secrets. On a terminal a live line shows the sync in
 * progress (records/s, jobs in flight, rejected so far); elsewhere the same figures are logged
 * every few seconds. Counters come from decorating the Bulk API client and the reject sink.
 */
import { BulkClient } from "@sfdc-activation/bulk-client"
import { RejectSink } from "@sfdc-activation/rejects-s3"
import * as Effect from "effect/Effect"
import type * as HashMap from "effect/HashMap"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import type { Redactor } from "./Redactor.js"
import type { RejectSample } from "./RunReport.js"

export type LogFormat = "text" | "json"

/** The terminal or pipe a run writes to. */
export interface Output {
  readonly stdout: (text: string) => void
  readonly stderr: (text: string) => void
  /** Whether stderr is a terminal (live progress line). */
  readonly isTTY: boolean
}

/** How often the live line is redrawn on a terminal. */
const redrawInterval = "200 millis"
/** How often progress is logged when not on a terminal. */
const logInterval = "10 seconds"
/** Examples of reject reasons kept per sync. */
export const maxRejectSamples = 5

const clearLine = "\r\u001b[2K"

export class Progress {
  private syncName: string | undefined
  private startedAt = 0
  private recordsRead = 0
  private rejectedCount = 0
  private inFlight = 0
  private samples: Array<RejectSample> = []
  private drawn = false

  constructor(
    private readonly output: Output,
    private readonly redactor: Redactor
  ) {}

  start(name: string, now: number): void {
    this.syncName = name
    this.startedAt = now
    this.recordsRead = 0
    this.rejectedCount = 0
    this.inFlight = 0
    this.samples = []
  }

  finish(): void {
    this.clear()
    this.syncName = undefined
  }

  /** `count` more records read (counted a chunk at a time, off the per-record path). */
  addRecordsRead(count: number): void {
    this.recordsRead += count
  }

  /** The records of a chunk of pipeline input; its checkpoints (source STATE messages) are not records. */
  addInput(items: Iterable<{ readonly _tag: string }>): void {
    let records = 0
    for (const item of items) if (item._tag === "Record") records++
    this.recordsRead += records
  }

  get rejectSamples(): ReadonlyArray<RejectSample> {
    return this.samples
  }

  rejected(records: ReadonlyArray<{ readonly statusCode: string; readonly message: string; readonly fields: ReadonlyArray<string> }>): void {
    this.rejectedCount += records.length
    for (const record of records) {
      if (this.samples.length >= maxRejectSamples) break
      if (this.samples.some((sample) => sample.statusCode === record.statusCode && sample.message === record.message)) continue
      this.samples.push({ statusCode: record.statusCode, message: this.redactor.scrub(record.message), fields: record.fields })
    }
  }

  jobStarted(): void {
    this.inFlight++
  }

  jobEnded(): void {
    this.inFlight = Math.max(0, this.inFlight - 1)
  }

  /** `accounts: 1,200 records (800/s), 2 jobs in flight, 3 rejected`. */
  line(now: number): string | undefined {
    if (this.syncName === undefined) return undefined
    const elapsedSeconds = Math.max((now - this.startedAt) / 1000, 0.001)
    const rate = Math.round(this.recordsRead / elapsedSeconds)
    const records = `${this.recordsRead.toLocaleString("en-US")} record${this.recordsRead === 1 ? "" : "s"}`
    return `${this.syncName}: ${records} (${rate.toLocaleString("en-US")}/s), ${this.inFlight} job${this.inFlight === 1 ? "" : "s"} in flight, ${this.rejectedCount} rejected`
  }

  draw(now: number): void {
    const line = this.line(now)
    if (!this.output.isTTY || line === undefined) return
    this.output.stderr(`${clearLine}${this.redactor.scrub(line)}`)
    this.drawn = true
  }

  clear(): void {
    if (this.drawn) this.output.stderr(clearLine)
    this.drawn = false
  }

  /** `text` with every secret masked. */
  scrub(text: string): string {
    return this.redactor.scrub(text)
  }

  /** Writes a log line without tearing the live line. */
  log(text: string): void {
    this.clear()
    this.output.stderr(`${this.redactor.scrub(text)}\n`)
  }

  /** Redraws on a terminal, logs periodically elsewhere, while the scope lasts. */
  ticker(): Effect.Effect<void, never, Scope.Scope> {
    const tick = Effect.sync(() => Date.now())
    if (this.output.isTTY) {
      return Effect.forkScoped(Effect.repeat(Effect.flatMap(tick, (now) => Effect.sync(() => this.draw(now))), Schedule.spaced(redrawInterval))).pipe(Effect.asVoid)
    }
    return Effect.forkScoped(
      Effect.repeat(
        Effect.flatMap(tick, (now) => {
          const line = this.line(now)
          return line === undefined ? Effect.void : Effect.log(line)
        }),
        Schedule.spaced(logInterval)
      ).pipe(Effect.delay(logInterval))
    ).pipe(Effect.asVoid)
  }
}

const levelName = (level: string) => level.toUpperCase()

const annotationsOf = (annotations: HashMap.HashMap<string, unknown>): Record<string, unknown> => {
  const fields: Record<string, unknown> = {}
  for (const [key, value] of annotations) fields[key] = value
  return fields
}

const textOf = (message: unknown): string => (Array.isArray(message) ? message.map(String).join(" ") : String(message))

/**
 * A line the run writes outside its logger (a configuration error, a defect), in the log format.
 * Scrub `text` first: JSON escapes a secret's quotes and line breaks, and the scrubber would then
 * no longer find it.
 */
export const errorLine = (format: LogFormat, text: string, now: Date = new Date()): string =>
  format === "json" ? JSON.stringify({ time: now.toISOString(), level: "ERROR", message: text }) : text

/** The logger of a run: plain or JSON lines on stderr, scrubbed, around the live line. */
export const logger = (progress: Progress, format: LogFormat): Layer.Layer<never> =>
  Logger.replace(
    Logger.defaultLogger,
    Logger.make(({ annotations, date, logLevel, message }) => {
      const fields = annotationsOf(annotations)
      if (format === "json") {
        // scrubbed before JSON escapes a secret's quotes or line breaks, which the scrubber would then miss
        const scrubbed = Object.fromEntries(Object.entries(fields).map(([key, value]) => [key, typeof value === "string" ? progress.scrub(value) : value]))
        progress.log(JSON.stringify({ time: date.toISOString(), level: levelName(logLevel.label), message: progress.scrub(textOf(message)), ...scrubbed }))
        return
      }
      const extra = Object.entries(fields)
        .map(([key, value]) => ` ${key}=${typeof value === "string" ? value : JSON.stringify(value)}`)
        .join("")
      progress.log(`${date.toISOString()} ${levelName(logLevel.label).padEnd(5)} ${textOf(message)}${extra}`)
    })
  )

/** The Bulk API client, counting jobs in flight. */
export const instrumentBulk = (progress: Progress): Layer.Layer<BulkClient.BulkClient, never, BulkClient.BulkClient> =>
  Layer.effect(
    BulkClient.BulkClient,
    Effect.map(BulkClient.BulkClient, (bulk) => ({
      ...bulk,
      createJob: (job) => Effect.tap(bulk.createJob(job), () => Effect.sync(() => progress.jobStarted())),
      awaitJob: (jobId, options) => Effect.ensuring(bulk.awaitJob(jobId, options), Effect.sync(() => progress.jobEnded())),
      abortJob: (jobId) => Effect.ensuring(bulk.abortJob(jobId), Effect.sync(() => progress.jobEnded()))
    }))
  )

/** The reject sink, counting rejects and keeping a few reasons. */
export const instrumentRejects = (progress: Progress): Layer.Layer<RejectSink.RejectSink, never, RejectSink.RejectSink> =>
  Layer.effect(
    RejectSink.RejectSink,
    Effect.map(RejectSink.RejectSink, (sink) => ({
      ...sink,
      write: (records) => Effect.tap(sink.write(records), () => Effect.sync(() => progress.rejected(records)))
    }))
  )
