import { describe, expect, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as HashMap from "effect/HashMap"
import * as Logger from "effect/Logger"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { LocalStore, type ObjectStore, RejectReader, RejectSink } from "../src/index.js"
import { rejected } from "./fixtures.js"

const tempDirectory = Effect.acquireRelease(
  Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "rejects-local-"))),
  (directory) => Effect.sync(() => fs.rmSync(directory, { recursive: true, force: true }))
)

const filesUnder = (directory: string) =>
  fs
    .readdirSync(directory, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(directory, path.join(entry.parentPath, entry.name)).split(path.sep).join("/"))
    .sort()

const readBack = (directory: string, prefix?: string) =>
  Stream.runCollect(
    RejectReader.read({ _tag: "Local", directory, ...(prefix === undefined ? {} : { prefix }) })
  ).pipe(Effect.map(Chunk.toReadonlyArray))

describe("RejectSink.layerLocal", () => {
  for (const format of ["csv", "jsonl"] as const) {
    for (const compression of ["none", "gzip"] as const) {
      it.scoped(`stores ${format}/${compression} records durably on flush and reads them back`, () =>
        Effect.gen(function* () {
          const directory = yield* tempDirectory
          const records = [
            rejected(1),
            rejected(2, { sfId: "003xx000004TmiQAAS", stream: { name: "leads" } }),
            rejected(3, { jobId: undefined, syncId: undefined })
          ].map(({ jobId, syncId, ...rest }) => ({
            ...rest,
            ...(jobId === undefined ? {} : { jobId }),
            ...(syncId === undefined ? {} : { syncId })
          }))
          const sink = yield* RejectSink.makeLocal({ directory, bucketPath: "dead", format, compression, syncId: "42" })
          yield* sink.write(records)
          // written but not flushed: nothing readable yet
          expect(yield* readBack(directory)).toEqual([])
          yield* sink.flush
          const files = filesUnder(directory)
          expect(files).toHaveLength(2)
          expect(files.every((file) => file.endsWith(`_0.${format}${compression === "gzip" ? ".gz" : ""}`))).toBe(true)
          expect(files[0]).toMatch(/^dead\/42\/crm\/contacts\/\d{4}_\d\d_\d\d_\d+_0\./)
          const back = yield* readBack(directory)
          expect([...back].sort((a, b) => a.row["Email"]?.localeCompare(b.row["Email"] ?? "") ?? 0)).toEqual(records)
          expect(yield* sink.counts).toEqual({
            written: 3,
            durable: 3,
            byStatusCode: { REQUIRED_FIELD_MISSING: 3 }
          })
        }))
    }
  }

  it.scoped("rolls objects at the size threshold, numbering the parts", () =>
    Effect.gen(function* () {
      const directory = yield* tempDirectory
      const sink = yield* RejectSink.makeLocal({
        directory,
        bucketPath: "dead",
        format: "jsonl",
        partSizeBytes: 1024,
        objectSizeBytes: 4096
      })
      const records = Array.from({ length: 40 }, (_, index) => rejected(index))
      yield* sink.write(records)
      yield* sink.flush
      const files = filesUnder(directory)
      expect(files.length).toBeGreaterThanOrEqual(4)
      const parts = files.map((file) => Number(/_(\d+)\.jsonl$/.exec(file)?.[1]))
      expect(parts).toEqual(expect.arrayContaining([0, 1, 2, 3]))
      for (const file of files) expect(fs.statSync(path.join(directory, file)).size).toBeLessThan(4096 + 1024)
      const back = yield* readBack(directory)
      expect(back.map((record) => record.row["Email"]).sort()).toEqual(records.map((record) => record.row["Email"]).sort())
    }))

  it.scoped("gives streams that a layout without their names would put in one file a file each", () =>
    Effect.gen(function* () {
      const directory = yield* tempDirectory
      const sink = yield* RejectSink.makeLocal({ directory, bucketPath: "rejected", syncId: "42", layout: "{bucket_path}/{sync_id}/{part_number}{format_extension}" })
      yield* sink.write([rejected(1, { stream: { name: "contacts" } }), rejected(2, { stream: { name: "accounts" } }), rejected(3, { stream: { name: "accounts", namespace: "other" } })])
      yield* sink.flush
      expect(filesUnder(directory)).toEqual(["rejected/42/0.csv", "rejected/42/1.csv", "rejected/42/2.csv"])
      const back = yield* readBack(directory)
      expect(back.map((record) => record.stream.name).sort()).toEqual(["accounts", "accounts", "contacts"])
      expect((yield* sink.counts).durable).toBe(3)
    })
  )

  it.scoped("never overwrites another run's rejects: a file already there is skipped, and one that appears meanwhile is not replaced", () =>
    Effect.gen(function* () {
      const directory = yield* tempDirectory
      // two runs of one sync whose layout has no {timestamp}: the same keys
      const layout = "{bucket_path}/{sync_id}/{part_number}{format_extension}"
      for (const run of [1, 2]) {
        yield* Effect.scoped(
          Effect.gen(function* () {
            const sink = yield* RejectSink.makeLocal({ directory, bucketPath: "rejected", syncId: "nightly", layout })
            yield* sink.write([rejected(run)])
            yield* sink.flush
          })
        )
      }
      expect(filesUnder(directory)).toEqual(["rejected/nightly/0.csv", "rejected/nightly/1.csv"])
      expect((yield* readBack(directory)).map((record) => record.row["Email"])).toEqual([rejected(1).row["Email"], rejected(2).row["Email"]])

      // a file written under the key while this object was being written stays as it is
      const store = LocalStore.make(directory)
      const upload = store.begin("rejected/late.csv")
      yield* upload.uploadPart(Buffer.from("mine\n"))
      fs.writeFileSync(path.join(directory, "rejected/late.csv"), "theirs\n")
      const error = yield* Effect.flip(upload.complete(Buffer.from("")))
      expect(error.message).toContain("already exists (another run's rejects?): not overwritten")
      expect(fs.readFileSync(path.join(directory, "rejected/late.csv"), "utf8")).toBe("theirs\n")
    })
  )

  it.scoped("a flush interrupted part way poisons the sink and leaves no file: sent again, it would store its lines twice", () =>
    Effect.gen(function* () {
      const directory = yield* tempDirectory
      const local = LocalStore.make(directory)
      const held = yield* Deferred.make<void>()
      const halfWritten = yield* Deferred.make<void>()
      // a store whose completion is cut short after the last bytes are written, before the file is published
      const store: ObjectStore.ObjectStore = {
        ...local,
        begin: (key) => {
          const upload = local.begin(key)
          return {
            ...upload,
            complete: (lastBytes) =>
              Effect.gen(function* () {
                yield* upload.uploadPart(lastBytes)
                yield* Deferred.succeed(halfWritten, undefined)
                yield* Deferred.await(held)
                yield* upload.complete(new Uint8Array(0))
              })
          }
        }
      }
      const sink = yield* RejectSink.make(store, { bucketPath: "rejected", syncId: "42" })
      yield* sink.write([rejected(1)])
      const flushing = yield* Effect.fork(sink.flush)
      yield* Deferred.await(halfWritten)
      yield* Fiber.interrupt(flushing)
      yield* Deferred.succeed(held, undefined)
      const again = yield* Effect.flip(sink.flush)
      expect(again.reason).toBe("Failed")
      expect(again.message).toContain("interrupted part way")
      expect(filesUnder(directory)).toEqual([])
      expect((yield* sink.counts).durable).toBe(0)
    })
  )

  it.scoped("keeps hostile stream names inside the directory", () =>
    Effect.gen(function* () {
      const directory = yield* tempDirectory
      const inside = path.join(directory, "inside")
      const sink = yield* RejectSink.makeLocal({ directory: inside, bucketPath: "../../up", syncId: "../x" })
      const names = ["../../etc", "/abs", "a/b", "données☃", ""]
      yield* sink.write(names.map((name, index) => rejected(index, { stream: { name, namespace: ".." } })))
      yield* sink.flush
      expect(fs.readdirSync(directory)).toEqual(["inside"])
      const files = filesUnder(inside)
      expect(files).toHaveLength(names.length)
      for (const file of files) expect(file.split("/").some((segment) => /^\.+$/.test(segment))).toBe(false)
      expect((yield* readBack(inside)).map((record) => record.stream.name).sort()).toEqual([...names].sort())
    }))

  it.effect("closing on failure leaves no file behind; closing on success completes", () =>
    Effect.gen(function* () {
      const directory = yield* tempDirectory
      const failed = yield* Scope.make()
      const sink = yield* RejectSink.makeLocal({ directory, bucketPath: "dead", partSizeBytes: 64 }).pipe(
        Scope.extend(failed)
      )
      yield* sink.write([rejected(1), rejected(2)])
      expect(filesUnder(directory).some((file) => file.endsWith(".partial"))).toBe(true)
      yield* Scope.close(failed, Exit.fail("pipeline failed"))
      expect(filesUnder(directory)).toEqual([])

      const succeeded = yield* Scope.make()
      const second = yield* RejectSink.makeLocal({ directory, bucketPath: "dead" }).pipe(Scope.extend(succeeded))
      yield* second.write([rejected(3)])
      yield* Scope.close(succeeded, Exit.void)
      expect((yield* readBack(directory)).map((record) => record.row["Email"])).toEqual(["person3@example.com"])
    }).pipe(Effect.scoped))

  it.scoped("probeLocal writes, lists and deletes a probe file", () =>
    Effect.gen(function* () {
      const directory = yield* tempDirectory
      yield* RejectSink.probeLocal({ directory, bucketPath: "dead" })
      expect(fs.readdirSync(path.join(directory, "dead", "_probe"))).toEqual([])
    }))

  it.scoped("a failed write poisons the sink", () =>
    Effect.gen(function* () {
      const directory = yield* tempDirectory
      const blocker = path.join(directory, "dead")
      fs.writeFileSync(blocker, "a file where a directory should be")
      const sink = yield* RejectSink.makeLocal({ directory, bucketPath: "dead" })
      yield* sink.write([rejected(1)])
      const first = yield* Effect.flip(sink.flush)
      expect(first.reason).toBe("Io")
      const second = yield* Effect.flip(sink.write([rejected(2)]))
      expect(second.reason).toBe("Failed")
    }))
})

