import { describe, expect, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Stream from "effect/Stream"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { gzipSync } from "node:zlib"
import { RejectedRecord, RejectFormat, RejectReader, RejectSink } from "../src/index.js"
import { rejected } from "./fixtures.js"

/** Reads `text` back as the object `key` of a local directory: the records before the failure, and the failure. */
const readObject = (key: string, text: string | Buffer) =>
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
      const notARecord = RejectFormat.csvLine(rejected(6)).replace(/,"\{.*\}",,\n$/s, ',"{not json",,\n')
      const csv = `${RejectFormat.csvHeader}${good.map(RejectFormat.csvLine).join("")}${notARecord}`
      const { records, failures } = yield* readObject("bad.csv", csv)
      expect(records).toEqual(good)
      expect(failures).toHaveLength(1)
      expect(failures[0]?.message).toMatch(/^Record 7 \(the header is record 1\) is not a rejected record/)
    })
  )

  for (const key of ["edited.csv", "edited.jsonl"]) {
    it.effect(`${key}: a row edited and saved as Windows-1252, not UTF-8, fails naming its line instead of replaying U+FFFD`, () =>
      Effect.gen(function* () {
        const render = key.endsWith(".csv") ? RejectFormat.csvLine : RejectFormat.jsonLine
        const header = key.endsWith(".csv") ? RejectFormat.csvHeader : ""
        const edited = Buffer.from(render(rejected(6)).replace("Ann", "Anné"), "latin1")
        const { records, failures } = yield* readObject(key, Buffer.concat([Buffer.from(`${header}${good.map(render).join("")}`), edited]))
        expect(records).toEqual(good)
        const line = key.endsWith(".csv") ? "malformed CSV at line 7, record 7 (the header is record 1): " : "line 6: "
        expect(failures).toEqual([
          { reason: "Corrupt", key, message: `${line}its bytes are not UTF-8 text (a file saved as Latin-1 or Windows-1252? save it as UTF-8)` }
        ])
      })
    )
  }

  it.effect("bad.jsonl: hands on the records before a bad line, then fails naming the line", () =>
    Effect.gen(function* () {
      const { records, failures } = yield* readObject("bad.jsonl", `${good.map(RejectFormat.jsonLine).join("")}\n{oops\n${RejectFormat.jsonLine(rejected(6))}`)
      expect(records).toEqual(good)
      expect(failures).toHaveLength(1)
      expect(failures[0]?.message).toMatch(/^Line 7 is not a rejected record/)
    })
  )
})

/** Writes `records` through a local sink and reads them back. */
const roundTrip = (records: ReadonlyArray<RejectedRecord.RejectedRecord>, format: RejectFormat.Format, compression: RejectFormat.Compression) =>
  Effect.gen(function* () {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), "rejects-reader-"))
    yield* Effect.scoped(
      Effect.gen(function* () {
        const sink = yield* RejectSink.makeLocal({ directory, bucketPath: "p", syncId: "s", format, compression })
        yield* sink.write(records)
      })
    )
    const back = Chunk.toArray(yield* Stream.runCollect(RejectReader.read({ _tag: "Local", directory })))
    fs.rmSync(directory, { recursive: true, force: true })
    return back
  })

describe("RejectReader, the form and source values of a row", () => {
  const sourceValues = {
    interests: ["Product", "Events"],
    engagedAt: 1700000000000,
    optIn: true,
    name: "Ann",
    nothing: null,
    nested: { tags: [1, { deep: "x" }] },
    signedUpAt: new Date("2024-05-06T07:08:09.010Z"),
    visits: 12345678901234567890n
  }
  const { jobId: _jobId, ...local } = rejected(1)
  const source = { ...local, rowForm: "source" as const, row: { name: "Ann", interests: '["Product","Events"]' }, sourceValues }
  const sent = { ...local, rowForm: "sent" as const, row: { LastName: "Lee", AccountId: "#N/A" } }

  for (const format of ["csv", "jsonl"] as const) {
    for (const compression of ["none", "gzip"] as const) {
      it.effect(`${format}, ${compression}: source values come back as JSON values, the form as written`, () =>
        Effect.gen(function* () {
          const back = yield* roundTrip([source, sent, rejected(2)], format, compression)
          expect(back).toEqual([
            { ...source, sourceValues: { ...sourceValues, signedUpAt: "2024-05-06T07:08:09.010Z", visits: "12345678901234567890" } },
            sent,
            rejected(2)
          ])
          expect(back.map(RejectedRecord.rowFormOf)).toEqual(["source", "sent", "sent"])
        })
      )
    }
  }

  it.effect("files of earlier versions (no row_form, no source_values) read as before", () =>
    Effect.gen(function* () {
      const records = [rejected(1), local]
      const header = `${RejectFormat.csvColumns.slice(0, 13).join(",")}\n`
      expect(header.trimEnd().endsWith(",record")).toBe(true)
      const oldCsv = records.map((record) => RejectFormat.csvLine(record).replace(/,,\n$/, "\n")).join("")
      const csv = yield* readObject("old.csv", `${header}${oldCsv}`)
      const jsonl = yield* readObject("old.jsonl", records.map(RejectFormat.jsonLine).join(""))
      for (const { records: back, failures } of [csv, jsonl]) {
        expect(failures).toEqual([])
        expect(back).toEqual(records)
        expect(back.map(RejectedRecord.rowFormOf)).toEqual(["sent", "source"])
      }
    })
  )

  it.effect("a damaged line is told in a line: the first problem and where, not the schema", () =>
    Effect.gen(function* () {
      const line = RejectFormat.jsonLine(rejected(2))
      const { failures } = yield* readObject("cut.jsonl", `${RejectFormat.jsonLine(rejected(1))}${line.slice(0, 40)}\n`)
      expect(failures).toEqual([{ reason: "Corrupt", key: "cut.jsonl", message: "Line 2 is not a rejected record: Unterminated string in JSON at position 40" }])
      const bad = RejectFormat.csvLine({ ...rejected(1), sourceValues: { a: 1 } }).replace('"{""a"":1}"', "[1]")
      const csv = yield* readObject("bad.csv", `${RejectFormat.csvHeader}${bad}`)
      expect(csv.failures[0]?.message).toBe("Record 2 (the header is record 1) is not a rejected record: source_values: Expected { readonly [x: string]: unknown }, actual [1]")
    })
  )
})
