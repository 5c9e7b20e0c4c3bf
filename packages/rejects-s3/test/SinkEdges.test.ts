import { describe, expect, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import * as fs from "node:fs"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { RejectReader, RejectSink, S3Store } from "../src/index.js"
import { rejected } from "./fixtures.js"
import * as S3Harness from "./S3Harness.js"

const tempDirectory = Effect.acquireRelease(
  Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "rejects-edges-"))),
  (directory) => Effect.sync(() => fs.rmSync(directory, { recursive: true, force: true }))
)

/** A proxy in front of the harness that lets S3 complete the first multipart upload, then drops its answer. */
const answerLostOnComplete = (target: number) =>
  Effect.acquireRelease(
    Effect.async<{ readonly server: http.Server; readonly port: number }>((resume) => {
      let dropped = false
      const server = http.createServer((request, response) => {
        const completes = request.method === "POST" && (request.url ?? "").includes("uploadId=")
        const upstream = http.request({ host: "127.0.0.1", port: target, method: request.method, path: request.url, headers: request.headers }, (answer) => {
          if (completes && !dropped) {
            dropped = true
            answer.resume()
            answer.on("end", () => response.socket?.destroy())
            return
          }
          response.writeHead(answer.statusCode ?? 500, answer.headers)
          answer.pipe(response)
        })
        request.pipe(upstream)
      })
      server.listen(0, "127.0.0.1", () => {
        const address = server.address()
        resume(Effect.succeed({ server, port: typeof address === "object" && address !== null ? (address satisfies AddressInfo).port : 0 }))
      })
    }),
    ({ server }) =>
      Effect.sync(() => {
        server.closeAllConnections()
        server.close()
      })
  )

const readLocal = (directory: string) =>
  Stream.runCollect(RejectReader.read({ _tag: "Local", directory })).pipe(Effect.map(Chunk.toReadonlyArray))

describe("reject storage edges", () => {
  it.scoped("reads back the rejects of a stream or namespace named _probe", () =>
    Effect.gen(function* () {
      const directory = yield* tempDirectory
      const sink = yield* RejectSink.makeLocal({ directory, bucketPath: "dead", syncId: "42" })
      const records = [rejected(1, { stream: { name: "_probe" } }), rejected(2, { stream: { name: "contacts", namespace: "_probe" } })]
      yield* sink.write(records)
      yield* sink.flush
      expect(yield* readLocal(directory)).toEqual(expect.arrayContaining(records))
      expect(yield* readLocal(directory)).toHaveLength(2)
    }))

  it.live("the probe removes its object when listing is refused", () =>
    Effect.gen(function* () {
      const harness = yield* S3Harness.make
      const connection = harness.connection()
      harness.inject({ _tag: "Status", status: 403, code: "AccessDenied" }, 1, (request) => request.method === "GET")
      const error = yield* Effect.flip(RejectSink.probe({ ...connection, bucketPath: "dead" }))
      expect(error.reason).toBe("AccessDenied")
      const left = yield* Effect.scoped(Effect.flatMap(S3Store.make(connection), (store) => Stream.runCollect(store.list("dead/"))))
      expect(Chunk.toReadonlyArray(left)).toEqual([])
    }).pipe(Effect.scoped))

  it.scoped("an S3 configuration the SDK cannot use (an empty region) is a Config error, not a crash", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(S3Store.make({ bucket: "rejects", region: "", endpoint: "http://127.0.0.1:1", forcePathStyle: true }))
      expect(error).toMatchObject({ _tag: "RejectSinkError", reason: "Config" })
      expect(error.message).toContain("cannot set up the S3 client")
    }))

  it.live("a multipart object whose completion answer was lost counts as stored, not as a failed flush", () =>
    Effect.gen(function* () {
      const harness = yield* S3Harness.make
      const proxy = yield* answerLostOnComplete(harness.port)
      const connection = harness.connection({ endpoint: `http://127.0.0.1:${proxy.port}` })
      const sink = yield* RejectSink.makeS3({ ...connection, bucketPath: "dead", partSizeBytes: 5 * 1024 * 1024 })
      const records = Array.from({ length: 1_200 }, (_, index) => rejected(index, { row: { Email: `e${index}`, Notes: "x".repeat(5_000) } }))
      yield* sink.write(records)
      yield* sink.flush
      const stored = yield* Stream.runCollect(RejectReader.read({ _tag: "S3", connection: harness.connection(), prefix: "dead/" }))
      expect(Chunk.size(stored)).toBe(records.length)
    }).pipe(Effect.scoped), 120_000)
})
