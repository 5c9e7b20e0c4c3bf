/**
 * JSON lines or CSV files, read as a stream. A JSONL line must hold one object; a CSV file has
 * a header row, its cells are text and an empty cell is null.
 */
import { LosslessNumbers } from "@sfdc-activation/airbyte-protocol"
import { parse as parseCsv } from "csv-parse"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { createReadStream } from "node:fs"
import * as path from "node:path"
import type * as SyncDefinition from "../SyncDefinition.js"
import { messageOf, row, type SourceColumn, SourceError, type SourceItem, type SourceReader } from "./Source.js"

export type FileFormat = "jsonl" | "csv"

const failure = (file: string, detail: string) => (cause: unknown) =>
  new SourceError({ source: "file", detail: `${file}: ${detail}: ${messageOf(cause)}`, cause })

/** The format a file is read as: declared, else from its extension. */
export const formatOf = (source: SyncDefinition.FileSourceType): Either.Either<FileFormat, SourceError> => {
  if (source.format !== undefined) return Either.right(source.format)
  const name = source.path.toLowerCase()
  if (name.endsWith(".csv")) return Either.right("csv")
  if (name.endsWith(".jsonl") || name.endsWith(".ndjson") || name.endsWith(".json")) return Either.right("jsonl")
  return Either.left(new SourceError({ source: "file", detail: `${source.path}: cannot tell the format from the extension; set format: jsonl or csv` }))
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value)

/** Lines of a text file, numbered from 1. */
const lines = (file: string) =>
  Stream.fromAsyncIterable(createReadStream(file), failure(file, "cannot read")).pipe(
    Stream.filterMap((chunk: unknown) => (chunk instanceof Uint8Array ? Option.some(chunk) : Option.none())),
    Stream.decodeText(),
    Stream.splitLines,
    Stream.zipWithIndex
  )

const jsonlRows = (file: string): Stream.Stream<SourceItem, SourceError> =>
  lines(file).pipe(
    Stream.filter(([line]) => line.trim() !== ""),
    Stream.mapEffect(([line, index]) =>
      Effect.gen(function* () {
        // numbers a double cannot hold arrive as their exact digits, as from the other sources
        const parsed = yield* Effect.try({
          try: (): unknown => JSON.parse(LosslessNumbers.preserve(line)),
          catch: failure(file, `line ${index + 1} is not JSON`)
        })
        if (!isRecord(parsed)) return yield* new SourceError({ source: "file", detail: `${file}: line ${index + 1} is not a JSON object` })
        return row(parsed)
      })
    )
  )

const csvRecords = (file: string) =>
  Stream.fromAsyncIterable(
    createReadStream(file).pipe(parseCsv({ columns: true, bom: true, skip_empty_lines: true })),
    failure(file, "is not valid CSV")
  )

const csvRows = (file: string): Stream.Stream<SourceItem, SourceError> =>
  csvRecords(file).pipe(
    Stream.map((record) => {
      const data: Record<string, unknown> = {}
      if (isRecord(record)) for (const [key, value] of Object.entries(record)) data[key] = value === "" ? null : value
      return row(data)
    })
  )

export const reader = (source: SyncDefinition.FileSourceType, baseDir: string): SourceReader => {
  const file = path.resolve(baseDir, source.path)
  const format = formatOf(source)
  return {
    items: Stream.unwrap(Effect.map(format, (kind) => (kind === "csv" ? csvRows(file) : jsonlRows(file)))),
    count: Effect.flatMap(format, (kind) =>
      Stream.runCount(kind === "csv" ? csvRecords(file) : lines(file).pipe(Stream.filter(([line]) => line.trim() !== "")))
    ),
    columns: Effect.flatMap(format, (kind) =>
      kind === "jsonl"
        ? Effect.succeed(undefined)
        : Effect.gen(function* () {
            const header = yield* Stream.runHead(lines(file))
            if (header._tag === "None") return []
            const names = yield* Stream.runHead(
              Stream.fromAsyncIterable(parseCsv(header.value[0], { bom: true }), failure(file, "has no valid CSV header"))
            )
            const fields = names._tag === "Some" && Array.isArray(names.value) ? names.value.map(String) : []
            return fields.map((name): SourceColumn => ({ name, kind: "text" }))
          })
    )
  }
}
