import { describe, expect, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { RejectReader, RejectSink, S3Store } from "../src/index.js"
import { rejected } from "./fixtures.js"
import * as S3Harness from "./S3Harness.js"

const tempDirectory = Effect.acquireRelease(
  Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "rejects-edges-"))),
  (directory) => Effect.sync(() => fs.rmSync(directory, { recursive: true, force: true }))
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
})
