/**
 * What every source gives the runner: a stream of rows (and, for Airbyte sources, the
 * source's STATE messages to checkpoint), a row count for `plan`, and the column types where
 * the source knows them. Sources stream: none holds a table in memory.
 */
import * as Data from "effect/Data"
import type * as Effect from "effect/Effect"
import type * as Stream from "effect/Stream"

/** A source column's kind, for type compatibility checks. */
export type ColumnKind = "text" | "number" | "boolean" | "date" | "timestamp" | "time" | "list" | "other"

export interface SourceColumn {
  readonly name: string
  readonly kind: ColumnKind
}

export type SourceItem =
  | { readonly _tag: "Row"; readonly data: Readonly<Record<string, unknown>> }
  /** An Airbyte STATE message, its original line, and the stream key for per-stream states. */
  | { readonly _tag: "State"; readonly line: string; readonly scope: string | undefined }

export class SourceError extends Data.TaggedError("SourceError")<{
  readonly source: string
  readonly detail: string
  readonly cause?: unknown
}> {
  override get message(): string {
    return `${this.source} source: ${this.detail}`
  }
}

export interface SourceReader {
  readonly items: Stream.Stream<SourceItem, SourceError>
  /** Rows the source would give, or undefined when it cannot know without reading (stdin, commands). */
  readonly count: Effect.Effect<number | undefined, SourceError>
  /** Column names and kinds, or undefined when the source has no schema (JSONL, Airbyte). */
  readonly columns: Effect.Effect<ReadonlyArray<SourceColumn> | undefined, SourceError>
}

export const row = (data: Readonly<Record<string, unknown>>): SourceItem => ({ _tag: "Row", data })

/** The message of an unknown error, for `SourceError.detail`. */
export const messageOf = (cause: unknown): string => (cause instanceof Error ? cause.message : String(cause))

/** `YYYY-MM-DD HH:MM:SS[.fff][±HH[:MM]]` (SQL timestamp text) as ISO 8601, UTC when no zone is given. */
export const isoTimestamp = (value: string): string => {
  const match = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2}(?:\.\d+)?)(Z|[+-]\d{2}(?::?\d{2})?)?$/.exec(value)
  if (match === null) return withSecondsOffset(value) ?? value
  const zone = match[3]
  const offset = zone === undefined ? "Z" : zone === "Z" ? "Z" : zone.length === 3 ? `${zone}:00` : zone.includes(":") ? zone : `${zone.slice(0, 3)}:${zone.slice(3)}`
  return `${match[1]}T${match[2]}${offset}`
}

/**
 * A timestamp whose offset has seconds (`1849-12-31 19:03:58-04:56:02`: local mean time, before
 * time zones), which ISO text cannot carry: the same instant in UTC, its fraction kept.
 */
const withSecondsOffset = (value: string): string | undefined => {
  const match = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(\.\d+)?([+-])(\d{2}):(\d{2}):(\d{2})$/.exec(value)
  if (match === null) return undefined
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number)
  const offsetSeconds = (match[8] === "-" ? -1 : 1) * (Number(match[9]) * 3600 + Number(match[10]) * 60 + Number(match[11]))
  const instant = new Date(Date.UTC(2000, (month ?? 1) - 1, day, hour, minute, second) - offsetSeconds * 1000)
  instant.setUTCFullYear((year ?? 2000) + instant.getUTCFullYear() - 2000)
  return `${instant.toISOString().slice(0, 19)}${match[7] ?? ""}Z`
}

/**
 * A SQL statement as the body of a subquery: trailing semicolons (and a comment after them)
 * removed, and a line break at the end, so a trailing `-- comment` cannot swallow the closing
 * parenthesis.
 */
export const subquery = (sql: string): string => `${sql.trim().replace(/(?:;\s*(?:--[^\n]*)?\s*)+$/, "")}\n`
