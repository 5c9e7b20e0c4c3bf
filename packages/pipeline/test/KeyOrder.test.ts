import { describe, expect, it } from "@effect/vitest"
import { KeySet } from "@sfdc-activation/batcher"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import { KeyOrder } from "../src/index.js"

const keys = (...values: Array<string>) => {
  const set = new KeySet.KeySet()
  for (const value of values) set.add(value)
  return set
}

/** Whether the fiber has ended once everything runnable has run. */
const ended = <A>(fiber: Fiber.RuntimeFiber<A>) => Effect.map(Effect.zipRight(Effect.yieldNow(), Fiber.poll(fiber)), Option.isSome)

describe("KeyOrder", () => {
  it.effect("holds a batch back until every earlier batch sharing a key has left, and no other", () =>
    Effect.gen(function* () {
      const order = new KeyOrder.KeyOrder()
      const first = order.enter(keys("a", "b"))
      const unrelated = order.enter(keys("c"))
      const second = order.enter(keys("x", "b"))
      const third = order.enter(keys("a", "x"))
      yield* unrelated.wait
      const secondWaits = yield* Effect.fork(second.wait)
      const thirdWaits = yield* Effect.fork(third.wait)
      expect(yield* ended(secondWaits)).toBe(false)
      yield* first.leave
      expect(yield* ended(secondWaits)).toBe(true)
      // the third shares "a" with the first (gone) and "x" with the second (still in flight)
      expect(yield* ended(thirdWaits)).toBe(false)
      yield* second.leave
      expect(yield* ended(thirdWaits)).toBe(true)
    }))

  it.effect("lets a batch go at once when the batches it shares keys with have already left, or when it has no keys", () =>
    Effect.gen(function* () {
      const order = new KeyOrder.KeyOrder()
      const first = order.enter(keys("a"))
      yield* first.leave
      const again = yield* Effect.fork(order.enter(keys("a")).wait)
      expect(yield* ended(again)).toBe(true)
      const keyless = yield* Effect.fork(order.enter(keys()).wait)
      expect(yield* ended(keyless)).toBe(true)
    }))
})
