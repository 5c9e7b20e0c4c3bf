import { describe, expect, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Fiber from "effect/Fiber"
import * as Stream from "effect/Stream"
import { gzipSync } from "node:zlib"
import { ResultRows } from "../src/index.js"

const encoder = new TextEncoder()
const onError = (cause: unknown) => `broken: ${cause instanceof Error ? cause.message : "?"}`

describe("ResultRows", () => {
  it.effect("parses quoted result rows, plain or gzip, split anywhere", () =>
    Effect.gen(function* () {
      const csv = '"sf__Id","sf__Error",Name,Note\n"","REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --","","a, ""quoted""\nline"\n'
      const expected = [
        { sf__Id: "", sf__Error: "REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --", Name: "", Note: 'a, "quoted"\nline' }
      ]
      const bytes = encoder.encode(csv)
      const split = Stream.fromIterable(Array.from(bytes, (byte) => Uint8Array.of(byte)))
      expect(Chunk.toArray(yield* Stream.runCollect(ResultRows.parse(split, { onError })))).toEqual(expected)
      const zipped = Stream.make(new Uint8Array(gzipSync(bytes)))
      expect(Chunk.toArray(yield* Stream.runCollect(ResultRows.parse(zipped, { onError })))).toEqual(expected)
    }))

  it.effect("fails with the caller's error when the body breaks off or is not CSV", () =>
    Effect.gen(function* () {
      const broken = Stream.concat(Stream.make(encoder.encode('"sf__Id",Name\n"1",A\n')), Stream.fail("reset"))
      const error = yield* Effect.flip(Stream.runCollect(ResultRows.parse(broken, { onError })))
      expect(error).toMatch(/^broken/)
      const truncatedGzip = Stream.make(new Uint8Array(gzipSync(encoder.encode('"sf__Id",Name\n"1",A\n')).subarray(0, 12)))
      expect(yield* Effect.flip(Stream.runCollect(ResultRows.parse(truncatedGzip, { onError })))).toMatch(/^broken/)
    }))

  it.effect("counts the rows whose column holds a value, as parsing them would, split anywhere and gzip", () =>
    Effect.gen(function* () {
      const csv =
        '\ufeff"sf__Id","sf__Created",Name,Note\n' +
        '"001A","true","a, ""b""","true"\n' +
        '"001B","false","multi\nline, ""true""\r\nstill","x"\n' +
        "\n" +
        '001C,true,plain,"true"\n' +
        '"001D","truer","",""\n' +
        '"001E","true","""","last row, no line break"'
      const bytes = encoder.encode(csv)
      const crlf = encoder.encode(
        '"sf__Id","sf__Created",Name,Note\r\n' +
          '"001A","true","a, ""b""","true"\r\n' +
          '"001B","false","multi\nline, ""true""\r\nstill","x"\r\n' +
          "\r\n" +
          '001C,true,plain,"true"\r\n' +
          '"001D","truer","",""\r\n' +
          '"001E","true","""","last row, no line break"\r\n'
      )
      const count = (body: Stream.Stream<Uint8Array>, column = "sf__Created", value = "true") =>
        ResultRows.countMatching(body, column, value, { onError })
      const parsed = Chunk.toArray(yield* Stream.runCollect(ResultRows.parse(Stream.make(bytes), { onError })))
      expect(parsed.filter((row) => row["sf__Created"] === "true")).toHaveLength(3)
      expect(yield* count(Stream.make(bytes))).toBe(3)
      expect(yield* count(Stream.fromIterable(Array.from(bytes, (byte) => Uint8Array.of(byte))))).toBe(3)
      expect(yield* count(Stream.make(new Uint8Array(gzipSync(bytes))))).toBe(3)
      expect(Chunk.toArray(yield* Stream.runCollect(ResultRows.parse(Stream.make(crlf), { onError })))).toEqual(parsed)
      expect(yield* count(Stream.make(crlf))).toBe(3)
      expect(yield* count(Stream.make(bytes), "Note", "true")).toBe(2)
      expect(yield* count(Stream.make(bytes), "Name", 'multi\nline, "true"\r\nstill')).toBe(1)
      expect(yield* count(Stream.make(bytes), "Missing")).toBe(0)
      expect(yield* count(Stream.make(encoder.encode('"sf__Id","sf__Created"\n')))).toBe(0)
      expect(yield* count(Stream.empty)).toBe(0)
    }))

  it.effect("fails with the caller's error on malformed CSV", () =>
    Effect.gen(function* () {
      const read = (csv: string) => Effect.flip(Stream.runCollect(ResultRows.parse(Stream.make(encoder.encode(csv)), { onError })))
      expect(yield* read('sf__Id,Name\n"1","unclosed\n')).toBe("broken: malformed CSV at line 2, record 2 (the header is record 1): a quoted field is never closed")
      const unclosed = Stream.make(encoder.encode('sf__Id,sf__Created\n1,"true\n'))
      expect(yield* Effect.flip(ResultRows.countMatching(unclosed, "sf__Created", "true", { onError }))).toBe(
        "broken: malformed CSV in record 2 (the header is record 1): a quoted field is never closed"
      )
    }))

  it.effect("hands on the rows before a malformed row in the same chunk, then fails with the caller's error", () =>
    Effect.gen(function* () {
      const csv = 'sf__Id,Name\n001A,A\n001B,B\n001C,"C"x\n001D,D\n'
      const read = yield* Stream.runCollect(Stream.either(ResultRows.parse(Stream.make(encoder.encode(csv)), { onError })))
      expect(Chunk.toArray(read)).toEqual([
        Either.right({ sf__Id: "001A", Name: "A" }),
        Either.right({ sf__Id: "001B", Name: "B" }),
        Either.left("broken: malformed CSV at line 4, record 4 (the header is record 1): a closing quote is not followed by a comma or a line break")
      ])
    }))

  it.live("stops reading at once when interrupted while the body stalls, plain or gzip", () =>
    Effect.gen(function* () {
      const csv = encoder.encode("sf__Id,sf__Created\n1,true\n")
      for (const first of [csv, new Uint8Array(gzipSync(csv)).subarray(0, 10)]) {
        const reading = yield* Deferred.make<void>()
        const body = Stream.concat(Stream.make(first), Stream.fromEffect(Deferred.succeed(reading, undefined)).pipe(Stream.drain, Stream.concat(Stream.never)))
        const fiber = yield* Effect.fork(Stream.runCollect(ResultRows.parse(body, { onError })))
        yield* Deferred.await(reading)
        yield* Fiber.interrupt(fiber)
        const counting = yield* Effect.fork(ResultRows.countMatching(body, "sf__Created", "true", { onError }))
        yield* Fiber.interrupt(counting)
      }
    }), 10_000)

  it.effect("finds gzip after an empty first chunk, and reports the body's own failure as mapped once", () =>
    Effect.gen(function* () {
      const csv = encoder.encode("sf__Id,sf__Created\n1,true\n2,false\n")
      const zipped = Stream.make(new Uint8Array(0), new Uint8Array(gzipSync(csv)))
      expect(Chunk.toArray(yield* Stream.runCollect(ResultRows.parse(zipped, { onError })))).toEqual([
        { sf__Id: "1", sf__Created: "true" },
        { sf__Id: "2", sf__Created: "false" }
      ])
      expect(yield* ResultRows.countMatching(zipped, "sf__Created", "true", { onError })).toBe(1)
      const seen: Array<unknown> = []
      const record = (cause: unknown) => {
        seen.push(cause)
        return "mapped"
      }
      const broken = Stream.concat(Stream.make(csv), Stream.fail("connection reset"))
      expect(yield* Effect.flip(Stream.runCollect(ResultRows.parse(broken, { onError: record })))).toBe("mapped")
      expect(seen).toEqual(["connection reset"])
    }))

  it.effect("fails a count with the caller's error when the body breaks off", () =>
    Effect.gen(function* () {
      const broken = Stream.concat(Stream.make(encoder.encode('"sf__Id",sf__Created\n"1",true\n')), Stream.fail("reset"))
      expect(yield* Effect.flip(ResultRows.countMatching(broken, "sf__Created", "true", { onError }))).toMatch(/^broken/)
    }))

  it.effect("streams a million rows without holding them", () =>
    Effect.gen(function* () {
      const rowCount = 1_000_000
      const rowsPerChunk = 1_000
      const header = encoder.encode('"sf__Id","sf__Created",LastName,Email,Phone\n')
      const chunk = (start: number) => {
        let text = ""
        for (let row = start; row < start + rowsPerChunk; row++) {
          text += `"003000000000${String(row).padStart(6, "0")}","true","Lovelace ${row}","ada.${row}@example.com","+44 20 7946 0958"\n`
        }
        return encoder.encode(text)
      }
      const body = Stream.concat(
        Stream.make(header),
        Stream.range(0, rowCount / rowsPerChunk - 1).pipe(Stream.map((index) => chunk(index * rowsPerChunk)))
      )
      global.gc?.()
      const heapBefore = process.memoryUsage().heapUsed
      let peakGrowth = 0
      let count = 0
      let withoutLastName = 0
      yield* ResultRows.parse(body, { onError }).pipe(
        Stream.runForEach((row) =>
          Effect.sync(() => {
            count++
            if (row["LastName"] === undefined) withoutLastName++
            if (count % 100_000 === 0) peakGrowth = Math.max(peakGrowth, process.memoryUsage().heapUsed - heapBefore)
          })
        )
      )
      expect(count).toBe(rowCount)
      expect(withoutLastName).toBe(0)
      // Held in memory, a million parsed rows take over 400 MB of heap; streamed, the heap
      // holds only garbage not yet collected.
      expect(peakGrowth).toBeLessThan(160 * 1024 * 1024)
    }), 120_000)
})
