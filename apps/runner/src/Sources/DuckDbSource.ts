/**
 * SQL over an embedded DuckDB: CSV, Parquet and JSON files (`read_csv`, `read_parquet`,
 * `read_json`, or a path in quotes) or a `.duckdb` database. Relative paths resolve against the
 * base directory (the repository root). Results stream chunk by chunk (2,048 rows).
 */
import { DuckDBInstance, type DuckDBConnection, type DuckDBType } from "@duckdb/node-api"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import * as path from "node:path"
import type * as SyncDefinition from "../SyncDefinition.js"
import { type ColumnKind, isoTimestamp, messageOf, row, type SourceColumn, SourceError, type SourceItem, type SourceReader, subquery } from "./Source.js"

const failure = (detail: string) => (cause: unknown) => new SourceError({ source: "duckdb", detail: `${detail}: ${messageOf(cause)}`, cause })

const quote = (text: string) => `'${text.replaceAll("'", "''")}'`

/** A connection for the scope, files resolved against `baseDir`. */
export const connection = (source: SyncDefinition.DuckDbSourceType, baseDir: string) =>
  Effect.gen(function* () {
    const database = source.database === undefined ? ":memory:" : path.resolve(baseDir, source.database)
    const instance = yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: () => DuckDBInstance.create(database, source.database === undefined ? {} : { access_mode: "READ_ONLY" }),
        catch: failure(`cannot open ${source.database ?? "an in-memory database"}`)
      }),
      (opened) => Effect.sync(() => opened.closeSync())
    )
    const connected = yield* Effect.acquireRelease(
      Effect.tryPromise({ try: () => instance.connect(), catch: failure("cannot connect") }),
      (opened) => Effect.sync(() => opened.closeSync())
    )
    yield* Effect.tryPromise({ try: () => connected.run(`SET file_search_path = ${quote(baseDir)}`), catch: failure("cannot set file_search_path") })
    return connected
  })

export const kindOf = (type: DuckDBType): ColumnKind => {
  const name = type.toString()
  if (name === "BOOLEAN") return "boolean"
  if (/^(U?(TINY|SMALL|BIG|HUGE)?INT(EGER)?|FLOAT|DOUBLE|REAL|DECIMAL.*|UHUGEINT)$/.test(name)) return "number"
  if (name === "VARCHAR" || name === "UUID" || name.startsWith("ENUM")) return "text"
  if (name === "DATE") return "date"
  if (name.startsWith("TIMESTAMP")) return "timestamp"
  if (name.startsWith("TIME")) return "time"
  if (name.endsWith("[]")) return "list"
  return "other"
}

const columnsOf = (names: ReadonlyArray<string>, types: ReadonlyArray<DuckDBType>): Array<SourceColumn> =>
  names.map((name, index) => {
    const type = types[index]
    return { name, kind: type === undefined ? "other" : kindOf(type) }
  })

const rows = (db: DuckDBConnection, query: string): Stream.Stream<SourceItem, SourceError> =>
  Stream.unwrap(
    Effect.gen(function* () {
      const result = yield* Effect.tryPromise({ try: () => db.stream(query), catch: failure("query failed") })
      const columns = columnsOf(result.columnNames(), result.columnTypes())
      const timestamps = columns.filter((column) => column.kind === "timestamp").map((column) => column.name)
      return Stream.fromAsyncIterable(result.yieldRowObjectJson(), failure("reading rows failed")).pipe(
        Stream.mapConcat((chunk) =>
          chunk.map((data) => {
            for (const name of timestamps) {
              const value = data[name]
              if (typeof value === "string") data[name] = isoTimestamp(value)
            }
            return row(data)
          })
        )
      )
    })
  )

export const reader = (source: SyncDefinition.DuckDbSourceType, baseDir: string): SourceReader => ({
  items: Stream.unwrapScoped(Effect.map(connection(source, baseDir), (db) => rows(db, source.query))),
  count: Effect.scoped(
    Effect.gen(function* () {
      const db = yield* connection(source, baseDir)
      const result = yield* Effect.tryPromise({
        try: () => db.runAndReadAll(`SELECT count(*) AS n FROM (${subquery(source.query)}) AS q`),
        catch: failure("counting rows failed")
      })
      return Number(result.getRowObjectsJson()[0]?.["n"] ?? 0)
    })
  ),
  columns: Effect.scoped(
    Effect.gen(function* () {
      const db = yield* connection(source, baseDir)
      const result = yield* Effect.tryPromise({
        try: () => db.run(`SELECT * FROM (${subquery(source.query)}) AS q LIMIT 0`),
        catch: failure("query failed")
      })
      return columnsOf(result.columnNames(), result.columnTypes())
    })
  )
})
