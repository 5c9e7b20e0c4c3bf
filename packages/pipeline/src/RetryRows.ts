/**
 * Rows to send again in a follow-up job, each with the error it met.
 *
 * A job that ends Failed can leave most of a 100 MB batch unprocessed; held as row objects, that
 * is several times the batch in memory, per job in flight. Rows are held in memory while their
 * CSV stays under `memoryLimitBytes`, and sent grouped by parent reference (rows of one parent
 * then do not contend for its lock). Past the limit every row goes to a temp file as the
 * follow-up job's CSV, in the order Salesforce listed it, and is uploaded from there like a batch;
 * the errors go beside it, a run of rows with the same error (and Id) as one line. Memory stays flat.
 */
import { type BulkClient, PipedUpload, ResultRows } from "@sfdc-activation/bulk-client"
import { CsvValue } from "@sfdc-activation/batcher"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { createReadStream } from "node:fs"
import { type FileHandle, mkdtemp, open, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { createInterface } from "node:readline"
import { PipelineError } from "./PipelineError.js"

/** A row to send again, with the error (and the record's Id, when Salesforce named one) to report if it never gets through. */
export interface RetryRow {
  readonly row: Readonly<Record<string, string>>
  readonly sfError: string
  readonly sfId?: string | undefined
}

/** What a spooled row is reported with if it never gets through. */
type Failure = Pick<RetryRow, "sfError" | "sfId">

const sameFailure = (left: Failure, right: Failure) => left.sfError === right.sfError && left.sfId === right.sfId

/** A run's failure as its line holds it: the error, or the error and the Id. */
const failureText = (failure: Failure) => JSON.stringify(failure.sfId === undefined ? failure.sfError : [failure.sfError, failure.sfId])

const failureOf = (value: unknown): Failure | undefined => {
  if (typeof value === "string") return { sfError: value }
  if (Array.isArray(value) && value.length === 2 && typeof value[0] === "string" && typeof value[1] === "string") return { sfError: value[0], sfId: value[1] }
  return undefined
}

/** CSV bytes of held rows past which the rows go to a temp file. */
export const defaultMemoryLimitBytes = 4 * 1024 * 1024

/** A parent reference column: a relationship (`Account.External_Id__c`) or a lookup Id (`AccountId`). */
const isParentColumn = (column: string) => column.includes(".") || (column !== "Id" && column.endsWith("Id"))

/** A row's CSV line; never a blank line (one empty column is written `""`), which a reader would skip. */
const csvLine = (columns: ReadonlyArray<string>, row: Readonly<Record<string, string>>) => {
  const line = columns.map((column) => CsvValue.quote(row[column] ?? "")).join(",")
  return line === "" ? '""' : line
}

/** A CSV body for rows to send again, rows of one parent together. */
export const retryBody = (rows: ReadonlyArray<RetryRow>): { readonly text: string; readonly rows: ReadonlyArray<RetryRow> } => {
  const columns = Object.keys(rows[0]?.row ?? {})
  const parentColumns = columns.filter(isParentColumn)
  const parentKey = (row: RetryRow) => parentColumns.map((column) => row.row[column] ?? "").join("\u0000")
  const sorted = parentColumns.length === 0 ? rows : [...rows].sort((a, b) => parentKey(a).localeCompare(parentKey(b)))
  let text = `${columns.join(",")}\n`
  for (const { row } of sorted) text += `${csvLine(columns, row)}\n`
  return { text, rows: sorted }
}

const spoolFailed = (detail: string) => (cause: unknown) =>
  new PipelineError({ reason: "BatchFailed", detail: `${detail}: ${cause instanceof Error ? cause.message : String(cause)}`, cause })

/** Spooled text is written once this many characters are waiting. */
const writeChunkChars = 1024 * 1024

/** A temp file being written in chunks. */
class SpoolFile {
  private waiting = ""

  constructor(
    readonly path: string,
    private readonly handle: FileHandle
  ) {}

  static create(path: string): Effect.Effect<SpoolFile, PipelineError> {
    return Effect.map(
      Effect.tryPromise({ try: () => open(path, "wx"), catch: spoolFailed(`cannot create ${path}`) }),
      (handle) => new SpoolFile(path, handle)
    )
  }

  /** Adds text to write with the next flush. */
  push(text: string): void {
    this.waiting += text
  }

  /** Writes what waits once it is a chunk's worth. */
  flushIfFull(): Effect.Effect<void, PipelineError> {
    return this.waiting.length >= writeChunkChars ? this.flush() : Effect.void
  }

  flush(): Effect.Effect<void, PipelineError> {
    return Effect.suspend(() => {
      const text = this.waiting
      if (text === "") return Effect.void
      this.waiting = ""
      return Effect.tryPromise({ try: () => this.handle.writeFile(text, "utf8"), catch: spoolFailed(`cannot write ${this.path}`) })
    })
  }

  close(): Promise<void> {
    this.waiting = ""
    return this.handle.close().catch(() => undefined)
  }
}

/** The spool: the follow-up job's CSV, and each row's error as runs (`count JSON-string` per line). */
interface Spool {
  readonly directory: string
  readonly rows: SpoolFile
  readonly errors: SpoolFile
}

/** A file's bytes, a chunk at a time. */
async function* fileChunks(path: string): AsyncGenerator<Uint8Array> {
  for await (const chunk of createReadStream(path, { highWaterMark: writeChunkChars })) {
    if (chunk instanceof Uint8Array) yield chunk
  }
}

/** Errors handed on at once when read back. */
const errorsPerChunk = 4096

/** The failure of every spooled row, in order, from its run-length lines; a chunk at a time. */
async function* spooledErrors(path: string): AsyncGenerator<Chunk.Chunk<Failure>> {
  const input = createReadStream(path)
  try {
    for await (const line of createInterface({ input, crlfDelay: Infinity })) {
      const space = line.indexOf(" ")
      const count = Number(line.slice(0, space))
      const failure = space === -1 ? undefined : failureOf(JSON.parse(line.slice(space + 1)))
      if (failure === undefined || !Number.isInteger(count)) throw new Error(`${path}: not an error run: ${line.slice(0, 80)}`)
      for (let left = count; left > 0; left -= errorsPerChunk) yield Chunk.unsafeFromArray(new Array<Failure>(Math.min(left, errorsPerChunk)).fill(failure))
    }
  } finally {
    // readline leaves its input open when the reading stops early
    input.destroy()
  }
}

/** The rows to send again after one job. Made by `make`, which removes its temp files with the scope. */
export class RetryRows {
  private columns: ReadonlyArray<string> | undefined
  private held: Array<RetryRow> = []
  /** UTF-8 bytes of every row's CSV line (newline included), header excluded. */
  private rowBytes = 0
  private rowCount = 0
  private spool: Spool | undefined
  /** The failure of the rows spooled last, and how many in a row had it. */
  private runFailure: Failure = { sfError: "" }
  private runLength = 0

  constructor(
    private readonly memoryLimitBytes: number,
    private readonly tempDir: string | undefined
  ) {}

  /** Rows held so far. */
  get count(): number {
    return this.rowCount
  }

  /** Whether the rows went to a temp file. */
  get spooled(): boolean {
    return this.spool !== undefined
  }

  /** Adds rows; all rows of one job share its result columns (the first row's keys). */
  add(rows: ReadonlyArray<RetryRow>): Effect.Effect<void, PipelineError> {
    return Effect.suspend(() => {
      for (const retry of rows) {
        const columns = (this.columns ??= Object.keys(retry.row))
        const line = `${csvLine(columns, retry.row)}\n`
        this.rowBytes += Buffer.byteLength(line, "utf8")
        this.rowCount++
        if (this.spool === undefined) this.held.push(retry)
        else this.spoolRow(this.spool, line, retry)
      }
      const spool = this.spool
      if (spool === undefined) return this.rowBytes > this.memoryLimitBytes ? this.startSpool() : Effect.void
      return Effect.zipRight(spool.rows.flushIfFull(), spool.errors.flushIfFull())
    })
  }

  /** The follow-up job's body: header and rows, from memory or piped from the file each time it is sent. */
  body(): Effect.Effect<{ readonly content: BulkClient.UploadBody; readonly bytes: number; readonly rows: number }, PipelineError> {
    return Effect.gen(this, function* () {
      const spool = this.spool
      if (spool === undefined) {
        const { text, rows } = retryBody(this.held)
        this.held = [...rows]
        const bytes = new TextEncoder().encode(text)
        return { content: Stream.make(bytes), bytes: bytes.length, rows: rows.length }
      }
      yield* this.flush(spool)
      const header = Buffer.byteLength(`${(this.columns ?? []).join(",")}\n`, "utf8")
      const content = new PipedUpload.NodeStreamBody(Effect.sync(() => createReadStream(spool.rows.path, { highWaterMark: writeChunkChars })))
      return { content, bytes: header + this.rowBytes, rows: this.rowCount }
    })
  }

  /** Every row with its error, `size` at a time, in the order they are sent. */
  chunks(size: number): Stream.Stream<ReadonlyArray<RetryRow>, PipelineError> {
    const spool = this.spool
    if (spool === undefined) {
      const held = this.held
      return Stream.fromIterable(Array.from({ length: Math.ceil(held.length / size) }, (_, index) => held.slice(index * size, (index + 1) * size)))
    }
    const unreadable = spoolFailed("cannot read back the rows to send again")
    const rows = ResultRows.parse(
      Stream.fromAsyncIterable(fileChunks(spool.rows.path), unreadable),
      { onError: unreadable }
    )
    const errors = Stream.flattenChunks(Stream.fromAsyncIterable(spooledErrors(spool.errors.path), unreadable))
    return Stream.unwrap(
      Effect.as(
        this.flush(spool),
        Stream.zipWith(rows, errors, (row, failure): RetryRow => ({ row, ...failure })).pipe(
          Stream.grouped(size),
          Stream.map((chunk) => Array.from(chunk))
        )
      )
    )
  }

  /** Closes and removes the temp files, if any. */
  remove(): Effect.Effect<void> {
    return Effect.suspend(() => {
      const spool = this.spool
      this.spool = undefined
      if (spool === undefined) return Effect.void
      return Effect.ignore(
        Effect.tryPromise(async () => {
          await Promise.all([spool.rows.close(), spool.errors.close()])
          await rm(spool.directory, { recursive: true, force: true })
        })
      )
    })
  }

  private spoolRow(spool: Spool, line: string, failure: Failure): void {
    if (this.runLength > 0 && !sameFailure(failure, this.runFailure)) spool.errors.push(this.endRun())
    if (this.runLength === 0) this.runFailure = { sfError: failure.sfError, sfId: failure.sfId }
    this.runLength++
    spool.rows.push(line)
  }

  /** The current run of rows with one failure, as its line; the next row starts a new run. */
  private endRun(): string {
    const run = `${this.runLength} ${failureText(this.runFailure)}\n`
    this.runLength = 0
    return run
  }

  private flush(spool: Spool): Effect.Effect<void, PipelineError> {
    return Effect.suspend(() => {
      if (this.runLength > 0) spool.errors.push(this.endRun())
      return Effect.zipRight(spool.rows.flush(), spool.errors.flush())
    })
  }

  /**
   * Moves the held rows to new temp files; rows added later go straight to them. Not interrupted
   * between creating the directory and keeping it in `spool`, where `remove` finds it.
   */
  private startSpool(): Effect.Effect<void, PipelineError> {
    return Effect.uninterruptible(this.createSpool()).pipe(Effect.zipRight(Effect.suspend(() => this.spoolHeld())))
  }

  private createSpool(): Effect.Effect<void, PipelineError> {
    return Effect.gen(this, function* () {
      const directory = yield* Effect.tryPromise({
        try: () => mkdtemp(join(this.tempDir ?? tmpdir(), "sfdc-retry-")),
        catch: spoolFailed("cannot create a temp directory for rows to send again")
      })
      const removeDirectory = Effect.promise(() => rm(directory, { recursive: true, force: true }))
      const rows = yield* Effect.tapError(SpoolFile.create(join(directory, "rows.csv")), () => removeDirectory)
      const errors = yield* Effect.tapError(SpoolFile.create(join(directory, "errors.txt")), () =>
        Effect.zipRight(Effect.promise(() => rows.close()), removeDirectory)
      )
      this.spool = { directory, rows, errors }
    })
  }

  private spoolHeld(): Effect.Effect<void, PipelineError> {
    const spool = this.spool
    if (spool === undefined) return Effect.void
    const columns = this.columns ?? []
    spool.rows.push(`${columns.join(",")}\n`)
    for (const retry of this.held) this.spoolRow(spool, `${csvLine(columns, retry.row)}\n`, retry)
    this.held = []
    return this.flush(spool)
  }
}

/** An empty set of rows to send again, whose temp files (if it gets them) go with the scope. */
export const make = (options: { readonly memoryLimitBytes?: number | undefined; readonly tempDir?: string | undefined } = {}) =>
  Effect.acquireRelease(
    Effect.sync(() => new RetryRows(options.memoryLimitBytes ?? defaultMemoryLimitBytes, options.tempDir)),
    (rows) => rows.remove()
  )
