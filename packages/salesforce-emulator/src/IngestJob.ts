/**
 * One Bulk API 2.0 ingest job: its JobInfo, its uploaded CSV and compact per-row outcomes. Result
 * CSVs are rendered on request from the original row text, in an order that is not the input's
 * (batches in swapped pairs, rows of a batch in reverse), as Salesforce's parallel batches give.
 */
import * as Csv from "./Csv.js"
import * as SalesforceId from "./SalesforceId.js"

export type Operation = "insert" | "update" | "upsert" | "delete" | "hardDelete"
export type JobState = "Open" | "UploadComplete" | "InProgress" | "JobComplete" | "Failed" | "Aborted"

/** Rows per internal batch: Salesforce splits a job into batches of 10,000 records. */
export const rowsPerBatch = 10_000

/** What happened to one row. */
export const Outcome = {
  unprocessed: 0,
  created: 1,
  updated: 2,
  failed: 3
} as const

const initialRowCapacity = 1024

export interface JobSpec {
  readonly id: string
  readonly object: string
  readonly operation: Operation
  readonly externalIdFieldName: string | undefined
  readonly lineEnding: "LF" | "CRLF"
  readonly columnDelimiter: string
  readonly apiVersion: string
  readonly createdById: string
  readonly assignmentRuleId: string | undefined
}

/** Salesforce's timestamp format: `2024-06-01T10:00:00.000+0000`. */
export const salesforceTimestamp = (date: Date): string => date.toISOString().replace("Z", "+0000")

/** Bytes a result buffer grows by when its first guess falls short. */
const resultChunkBytes = 16 * 1024 * 1024

/**
 * A result CSV written as bytes: its text encoded as it is written, each row's original columns
 * copied from the upload as they came. The first buffer is sized from an estimate of the whole
 * (pages never written are never touched); past it, further buffers are joined at the end.
 */
export class ResultBuffer {
  private readonly full: Array<Buffer> = []
  private current: Buffer
  private used = 0

  constructor(estimatedBytes: number) {
    this.current = Buffer.allocUnsafe(Math.max(1024, estimatedBytes))
  }

  private reserve(bytes: number): void {
    if (this.used + bytes <= this.current.length) return
    this.full.push(this.current.subarray(0, this.used))
    this.current = Buffer.allocUnsafe(Math.max(resultChunkBytes, bytes))
    this.used = 0
  }

  text(value: string): void {
    this.reserve(Buffer.byteLength(value))
    this.used += this.current.write(value, this.used)
  }

  copy(source: Buffer, start: number, end: number): void {
    this.reserve(end - start)
    this.used += source.copy(this.current, this.used, start, end)
  }

  finish(): Buffer {
    const last = this.current.subarray(0, this.used)
    return this.full.length === 0 ? last : Buffer.concat([...this.full, last])
  }
}

/** Bytes a result row adds to its original columns at most, besides its Id and error: quotes, delimiters, `"false"`, CRLF. */
const resultRowOverhead = 16

export class IngestJob {
  state: JobState = "Open"
  readonly createdDate: Date
  systemModstamp: Date
  errorMessage: string | undefined
  /** The uploaded CSV as it came (bytes), kept to echo original columns into results. */
  content: Buffer | undefined
  headerEnd = 0
  rowCount = 0
  processed = 0
  failed = 0
  totalProcessingTimeMs = 0
  /** Row byte spans in `content`: start at 2i, end at 2i+1. */
  spans = new Uint32Array(initialRowCapacity * 2)
  outcomes = new Uint8Array(initialRowCapacity)
  /** Each row's record: its Id, or the sequence number of an Id made with `idPrefix` (no string per inserted row). */
  ids: Array<string | number | undefined> = []
  /** The key prefix of the job's object, which sequence numbers in `ids` are spelt with. */
  idPrefix = ""
  readonly errors = new Map<number, string>()
  /** Cancels the job's pending step or state change (a timer, or an immediate between batches). */
  cancelPending: (() => void) | undefined

