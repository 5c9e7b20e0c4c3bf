/**
 * Per-stream counts of a sync: what came in, what Salesforce created, updated and deleted,
 * what was rejected and why, and what it cost in jobs and bytes. Mirrored into Effect metrics.
 */
import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"

export interface StreamSummary {
  readonly recordsIn: number
  readonly created: number
  readonly updated: number
  readonly deleted: number
  readonly rejected: number
  readonly rejectedByStatusCode: Readonly<Record<string, number>>
  readonly rejectedLocally: number
  readonly jobs: number
  readonly bytesUploaded: number
}

export interface SyncSummary {
  readonly streams: Readonly<Record<string, StreamSummary>>
  readonly totals: StreamSummary
}

const recordsMetric = Metric.counter("sync_records", { description: "Records by stream and outcome", incremental: true })
const jobsMetric = Metric.counter("sync_jobs", { description: "Bulk API jobs started", incremental: true })
const bytesMetric = Metric.counter("sync_bytes_uploaded", { description: "CSV bytes uploaded", incremental: true })

interface MutableSummary {
  recordsIn: number
  created: number
  updated: number
  deleted: number
  rejected: number
  rejectedByStatusCode: Record<string, number>
  rejectedLocally: number
  jobs: number
  bytesUploaded: number
}

const emptySummary = (): MutableSummary => ({
  recordsIn: 0,
  created: 0,
  updated: 0,
  deleted: 0,
  rejected: 0,
  rejectedByStatusCode: {},
  rejectedLocally: 0,
  jobs: 0,
  bytesUploaded: 0
})

export class SyncStats {
  private readonly streams = new Map<string, MutableSummary>()
  private inFlight = 0

  private of(stream: string): MutableSummary {
    let summary = this.streams.get(stream)
    if (summary === undefined) {
      summary = emptySummary()
      this.streams.set(stream, summary)
    }
    return summary
  }

  recordsIn(stream: string, count: number): void {
    this.of(stream).recordsIn += count
  }

  jobStarted(stream: string): void {
    this.of(stream).jobs++
    this.inFlight++
  }

  jobFinished(_stream: string): void {
    this.inFlight--
  }

  /** Jobs created and not yet finished. */
  get jobsInFlight(): number {
    return this.inFlight
  }

  add(
    stream: string,
    outcome: {
      readonly created: number
      readonly updated: number
      readonly deleted: number
      readonly rejected: number
      readonly rejectedByStatusCode: Readonly<Record<string, number>>
      readonly bytesUploaded: number
      readonly jobs: number
    },
    local = false
  ): Effect.Effect<void> {
    const summary = this.of(stream)
    summary.created += outcome.created
    summary.updated += outcome.updated
    summary.deleted += outcome.deleted
    summary.rejected += outcome.rejected
    if (local) summary.rejectedLocally += outcome.rejected
    summary.bytesUploaded += outcome.bytesUploaded
    for (const [code, count] of Object.entries(outcome.rejectedByStatusCode)) {
      summary.rejectedByStatusCode[code] = (summary.rejectedByStatusCode[code] ?? 0) + count
    }
    const tagged = (outcomeName: string, count: number) =>
      count === 0
        ? Effect.void
        : Metric.incrementBy(recordsMetric.pipe(Metric.tagged("stream", stream), Metric.tagged("outcome", outcomeName)), count)
    return Effect.all(
      [
        tagged("created", outcome.created),
        tagged("updated", outcome.updated),
        tagged("deleted", outcome.deleted),
        tagged("rejected", outcome.rejected),
        outcome.bytesUploaded === 0 ? Effect.void : Metric.incrementBy(Metric.tagged(bytesMetric, "stream", stream), outcome.bytesUploaded),
        outcome.jobs === 0 ? Effect.void : Metric.incrementBy(Metric.tagged(jobsMetric, "stream", stream), outcome.jobs)
      ],
      { discard: true }
    )
  }

  summary(): SyncSummary {
    const streams: Record<string, StreamSummary> = {}
    const totals = emptySummary()
    for (const [stream, summary] of this.streams) {
      streams[stream] = { ...summary, rejectedByStatusCode: { ...summary.rejectedByStatusCode } }
      totals.recordsIn += summary.recordsIn
      totals.created += summary.created
      totals.updated += summary.updated
      totals.deleted += summary.deleted
      totals.rejected += summary.rejected
      totals.rejectedLocally += summary.rejectedLocally
      totals.jobs += summary.jobs
      totals.bytesUploaded += summary.bytesUploaded
      for (const [code, count] of Object.entries(summary.rejectedByStatusCode)) {
        totals.rejectedByStatusCode[code] = (totals.rejectedByStatusCode[code] ?? 0) + count
      }
    }
    return { streams, totals }
  }
}
