import { describe, expect, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Redacted from "effect/Redacted"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { RejectReader, RejectSink, S3Store } from "../src/index.js"
import { rejected } from "./fixtures.js"
import * as S3Harness from "./S3Harness.js"

const mebibyte = 1024 * 1024

const readBack = (connection: S3Store.S3Connection, prefix = "dead/") =>
  Stream.runCollect(RejectReader.read({ _tag: "S3", connection, prefix })).pipe(Effect.map(Chunk.toReadonlyArray))

const keys = (connection: S3Store.S3Connection, prefix = "dead/") =>
  Effect.scoped(
    Effect.flatMap(S3Store.make(connection), (store) => Stream.runCollect(store.list(prefix)))
  ).pipe(Effect.map(Chunk.toReadonlyArray))

const isUpload = (request: S3Harness.SeenRequest) => request.url.includes("uploadId=")

describe("RejectSink.layerS3 against s3rver", () => {
  it.live("streams a large gzipped CSV through a multipart upload and reads it back", () =>
    Effect.gen(function* () {
      const harness = yield* S3Harness.make
      const connection = harness.connection()
      // Rows of random-ish text so that gzip cannot shrink 12 MiB below one 5 MiB part.
      const records = Array.from({ length: 3000 }, (_, index) =>
        rejected(index, { row: { Email: `p${index}@x.io`, Blob: Buffer.from(crypto.getRandomValues(new Uint8Array(3000))).toString("base64") } })
      )
      yield* Effect.scoped(
        Effect.gen(function* () {
          const sink = yield* RejectSink.makeS3({
            ...connection,
            bucketPath: "dead",
            syncId: "42",
            compression: "gzip",
            partSizeBytes: 5 * mebibyte
          })
          yield* sink.write(records)
          yield* sink.flush
          expect((yield* sink.counts).durable).toBe(records.length)
        })
      )
      const parts = harness.requests.filter((request) => request.method === "PUT" && request.url.includes("partNumber="))
      expect(parts.length).toBeGreaterThanOrEqual(2)
      const stored = yield* keys(connection)
      expect(stored).toHaveLength(1)
      expect(stored[0]).toMatch(/^dead\/42\/crm\/contacts\/\d{4}_\d\d_\d\d_\d+_0\.csv\.gz$/)
      const back = yield* readBack(connection)
      expect(back).toEqual(records)
      expect(harness.openUploads()).toEqual([])
    }).pipe(Effect.scoped), 120_000)

  it.live("a small flush is one PutObject per stream, JSONL", () =>
    Effect.gen(function* () {
      const harness = yield* S3Harness.make
      const connection = harness.connection()
      const sink = yield* RejectSink.makeS3({ ...connection, bucketPath: "dead", format: "jsonl" })
      yield* sink.write([rejected(1), rejected(2, { stream: { name: "leads/2025 ünïcode" } })])
      yield* sink.flush
      expect(harness.requests.filter((request) => request.method === "PUT")).toHaveLength(2)
      expect(harness.requests.some(isUpload)).toBe(false)
      expect((yield* readBack(connection)).map((record) => record.stream.name).sort()).toEqual([
        "contacts",
        "leads/2025 ünïcode"
      ])
    }).pipe(Effect.scoped))

  it.live("retries throttling and 5xx answers, then succeeds", () =>
    Effect.gen(function* () {
      const harness = yield* S3Harness.make
      const connection = harness.connection()
      const isPut = (request: S3Harness.SeenRequest) => request.method === "PUT"
      harness.inject({ _tag: "Status", status: 503, code: "SlowDown" }, 2, isPut)
      harness.inject({ _tag: "Status", status: 500, code: "InternalError" }, 1, isPut)
      const sink = yield* RejectSink.makeS3({ ...connection, bucketPath: "dead" })
      yield* sink.write([rejected(1)])
      yield* sink.flush
      expect(harness.requests.filter(isPut)).toHaveLength(4)
      expect(yield* readBack(connection)).toEqual([rejected(1)])
    }).pipe(Effect.scoped))

  it.live("never overwrites another run's rejects: a key already stored is skipped, and every write is conditional (If-None-Match: *)", () =>
    Effect.gen(function* () {
      const harness = yield* S3Harness.make
      const connection = harness.connection()
      // two runs of one sync whose layout has no {timestamp}: the same keys
      const layout = "{bucket_path}/{sync_id}/{stream_name}/{part_number}{format_extension}"
      for (const run of [1, 2]) {
        yield* Effect.scoped(
          Effect.gen(function* () {
            const sink = yield* RejectSink.makeS3({ ...connection, bucketPath: "dead", syncId: "nightly", layout })
            yield* sink.write([rejected(run)])
            yield* sink.flush
          })
        )
      }
      expect(yield* keys(connection)).toEqual(["dead/nightly/contacts/0.csv", "dead/nightly/contacts/1.csv"])
      expect((yield* readBack(connection)).map((record) => record.row["Email"])).toEqual([rejected(1).row["Email"], rejected(2).row["Email"]])
      const writes = harness.requests.filter((request) => request.method === "PUT" || (request.method === "POST" && request.url.includes("uploadId=")))
      expect(writes.length).toBe(2)
      expect(writes.every((request) => request.ifNoneMatch === "*")).toBe(true)
    }).pipe(Effect.scoped))

  it.live("a write refused because an object appeared under its key meanwhile (412) fails the flush, even when that object has the same size", () =>
    Effect.gen(function* () {
      const harness = yield* S3Harness.make
      const connection = harness.connection()
      const layout = "{bucket_path}/{stream_name}/{part_number}{format_extension}"
      // the size of the object the sink will write, from a sink writing the same record elsewhere
      yield* Effect.scoped(
        Effect.gen(function* () {
          const sizer = yield* RejectSink.makeS3({ ...connection, bucketPath: "sizer", layout })
          yield* sizer.write([rejected(1)])
          yield* sizer.flush
        })
      )
      const size = (yield* Effect.scoped(Effect.flatMap(S3Store.make(connection), (store) => Stream.runCollect(store.read("sizer/contacts/0.csv"))))).pipe(
        Chunk.reduce(0, (total, chunk) => total + chunk.byteLength)
      )
      const theirs = Buffer.from("x".repeat(size))
      const writer = yield* RejectSink.makeS3({ ...connection, bucketPath: "dead", layout })
      yield* writer.write([rejected(1)])
      // another run stores its object under the same key after this sink checked it was free
      yield* Effect.scoped(Effect.flatMap(S3Store.make(connection), (store) => store.begin("dead/contacts/0.csv", { replace: true }).complete(theirs)))
      harness.inject({ _tag: "Status", status: 412, code: "PreconditionFailed" }, 1, (request) => request.method === "PUT")
      const error = yield* Effect.flip(writer.flush)
      expect(error.message).toContain("PreconditionFailed")
      expect((yield* writer.counts).durable).toBe(0)
      const kept = yield* Effect.scoped(Effect.flatMap(S3Store.make(connection), (store) => Stream.runCollect(store.read("dead/contacts/0.csv"))))
      expect(Buffer.concat(Chunk.toArray(kept)).equals(theirs)).toBe(true)
    }).pipe(Effect.scoped))

  it.live("a store that does not implement conditional writes (501) gets plain ones, at once and from then on", () =>
    Effect.gen(function* () {
      const harness = yield* S3Harness.make
      const connection = harness.connection()
      harness.inject({ _tag: "Status", status: 501, code: "NotImplemented" }, 1, (request) => request.method === "PUT")
      const sink = yield* RejectSink.makeS3({ ...connection, bucketPath: "dead", layout: "{bucket_path}/{stream_name}/{part_number}{format_extension}" })
      yield* sink.write([rejected(1), rejected(2, { stream: { name: "leads" } })])
      yield* sink.flush
      const puts = harness.requests.filter((request) => request.method === "PUT")
      expect(puts.map((request) => request.ifNoneMatch)).toEqual(["*", undefined, undefined])
      expect((yield* readBack(connection)).map((record) => record.stream.name).sort()).toEqual(["contacts", "leads"])
    }).pipe(Effect.scoped))

  it.live("a slow S3 times out per attempt and is retried", () =>
    Effect.gen(function* () {
      const harness = yield* S3Harness.make
      // The timeout leaves room for a loaded machine; the delayed answers overshoot it by far.
      const connection = harness.connection({ requestTimeoutMillis: 1_000, retry: { baseDelayMillis: 5, maxRetries: 5 } })
      harness.inject({ _tag: "Delay", millis: 4_000 }, 2)
      const sink = yield* RejectSink.makeS3({ ...connection, bucketPath: "dead" })
      yield* sink.write([rejected(1)])
      yield* sink.flush
      expect(harness.requests.length).toBeGreaterThanOrEqual(3)
      expect(yield* readBack(connection)).toEqual([rejected(1)])
    }).pipe(Effect.scoped))

  it.live("S3 down: flush fails Unavailable, the sink refuses more work, and recovery is a new sink", () =>
    Effect.gen(function* () {
      const harness = yield* S3Harness.make
      const connection = harness.connection()
      const scope = yield* Scope.make()
      const sink = yield* RejectSink.makeS3({ ...connection, bucketPath: "dead" }).pipe(Scope.extend(scope))
      yield* sink.write([rejected(1)])
      yield* harness.stop
      const error = yield* Effect.flip(sink.flush)
      expect(error.reason).toBe("Unavailable")
      expect(error.isTransient).toBe(true)
      expect((yield* Effect.flip(sink.write([rejected(2)]))).reason).toBe("Failed")
      expect((yield* sink.counts).durable).toBe(0)
      yield* Scope.close(scope, Exit.void)
      yield* harness.start
      expect(yield* keys(connection)).toEqual([])
    }).pipe(Effect.scoped))

  it.live("S3 down then back on the same port within the retry budget: flush succeeds", () =>
    Effect.gen(function* () {
      const harness = yield* S3Harness.make
      const connection = harness.connection({ retry: { baseDelayMillis: 10, maxDelayMillis: 20, maxRetries: 200 } })
      const sink = yield* RejectSink.makeS3({ ...connection, bucketPath: "dead" })
      yield* sink.write([rejected(1)])
      yield* harness.stop
      const before = harness.requests.length
      const flushing = yield* Effect.fork(sink.flush)
      yield* Effect.sleep("150 millis")
      expect(harness.requests).toHaveLength(before)
      yield* harness.start
      yield* Fiber.join(flushing)
      expect(yield* readBack(connection)).toEqual([rejected(1)])
    }).pipe(Effect.scoped))

  it.live("a failed multipart upload is aborted: no orphan parts", () =>
    Effect.gen(function* () {
      const harness = yield* S3Harness.make
      const connection = harness.connection()
      const sink = yield* RejectSink.makeS3({ ...connection, bucketPath: "dead", partSizeBytes: 5 * mebibyte })
      const big = Array.from({ length: 1200 }, (_, index) => rejected(index, { row: { Blob: "x".repeat(5000) } }))
      yield* sink.write(big)
      expect(harness.openUploads()).toHaveLength(1)
      harness.inject({ _tag: "Status", status: 500, code: "InternalError" }, 100, (request) =>
        request.method === "POST" && isUpload(request)
      )
      const error = yield* Effect.flip(sink.flush)
      expect(error.reason).toBe("Unavailable")
      expect(harness.openUploads()).toEqual([])
      expect(harness.requests.some((request) => request.method === "DELETE" && isUpload(request))).toBe(true)
      expect(yield* keys(connection)).toEqual([])
    }).pipe(Effect.scoped))

  it.live("refused credentials are AccessDenied without the secret in the message; a missing bucket is BucketNotFound", () =>
    Effect.gen(function* () {
      const harness = yield* S3Harness.make
      const secret = "very-secret-value"
      const denied = yield* Effect.flip(
        RejectSink.probe({
          ...harness.connection({
            credentials: { accessKeyId: Redacted.make("NOT-A-KEY"), secretAccessKey: Redacted.make(secret) }
          }),
          bucketPath: "dead"
        })
      )
      expect(denied.reason).toBe("AccessDenied")
      expect(denied.message).not.toContain(secret)
      expect(JSON.stringify(denied)).not.toContain(secret)
      const missing = yield* Effect.flip(
        RejectSink.probe({ ...harness.connection({ bucket: "nope" }), bucketPath: "dead" })
      )
      expect(missing.reason).toBe("BucketNotFound")
    }).pipe(Effect.scoped))

  it.live("probe writes, lists and deletes a probe object", () =>
    Effect.gen(function* () {
      const harness = yield* S3Harness.make
      const connection = harness.connection()
      yield* RejectSink.probe({ ...connection, bucketPath: "dead" })
      const methods = harness.requests.map((request) => request.method)
      expect(methods).toEqual(["PUT", "GET", "DELETE"])
      expect(harness.requests[0]?.url).toMatch(/^\/rejects\/dead\/_probe\/[0-9a-f-]{36}(\?x-id=PutObject)?$/)
      expect(yield* keys(connection, "")).toEqual([])
    }).pipe(Effect.scoped))
})

describe("RejectReader replay marks, in S3 and in a local directory", () => {
  it.live("list the objects with the mark a replay left beside each, never read as records", () =>
    Effect.gen(function* () {
      const harness = yield* S3Harness.make
      const directory = yield* Effect.acquireRelease(
        Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "rejects-marks-"))),
        (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
      )
      const locations: ReadonlyArray<RejectReader.Location> = [
        { _tag: "S3", connection: harness.connection(), prefix: "dead/" },
        { _tag: "Local", directory, prefix: "dead/" }
      ]
      for (const location of locations) {
        const sink = yield* (location._tag === "S3"
          ? RejectSink.makeS3({ ...location.connection, bucketPath: "dead", format: "jsonl" })
          : RejectSink.makeLocal({ directory, bucketPath: "dead", syncId: "42", format: "jsonl", compression: "none" }))
        yield* sink.write([rejected(1), rejected(2, { stream: { name: "leads" } })])
        yield* sink.flush
        const before = yield* RejectReader.objects(location)
        expect(before.map((object) => object.replayed)).toEqual([undefined, undefined])
        const [contacts, leads] = before.map((object) => object.key)
        const mark = { replayRunId: "replay-20261127-000000-abcd", replayedAt: "2026-11-27T00:00:00.000Z" }
        yield* RejectReader.markReplayed(location, [contacts ?? ""], mark)
        const after = yield* RejectReader.objects(location)
        expect(after).toEqual([
          { key: contacts, replayed: mark },
          { key: leads, replayed: undefined }
        ])
        // a later mark replaces the earlier one (a replay resumed, then finished)
        const later = { replayRunId: "replay-20261127-010000-ef01", replayedAt: "2026-11-27T01:00:00.000Z" }
        yield* RejectReader.markReplayed(location, [contacts ?? ""], later)
        expect((yield* RejectReader.objects(location))[0]).toEqual({ key: contacts, replayed: later })
        yield* RejectReader.markReplayed(location, [contacts ?? ""], mark)
        // the mark is beside the object, not a rejects object of its own
        expect(Chunk.toReadonlyArray(yield* Stream.runCollect(RejectReader.read(location)))).toHaveLength(2)
        const unmarked = Chunk.toReadonlyArray(yield* Stream.runCollect(RejectReader.readObjects(location, [leads ?? ""])))
        expect(unmarked.map((record) => record.stream.name)).toEqual(["leads"])
      }
    }).pipe(Effect.scoped))
})
