import { describe, expect, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FastCheck from "effect/FastCheck"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import { parse } from "csv-parse/sync"
import { existsSync, mkdtempSync, readdirSync } from "node:fs"
import { setFlagsFromString } from "node:v8"
import { runInNewContext } from "node:vm"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Batcher, RowBlock } from "../src/index.js"

const header = "Id,Name\n"
const rowInput = (ordinal: number, name: string): Batcher.BatchInput => {
  const line = `${ordinal},${name}\n`
  return Batcher.row(ordinal, { line })
}

const partText = (part: Batcher.BatchPart) =>
  Stream.runCollect(part.body.stream).pipe(
    Effect.map((chunks) => Buffer.concat(Chunk.toArray(chunks).map((chunk) => Buffer.from(chunk))).toString("utf8"))
  )

/** The body of a batch of one part. */
const bodyText = (batch: Batcher.Batch) => {
  expect(batch.parts).toHaveLength(1)
  return partText(batch.parts[0])
}

/** Each output with the text of its body (empty for non-batches). */
const withText = (output: Batcher.BatchOutput): Effect.Effect<{ output: Batcher.BatchOutput; text: string }, Batcher.BatcherError> =>
  output._tag === "Batch" ? Effect.map(bodyText(output), (text) => ({ output, text })) : Effect.succeed({ output, text: "" })

const onlyBatches = (outputs: ReadonlyArray<Batcher.BatchOutput>) =>
  outputs.flatMap((output) => (output._tag === "Batch" ? [output] : []))

const freshTempDir = () => mkdtempSync(join(tmpdir(), "batcher-test-"))

