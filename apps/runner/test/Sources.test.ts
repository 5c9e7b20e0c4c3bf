import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Stream from "effect/Stream"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { SourceError, type SourceItem } from "../src/Sources/Source.js"
import * as Sources from "../src/Sources/Sources.js"
import * as StateFile from "../src/StateFile.js"
import type * as SyncDefinition from "../src/SyncDefinition.js"
import * as Postgres from "./postgres.js"
import { repoRoot } from "./support.js"

const context = { baseDir: repoRoot, stdin: Stream.empty }
const rowsOf = (items: Chunk.Chunk<SourceItem>) => Chunk.toArray(items).flatMap((item) => (item._tag === "Row" ? [item.data] : []))
const scratch = mkdtempSync(path.join(tmpdir(), "runner-sources-"))

describe("duckdb source", () => {
  const source: SyncDefinition.Source = {
    type: "duckdb",
    query: "SELECT account_key, lead_score, customer_since, TIMESTAMP '2024-05-06 07:08:09' AS seen FROM read_csv('configs/warehouse/accounts.csv') ORDER BY account_key;"
  }

  it.effect("streams rows of a CSV file, with counts and column kinds", () =>
    Effect.gen(function* () {
      const reader = Sources.reader(source, context)
      const rows = rowsOf(yield* Stream.runCollect(reader.items))
      expect(rows).toHaveLength(60)
      expect(rows[0]).toEqual({ account_key: "ACC-0001", lead_score: 68, customer_since: "2024-01-17", seen: "2024-05-06T07:08:09Z" })
      expect(yield* reader.count).toBe(60)
      expect(yield* reader.columns).toEqual([
        { name: "account_key", kind: "text" },
        { name: "lead_score", kind: "number" },
        { name: "customer_since", kind: "date" },
        { name: "seen", kind: "timestamp" }
      ])
    })
  )

  it.effect("reads every kind of value: exact big numbers, non-finite doubles as text, ISO timestamps, nested values", () =>
    Effect.gen(function* () {
      const query = [
        "SELECT 12345678901234567891::HUGEINT AS huge, 9007199254740993::BIGINT AS unsafe, 1.500::DECIMAL(10,3) AS price,",
        "'NaN'::DOUBLE AS nan, '-inf'::DOUBLE AS negative_infinity, true AS flag, NULL AS nothing,",
        "TIMESTAMP '2024-05-06 07:08:09.123' AS seen, DATE '2024-01-17' AS day,",
        "[1, 2] AS list, {'a': 'b'} AS nested, 'say \"NaN\", Infinity' AS text, 'é東🚀' AS unicode"
      ].join(" ")
      const rows = rowsOf(yield* Stream.runCollect(Sources.reader({ type: "duckdb", query }, context).items))
      expect(rows).toEqual([
        {
          huge: "12345678901234567891",
          unsafe: "9007199254740993",
          price: 1.5,
          nan: "NaN",
          negative_infinity: "-Infinity",
          flag: true,
          nothing: null,
          seen: "2024-05-06T07:08:09.123Z",
          day: "2024-01-17",
          list: [1, 2],
          nested: { a: "b" },
          text: 'say "NaN", Infinity',
          unicode: "é東🚀"
        }
      ])
    })
  )

  it.effect("takes a query ending with a semicolon or a line comment", () =>
    Effect.gen(function* () {
      for (const query of ["SELECT 1 AS one -- the answer", "SELECT 1 AS one; -- the answer\n", "SELECT 1 AS one;;\n"]) {
        const reader = Sources.reader({ type: "duckdb", query }, context)
        expect(rowsOf(yield* Stream.runCollect(reader.items))).toEqual([{ one: 1 }])
        expect(yield* reader.count).toBe(1)
      }
    })
  )

  it.effect("fails with the query error", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(Stream.runDrain(Sources.reader({ type: "duckdb", query: "SELECT * FROM missing_table" }, context).items))
      expect(error.message).toMatch(/^duckdb source: query failed: .*missing_table/)
    })
  )
})

