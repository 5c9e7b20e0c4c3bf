/**
 * Which rows of a batch were rejected, by ordinal.
 *
 * Salesforce's results do not say which input row a failure was. A batch that holds the records
 * of several checkpoints counts each rejection towards the checkpoint of its own record, so each
 * echoed state reports its own rejects: a rejected row is found again in the batch's CSV by its
 * values (result rows carry the columns as sent, by name; Salesforce may list them in another
 * order). Rows are kept as 53-bit fingerprints of their values, counted (a batch may hold the
 * same row twice).
 */
import { KeySet } from "@sfdc-activation/batcher"
import { ResultRows } from "@sfdc-activation/bulk-client"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"

/** A row's fingerprint: its values by column name, whatever order the columns come in. */
const identity = (row: Readonly<Record<string, string>>): number => {
  const columns = Object.keys(row).sort()
  return KeySet.fingerprintNumber(JSON.stringify(columns.map((column) => [column, row[column]])))
}

/** Rows counted by their values (a set may hold the same row twice). */
export class RowCounts {
  private readonly counts: Map<number, number>
  private total = 0

  constructor(counts: ReadonlyMap<number, number> = new Map()) {
    this.counts = new Map(counts)
    for (const count of counts.values()) this.total += count
  }

  get size(): number {
    return this.total
  }

  add(row: Readonly<Record<string, string>>): void {
    const id = identity(row)
    this.counts.set(id, (this.counts.get(id) ?? 0) + 1)
    this.total++
  }

  /** Takes one `row` out; `false` when none is left. */
  remove(row: Readonly<Record<string, string>>): boolean {
    const id = identity(row)
    const count = this.counts.get(id) ?? 0
    if (count === 0) return false
    if (count === 1) this.counts.delete(id)
    else this.counts.set(id, count - 1)
    this.total--
    return true
  }

  copy(): RowCounts {
    return new RowCounts(this.counts)
  }
}

export class RejectedRows {
  private readonly rejected = new RowCounts()

  /** Rows rejected so far. */
  get size(): number {
    return this.rejected.size
  }

  add(rows: ReadonlyArray<Readonly<Record<string, string>>>): void {
    for (const row of rows) this.rejected.add(row)
  }

  /**
   * The ordinals of the rejected rows in a batch body (its CSV, header first; the first row is
   * `firstOrdinal`), in order. A rejected row not found is left out; a body that cannot be read
   * gives none.
   */
  ordinalsIn<E>(body: Stream.Stream<Uint8Array, E>, firstOrdinal: number): Effect.Effect<ReadonlyArray<number>> {
    return Effect.suspend(() => {
      const left = this.rejected.copy()
      const ordinals: Array<number> = []
      let ordinal = firstOrdinal
      return ResultRows.parse(body, { onError: (cause) => cause }).pipe(
        Stream.runForEachChunk((rows) =>
          Effect.sync(() => {
            for (const row of rows) {
              if (left.remove(row)) ordinals.push(ordinal)
              ordinal++
            }
          })
        ),
        Effect.as(ordinals),
        Effect.orElseSucceed((): ReadonlyArray<number> => [])
      )
    })
  }
}
