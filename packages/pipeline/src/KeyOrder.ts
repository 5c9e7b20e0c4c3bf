/**
 * The order of one stream's batches that share a record.
 *
 * A matching key (external id, Id) given twice goes to two jobs — Salesforce fails every row of a
 * job that names one record twice — and the later row must win. Within a batch its parts go one
 * after the other; a key can also meet a key of an earlier batch. With several jobs in flight,
 * the later batch's job could end first and then be overwritten by the earlier one. So a batch
 * whose keys meet those of an earlier batch still in flight starts its job only once that batch is
 * done (its follow-up jobs included). Batches with no key in common run side by side.
 */
import type { KeySet } from "@sfdc-activation/batcher"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as FiberId from "effect/FiberId"

/** A batch's place in the order. */
export interface Turn {
  /** Waits until every earlier batch sharing a key with this one is done. */
  readonly wait: Effect.Effect<void>
  /** This batch is done, whatever the outcome: later batches sharing a key may go. */
  readonly leave: Effect.Effect<void>
}

const noTurn: Turn = { wait: Effect.void, leave: Effect.void }

interface InFlight {
  readonly keys: KeySet.KeySet
  readonly done: Deferred.Deferred<void>
}

export class KeyOrder {
  private readonly inFlight = new Set<InFlight>()

  /** Registers a batch; call it for each batch in input order, before any of them waits. */
  enter(keys: KeySet.KeySet): Turn {
    if (keys.size === 0) return noTurn
    const earlier: Array<Deferred.Deferred<void>> = []
    for (const other of this.inFlight) if (other.keys.intersects(keys)) earlier.push(other.done)
    const entry: InFlight = { keys, done: Deferred.unsafeMake<void>(FiberId.none) }
    this.inFlight.add(entry)
    return {
      wait: Effect.forEach(earlier, (done) => Deferred.await(done), { discard: true }),
      leave: Effect.suspend(() => {
        this.inFlight.delete(entry)
        return Deferred.succeed(entry.done, undefined)
      }).pipe(Effect.asVoid)
    }
  }
}