  /** Cancels what is pending for the job, if anything. */
  cancel(): void {
    this.cancelPending?.()
    this.cancelPending = undefined
  }

  constructor(
    readonly spec: JobSpec,
    now: Date
  ) {
    this.createdDate = now
    this.systemModstamp = now
  }

  /** Records a row's text span; returns its index. */
  addRow(start: number, end: number): number {
    const index = this.rowCount++
    if (index >= this.outcomes.length) {
      const spans = new Uint32Array(this.spans.length * 2)
      spans.set(this.spans)
      this.spans = spans
      const outcomes = new Uint8Array(this.outcomes.length * 2)
      outcomes.set(this.outcomes)
      this.outcomes = outcomes
    }
    this.spans[index * 2] = start
    this.spans[index * 2 + 1] = end
    return index
  }

  succeed(row: number, id: string | number, created: boolean): void {
    this.outcomes[row] = created ? Outcome.created : Outcome.updated
    this.ids[row] = id
    this.processed++
  }

  fail(row: number, error: string, id?: string): void {
    this.outcomes[row] = Outcome.failed
    if (id !== undefined) this.ids[row] = id
    this.errors.set(row, error)
    this.processed++
    this.failed++
  }

  get isTerminal(): boolean {
    return this.state === "JobComplete" || this.state === "Failed" || this.state === "Aborted"
  }

  private get lineEnding(): string {
    return this.spec.lineEnding === "CRLF" ? "\r\n" : "\n"
  }

  /** The text of `content` from byte `start` to `end`. */
  text(start: number, end: number): string {
    return this.content === undefined ? "" : this.content.toString("utf8", start, end)
  }

  /** Row indexes in result order: batches in swapped pairs, each batch's rows reversed. */
  private *resultOrder(): Generator<number> {
    const batches = Math.ceil(this.rowCount / rowsPerBatch)
    for (let pair = 0; pair < batches; pair += 2) {
      const order = pair + 1 < batches ? [pair + 1, pair] : [pair]
      for (const batch of order) {
        const first = batch * rowsPerBatch
        const last = Math.min(this.rowCount, first + rowsPerBatch) - 1
        for (let row = last; row >= first; row--) yield row
      }
    }
  }

  /** The Id of a row's record, or "" when it has none. */
  idText(row: number): string {
    const id = this.ids[row]
    return id === undefined ? "" : typeof id === "number" ? SalesforceId.make(this.idPrefix, id) : id
  }

  /** A row as it was uploaded (line terminator excluded). */
  rowText(row: number): string {
    return this.text(this.spans[row * 2] ?? 0, this.spans[row * 2 + 1] ?? 0)
  }

  /** The header line's columns as uploaded (line terminator excluded). */
  private get headerSpan(): readonly [number, number] {
    let end = this.headerEnd
    if (end > 0 && this.content?.[end - 1] === 13) end--
    return [0, end]
  }

  /**
   * A result CSV: `head` before the upload's header columns, then for each row in result order
   * that `include` keeps, `prefix(row)` before its original columns. Its first buffer is sized for
   * `rows` rows of the upload's average length plus `extraBytes`.
   */
  private render(head: string, include: (row: number) => boolean, prefix: (row: number) => string, rows: number, extraBytes: number): Buffer {
    const content = this.content ?? Buffer.alloc(0)
    const eol = this.lineEnding
    const share = this.rowCount === 0 ? 0 : Math.min(1, rows / this.rowCount)
    const out = new ResultBuffer(Math.ceil(content.length * share) + rows * (resultRowOverhead + 18) + extraBytes)
    const [headerStart, headerEnd] = this.headerSpan
    out.text(head)
    out.copy(content, headerStart, headerEnd)
    out.text(eol)
    for (const row of this.resultOrder()) {
      if (!include(row)) continue
      out.text(prefix(row))
      out.copy(content, this.spans[row * 2] ?? 0, this.spans[row * 2 + 1] ?? 0)
      out.text(eol)
    }
    return out.finish()
  }