describe("Batcher.batches", () => {
  it.effect("splits by rows and keeps lineage and checkpoints in order", () =>
    Effect.gen(function* () {
      const inputs = [
        Batcher.checkpoint("s0"),
        rowInput(0, "a"),
        rowInput(1, "b"),
        Batcher.checkpoint("s1"),
        rowInput(2, "c"),
        Batcher.checkpoint("s2"),
        Batcher.checkpoint("s3")
      ]
      const outputs = yield* Stream.fromIterable(inputs).pipe(
        Batcher.batches({ header, maxBatchRows: 2 }),
        Stream.mapEffect(withText),
        Stream.runCollect
      )
      expect(
        Chunk.toArray(outputs).map(({ output, text }) =>
          output._tag === "Batch"
            ? [output.firstOrdinal, output.lastOrdinal, output.rowCount, output.checkpoints, text, output.bytes]
            : [output._tag, output.checkpoints]
        )
      ).toEqual([
        [0, 1, 2, ["s0"], "Id,Name\n0,a\n1,b\n", 16],
        [2, 2, 1, ["s1"], "Id,Name\n2,c\n", 12],
        ["Checkpoints", ["s2", "s3"]]
      ])
    }))

  it.effect.prop(
    "never exceeds maxBatchBytes, loses no row and counts exact UTF-8 bytes",
    [
      FastCheck.array(FastCheck.string({ unit: FastCheck.oneof(FastCheck.fullUnicode(), FastCheck.constantFrom("é", "東", "🚀")), maxLength: 30 }), { maxLength: 60 }),
      FastCheck.integer({ min: 12, max: 120 }),
      FastCheck.integer({ min: 1, max: 400 }),
      FastCheck.integer({ min: 1, max: 12 })
    ],
    ([names, maxBatchBytes, spillThresholdBytes, rowsPerBlock]) =>
      Effect.gen(function* () {
        const lines = names.map((name, ordinal) => `${ordinal},${name.replace(/[",\r\n]/g, "_")}\n`)
        // rows arrive packed in blocks, which the batcher splits wherever a batch fills up
        const inputs: Array<Batcher.BatchInput> = []
        const builder = new RowBlock.RowBlockBuilder()
        lines.forEach((line, ordinal) => {
          builder.add(ordinal, line)
          if (builder.rowCount === rowsPerBlock) inputs.push(...Option.toArray(Option.fromNullable(builder.take())))
        })
        inputs.push(...Option.toArray(Option.fromNullable(builder.take())))
        const outputs = Chunk.toArray(
          yield* Stream.fromIterable(inputs).pipe(
            Batcher.batches({ header, maxBatchBytes, spillThresholdBytes, tempDir: tmpdir() }),
            Stream.mapEffect(withText),
            Stream.runCollect
          )
        )
        const batched: Array<string> = []
        const oversized: Array<number> = []
        for (const { output, text } of outputs) {
          if (output._tag === "OversizedRow") {
            oversized.push(output.ordinal)
            expect(Buffer.byteLength(header) + output.bytes).toBeGreaterThan(maxBatchBytes)
            continue
          }
          if (output._tag !== "Batch") continue
          expect(Buffer.byteLength(text)).toBe(output.bytes)
          expect(output.parts[0].body.bytes).toBe(output.bytes)
          expect(output.bytes).toBeLessThanOrEqual(maxBatchBytes)
          expect(text.startsWith(header)).toBe(true)
          const rows: Array<Array<string>> = parse(text, { from_line: 2 })
          expect(rows).toHaveLength(output.rowCount)
          batched.push(...rows.map((row) => row.join(",")))
        }
        const expectedRows = lines.flatMap((line, ordinal) => (oversized.includes(ordinal) ? [] : [line.slice(0, -1)]))
        expect(batched).toEqual(expectedRows)
      }),
    { fastCheck: { numRuns: 40 } }
  )

  it.effect("rejects a row larger than a batch with a reason, and carries on", () =>
    Effect.gen(function* () {
      const outputs = Chunk.toArray(
        yield* Stream.make(rowInput(0, "a"), Batcher.checkpoint("s"), rowInput(1, "x".repeat(50)), rowInput(2, "b")).pipe(
          Batcher.batches({ header, maxBatchBytes: 40 }),
          Stream.runCollect
        )
      )
      expect(outputs.map((output) => output._tag)).toEqual(["Batch", "OversizedRow", "Batch"])
      const oversized = outputs[1]
      expect(oversized?._tag === "OversizedRow" && [oversized.ordinal, oversized.bytes, oversized.checkpoints, oversized.reason]).toEqual([
        1,
        53,
        ["s"],
        "row 1 is 53 bytes; with the 8-byte header it exceeds maxBatchBytes (40)"
      ])
    }))

  it.effect("fills a batch to exactly maxBatchBytes", () =>
    Effect.gen(function* () {
      // header 8 bytes + 4 rows of 4 bytes = 24
      const outputs = onlyBatches(
        Chunk.toArray(
          yield* Stream.range(0, 9).pipe(
            Stream.map((ordinal) => rowInput(ordinal, "x")),
            Batcher.batches({ header, maxBatchBytes: 24 }),
            Stream.runCollect
          )
        )
      )
      expect(outputs.map((batch) => [batch.rowCount, batch.bytes])).toEqual([[4, 24], [4, 24], [2, 16]])
    }))

  const keys = ["a", "b", "a", "c", "b", "b"]
  const keyedLine = (ordinal: number) => `${keys[ordinal]},${ordinal}\n`
  /** Each batch's ordinal range and its parts: their ordinals and text. */
  const keyedBatches = (inputs: ReadonlyArray<Batcher.BatchInput>, options: Partial<Batcher.Options> = {}) =>
    Stream.fromIterable(inputs).pipe(
      Batcher.batches({ header, ...options }),
      Stream.filter((output) => output._tag === "Batch"),
      Stream.mapEffect((batch) =>
        Effect.map(
          Effect.forEach(batch.parts, (part) => Effect.map(partText(part), (text) => [[...part.ordinals()], text])),
          (parts) => [batch.firstOrdinal, batch.lastOrdinal, parts]
        )
      ),
      Stream.runCollect,
      Effect.map(Chunk.toArray)
    )
  const keyedRows = () => keys.map((key, ordinal) => Batcher.row(ordinal, { line: keyedLine(ordinal) }, key))

  it.effect("puts a row repeating a key of its batch in the batch's next part, one job after the other", () =>
    Effect.gen(function* () {
      expect(yield* keyedBatches(keyedRows())).toEqual([
        [
          0,
          5,
          [
            [[0, 1, 3], "Id,Name\na,0\nb,1\nc,3\n"],
            [[2, 4], "Id,Name\na,2\nb,4\n"],
            [[5], "Id,Name\nb,5\n"]
          ]
        ]
      ])
    }))

  it.effect("splits a block of rows into parts where keys repeat", () =>
    Effect.gen(function* () {
      const builder = new RowBlock.RowBlockBuilder()
      keys.forEach((key, ordinal) => builder.add(ordinal, keyedLine(ordinal), key))
      const fromBlock = yield* keyedBatches(Option.toArray(Option.fromNullable(builder.take())))
      expect(fromBlock).toEqual(yield* keyedBatches(keyedRows()))
    }))

  it.effect("starts a new batch when a key repeats more often than maxBatchParts", () =>
    Effect.gen(function* () {
      expect(yield* keyedBatches(keyedRows(), { maxBatchParts: 2 })).toEqual([
        [
          0,
          4,
          [
            [[0, 1, 3], "Id,Name\na,0\nb,1\nc,3\n"],
            [[2, 4], "Id,Name\na,2\nb,4\n"]
          ]
        ],
        [5, 5, [[[5], "Id,Name\nb,5\n"]]]
      ])
      expect(yield* keyedBatches(keyedRows(), { maxBatchParts: 1 })).toEqual([
        [0, 1, [[[0, 1], "Id,Name\na,0\nb,1\n"]]],
        [2, 4, [[[2, 3, 4], "Id,Name\na,2\nc,3\nb,4\n"]]],
        [5, 5, [[[5], "Id,Name\nb,5\n"]]]
      ])
    }))

  it.effect("starts a new batch when the part a repeated key needs is full", () =>
    Effect.gen(function* () {
      // header 8 bytes: the second part has room for "a,2-long" (9) but not then "b,3-longer-xy" (14)
      const lines = [["a", "a,0"], ["b", "b,1"], ["a", "a,2-long"], ["b", "b,3-longer-xy"], ["c", "c,4"]] as const
      const rows = lines.map(([key, line], ordinal) => Batcher.row(ordinal, { line: `${line}\n` }, key))
      expect(yield* keyedBatches(rows, { maxBatchBytes: 30 })).toEqual([
        [
          0,
          2,
          [
            [[0, 1], "Id,Name\na,0\nb,1\n"],
            [[2], "Id,Name\na,2-long\n"]
          ]
        ],
        [3, 4, [[[3, 4], "Id,Name\nb,3-longer-xy\nc,4\n"]]]
      ])
    }))

  it.effect.prop(
    "parts never repeat a key, keep each key's rows in order and lose no row",
    [
      FastCheck.array(FastCheck.tuple(FastCheck.constantFrom("a", "b", "c", "d", "e"), FastCheck.string({ maxLength: 12 })), { maxLength: 80 }),
      FastCheck.integer({ min: 24, max: 90 }),
      FastCheck.integer({ min: 1, max: 6 }),
      FastCheck.integer({ min: 1, max: 4 }),
      FastCheck.integer({ min: 1, max: 9 })
    ],
    ([rows, maxBatchBytes, maxBatchRows, maxBatchParts, rowsPerBlock]) =>
      Effect.gen(function* () {
        const lines = rows.map(([key, name], ordinal) => `${key},${ordinal},${name.replace(/[",\r\n]/g, "_")}\n`)
        const inputs: Array<Batcher.BatchInput> = []
        const builder = new RowBlock.RowBlockBuilder()
        lines.forEach((line, ordinal) => {
          builder.add(ordinal, line, rows[ordinal]?.[0])
          if (builder.rowCount === rowsPerBlock) inputs.push(...Option.toArray(Option.fromNullable(builder.take())))
        })
        inputs.push(...Option.toArray(Option.fromNullable(builder.take())))
        const outputs = Chunk.toArray(
          yield* Stream.fromIterable(inputs).pipe(
            Batcher.batches({ header, maxBatchBytes, maxBatchRows, maxBatchParts, spillThresholdBytes: 30, tempDir: tmpdir() }),
            Stream.runCollect
          )
        )
        const seen: Array<number> = []
        let nextOrdinal = 0
        for (const output of outputs) {
          if (output._tag === "OversizedRow") {
            expect(output.ordinal).toBe(nextOrdinal++)
            continue
          }
          if (output._tag !== "Batch") continue
          expect(output.firstOrdinal).toBe(nextOrdinal)
          nextOrdinal = output.lastOrdinal + 1
          expect(output.parts.length).toBeLessThanOrEqual(maxBatchParts)
          /** The part each key was last sent in: a key's next row must be in a later part. */
          const lastPartOf = new Map<string, number>()
          const batchOrdinals: Array<number> = []
          for (const part of output.parts) {
            const text = yield* partText(part)
            expect(Buffer.byteLength(text)).toBe(part.bytes)
            expect(part.bytes).toBeLessThanOrEqual(maxBatchBytes)
            expect(part.rowCount).toBeLessThanOrEqual(maxBatchRows)
            const partRows: Array<Array<string>> = parse(text, { from_line: 2, relax_column_count: true })
            expect(partRows).toHaveLength(part.rowCount)
            expect(partRows.map((row) => Number(row[1]))).toEqual([...part.ordinals()])
            const partKeys = partRows.map((row) => row[0] ?? "")
            expect(new Set(partKeys).size).toBe(partKeys.length)
            for (const row of partRows) {
              const [key = "", ordinal = ""] = row
              expect(lines[Number(ordinal)]).toBe(`${row.join(",")}\n`)
              expect(output.keys.has(key)).toBe(true)
              batchOrdinals.push(Number(ordinal))
            }
          }
          batchOrdinals.sort((left, right) => left - right)
          for (const ordinal of batchOrdinals) {
            const key = rows[ordinal]?.[0] ?? ""
            const partIndex = output.parts.findIndex((part) => [...part.ordinals()].includes(ordinal))
            expect(partIndex).toBeGreaterThan(lastPartOf.get(key) ?? -1)
            lastPartOf.set(key, partIndex)
          }
          expect(output.rowCount).toBe(batchOrdinals.length)
          expect(output.bytes).toBe(output.parts.reduce((sum, part) => sum + part.bytes, 0))
          seen.push(...batchOrdinals)
        }
        expect(nextOrdinal).toBe(lines.length)
        const oversized = outputs.flatMap((output) => (output._tag === "OversizedRow" ? [output.ordinal] : []))
        expect([...seen, ...oversized].sort((left, right) => left - right)).toEqual(lines.map((_, ordinal) => ordinal))
      }),
    { fastCheck: { numRuns: 60 } }
  )

  it.effect("closes the open batch at a flush, with the checkpoints after its rows", () =>
    Effect.gen(function* () {
      const outputs = yield* Stream.make(rowInput(0, "a"), Batcher.checkpoint("s1"), Batcher.flushNow, Batcher.flushNow, rowInput(1, "b")).pipe(
        Batcher.batches({ header }),
        Stream.mapEffect(withText),
        Stream.runCollect
      )
      expect(
        Chunk.toArray(outputs).map(({ output, text }) => (output._tag === "Batch" ? [output.firstOrdinal, output.lastOrdinal, text] : [output._tag]))
      ).toEqual([[0, 0, "Id,Name\n0,a\n"], ["Checkpoints"], [1, 1, "Id,Name\n1,b\n"]])
    }))

  describe("memory of a batch with several parts", () => {
    setFlagsFromString("--expose-gc")
    const collectGarbage = runInNewContext("gc") as () => void
    const filler = "f".repeat(1000)

    /**
     * Runs `blocks` through a batcher (1 MiB spill threshold, ~4 blocks) and tells how many of the
     * blocks' buffers are still alive once the last one is in, while the batch is still open
     * (with views kept unspilled: all of them).
     */
    const blocksAliveAtEnd = (blocks: ReadonlyArray<() => RowBlock.RowBlock>) =>
      Effect.gen(function* () {
        const alive: Array<WeakRef<ArrayBufferLike>> = []
        let aliveAtEnd = -1
        const settle = Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))
        const input = Stream.fromIterable(blocks.map((make, index) => ({ make, last: index === blocks.length - 1 }))).pipe(
          Stream.mapEffect(({ make, last }) =>
            Effect.gen(function* () {
              if (last) {
                // file writes in flight hold their buffers a moment: a few rounds
                for (let round = 0; round < 3; round++) {
                  yield* settle
                  collectGarbage()
                }
                aliveAtEnd = alive.filter((buffer) => buffer.deref() !== undefined).length
              }
              const block = make()
              alive.push(new WeakRef(block.bytes.buffer))
              return block
            })
          )
        )
        const batches = yield* input.pipe(
          Batcher.batches({ header, spillThresholdBytes: 1024 * 1024, tempDir: freshTempDir() }),
          Stream.mapEffect((output) => (output._tag === "Batch" ? Effect.as(output.release, [output.parts.length]) : Effect.succeed([]))),
          Stream.runCollect
        )
        return { aliveAtEnd, parts: Chunk.toArray(batches).flat() }
      })

    const blockOf = (rows: ReadonlyArray<readonly [string, string | undefined]>, firstOrdinal: number) => {
      const builder = new RowBlock.RowBlockBuilder()
      rows.forEach(([line, key], index) => builder.add(firstOrdinal + index, line, key))
      const block = builder.take()
      if (block === undefined) throw new Error("an empty block")
      return block
    }

    it.live("a row going to a later part does not keep its whole block in memory", () =>
      Effect.gen(function* () {
        // each ~250 KiB block: a key twice (the second row goes to part 2), then rows without a key
        const rowsPerBlock = 258
        const blocks = Array.from({ length: 100 }, (_, index) => () =>
          blockOf(
            [[`r${index},1\n`, `r${index}`], [`r${index},2\n`, `r${index}`], ...Array.from({ length: 256 }, (): [string, undefined] => [`,${filler}\n`, undefined])],
            index * rowsPerBlock
          )
        )
        const { aliveAtEnd, parts } = yield* blocksAliveAtEnd(blocks)
        expect(parts).toEqual([2])
        expect(aliveAtEnd).toBeLessThan(25)
      }))

    it.live("a block whose rows mostly go to later parts is not kept alive by the few its first part holds", () =>
      Effect.gen(function* () {
        // block 0 brings 20,000 keys; each next block one new key and 250 rows of 1 KB repeating
        // 250 of them once (so into the second part)
        const first = () => blockOf(Array.from({ length: 20_000 }, (_, key): [string, string] => [`k${key},0\n`, `k${key}`]), 0)
        const blocks = [
          first,
          ...Array.from({ length: 80 }, (_, index) => () =>
            blockOf(
              [
                [`n${index},0\n`, `n${index}`],
                ...Array.from({ length: 250 }, (_, row): [string, string] => [`k${index * 250 + row},${filler}\n`, `k${index * 250 + row}`])
              ],
              20_000 + index * 251
            )
          )
        ]
        const { aliveAtEnd } = yield* blocksAliveAtEnd(blocks)
        expect(aliveAtEnd).toBeLessThan(25)
      }))

    it.effect("spills once all its parts together hold the threshold", () =>
      Effect.gen(function* () {
        // 1,000 keys each 10 times in a row, rows of ~900 bytes: 10 parts of ~900 KB, 9 MB in all
        const rows = Array.from({ length: 10_000 }, (_, index) =>
          Batcher.row(index, { line: `k${Math.floor(index / 10)},${"x".repeat(890)}\n` }, `k${Math.floor(index / 10)}`)
        )
        const batches = onlyBatches(
          Chunk.toArray(yield* Stream.fromIterable(rows).pipe(Batcher.batches({ header, spillThresholdBytes: 1024 * 1024, tempDir: freshTempDir() }), Stream.runCollect))
        )
        expect(batches.map((batch) => batch.parts.length)).toEqual([10])
        expect(batches.flatMap((batch) => batch.parts.map((part) => Option.isSome(part.body.path)))).toEqual(Array(10).fill(true))
      }))
  })

  it.effect("fails clearly on impossible options", () =>
    Effect.gen(function* () {
      const exit = yield* Stream.make(rowInput(0, "a")).pipe(Batcher.batches({ header, maxBatchBytes: 8 }), Stream.runCollect, Effect.exit)
      const failure = Exit.isFailure(exit) ? Option.getOrUndefined(Cause.failureOption(exit.cause)) : undefined
      expect(failure?.reason).toBe("InvalidOptions")
      expect(failure?.message).toBe("maxBatchBytes (8) must be an integer above the header's 8 bytes")
    }))

  it.effect("flushes a partial batch after maxBatchAge, driven by the TestClock", () =>
    Effect.gen(function* () {
      const emitted: Array<Batcher.BatchOutput> = []
      const gate = yield* Deferred.make<void>()
      const input = Stream.concat(
        Stream.make(rowInput(0, "a"), Batcher.checkpoint("s1")),
        Stream.fromEffect(Deferred.await(gate)).pipe(Stream.map(() => rowInput(1, "b")))
      )
      const fiber = yield* input.pipe(
        Batcher.batches({ header, maxBatchAge: "30 seconds" }),
        Stream.runForEach((output) => Effect.sync(() => emitted.push(output))),
        Effect.fork
      )
      yield* TestClock.adjust("29 seconds")
      expect(emitted).toEqual([])
      yield* TestClock.adjust("1 second")
      yield* Effect.yieldNow()
      expect(emitted.map((output) => [output._tag, output.checkpoints])).toEqual([
        ["Batch", []],
        ["Checkpoints", ["s1"]]
      ])
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.join(fiber)
      expect(emitted.map((output) => (output._tag === "Batch" ? output.firstOrdinal : output._tag))).toEqual([0, "Checkpoints", 1])
    }))

  it.effect("flushes at maxBatchAge while rows keep arriving, one batch per age", () =>
    Effect.gen(function* () {
      const emitted: Array<Batcher.BatchOutput> = []
      // a row every second for 12 seconds; batches age out after 4.5
      const input = Stream.range(0, 11).pipe(
        Stream.schedule(Schedule.spaced("1 second")),
        Stream.map((ordinal) => rowInput(ordinal, "x"))
      )
      const fiber = yield* input.pipe(
        Batcher.batches({ header, maxBatchAge: "4500 millis" }),
        Stream.runForEach((output) => Effect.sync(() => emitted.push(output))),
        Effect.fork
      )
      for (let step = 0; step < 28; step++) {
        yield* TestClock.adjust("500 millis")
        yield* Effect.yieldNow()
      }
      yield* Fiber.join(fiber)
      const batches = onlyBatches(emitted).map((batch) => [batch.firstOrdinal, batch.lastOrdinal])
      expect(batches).toEqual([
        [0, 4],
        [5, 9],
        [10, 11]
      ])
    }))

  describe("temp files", () => {
    const spilling = (tempDir: string) => ({ header, spillThresholdBytes: 16, tempDir })
    const rows = (count: number) => Stream.range(0, count - 1).pipe(Stream.map((ordinal) => rowInput(ordinal, "name")))

    it.effect("spills big batches to disk and removes each file on release", () =>
      Effect.gen(function* () {
        const tempDir = freshTempDir()
        const seen: Array<[string, boolean, string]> = []
        yield* rows(10).pipe(
          Batcher.batches({ ...spilling(tempDir), maxBatchRows: 5 }),
          Stream.runForEach((output) =>
            output._tag === "Batch"
              ? Batcher.use(output, (batch) =>
                  Effect.gen(function* () {
                    const path = Option.getOrElse(batch.parts[0].body.path, () => "")
                    seen.push([path, existsSync(path), yield* bodyText(batch)])
                  })
                ).pipe(Effect.tap(() => Effect.sync(() => expect(existsSync(seen.at(-1)?.[0] ?? "")).toBe(false))))
              : Effect.void
          )
        )
        expect(seen.map(([path, existed, text]) => [path.startsWith(tempDir), existed, text.split("\n").length - 2])).toEqual([
          [true, true, 5],
          [true, true, 5]
        ])
        expect(readdirSync(tempDir)).toEqual([])
      }))

    it.effect("keeps small batches in memory", () =>
      Effect.gen(function* () {
        const tempDir = freshTempDir()
        const batches = onlyBatches(Chunk.toArray(yield* rows(2).pipe(Batcher.batches({ header, tempDir }), Stream.runCollect)))
        expect(batches.map((batch) => Option.isNone(batch.parts[0].body.path))).toEqual([true])
        expect(readdirSync(tempDir)).toEqual([])
      }))

    it.effect("keeps a handed-out batch's file past the end of the stream until it is released", () =>
      Effect.gen(function* () {
        const tempDir = freshTempDir()
        const batches: Array<Batcher.Batch> = []
        yield* rows(20).pipe(
          Batcher.batches({ ...spilling(tempDir), maxBatchRows: 5 }),
          Stream.runForEach((output) => Effect.sync(() => (output._tag === "Batch" ? batches.push(output) : 0)))
        )
        expect(batches).toHaveLength(4)
        const paths = batches.map((batch) => Option.getOrElse(batch.parts[0].body.path, () => ""))
        expect(paths.every(existsSync)).toBe(true)
        expect(yield* bodyText(batches[3] as Batcher.Batch)).toContain("15,")
        for (const batch of batches.slice(0, 3)) yield* batch.release
        expect(paths.map(existsSync)).toEqual([false, false, false, true])
        yield* (batches[3] as Batcher.Batch).release
        expect(readdirSync(tempDir)).toEqual([])
      }))

    it.live("lets concurrent uploads read their files after the input has ended", () =>
      Effect.gen(function* () {
        const tempDir = freshTempDir()
        const texts = yield* rows(20).pipe(
          Batcher.batches({ ...spilling(tempDir), maxBatchRows: 5 }),
          Stream.mapEffect(
            (output) =>
              output._tag === "Batch"
                ? Batcher.use(output, (batch) => Effect.zipRight(Effect.sleep("20 millis"), bodyText(batch)))
                : Effect.succeed(""),
            { concurrency: 4 }
          ),
          Stream.runCollect
        )
        expect(Chunk.toArray(texts).filter((text) => text !== "")).toHaveLength(4)
        expect(Chunk.toArray(texts).every((text) => text === "" || text.startsWith(header))).toBe(true)
        expect(readdirSync(tempDir)).toEqual([])
      }))

    it.effect("removes every file when the input fails mid-batch", () =>
      Effect.gen(function* () {
        const tempDir = freshTempDir()
        let spilled = 0
        const exit = yield* Stream.concat(rows(12), Stream.fail("source broke")).pipe(
          Batcher.batches({ ...spilling(tempDir), maxBatchRows: 5 }),
          Stream.runForEach(() =>
            Effect.sync(() => {
              spilled = readdirSync(tempDir).length
            })
          ),
          Effect.exit
        )
        expect(exit).toEqual(Exit.fail("source broke"))
        expect(spilled).toBe(1)
        expect(readdirSync(tempDir)).toEqual([])
      }))

    it.effect("removes every file when the consumer is interrupted", () =>
      Effect.gen(function* () {
        const tempDir = freshTempDir()
        const uploading = yield* Deferred.make<string>()
        const fiber = yield* rows(12).pipe(
          Batcher.batches({ ...spilling(tempDir), maxBatchRows: 5 }),
          Stream.mapEffect((output) =>
            output._tag === "Batch"
              ? Batcher.use(output, (batch) =>
                  Deferred.succeed(uploading, Option.getOrElse(batch.parts[0].body.path, () => "")).pipe(Effect.zipRight(Effect.never))
                )
              : Effect.void
          ),
          Stream.runDrain,
          Effect.fork
        )
        const path = yield* Deferred.await(uploading)
        expect(existsSync(path)).toBe(true)
        yield* Fiber.interrupt(fiber)
        expect(existsSync(path)).toBe(false)
        expect(readdirSync(tempDir)).toEqual([])
      }))
  })
})
