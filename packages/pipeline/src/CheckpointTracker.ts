/**
 * When a checkpoint may be released.
 *
 * Checkpoints (Airbyte STATE messages, runner progress markers) split the input into epochs:
 * epoch k holds the records between checkpoint k-1 and checkpoint k. A record is *settled*
 * once it is committed in Salesforce or durably stored as rejected. Checkpoint k is released
 * when every record of epochs 0..k is settled, and checkpoints are released in input order —
 * so a released checkpoint never covers a record that could still be lost.
 *
 * Batches hold contiguous ranges of a stream's batch ordinals; each stream remembers where
 * its epochs begin in that numbering, so settling a batch is a walk over a few segments.
 */

/** What a released checkpoint covered. */
export interface Released<P> {
  readonly payload: P
  /** Records of its scope (its stream, or all streams for a global checkpoint) since the previous one of that scope. */
  readonly recordCount: number
  /** Of those settled since the previous release of that scope, how many were rejected. */
  readonly rejectedCount: number
}

/** `undefined` scope: every stream (GLOBAL / LEGACY state, runner markers). */
export type Scope = string | undefined

interface Pending<P> {
  readonly payload: P
  readonly epoch: number
  readonly scope: Scope
  readonly recordCount: number
}

interface Segment {
  readonly epoch: number
  readonly firstOrdinal: number
}

export class CheckpointTracker<P> {
  /** Unsettled records per epoch, from `firstOpenEpoch` on. */
  private readonly unsettled: Array<number> = [0]
  private firstOpenEpoch = 0
  private readonly pending: Array<Pending<P>> = []
  private readonly segments = new Map<string, Array<Segment>>()
  private readonly nextOrdinal = new Map<string, number>()
  private readonly sinceCheckpoint = new Map<string, number>()
  private sinceGlobalCheckpoint = 0
  /** Rejected records by epoch and stream, until a release reports them. */
  private readonly rejectedByStream = new Map<string, { epochs: Array<number>; counts: Array<number>; head: number }>()

  private get epoch(): number {
    return this.firstOpenEpoch + this.unsettled.length - 1
  }

  /** A record arrived; it stays unsettled until `settleRecord` or `settleBatch` covers it. Returns its epoch. */
  addRecord(stream: string): number {
    const index = this.unsettled.length - 1
    this.unsettled[index] = (this.unsettled[index] ?? 0) + 1
    this.sinceCheckpoint.set(stream, (this.sinceCheckpoint.get(stream) ?? 0) + 1)
    this.sinceGlobalCheckpoint++
    return this.epoch
  }

  /** Gives a record that goes to a batch its batch ordinal in `stream` (contiguous from 0). */
  assignOrdinal(stream: string, epoch: number): number {
    const ordinal = this.nextOrdinal.get(stream) ?? 0
    this.nextOrdinal.set(stream, ordinal + 1)
    const segments = this.segments.get(stream)
    if (segments === undefined) this.segments.set(stream, [{ epoch, firstOrdinal: ordinal }])
    else if (segments[segments.length - 1]?.epoch !== epoch) segments.push({ epoch, firstOrdinal: ordinal })
    return ordinal
  }

  /** A checkpoint arrived: it closes the current epoch (`release` tells when it may go out). */
  addCheckpoint(payload: P, scope: Scope): void {
    const recordCount = scope === undefined ? this.sinceGlobalCheckpoint : (this.sinceCheckpoint.get(scope) ?? 0)
    if (scope === undefined) {
      this.sinceGlobalCheckpoint = 0
      this.sinceCheckpoint.clear()
    } else {
      this.sinceCheckpoint.set(scope, 0)
    }
    this.pending.push({ payload, epoch: this.epoch, scope, recordCount })
    this.unsettled.push(0)
  }

  /** One record of `epoch` settled (e.g. rejected before batching, once the reject is durable). */
  settleRecord(stream: string, epoch: number, rejected: boolean): void {
    this.decrement(epoch, 1)
    if (rejected) this.countRejected(stream, epoch, 1)
  }

  /**
   * The batch ordinals `first..last` of `stream` settled, `rejected` of them as rejected. Each
   * rejection counts towards the epoch of its row when `rejectedOrdinals` says which rows they
   * were (or when every row was rejected); any other towards the batch's earliest epochs, as many
   * as each has rows left, so that no checkpoint of the batch goes out as free of rejects while
   * one of them may be its own.
   */
  settleBatch(stream: string, first: number, last: number, rejected: number, rejectedOrdinals: ReadonlyArray<number> = []): void {
    const overlaps = this.segmentsOverlapping(stream, first, last)
    for (const segment of overlaps) this.decrement(segment.epoch, segment.count)
    if (overlaps.length === 0) return
    const everyRow = rejected === last - first + 1
    const counts: Array<number> = []
    let placed = 0
    let next = 0
    for (const segment of overlaps) {
      let count = 0
      if (everyRow) count = segment.count
      else {
        while (next < rejectedOrdinals.length && (rejectedOrdinals[next] ?? 0) < segment.from) next++
        while (next < rejectedOrdinals.length && (rejectedOrdinals[next] ?? 0) <= segment.to) {
          count++
          next++
        }
      }
      count = Math.min(count, rejected - placed)
      counts.push(count)
      placed += count
    }
    overlaps.forEach((segment, index) => {
      const found = counts[index] ?? 0
      const unplaced = Math.max(0, Math.min(segment.count - found, rejected - placed))
      placed += unplaced
      this.countRejected(stream, segment.epoch, found + unplaced)
    })
    // more rejections than rows (results that disagree with the counts): the first epoch takes them
    if (rejected > placed) this.countRejected(stream, overlaps[0]?.epoch ?? this.epoch, rejected - placed)
  }