  /** `"sf__Id","sf__Created",<original columns>` for every successful row. */
  successfulResults(): Buffer {
    const delimiter = this.spec.columnDelimiter
    return this.render(
      `"sf__Id"${delimiter}"sf__Created"${delimiter}`,
      (row) => this.outcomes[row] === Outcome.created || this.outcomes[row] === Outcome.updated,
      (row) => `"${this.idText(row)}"${delimiter}"${this.outcomes[row] === Outcome.created ? "true" : "false"}"${delimiter}`,
      this.processed - this.failed,
      0
    )
  }

  /** `"sf__Id","sf__Error",<original columns>` for every failed row. */
  failedResults(): Buffer {
    const delimiter = this.spec.columnDelimiter
    let errorBytes = 0
    for (const error of this.errors.values()) errorBytes += error.length * 3 + 2
    return this.render(
      `"sf__Id"${delimiter}"sf__Error"${delimiter}`,
      (row) => this.outcomes[row] === Outcome.failed,
      (row) => `"${this.idText(row)}"${delimiter}${Csv.quoted(this.errors.get(row) ?? "")}${delimiter}`,
      this.failed,
      errorBytes
    )
  }

  /** `<original columns>` for every row never attempted (after Failed or Aborted). */
  unprocessedRecords(): Buffer {
    if (this.content === undefined) return Buffer.alloc(0)
    return this.render("", (row) => this.outcomes[row] === Outcome.unprocessed, () => "", this.rowCount - this.processed, 0)
  }

  /** The JobInfo body of create / close / abort. */
  summary(): Record<string, unknown> {
    return {
      id: this.spec.id,
      operation: this.spec.operation,
      object: this.spec.object,
      createdById: this.spec.createdById,
      createdDate: salesforceTimestamp(this.createdDate),
      systemModstamp: salesforceTimestamp(this.systemModstamp),
      state: this.state,
      ...(this.spec.operation === "upsert" ? { externalIdFieldName: this.spec.externalIdFieldName } : {}),
      ...(this.spec.assignmentRuleId !== undefined ? { assignmentRuleId: this.spec.assignmentRuleId } : {}),
      concurrencyMode: "Parallel",
      contentType: "CSV",
      apiVersion: Number(this.spec.apiVersion),
      contentUrl: `services/data/v${this.spec.apiVersion}/jobs/ingest/${this.spec.id}/batches`,
      lineEnding: this.spec.lineEnding,
      columnDelimiter: columnDelimiterName(this.spec.columnDelimiter)
    }
  }

  /** The full JobInfo of `GET /jobs/ingest/{id}`. */
  info(): Record<string, unknown> {
    return {
      ...this.summary(),
      jobType: "V2Ingest",
      retries: 0,
      numberRecordsProcessed: this.processed,
      numberRecordsFailed: this.failed,
      totalProcessingTime: Math.round(this.totalProcessingTimeMs),
      apiActiveProcessingTime: Math.round(this.totalProcessingTimeMs),
      apexProcessingTime: 0,
      ...(this.errorMessage !== undefined ? { errorMessage: this.errorMessage } : {})
    }
  }

  /** One entry of `GET /jobs/ingest`. */
  listEntry(): Record<string, unknown> {
    const { contentUrl: _contentUrl, ...rest } = this.summary()
    return { ...rest, jobType: "V2Ingest" }
  }

  /** Frees the per-row arrays of rows never uploaded. */
  release(): void {
    this.content = undefined
    this.spans = new Uint32Array(0)
    this.outcomes = new Uint8Array(0)
    this.ids = []
    this.errors.clear()
  }
}

const columnDelimiterName = (delimiter: string): string =>
  Object.entries(Csv.delimiters).find(([, value]) => value === delimiter)?.[0] ?? "COMMA"