describe("RejectSink.layerNone", () => {
  it.effect("counts by status code and stores nothing", () =>
    Effect.gen(function* () {
      const sink = yield* RejectSink.RejectSink
      yield* sink.write([rejected(1), rejected(2, { statusCode: "DUPLICATE_VALUE" })])
      yield* sink.flush
      expect(yield* sink.counts).toEqual({
        written: 2,
        durable: 2,
        byStatusCode: { REQUIRED_FIELD_MISSING: 1, DUPLICATE_VALUE: 1 }
      })
    }).pipe(Effect.provide(RejectSink.layerNone)))

  it.effect("logs the record Id a refused row names (a delete of a missing record), never its other values", () =>
    Effect.gen(function* () {
      const annotations: Array<Record<string, unknown>> = []
      const capture = Logger.replace(Logger.defaultLogger, Logger.make(({ annotations: logged }) => annotations.push(Object.fromEntries(HashMap.toEntries(logged)))))
      yield* Effect.gen(function* () {
        const sink = yield* RejectSink.RejectSink
        yield* sink.write([rejected(1, { row: { id: "0035g00000000GHAAY", Email: "secret@example.com" }, statusCode: "NOT_FOUND" })])
      }).pipe(Effect.provide(RejectSink.layerNone), Effect.provide(capture))
      expect(annotations[0]).toMatchObject({ statusCode: "NOT_FOUND", recordId: "0035g00000000GHAAY" })
      expect(JSON.stringify(annotations)).not.toContain("secret@example.com")
    }))

  it.effect("logs each of the first records, then one summary line per write", () =>
    Effect.gen(function* () {
      const lines: Array<string> = []
      const capture = Logger.replace(Logger.defaultLogger, Logger.make(({ message }) => lines.push(String(message))))
      yield* Effect.gen(function* () {
        const sink = yield* RejectSink.RejectSink
        const many = Array.from({ length: RejectSink.noneDetailedLogLimit + 30 }, (_, index) =>
          rejected(index, index % 2 === 0 ? {} : { statusCode: "DUPLICATE_VALUE" })
        )
        yield* sink.write(many)
        yield* sink.write([rejected(1)])
        expect((yield* sink.counts).written).toBe(RejectSink.noneDetailedLogLimit + 31)
      }).pipe(Effect.provide(RejectSink.layerNone), Effect.provide(capture))
      expect(lines.filter((line) => line.startsWith("Record rejected"))).toHaveLength(RejectSink.noneDetailedLogLimit)
      expect(lines.filter((line) => line.includes("more record"))).toEqual([
        "30 more records rejected (not stored: storage type None): REQUIRED_FIELD_MISSING ×15, DUPLICATE_VALUE ×15",
        "1 more record rejected (not stored: storage type None): REQUIRED_FIELD_MISSING ×1"
      ])
    }))
})

describe("local sink on a full disk", () => {
  it("a flush whose bytes did not all fit fails, counts nothing durable and leaves no cut-off file", () => {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), "rejects-full-"))
    // a file size limit of 1 MiB: past it a write takes only what fits, then fails, as on a full disk
    const program = path.join(import.meta.dirname, "programs", "fillDisk.ts")
    const output = execFileSync("bash", ["-c", 'ulimit -f 1024 && exec "$0" --import tsx "$1" "$2"', process.execPath, program, directory], { encoding: "utf8" })
    expect(JSON.parse(output)).toEqual({ flushed: false, durable: 0 })
    const files = fs.readdirSync(directory, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile())
    expect(files.map((entry) => entry.name)).toEqual([])
  })
})
