/**
 * A process entry point whose first SIGINT / SIGTERM asks the run to stop rather than
 * interrupting it: `requested` completes (hand it to `Pipeline.run`'s `stop`), so nothing new is
 * sent and the jobs already in Salesforce are awaited and settled. A second signal, or the end of
 * `gracePeriodMillis` when one is set, interrupts the run (open jobs are aborted); a signal after
 * that ends the process at once. A command that has nothing to drain (`drains: false`) is
 * interrupted by the first signal.
 */
import { makeRunMain, type RunMain } from "@effect/platform/Runtime"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"

export interface Options {
  /** Whether the first signal asks the run to stop (true) or interrupts it. */
  readonly drains: boolean
  /** How long a run asked to stop may take before it is interrupted; unbounded without one. */
  readonly gracePeriodMillis?: number | undefined
  /** Called once, when the first signal asks the run to stop. */
  readonly onStopRequested?: (() => void) | undefined
}

export interface StopSignal {
  /** Completes when the first signal asks the run to stop. */
  readonly requested: Effect.Effect<void>
  /** `runMain` with the signal handling above; exits with the teardown's code. */
  readonly runMain: RunMain
}

/** Signals that stop a run. */
const signals = ["SIGINT", "SIGTERM"] as const

export const make = (options: Options): StopSignal => {
  const requested = Effect.runSync(Deferred.make<void>())
  const runMain = makeRunMain(({ fiber, teardown }) => {
    const keepAlive = setInterval(() => undefined, 2 ** 31 - 1)
    let received = 0
    const interrupt = () => {
      // a later signal gets Node's default (the process ends): an interruption stuck in a finalizer cannot hold it
      for (const signal of signals) process.removeListener(signal, onSignal)
      fiber.unsafeInterruptAsFork(fiber.id())
    }
    const onSignal = () => {
      received++
      if (received > 1 || !options.drains) return interrupt()
      Effect.runSync(Deferred.succeed(requested, undefined))
      options.onStopRequested?.()
      if (options.gracePeriodMillis !== undefined) setTimeout(interrupt, options.gracePeriodMillis).unref()
    }
    for (const signal of signals) process.on(signal, onSignal)
    fiber.addObserver((exit) => {
      for (const signal of signals) process.removeListener(signal, onSignal)
      clearInterval(keepAlive)
      teardown(exit, (code) => {
        if (received > 0 || code !== 0) process.exit(code)
      })
    })
  })
  return { requested: Deferred.await(requested), runMain }
}