describe("file source", () => {
  it.effect("reads JSONL and CSV", () =>
    Effect.gen(function* () {
      writeFileSync(path.join(scratch, "a.jsonl"), '{"id":1,"name":"Ann"}\n\n{"id":2,"name":null,"big":12345678901234567891}\n')
      writeFileSync(path.join(scratch, "a.csv"), "id,name\n1,Ann\n2,\n")
      const jsonl = Sources.reader({ type: "file", path: "a.jsonl" }, { ...context, baseDir: scratch })
      expect(rowsOf(yield* Stream.runCollect(jsonl.items))).toEqual([{ id: 1, name: "Ann" }, { id: 2, name: null, big: "12345678901234567891" }])
      expect(yield* jsonl.count).toBe(2)
      const csv = Sources.reader({ type: "file", path: "a.csv" }, { ...context, baseDir: scratch })
      expect(rowsOf(yield* Stream.runCollect(csv.items))).toEqual([{ id: "1", name: "Ann" }, { id: "2", name: null }])
      expect(yield* csv.columns).toEqual([{ name: "id", kind: "text" }, { name: "name", kind: "text" }])
    })
  )

  it.effect("names the bad line of a JSONL file", () =>
    Effect.gen(function* () {
      writeFileSync(path.join(scratch, "bad.jsonl"), '{"id":1}\n[1,2]\n')
      const error = yield* Effect.flip(Stream.runDrain(Sources.reader({ type: "file", path: "bad.jsonl" }, { ...context, baseDir: scratch }).items))
      expect(error.message).toContain("line 2 is not a JSON object")
    })
  )

  it.effect("reads files with a byte order mark or CR line ends, and names the bad line of a CSV file", () =>
    Effect.gen(function* () {
      writeFileSync(path.join(scratch, "bom.jsonl"), '\ufeff{"id":1}\r\n')
      expect(rowsOf(yield* Stream.runCollect(Sources.reader({ type: "file", path: "bom.jsonl" }, { ...context, baseDir: scratch }).items))).toEqual([{ id: 1 }])
      writeFileSync(path.join(scratch, "mac.csv"), "\ufeffid,name\r1,Ann\r2,Bo\r")
      const mac = Sources.reader({ type: "file", path: "mac.csv" }, { ...context, baseDir: scratch })
      expect(rowsOf(yield* Stream.runCollect(mac.items))).toEqual([{ id: "1", name: "Ann" }, { id: "2", name: "Bo" }])
      writeFileSync(path.join(scratch, "bad.csv"), 'id,name\n1,"Ann\nAnn"\n\n2,Bo,extra\n')
      const bad = Sources.reader({ type: "file", path: "bad.csv" }, { ...context, baseDir: scratch })
      // the header is good: the columns can be planned; the sync names the bad line
      expect(yield* bad.columns).toEqual([{ name: "id", kind: "text" }, { name: "name", kind: "text" }])
      const error = yield* Effect.flip(Stream.runDrain(bad.items))
      expect(error.message).toContain("at line 5, record 3 (the header is record 1): 3 fields where the header has 2")
    })
  )
})

