import { describe, expect, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { existsSync, readdirSync } from "node:fs"
import type { Readable } from "node:stream"
import { RetryRows } from "../src/index.js"
import { tempDirectory } from "./support.js"

const lockError = "UNABLE_TO_LOCK_ROW:unable to obtain exclusive access to this record:--"

const rowsOf = (count: number) =>
  Array.from({ length: count }, (_, index) => ({
    row: { LastName: index % 3 === 0 ? `Name, "${index}"\nsecond line` : `Name ${index}`, Title: index % 2 === 0 ? "" : "Ms" },
    sfError: index % 2 === 0 ? lockError : `UNPROCESSED:row ${index}: --`,
    // the record Salesforce named, for some (an upsert's existing record); kept through the spool
    ...(index % 4 === 0 ? { sfId: `0035g0000000${String(index).padStart(3, "0")}AAA` } : {})
  }))

/** The body of the follow-up job as text, however it is held. */
const bodyText = (rows: RetryRows.RetryRows) =>
  Effect.gen(function* () {
    const body = yield* rows.body()
    if (!("open" in body.content)) {
      const chunks = yield* Stream.runCollect(body.content)
      return { ...body, text: Buffer.concat(Chunk.toArray(chunks)).toString("utf8") }
    }
    const readable: Readable = yield* Effect.orDie(body.content.open)
    const chunks: Array<Buffer> = []
    for (const chunk of yield* Effect.promise(() => readable.toArray())) chunks.push(Buffer.from(chunk as Uint8Array))
    return { ...body, text: Buffer.concat(chunks).toString("utf8") }
  })

describe("retryBody", () => {
  it("groups rows of one parent together and keeps every column", () => {
    const rows = ["A2", "A1", "A2", "A1", "A3"].map((account, index) => ({
      row: { LastName: `Name, ${index}`, AccountId: account },
      sfError: lockError
    }))
    const { text, rows: ordered } = RetryRows.retryBody(rows)
    expect(ordered.map((row) => row.row.AccountId)).toEqual(["A1", "A1", "A2", "A2", "A3"])
    expect(text.split("\n")[0]).toBe("LastName,AccountId")
    expect(text).toContain('"Name, 1",A1\n')
    expect(text.trimEnd().split("\n")).toHaveLength(6)
  })
})

describe("RetryRows", () => {
  it.scoped("holds a few rows in memory: the body is the CSV of them, with its exact byte count", () =>
    Effect.gen(function* () {
      const directory = tempDirectory("retry-rows-")
      const rows = yield* RetryRows.make({ tempDir: directory })
      yield* rows.add(rowsOf(4))
      const body = yield* bodyText(rows)
      expect([rows.spooled, body.rows, readdirSync(directory)]).toEqual([false, 4, []])
      expect(body.text).toBe(RetryRows.retryBody(rowsOf(4)).text)
      expect(Buffer.byteLength(body.text)).toBe(body.bytes)
    }))

  it.scoped("past its memory limit, spools every row to a temp file and sends the same CSV from it; errors and Ids come back in order", () =>
    Effect.gen(function* () {
      const directory = tempDirectory("retry-rows-")
      const rows = yield* RetryRows.make({ memoryLimitBytes: 100, tempDir: directory })
      const all = rowsOf(50)
      yield* rows.add(all.slice(0, 2))
      expect(rows.spooled).toBe(false)
      yield* rows.add(all.slice(2))
      expect(rows.spooled).toBe(true)
      expect(readdirSync(directory)).toHaveLength(1)
      const body = yield* bodyText(rows)
      expect(body.text).toBe(RetryRows.retryBody(all).text)
      expect([body.rows, body.bytes]).toEqual([50, Buffer.byteLength(body.text)])
      // A replayed upload opens the file again and sends it whole.
      expect((yield* bodyText(rows)).text).toBe(body.text)
      const back = yield* rows.chunks(20).pipe(Stream.runCollect, Effect.map(Chunk.toArray))
      expect(back.map((chunk) => chunk.length)).toEqual([20, 20, 10])
      expect(back.flat()).toEqual(all)
      yield* rows.remove()
      expect(readdirSync(directory)).toEqual([])
    }))

  it.scoped("keeps a row whose only column is empty, in memory and spooled", () =>
    Effect.gen(function* () {
      const rows = [{ row: { Id: "" }, sfError: lockError }, { row: { Id: "001000000000001AAA" }, sfError: lockError }]
      expect(RetryRows.retryBody(rows).text).toBe('Id\n""\n001000000000001AAA\n')
      const spooled = yield* RetryRows.make({ memoryLimitBytes: 1, tempDir: tempDirectory("retry-rows-") })
      yield* spooled.add(rows)
      expect((yield* bodyText(spooled)).text).toBe('Id\n""\n001000000000001AAA\n')
      expect((yield* spooled.chunks(10).pipe(Stream.runCollect, Effect.map(Chunk.toArray))).flat()).toEqual(rows)
    }))

  it.scoped.skipIf(!existsSync("/proc/self/fd"))("closes its files when the rows are read back only in part", () =>
    Effect.gen(function* () {
      const rows = yield* RetryRows.make({ memoryLimitBytes: 10, tempDir: tempDirectory("retry-rows-") })
      // rows alternate between two errors: one run line each, more than one read of the file
      yield* rows.add(rowsOf(5_000))
      const openFiles = () => readdirSync("/proc/self/fd").length
      const before = openFiles()
      const first = yield* rows.chunks(10).pipe(Stream.take(1), Stream.runCollect, Effect.map(Chunk.toArray))
      expect(first.flat()).toEqual(rowsOf(5_000).slice(0, 10))
      // A destroyed read stream closes its descriptor on the thread pool: give a busy machine
      // up to 2 s (on the wall clock) before counting a leak.
      const settled = yield* Effect.promise(async () => {
        for (let wait = 0; wait < 200 && openFiles() !== before; wait++) await new Promise((resolve) => setTimeout(resolve, 10))
        return openFiles()
      })
      expect(settled).toBe(before)
    }))

  it.effect("removes its temp file when its scope closes", () =>
    Effect.gen(function* () {
      const directory = tempDirectory("retry-rows-")
      yield* Effect.scoped(Effect.flatMap(RetryRows.make({ memoryLimitBytes: 10, tempDir: directory }), (rows) => rows.add(rowsOf(5))))
      expect(readdirSync(directory)).toEqual([])
    }))
})
