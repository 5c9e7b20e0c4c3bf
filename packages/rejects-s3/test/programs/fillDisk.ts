/**
 * Writes 3,000 rejected records of ~1 KB to a local sink in the directory given, and prints
 * whether the flush succeeded and how many records the sink counts durable. Run under a file size
 * limit (`ulimit -f`), a write takes only the bytes that fit, as on a full disk.
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { RejectSink } from "../../src/index.js"
import { rejected } from "../fixtures.js"

const [directory = ""] = process.argv.slice(2)
const outcome = Effect.gen(function* () {
  const sink = yield* RejectSink.makeLocal({ directory, bucketPath: "dead", format: "jsonl", syncId: "42" })
  yield* sink.write(Array.from({ length: 3000 }, (_, index) => rejected(index, { message: "x".repeat(1000) })))
  const flushed = yield* Effect.exit(sink.flush)
  const counts = yield* sink.counts
  return { flushed: Exit.isSuccess(flushed), durable: counts.durable }
})
process.stdout.write(`${JSON.stringify(await Effect.runPromise(Effect.scoped(outcome)))}\n`)