describe("airbyte source", () => {
  const messages = [
    { type: "LOG", log: { level: "INFO", message: "starting" } },
    { type: "RECORD", record: { stream: "users", data: { id: 1 }, emitted_at: 1 } },
    { type: "RECORD", record: { stream: "other", data: { id: 9 }, emitted_at: 1 } },
    { type: "STATE", state: { type: "STREAM", stream: { stream_descriptor: { name: "users" }, stream_state: { cursor: 1 } } } },
    { type: "RECORD", record: { stream: "users", data: { id: 2 }, emitted_at: 2 } }
  ]
  const script = `for (const m of ${JSON.stringify(messages)}) console.log(JSON.stringify(m))`

  it.effect("reads RECORDs and STATEs from a spawned connector", () =>
    Effect.gen(function* () {
      const reader = Sources.reader({ type: "airbyte", command: [process.execPath, "-e", script], stream: "users" }, context)
      const items = Chunk.toArray(yield* Stream.runCollect(reader.items))
      expect(items.map((item) => (item._tag === "Row" ? item.data : { state: item.scope }))).toEqual([{ id: 1 }, { state: StateFile.streamKey({ name: "users" }) }, { id: 2 }])
    })
  )

  it.effect("a reader of one stream passes on only that stream's STATEs, and global ones", () =>
    Effect.gen(function* () {
      const lines = [
        { type: "STATE", state: { type: "STREAM", stream: { stream_descriptor: { name: "other" }, stream_state: { cursor: 1 } } } },
        { type: "STATE", state: { type: "STREAM", stream: { stream_descriptor: { name: "users", namespace: "crm" }, stream_state: { cursor: 2 } } } },
        { type: "STATE", state: { type: "GLOBAL", global: { shared_state: { cursor: 3 }, stream_states: [] } } }
      ]
      writeFileSync(path.join(scratch, "states.jsonl"), `${lines.map((line) => JSON.stringify(line)).join("\n")}\n`)
      const scopes = (stream: string | undefined) =>
        Effect.map(Stream.runCollect(Sources.reader({ type: "airbyte", file: "states.jsonl", stream }, { ...context, baseDir: scratch }).items), (items) =>
          Chunk.toArray(items).map((item) => (item._tag === "State" ? item.scope : "row"))
        )
      expect(yield* scopes("users")).toEqual([StateFile.streamKey({ namespace: "crm", name: "users" }), undefined])
      expect(yield* scopes(undefined)).toHaveLength(3)
    })
  )

  it.effect("keeps a namespaced stream apart from a stream whose name has a dot", () =>
    Effect.gen(function* () {
      const state = (descriptor: { name: string; namespace?: string }) =>
        JSON.stringify({ type: "STATE", state: { type: "STREAM", stream: { stream_descriptor: descriptor, stream_state: {} } } })
      writeFileSync(path.join(scratch, "dotted.jsonl"), `${state({ namespace: "a", name: "b" })}\n${state({ name: "a.b" })}\n`)
      const items = Chunk.toArray(yield* Stream.runCollect(Sources.reader({ type: "airbyte", file: "dotted.jsonl" }, { ...context, baseDir: scratch }).items))
      const scopes = items.map((item) => (item._tag === "State" ? item.scope : undefined))
      expect(new Set(scopes).size).toBe(2)
    })
  )

  it.effect("names the file or the command a malformed line came from", () =>
    Effect.gen(function* () {
      writeFileSync(path.join(scratch, "messages.jsonl"), "{bad\n")
      const fromFile = yield* Effect.flip(Stream.runDrain(Sources.reader({ type: "airbyte", file: "messages.jsonl" }, { ...context, baseDir: scratch }).items))
      expect(fromFile.message).toMatch(/^airbyte source: messages\.jsonl: input line 1: malformed JSON/)
      const command = [process.execPath, "-e", "console.log('{bad')"]
      const fromCommand = yield* Effect.flip(Stream.runDrain(Sources.reader({ type: "airbyte", command }, context).items))
      expect(fromCommand.message).toContain(`airbyte source: the output of ${process.execPath}: input line 1: malformed JSON`)
    })
  )

  const lines = (messages: ReadonlyArray<unknown>) => `${messages.map((message) => JSON.stringify(message)).join("\n")}\n`
  const record = (stream: string, id: number) => ({ type: "RECORD", record: { stream, data: { id }, emitted_at: 1 } })
  const errorTrace = (message: string, stream?: string) => ({
    type: "TRACE",
    trace: { type: "ERROR", emitted_at: 1, error: { message, failure_type: "config_error", ...(stream === undefined ? {} : { stream_descriptor: { name: stream } }) } }
  })
  /** The rows a read hands on, and how it ends: "ok" or the error's message. */
  const readToEnd = (source: SyncDefinition.AirbyteSourceType) =>
    Effect.gen(function* () {
      const rows: Array<unknown> = []
      const end = yield* Stream.runForEach(Sources.reader(source, { ...context, baseDir: scratch }).items, (item) =>
        Effect.sync(() => (item._tag === "Row" ? void rows.push(item.data) : undefined))
      ).pipe(
        Effect.as("ok"),
        Effect.catchAll((error) => Effect.succeed(error.message))
      )
      return { rows, end }
    })

  it.effect("a TRACE ERROR fails the read once every row is handed on, quoting the source; one of another stream is only logged", () =>
    Effect.gen(function* () {
      writeFileSync(
        path.join(scratch, "failed.jsonl"),
        lines([record("users", 1), errorTrace("Invalid API key", "users"), record("users", 2), errorTrace("Table missing", "other"), errorTrace("Sync failed")])
      )
      const selected = yield* readToEnd({ type: "airbyte", file: "failed.jsonl", stream: "users" })
      expect(selected).toEqual({
        rows: [{ id: 1 }, { id: 2 }],
        end: "airbyte source: failed.jsonl: the source reported 2 errors: line 2: Invalid API key (config_error); line 5: Sync failed (config_error)"
      })
      const logged: Array<string> = []
      const capture = Logger.replace(Logger.defaultLogger, Logger.make(({ logLevel, message }) => void logged.push(`${logLevel.label} ${String(message)}`)))
      const other = yield* readToEnd({ type: "airbyte", file: "failed.jsonl", stream: "other" }).pipe(Effect.provide(capture))
      expect(other.end).toBe("airbyte source: failed.jsonl: the source reported 2 errors: line 4: Table missing (config_error); line 5: Sync failed (config_error)")
      expect(logged).toContain("WARN failed.jsonl: line 2: Invalid API key (config_error), for stream users, which this sync does not load")
    })
  )

  it.effect("a command that reports an error then exits non-zero fails with the error it reported, not only its stderr", () =>
    Effect.gen(function* () {
      const script = `console.log(${JSON.stringify(lines([record("users", 1), errorTrace("Access denied for user loader")]).trimEnd())}); process.exit(1)`
      const { rows, end } = yield* readToEnd({ type: "airbyte", command: [process.execPath, "-e", script] })
      expect(rows).toEqual([{ id: 1 }])
      expect(end).toBe(
        `airbyte source: the output of ${process.execPath}: the source reported an error: line 2: Access denied for user loader (config_error); then ${process.execPath} exited with code 1: `
      )
    })
  )

  it.effect("relays the source's LOG messages: errors and warnings as such, the rest at debug", () =>
    Effect.gen(function* () {
      const log = (level: string, message: string) => ({ type: "LOG", log: { level, message } })
      writeFileSync(path.join(scratch, "logs.jsonl"), lines([log("ERROR", "quota nearly spent"), log("WARN", "slow"), log("INFO", "reading"), record("users", 1)]))
      const logged: Array<string> = []
      const capture = Logger.replace(Logger.defaultLogger, Logger.make(({ logLevel, message }) => void logged.push(`${logLevel.label} ${String(message)}`)))
      const { end } = yield* readToEnd({ type: "airbyte", file: "logs.jsonl" }).pipe(Effect.provide(capture), Logger.withMinimumLogLevel(LogLevel.Debug))
      expect(end).toBe("ok")
      expect(logged).toEqual(["ERROR logs.jsonl: quota nearly spent", "WARN logs.jsonl: slow", "DEBUG logs.jsonl: reading"])
    })
  )

  it.effect("warns of a stream: that no message names, listing the streams the input has; not of one named only by its state", () =>
    Effect.gen(function* () {
      const streamState = (name: string) => ({ type: "STATE", state: { type: "STREAM", stream: { stream_descriptor: { name }, stream_state: {} } } })
      const status = (name: string) => ({ type: "TRACE", trace: { type: "STREAM_STATUS", emitted_at: 1, stream_status: { stream_descriptor: { name }, status: "COMPLETE" } } })
      writeFileSync(path.join(scratch, "streams.jsonl"), lines([record("users", 1), record("accounts", 2), streamState("contacts"), status("leads")]))
      const warningsOf = (stream: string) =>
        Effect.gen(function* () {
          const logged: Array<string> = []
          const capture = Logger.replace(Logger.defaultLogger, Logger.make(({ logLevel, message }) => void logged.push(`${logLevel.label} ${String(message)}`)))
          const read = yield* readToEnd({ type: "airbyte", file: "streams.jsonl", stream }).pipe(Effect.provide(capture))
          return { ...read, logged }
        })
      expect(yield* warningsOf("user")).toEqual({
        rows: [],
        end: "ok",
        logged: ["WARN streams.jsonl: no message names stream user, so no record was read; the input has users, accounts, contacts, leads: check the source's stream:"]
      })
      for (const named of ["contacts", "leads"]) expect(yield* warningsOf(named)).toEqual({ rows: [], end: "ok", logged: [] })
      expect(yield* warningsOf("users")).toEqual({ rows: [{ id: 1 }], end: "ok", logged: [] })
    })
  )

  it.effect("fails with the command's stderr when it exits non-zero", () =>
    Effect.gen(function* () {
      const reader = Sources.reader({ type: "airbyte", command: [process.execPath, "-e", "console.error('bad config'); process.exit(3)"] }, context)
      const error = yield* Effect.flip(Stream.runDrain(reader.items))
      expect(error.message).toContain("exited with code 3: bad config")
    })
  )
})

