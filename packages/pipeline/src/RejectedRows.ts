/**
 * Which rows of a batch were rejected, by ordinal.
 *
 * Salesforce's results do not say which input row a failure was. A batch that holds the records
 * of several checkpoints counts each rejection towards the checkpoint of its own record, so each
 * echoed state reports its own rejects: a rejected row is found again in the batch's CSV by its
 * values (result rows carry the columns as sent, in the order sent). Rows are kept as 53-bit
 * fingerprints of their values, counted (a batch may hold the same row twice).
 */
import { KeySet } from "@sfdc-activation/batcher"
import { ResultRows } from "@sfdc-activation/bulk-client"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"

const identity = (row: Readonly<Record<string, string>>): number => KeySet.fingerprintNumber(JSON.stringify(Object.values(row)))

export class RejectedRows {
  private readonly counts = new Map<number, number>()
  private total = 0

  /** Rows rejected so far. */
  get size(): number {
    return this.total
  }

  add(rows: ReadonlyArray<Readonly<Record<string, string>>>): void {
    for (const row of rows) {
      const id = identity(row)
      this.counts.set(id, (this.counts.get(id) ?? 0) + 1)
      this.total++
    }
  }

  /**
   * The ordinals of the rejected rows in a batch body (its CSV, header first; the first row is
   * `firstOrdinal`), in order. A rejected row not found is left out; a body that cannot be read
   * gives none.
   */
  ordinalsIn<E>(body: Stream.Stream<Uint8Array, E>, firstOrdinal: number): Effect.Effect<ReadonlyArray<number>> {
    return Effect.suspend(() => {
      const left = new Map(this.counts)
      const ordinals: Array<number> = []
      let ordinal = firstOrdinal
      return ResultRows.parse(body, { onError: (cause) => cause }).pipe(
        Stream.runForEachChunk((rows) =>
          Effect.sync(() => {
            for (const row of rows) {
              const id = identity(row)
              const count = left.get(id) ?? 0
              if (count > 0) {
                left.set(id, count - 1)
                ordinals.push(ordinal)
              }
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
