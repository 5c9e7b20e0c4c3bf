import { describe, expect, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import * as DuckDbSource from "../src/Sources/DuckDbSource.js"
import { contactsUpsert, loopbackOrg, runCli, workspace } from "./support.js"

/**
 * A CSV of `rows` rows whose row `bad` holds a score DuckDB cannot convert: it is far past the
 * type-sniffing sample (20,480 rows), so `score` is taken as a number and the query fails part way,
 * after rows have already streamed.
 */
const csv = (rows: number, bad: number) =>
  `key,score\n${Array.from({ length: rows }, (_, i) => `DM-${i},${i === bad ? "not-a-number" : i}`).join("\n")}\n`

const scratch = mkdtempSync(path.join(tmpdir(), "runner-duckdb-"))
writeFileSync(path.join(scratch, "big.csv"), csv(200_000, 150_000))

const items = (query: string) => DuckDbSource.reader({ type: "duckdb", query }, scratch).items

describe("duckdb source: a query failing part way", () => {
  it.effect("hands on the rows read before the failure, then fails with DuckDB's message instead of ending early", () =>
    Effect.gen(function* () {
      const keys: Array<string> = []
      const error = yield* Effect.flip(
        Stream.runForEach(items("SELECT key, score FROM read_csv('big.csv')"), (item) =>
          Effect.sync(() => {
            if (item._tag === "Row") keys.push(String(item.data["key"]))
          })
        )
      )
      expect(error._tag).toBe("SourceError")
      expect(error.message).toMatch(/^duckdb source: the query failed after \d+ rows: Conversion Error: .*not-a-number/s)
      // Every row read before the failure was handed on, and the message counts them.
      expect(keys.length).toBeGreaterThan(0)
      expect(keys.length).toBeLessThan(200_000)
      expect(error.message).toContain(`after ${keys.length} rows`)
      expect(new Set(keys).size).toBe(keys.length)
    })
  )

  it.effect("a query that finishes still ends normally: many chunks, an exact number of chunks, none", () =>
    Effect.gen(function* () {
      for (const rows of [200_000, 4_096, 0]) {
        const read = yield* Stream.runCount(items(`SELECT key FROM read_csv('big.csv', types = {'score': 'VARCHAR'}) LIMIT ${rows}`))
        expect(read).toBe(rows)
      }
      const all = Chunk.toArray(yield* Stream.runCollect(items("SELECT count(*) AS n FROM read_csv('big.csv', all_varchar = true)")))
      expect(all.flatMap((item) => (item._tag === "Row" ? [item.data] : []))).toEqual([{ n: 200_000 }])
    })
  )
})

describe("duckdb source: instants", () => {
  it.effect("are read in UTC whatever the machine's time zone", () =>
    Effect.gen(function* () {
      const zone = process.env["TZ"]
      process.env["TZ"] = "America/New_York"
      const rows = yield* Stream.runCollect(
        items("SELECT TIMESTAMPTZ '2024-05-06 22:00:00-05' AS evening, TIMESTAMPTZ '1850-01-01 00:00:00+00' AS old, CAST(TIMESTAMPTZ '2024-05-06 22:00:00-05' AS DATE) AS day")
      ).pipe(Effect.ensuring(Effect.sync(() => (zone === undefined ? delete process.env["TZ"] : (process.env["TZ"] = zone)))))
      expect(Chunk.toArray(rows).flatMap((item) => (item._tag === "Row" ? [item.data] : []))).toEqual([
        { evening: "2024-05-07T03:00:00+00:00", old: "1850-01-01T00:00:00+00:00", day: "2024-05-07" }
      ])
    })
  )
})

describe("duckdb source: blobs", () => {
  it.effect("arrive as their bytes, backslashes and quotes included", () =>
    Effect.gen(function* () {
      const rows = yield* Stream.runCollect(items("SELECT '\\xDE\\xAD\\xBE\\xEF'::BLOB AS binary, 'a\\x5Cb\"c'::BLOB AS text, NULL::BLOB AS none"))
      const [row] = Chunk.toArray(rows).flatMap((item) => (item._tag === "Row" ? [item.data] : []))
      expect(row).toEqual({ binary: Uint8Array.from([0xde, 0xad, 0xbe, 0xef]), text: new TextEncoder().encode('a\\b"c'), none: null })
    })
  )
})

const { org, url, env } = loopbackOrg({ faults: { processingDelayMs: 0 } })

describe("duckdb source failing part way, in a sync", () => {
  it.live("fails the sync (exit 1) naming DuckDB's error, not reporting success with rows lost", () =>
    Effect.gen(function* () {
      const root = yield* workspace(
        {
          "c.yaml": contactsUpsert({
            org: url(),
            source: "  type: duckdb\n  query: SELECT key, 'n' || score AS last FROM read_csv('big.csv')",
            extra: "batchSize: 50000\n"
          })
        },
        { "big.csv": csv(200_000, 150_000) }
      )
      const result = yield* runCli(["sync"], { cwd: root, env: env() })
      expect(result.code).toBe(1)
      expect(result.stdout).toMatch(/duckdb source: the query failed after \d+ rows: Conversion Error/)
      const sent = org.storedRecords("Contact").filter((c) => String(c["External_Id__c"]).startsWith("DM-")).length
      expect(sent).toBeLessThan(200_000)
    })
  )
})