describe("postgres source url", () => {
  it.effect("a URL postgres.js cannot parse fails each read with a SourceError naming source.url, not the password", () =>
    Effect.gen(function* () {
      for (const url of ["postgres://loader:pass-word@db.internal:54x2/warehouse", "postgres://loader:50%off-pass@db.internal/warehouse"]) {
        const reader = Sources.reader({ type: "postgres", url, query: "SELECT 1" }, context)
        for (const read of [Stream.runDrain(reader.items), reader.count, reader.columns]) {
          const error = yield* Effect.flip(read)
          expect(error).toBeInstanceOf(SourceError)
          expect(error.message).toContain("postgres source: source.url is not a valid PostgreSQL URL")
          expect(error.message).not.toMatch(/pass-word|off-pass/)
        }
      }
    })
  )
})

describe("postgres source", () => {
  let cluster: Postgres.Cluster | undefined
  beforeAll(async () => {
    cluster = await Postgres.start()
    cluster.psql(
      "CREATE TABLE accounts (id int, name text, score numeric(5,2), since date, seen timestamp, active boolean); " +
        "INSERT INTO accounts SELECT i, 'Account ' || i, i / 4.0, DATE '2024-01-01' + i, TIMESTAMP '2024-01-01 10:00:00' + i * INTERVAL '1 hour', i % 2 = 0 FROM generate_series(1, 2500) i"
    )
  })
  afterAll(() => cluster?.stop())

  it.effect("streams a query through a cursor, with count and column kinds", () =>
    Effect.gen(function* () {
      const url = cluster?.url ?? ""
      const reader = Sources.reader({ type: "postgres", url, query: "SELECT * FROM accounts ORDER BY id", fetchRows: 1000 }, context)
      const rows = rowsOf(yield* Stream.runCollect(reader.items))
      expect(rows).toHaveLength(2500)
      expect(rows[0]).toEqual({ id: 1, name: "Account 1", score: "0.25", since: "2024-01-02", seen: "2024-01-01T11:00:00Z", active: false })
      expect(yield* reader.count).toBe(2500)
      expect((yield* reader.columns)?.map((column) => column.kind)).toEqual(["number", "text", "number", "date", "timestamp", "boolean"])
    })
  )

  it.effect("reads a timestamptz to the microsecond, in the time zone the query sees", () =>
    Effect.gen(function* () {
      const url = cluster?.url ?? ""
      cluster?.psql("ALTER DATABASE postgres SET timezone TO 'America/New_York'")
      const query = "SELECT TIMESTAMPTZ '2024-05-06 22:00:00.123456-05' AS evening, TIMESTAMPTZ '1850-01-01 00:00:00.5+00' AS old"
      const rows = rowsOf(yield* Stream.runCollect(Sources.reader({ type: "postgres", url, query }, context).items))
      // the 1850 instant is in New York's local mean time (-04:56:02), which ISO cannot write: in UTC
      expect(rows).toEqual([{ evening: "2024-05-06T23:00:00.123456-04:00", old: "1850-01-01T00:00:00.5Z" }])
      cluster?.psql("ALTER DATABASE postgres RESET timezone")
    })
  )
})
