import { describe, expect, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Stream from "effect/Stream"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { gzipSync } from "node:zlib"
import { RejectFormat, RejectReader } from "../src/index.js"
import { rejected } from "./fixtures.js"

/** Reads `text` back as the object `key` of a local directory: the records before the failure, and the failure. */
const readObject = (key: string, text: string) =>
  Effect.gen(function* () {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), "rejects-reader-"))
    fs.writeFileSync(path.join(directory, key), key.endsWith(".gz") ? gzipSync(text) : text)
    const read = Chunk.toArray(yield* Stream.runCollect(Stream.either(RejectReader.read({ _tag: "Local", directory }))))
    fs.rmSync(directory, { recursive: true, force: true })
    return {
      records: read.filter(Either.isRight).map((record) => record.right),
      failures: read.filter(Either.isLeft).map(({ left }) => ({ reason: left.reason, key: left.key, message: left.message }))
    }
  })

const good = [1, 2, 3, 4, 5].map((index) => rejected(index))

describe("RejectReader, at a bad line after good records in the same chunk", () => {
  for (const key of ["bad.csv", "bad.csv.gz"]) {
    it.effect(`${key}: hands on the records before malformed CSV, then fails naming the line and the record`, () =>
      Effect.gen(function* () {
        const csv = `${RejectFormat.csvHeader}${good.map(RejectFormat.csvLine).join("")}"x"y\n${RejectFormat.csvLine(rejected(6))}`
        const { records, failures } = yield* readObject(key, csv)
        expect(records).toEqual(good)
        expect(failures).toEqual([
          { reason: "Corrupt", key, message: "malformed CSV at line 7, record 7 (the header is record 1): a closing quote is not followed by a comma or a line break" }
        ])
      })
    )
  }

  it.effect("bad.csv: hands on the records before a row that is not a rejected record, then fails naming the row", () =>
    Effect.gen(function* () {
      const notARecord = RejectFormat.csvLine(rejected(6)).replace(/,"\{.*\}"\n$/s, ',"{not json"\n')
      const csv = `${RejectFormat.csvHeader}${good.map(RejectFormat.csvLine).join("")}${notARecord}`
      const { records, failures } = yield* readObject("bad.csv", csv)
      expect(records).toEqual(good)
      expect(failures).toHaveLength(1)
      expect(failures[0]?.message).toMatch(/^Row 6 is not a rejected record/)
    })
  )

  it.effect("bad.jsonl: hands on the records before a bad line, then fails naming the line", () =>
    Effect.gen(function* () {
      const { records, failures } = yield* readObject("bad.jsonl", `${good.map(RejectFormat.jsonLine).join("")}\n{oops\n${RejectFormat.jsonLine(rejected(6))}`)
      expect(records).toEqual(good)
      expect(failures).toHaveLength(1)
      expect(failures[0]?.message).toMatch(/^Line 7 is not a rejected record/)
    })
  )
})