  /** How many epochs the batch ordinals `first..last` of `stream` span. */
  epochsSpanned(stream: string, first: number, last: number): number {
    return this.segmentsOverlapping(stream, first, last).length
  }

  /**
   * Checkpoints whose records are all settled, in order; each is returned once. The settled
   * epochs are walked once however many checkpoints go out (a source may send a state per record).
   */
  release(): Array<Released<P>> {
    const released: Array<Released<P>> = []
    let settledEpochs = 0
    let taken = 0
    for (; taken < this.pending.length; taken++) {
      const next = this.pending[taken]
      if (next === undefined) break
      const through = next.epoch - this.firstOpenEpoch
      while (settledEpochs <= through && (this.unsettled[settledEpochs] ?? 0) === 0) settledEpochs++
      if (settledEpochs <= through) break
      released.push({ payload: next.payload, recordCount: next.recordCount, rejectedCount: this.takeRejected(next.scope, next.epoch) })
    }
    this.pending.splice(0, taken)
    this.dropSettledEpochs()
    return released
  }

  /** Checkpoints still waiting. */
  get pendingCount(): number {
    return this.pending.length
  }

  /** Records received and not yet settled. */
  get unsettledCount(): number {
    return this.unsettled.reduce((sum, count) => sum + count, 0)
  }

  private dropSettledEpochs(): void {
    const oldestPending = this.pending[0]?.epoch ?? this.epoch
    let dropped = 0
    while (this.firstOpenEpoch + dropped < oldestPending && this.unsettled[dropped] === 0 && this.unsettled.length - dropped > 1) dropped++
    this.unsettled.splice(0, dropped)
    this.firstOpenEpoch += dropped
    if (dropped === 0) return
    // a stream's segments of settled epochs are never looked up again (its last one stays: it is open-ended)
    for (const segments of this.segments.values()) {
      let settled = 0
      while (settled < segments.length - 1 && (segments[settled]?.epoch ?? 0) < this.firstOpenEpoch) settled++
      if (settled > 0) segments.splice(0, settled)
    }
  }

  private decrement(epoch: number, count: number): void {
    const index = epoch - this.firstOpenEpoch
    const current = this.unsettled[index]
    if (current === undefined || current < count) throw new Error(`settled more records than epoch ${epoch} holds`)
    this.unsettled[index] = current - count
  }

  private countRejected(stream: string, epoch: number, count: number): void {
    if (count === 0) return
    let list = this.rejectedByStream.get(stream)
    if (list === undefined) {
      list = { epochs: [], counts: [], head: 0 }
      this.rejectedByStream.set(stream, list)
    }
    // kept in epoch order: almost always an append
    let at = list.epochs.length
    while (at > list.head && (list.epochs[at - 1] ?? 0) > epoch) at--
    if (at > list.head && list.epochs[at - 1] === epoch) list.counts[at - 1] = (list.counts[at - 1] ?? 0) + count
    else {
      list.epochs.splice(at, 0, epoch)
      list.counts.splice(at, 0, count)
    }
  }

  /** Rejections up to `epoch` in `scope` (every stream when undefined), reported once. */
  private takeRejected(scope: Scope, epoch: number): number {
    let count = 0
    const take = (list: { epochs: Array<number>; counts: Array<number>; head: number }) => {
      while (list.head < list.epochs.length && (list.epochs[list.head] ?? 0) <= epoch) count += list.counts[list.head++] ?? 0
      if (list.head > 1024 && list.head * 2 > list.epochs.length) {
        list.epochs.splice(0, list.head)
        list.counts.splice(0, list.head)
        list.head = 0
      }
    }
    if (scope !== undefined) {
      const list = this.rejectedByStream.get(scope)
      if (list !== undefined) take(list)
    } else for (const list of this.rejectedByStream.values()) take(list)
    return count
  }

  private segmentsOverlapping(stream: string, first: number, last: number): Array<{ epoch: number; count: number; from: number; to: number }> {
    const segments = this.segments.get(stream) ?? []
    const overlaps: Array<{ epoch: number; count: number; from: number; to: number }> = []
    // the last segment starting at or before `first` (segments are in ordinal order)
    let low = 0
    let high = segments.length - 1
    while (low < high) {
      const middle = (low + high + 1) >> 1
      if ((segments[middle]?.firstOrdinal ?? 0) <= first) low = middle
      else high = middle - 1
    }
    for (let index = low; index < segments.length; index++) {
      const segment = segments[index]
      if (segment === undefined || segment.firstOrdinal > last) break
      const segmentEnd = (segments[index + 1]?.firstOrdinal ?? Number.POSITIVE_INFINITY) - 1
      const from = Math.max(first, segment.firstOrdinal)
      const to = Math.min(last, segmentEnd)
      if (from <= to) overlaps.push({ epoch: segment.epoch, count: to - from + 1, from, to })
    }
    return overlaps
  }

}
