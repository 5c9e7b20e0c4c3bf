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
import { ResultRows } from "@sfdc-activation/bulk-client"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"

/**
 * A row's 53-bit fingerprint, whatever order its columns come in: each column and its value are
 * hashed twice (FNV-1a and a multiply-xorshift, as the batcher's key fingerprints), and the
 * pairs' hashes summed.
 * No string is built: this runs for every refused row.
 */
export const rowFingerprint = (row: Readonly<Record<string, string>>): number => {
  let sumA = 0
  let sumB = 0
  for (const column in row) {
    const value = row[column] ?? ""
    let a = 0x811c9dc5
    let b = 0x9e3779b9 ^ value.length
    for (let index = 0; index < column.length; index++) {
      const code = column.charCodeAt(index)
      a = Math.imul(a ^ code, 0x01000193)
      b = Math.imul(b ^ code, 0x5bd1e995)
      b ^= b >>> 15
    }
    // a code unit no column name holds: where the name ends and the value starts
    a = Math.imul(a ^ 0xffff, 0x01000193)
    for (let index = 0; index < value.length; index++) {
      const code = value.charCodeAt(index)
      a = Math.imul(a ^ code, 0x01000193)
      b = Math.imul(b ^ code, 0x5bd1e995)
      b ^= b >>> 15
    }
    b = Math.imul(b ^ (b >>> 13), 0xc2b2ae35)
    b ^= b >>> 16
    sumA = (sumA + a) | 0
    sumB = (sumB + b) | 0
  }
  return (sumA & 0x1fffff) * 0x100000000 + (sumB >>> 0)
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
    const id = rowFingerprint(row)
    this.counts.set(id, (this.counts.get(id) ?? 0) + 1)
    this.total++
  }

  /** Takes one `row` out; `false` when none is left. */
  remove(row: Readonly<Record<string, string>>): boolean {
    const id = rowFingerprint(row)
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

/**
 * Rows taken from a set, kept as fingerprints in a flat array (8 bytes a row): counted into a
 * `RowCounts` only when the set is read again.
 */
export class TakenRows {
  private fingerprints = new Float64Array(1024)
  private count = 0

  get size(): number {
    return this.count
  }

  add(row: Readonly<Record<string, string>>): void {
    if (this.count === this.fingerprints.length) {
      const grown = new Float64Array(this.fingerprints.length * 2)
      grown.set(this.fingerprints)
      this.fingerprints = grown
    }
    this.fingerprints[this.count++] = rowFingerprint(row)
  }

  counts(): RowCounts {
    const counts = new Map<number, number>()
    for (let index = 0; index < this.count; index++) {
      const id = this.fingerprints[index] ?? 0
      counts.set(id, (counts.get(id) ?? 0) + 1)
    }
    return new RowCounts(counts)
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
   * The ordinals of the rejected rows in a batch body (its CSV, header first; `ordinals` gives
   * its rows' ordinals, in the body's order), in that order. A rejected row not found is left
   * out; a body that cannot be read gives none.
   */
  ordinalsIn<E>(body: Stream.Stream<Uint8Array, E>, rowOrdinals: Iterable<number>): Effect.Effect<ReadonlyArray<number>> {
    return Effect.suspend(() => {
      const left = this.rejected.copy()
      const ordinals: Array<number> = []
      const next = rowOrdinals[Symbol.iterator]()
      return ResultRows.parse(body, { onError: (cause) => cause }).pipe(
        Stream.runForEachChunk((rows) =>
          Effect.sync(() => {
            for (const row of rows) {
              const ordinal = next.next()
              if (left.remove(row) && ordinal.done !== true) ordinals.push(ordinal.value)
            }
          })
        ),
        Effect.as(ordinals),
        Effect.orElseSucceed((): ReadonlyArray<number> => [])
      )
    })
  }
}
