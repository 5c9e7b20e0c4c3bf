/**
 * When to ask again about a running ingest job.
 *
 * Until a job moves, polls back off: 250 ms, ×1.5 each time, never more than 30 s apart (a small
 * job is usually done within a second or two, and is noticed soon after). Salesforce
 * reports `numberRecordsProcessed` while a job is InProgress, so once rows are being processed
 * and the caller knows how many it uploaded, the next poll is aimed just past the job's
 * projected end instead: a job is noticed soon after it finishes, with few calls, whatever its
 * size. With only one sighting of rows moving, the rate is measured from the last still sighting
 * and so counts the job's start-up: then the projection never moves a poll later than the backoff
 * would. From the second on, the rate is the faster of that one and the rate between the last two
 * sightings (one slow patch does not push the poll far out). A projection further out than
 * `halvingFrom` is polled halfway (never sooner than `halvingFrom`): a job's rate changes as the
 * org's load does (a job sharing it with another speeds up when that one ends), and a look halfway
 * corrects the aim for a few calls more. A projection never comes closer than `minimumInterval`
 * to the last poll, nor further than `maximumInterval`. A job that stops moving before every row
 * is processed (or a count that overstates its rows) is polled as the projection (or its halfway
 * look) says once, then ×1.5 further apart each time it is still stuck. Once every row is
 * processed, polls start `minimumInterval` apart and back off (×1.5) until the job ends. A count
 * that is not a finite number is no count: the backoff alone sets the cadence.
 */

export const initialIntervalMillis = 250
export const growth = 1.5
export const maximumIntervalMillis = 30_000
/** The shortest gap between two polls of one job. */
export const minimumIntervalMillis = 200
/** A projection further out than this is polled halfway, though not sooner than this. */
export const halvingFromMillis = 1_000
/** A projection is stretched by this much, so the poll lands after the end rather than before. */
const projectionMargin = 1.1

/** A point of a job's progress: when it was seen, and how many rows it had processed. */
interface Sighting {
  readonly atMillis: number
  readonly processed: number
}

export interface Cadence {
  /** Polls answered so far. */
  readonly polls: number
  /** The last sighting before rows started to move. */
  readonly origin: Sighting
  /** The last sighting since then, once rows move. */
  readonly moved?: Sighting | undefined
  /** Polls in a row that found every row processed and the job not yet ended. */
  readonly finishing?: number | undefined
  /** The last delay chosen while rows that moved before had stopped, with some still to process. */
  readonly stalledMillis?: number | undefined
}

export const start = (nowMillis: number): Cadence => ({ polls: 0, origin: { atMillis: nowMillis, processed: 0 } })

/** What a poll saw. */
export interface Observation {
  readonly nowMillis: number
  readonly processed: number
  /** Rows uploaded to the job, when the caller knows them. */
  readonly expectedRecords?: number | undefined
}

const backoffMillis = (polls: number) => Math.round(Math.min(initialIntervalMillis * growth ** Math.max(0, polls - 1), maximumIntervalMillis))

/** The cadence after a poll that found the job still running, and how long to wait before the next. */
export const next = (cadence: Cadence, seen: Observation): { readonly cadence: Cadence; readonly delayMillis: number } => {
  const polls = cadence.polls + 1
  const backoff = backoffMillis(polls)
  const sighting = { atMillis: seen.nowMillis, processed: seen.processed }
  const moving = seen.processed > cadence.origin.processed
  const updated: Cadence = moving ? { polls, origin: cadence.origin, moved: sighting } : { polls, origin: sighting }
  const expected = seen.expectedRecords
  if (!moving || expected === undefined || !Number.isFinite(expected)) return { cadence: updated, delayMillis: backoff }
  const remaining = expected - seen.processed
  if (remaining <= 0) {
    // every row processed: the job ends soon after, but Salesforce may take a while to say so
    const finishing = (cadence.finishing ?? 0) + 1
    const delayMillis = Math.round(Math.min(maximumIntervalMillis, minimumIntervalMillis * growth ** (finishing - 1)))
    return { cadence: { ...updated, finishing }, delayMillis }
  }
  const stalled = cadence.moved !== undefined && seen.processed <= cadence.moved.processed
  if (stalled && cadence.stalledMillis !== undefined) {
    // still stuck: the projection would keep polling at the same short interval
    const delayMillis = Math.round(Math.min(maximumIntervalMillis, cadence.stalledMillis * growth))
    return { cadence: { ...updated, stalledMillis: delayMillis }, delayMillis }
  }
  const rateSince = (from: Sighting) => (seen.processed - from.processed) / Math.max(1, seen.nowMillis - from.atMillis)
  // a previous sighting of rows moving gives the rate past the start-up; a stall since falls back to the origin
  const steady = cadence.moved !== undefined && !stalled ? cadence.moved : undefined
  const rowsPerMilli = Math.max(rateSince(cadence.origin), steady === undefined ? 0 : rateSince(steady))
  const end = (remaining / rowsPerMilli) * projectionMargin
  const projected = Math.max(minimumIntervalMillis, end > halvingFromMillis ? Math.max(halvingFromMillis, end / 2) : end)
  const delayMillis = Math.round(Math.min(steady === undefined ? backoff : maximumIntervalMillis, projected))
  return { cadence: stalled ? { ...updated, stalledMillis: delayMillis } : updated, delayMillis }
}
