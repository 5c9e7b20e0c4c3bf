/**
 * JSON lines or CSV files, read as a stream. A JSONL line must hold one object; a CSV file has
 * a header row, its cells are text and an empty cell is null.
 */
import { LosslessNumbers } from "@sfdc-activation/airbyte-protocol"
import { ChunkedReading, CsvReader, LineReader } from "@sfdc-activation/csv"
import * as Chunk from "effect/Chunk"
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

/**
 * What `parser` makes of a file, read a chunk at a time (no effect per row). At a bad line, the
 * rows before it are emitted, then the stream fails naming the file and the line.
 */
const fileItems = <A>(file: string, parser: ChunkedReading.ChunkParser<A>, detail: string): Stream.Stream<A, SourceError> =>
  Stream.suspend(() => {
    const input = createReadStream(file, { highWaterMark: readChunkBytes })
    return Stream.fromAsyncIterable(ChunkedReading.parse(input, parser, () => input.destroy()), (cause) =>
      cause instanceof SourceError ? cause : failure(file, isSystemError(cause) ? "cannot read" : detail)(cause)
    ).pipe(Stream.mapConcatChunk((items) => Chunk.unsafeFromArray(items)))
  })

/** A failure of the file system (a missing file, a folder, no permission), not of the file's content. */
const isSystemError = (cause: unknown): boolean => cause instanceof Error && "code" in cause && typeof cause.code === "string"

/** A file is read this many bytes at a time. */
const readChunkBytes = 1024 * 1024

/** Non-blank lines as rows; numbers a double cannot hold arrive as their exact digits, as from the other sources. */
const jsonlParser = (file: string): ChunkedReading.ChunkParser<SourceItem> =>
  LineReader.nonBlank((line, lineNumber) => {
    let parsed: unknown
    try {
      parsed = JSON.parse(LosslessNumbers.preserve(line))
    } catch (cause) {
      throw failure(file, `line ${lineNumber} is not JSON`)(cause)
    }
    if (!isRecord(parsed)) throw new SourceError({ source: "file", detail: `${file}: line ${lineNumber} is not a JSON object` })
    return row(parsed)
  })

/** Rows keyed by the header; an empty cell is null. */
const csvParser = (): ChunkedReading.ChunkParser<SourceItem> =>
  ChunkedReading.map(new CsvReader.RowReader(), (record) => {
    // in place: the reader's row holds every column as an own property (`__proto__` too)
    const data: Record<string, unknown> = record
    for (const key of Object.keys(data)) if (data[key] === "") data[key] = null
    return row(data)
  })

/** The header of a CSV file, once read; what follows it does not matter (a bad row is the sync's to report). */
const csvHeader = (): ChunkedReading.ChunkParser<ReadonlyArray<string>> => {
  const reader = new CsvReader.RowReader()
  const header = (read: () => unknown, items: Array<ReadonlyArray<string>>) => {
    try {
      read()
    } catch (error) {
      if (reader.columns === undefined) throw error
    }
    if (reader.columns !== undefined) items.push(reader.columns)
    return items
  }
  return { push: (bytes, items) => header(() => reader.push(bytes), items), end: (items) => header(() => reader.end(), items) }
}

const jsonlRows = (file: string) => fileItems(file, jsonlParser(file), "cannot read")
const csvRows = (file: string) => fileItems(file, csvParser(), "is not valid CSV")

export const reader = (source: SyncDefinition.FileSourceType, baseDir: string): SourceReader => {
  const file = path.resolve(baseDir, source.path)
  const format = formatOf(source)
  return {
    items: Stream.unwrap(Effect.map(format, (kind) => (kind === "csv" ? csvRows(file) : jsonlRows(file)))),
    count: Effect.flatMap(format, (kind) =>
      kind === "csv" ? Stream.runCount(csvRows(file)) : Stream.runCount(fileItems(file, LineReader.nonBlank(() => undefined), "cannot read"))
    ),
    columns: Effect.flatMap(format, (kind) =>
      kind === "jsonl"
        ? Effect.succeed(undefined)
        : Effect.map(Stream.runHead(fileItems(file, csvHeader(), "has no valid CSV header")), (header) =>
            Option.getOrElse(header, () => []).map((name): SourceColumn => ({ name, kind: "text" }))
          )
    )
  }
}
