/**
 * Runs a closed ingest job over its uploaded CSV, one internal 10,000-row batch per step, so the
 * asynchronous face can yield between batches and report progress while InProgress.
 */
import * as Csv from "./Csv.js"
import { type IngestJob, rowsPerBatch } from "./IngestJob.js"
import * as RowProcessor from "./RowProcessor.js"

const noContent = Buffer.alloc(0)

/** Usage counters a run feeds. */
export interface Meter {
  batches: number
  recordsIngested: number
  rowsProcessed: number
  rowsFailed: number
}

export class JobRunner {
  private readonly reader: Csv.Reader
  private processor: RowProcessor.BatchProcessor | undefined
  /** Set when the whole job fails: the job's `errorMessage`. */
  private failure: string | undefined
  private exhausted = false

  constructor(
    private readonly job: IngestJob,
    context: RowProcessor.Context,
    private readonly meter: Meter,
    /** Rows attempted before the job ends Failed (fault injection); the rest stay unprocessed. */
    private readonly failAfterRows: number | undefined
  ) {
    this.reader = new Csv.Reader(job.content ?? noContent, job.spec.columnDelimiter, job.spec.lineEnding)
    job.idPrefix = context.store.sobject.keyPrefix
    const header = this.reader.next()
    if (header === undefined) {
      this.failure = "InvalidBatch : The uploaded CSV has no header"
      this.exhausted = true
      return
    }
    job.headerEnd = header.end
    if (this.reader.lineEndingInvalid) {
      this.failure = this.lineEndingFailure()
      return
    }
    const plan = RowProcessor.compile(header.values, this.reader.text(header.start, header.end), job, context)
    if (typeof plan === "string") {
      this.failure = plan
      return
    }
    this.processor = new RowProcessor.BatchProcessor(plan, job, context)
    if (job.spec.operation !== "insert") this.scanPending = true
    if (this.processor.cellPlan !== undefined) {
      const stride = plan.columnCount + 1
      const encoding = this.reader.ascii ? "latin1" : "utf8"
      this.cells = { bytes: this.reader.bytes, encoding, bounds: new Int32Array(rowsPerBatch * stride), stride }
    }
  }

  /** Where a batch's rows are read as cells, when the processor inserts from cells. */
  private cells: RowProcessor.CellRows | undefined

  /** Update, upsert and delete read the whole job once for repeated keys before the first batch. */
  private scanPending = false

  private lineEndingFailure(): string {
    return `ClientInputError : LineEnding is invalid on user data. Current LineEnding setting is ${this.job.spec.lineEnding}`
  }

  /** The first pass of a keyed job: repeated keys, and any row ending unlike `lineEnding`. */
  private scan(): void {
    this.scanPending = false
    const reader = new Csv.Reader(this.job.content ?? noContent, this.job.spec.columnDelimiter, this.job.spec.lineEnding)
    reader.next()
    this.processor?.scanKeys(reader)
    if (reader.lineEndingInvalid) this.failure = this.lineEndingFailure()
  }

  /** Processes the next batch; `true` when the job has no rows left. */
  step(now: Date): boolean {
    if (this.exhausted) return true
    const started = performance.now()
    if (this.scanPending) {
      this.scan()
      this.job.totalProcessingTimeMs += performance.now() - started
      return false
    }
    const indexes: Array<number> = []
    const rows: Array<ReadonlyArray<string> | undefined> = []
    const stopAt = this.failure === undefined && this.failAfterRows !== undefined ? this.failAfterRows : Infinity
    const cells = this.cells
    for (let count = 0; count < rowsPerBatch; count++) {
      const values = cells === undefined ? (this.reader.nextValues() ?? null) : this.nextCells(cells, rows.length)
      if (values === null) {
        this.exhausted = true
        break
      }
      const index = this.job.addRow(this.reader.rowStart, this.reader.rowEnd)
      if (this.processor !== undefined && this.failure === undefined && index < stopAt) {
        indexes.push(index)
        rows.push(values)
      }
      else if (index >= stopAt && this.failure === undefined) this.failure = `InternalServerError : the job failed after ${stopAt} rows (fault injection)`
    }
    // Insert has no first pass: a batch holding a row that ends unlike `lineEnding` is not run
    // and fails the job (rows of earlier batches stay written).
    const badLineEnding = this.failure === undefined && this.reader.lineEndingInvalid
    if (badLineEnding) this.failure = this.lineEndingFailure()
    if (rows.length > 0 && this.processor !== undefined && !badLineEnding) {
      const failedBefore = this.job.failed
      this.processor.run(indexes, rows, now, cells)
      this.meter.batches++
      this.meter.recordsIngested += rows.length
      this.meter.rowsProcessed += rows.length
      this.meter.rowsFailed += this.job.failed - failedBefore
    }
    this.job.totalProcessingTimeMs += performance.now() - started
    return this.exhausted
  }

  /**
   * Reads the next row as cells into row slot `slot` of `cells`: `undefined` when it was (a row of
   * the header's width with no quote), its values when not, `null` at the end of the upload.
   */
  private nextCells(cells: RowProcessor.CellRows, slot: number): ReadonlyArray<string> | undefined | null {
    const count = this.reader.nextCells(cells.bounds, slot * cells.stride, cells.stride - 1)
    if (count === -1) return null
    if (count === 0) return this.reader.heldValues
    return count === cells.stride - 1 ? undefined : this.reader.text(this.reader.rowStart, this.reader.rowEnd).split(this.reader.delimiter)
  }

  /** Runs every remaining batch. */
  runAll(now: Date): void {
    while (!this.step(now)) {
      // one batch per iteration
    }
  }

  /** Ends the job: Failed with its error message, or JobComplete. */
  finish(now: Date): void {
    this.job.state = this.failure === undefined ? "JobComplete" : "Failed"
    if (this.failure !== undefined) this.job.errorMessage = this.failure
    this.job.systemModstamp = now
  }
}

/** Records every row's span of an unprocessed job (after Abort), so unprocessedrecords can list them. */
export const scanRows = (job: IngestJob): void => {
  if (job.content === undefined || job.rowCount > 0) return
  const reader = new Csv.Reader(job.content, job.spec.columnDelimiter)
  const header = reader.next()
  if (header === undefined) return
  job.headerEnd = header.end
  for (let row = reader.next(); row !== undefined; row = reader.next()) job.addRow(row.start, row.end)
}
