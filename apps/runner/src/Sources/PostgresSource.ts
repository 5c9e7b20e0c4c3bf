/**
 * SQL over PostgreSQL, streamed through a server-side cursor (postgres.js `cursor`): `fetchRows` rows
 * per round trip, never the whole result. `date`, `timestamp` and `timestamptz` values stay text
 * (no local time zone shifts, microseconds kept); `timestamp` without zone is read as UTC, a
 * `timestamptz` keeps its offset.
 */
import * as Effect from "effect/Effect"
import postgres from "postgres"
import * as Stream from "effect/Stream"
import type * as SyncDefinition from "../SyncDefinition.js"
import { type ColumnKind, isoTimestamp, messageOf, row, type SourceColumn, SourceError, type SourceReader, subquery } from "./Source.js"

export const defaultFetchRows = 1_000

const failure = (detail: string) => (cause: unknown) => new SourceError({ source: "postgres", detail: `${detail}: ${messageOf(cause)}`, cause })

/** PostgreSQL type OIDs the runner reads specially. */
const oid = { bool: 16, int8: 20, int2: 21, int4: 23, float4: 700, float8: 701, numeric: 1700, text: 25, varchar: 1043, bpchar: 1042, date: 1082, time: 1083, timestamp: 1114, timestamptz: 1184, uuid: 2950 } as const

export const kindOf = (typeId: number): ColumnKind => {
  switch (typeId) {
    case oid.bool:
      return "boolean"
    case oid.int8:
    case oid.int2:
    case oid.int4:
    case oid.float4:
    case oid.float8:
    case oid.numeric:
      return "number"
    case oid.text:
    case oid.varchar:
    case oid.bpchar:
    case oid.uuid:
      return "text"
    case oid.date:
      return "date"
    case oid.time:
      return "time"
    case oid.timestamp:
    case oid.timestamptz:
      return "timestamp"
    default:
      return "other"
  }
}

const asText = (value: string) => value
const noSerialize = (value: unknown) => String(value)

/**
 * Dates and timestamps as ISO text, to the microsecond (a JS `Date` keeps milliseconds); a
 * `timestamptz` with the offset of the session's time zone, the one the query itself sees;
 * everything else as postgres.js parses it (bigint and numeric as text).
 */
const types = {
  date: { to: oid.date, from: [oid.date], serialize: noSerialize, parse: asText },
  timestamp: { to: oid.timestamp, from: [oid.timestamp], serialize: noSerialize, parse: isoTimestamp },
  timestamptz: { to: oid.timestamptz, from: [oid.timestamptz], serialize: noSerialize, parse: isoTimestamp }
}

/** Why a `source.url` postgres.js cannot parse is refused; the URL itself is never quoted (it holds the password). */
const invalidUrl = () =>
  new SourceError({
    source: "postgres",
    detail: "source.url is not a valid PostgreSQL URL (expected postgres://user:password@host:port/database, a % in the password written as %25)"
  })

const client = (url: string) =>
  Effect.acquireRelease(
    Effect.try({ try: () => postgres(url, { max: 1, types, onnotice: () => undefined }), catch: invalidUrl }),
    (sql) => Effect.promise(() => sql.end({ timeout: 5 }).catch(() => undefined))
  )

export const reader = (source: SyncDefinition.PostgresSourceType): SourceReader => ({
  items: Stream.unwrapScoped(
    Effect.map(client(source.url), (sql) =>
      Stream.fromAsyncIterable(sql.unsafe(source.query).cursor(source.fetchRows ?? defaultFetchRows), failure("reading rows failed")).pipe(
        Stream.mapConcat((rows) => rows.map((data: Record<string, unknown>) => row(data)))
      )
    )
  ),
  count: Effect.scoped(
    Effect.gen(function* () {
      const db = yield* client(source.url)
      const result = yield* Effect.tryPromise({
        try: () => db.unsafe(`SELECT count(*) AS n FROM (${subquery(source.query)}) AS q`),
        catch: failure("counting rows failed")
      })
      return Number(result[0]?.["n"] ?? 0)
    })
  ),
  columns: Effect.scoped(
    Effect.gen(function* () {
      const db = yield* client(source.url)
      const result = yield* Effect.tryPromise({
        try: () => db.unsafe(`SELECT * FROM (${subquery(source.query)}) AS q LIMIT 0`).describe(),
        catch: failure("query failed")
      })
      return result.columns.map((column): SourceColumn => ({ name: column.name, kind: kindOf(column.type) }))
    })
  )
})
