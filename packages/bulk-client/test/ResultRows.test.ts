import { describe, expect, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
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
