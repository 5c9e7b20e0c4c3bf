/**
 * A row Salesforce refused (or never processed, or that was refused before sending), with
 * everything needed to understand and replay it: the row (as sent, or the source row), the raw
 * `sf__Error` and its parsed parts, and where it came from.
 */
import * as Schema from "effect/Schema"

/** The stream a rejected record belongs to. */
export const StreamDescriptor = Schema.Struct({
  name: Schema.String,
  namespace: Schema.optional(Schema.String)
})
export type StreamDescriptor = typeof StreamDescriptor.Type

/**
 * What a record's `row` holds: `sent`, the CSV row as sent to Salesforce (field columns, `#N/A`
 * for a cleared field), to send again as it is; `source`, the source record by source column,
 * to map again.
 */
export const RowForm = Schema.Literal("sent", "source")
export type RowForm = typeof RowForm.Type

/** One rejected record. JSONL objects hold exactly this shape, one per line. */
export const RejectedRecord = Schema.Struct({
  /** The row as text, column → value, in the form `rowFormOf` tells. */
  row: Schema.Record({ key: Schema.String, value: Schema.String }),
  /** Absent in records of earlier versions: see `rowFormOf`. */
  rowForm: Schema.optional(RowForm),
  /**
   * A source row's values, when one of them is not a string or null (numbers, booleans, arrays,
   * objects): `row` holds them as text for people to read, which replay could not tell from
   * strings; these are what replay maps. Stored as JSON (a `Date` as its ISO text, a bigint as its
   * decimal text), so they read back as JSON values.
   */
  sourceValues: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.Unknown })),
  sfId: Schema.optional(Schema.String),
  /** The raw `sf__Error` value. */
  sfError: Schema.String,
  statusCode: Schema.String,
  message: Schema.String,
  fields: Schema.Array(Schema.String),
  /** Absent for records rejected before reaching Salesforce (local validation). */
  jobId: Schema.optional(Schema.String),
  object: Schema.String,
  operation: Schema.String,
  stream: StreamDescriptor,
  syncId: Schema.optional(Schema.String),
  /** ISO-8601 instant. */
  rejectedAt: Schema.String
})
export type RejectedRecord = typeof RejectedRecord.Type

/**
 * The form of a record's row. Records of earlier versions do not say: those with a job id
 * were sent, the others (refused before sending) hold the source row.
 */
export const rowFormOf = (record: RejectedRecord): RowForm =>
  record.rowForm ?? (record.jobId === undefined || record.jobId === "" ? "source" : "sent")

/** The parts of a Salesforce `sf__Error`. */
export interface SfError {
  readonly statusCode: string
  readonly message: string
  readonly fields: ReadonlyArray<string>
}

const statusCodePattern = /^([A-Z][A-Z0-9_]*):/
const trailerPattern = /\s*--\s*$/

/**
 * Parses Salesforce's `STATUS_CODE:message:field1,field2 --` error format. The message may
 * itself hold colons, so the status code is taken from the start and, when the ` --` trailer
 * is there, the field list is what follows the last colon. Without a status code the whole
 * text is the message and the status code is `UNKNOWN`.
 */
export const parseSfError = (raw: string): SfError => {
  const trimmed = raw.trim()
  const hasTrailer = trailerPattern.test(trimmed)
  const body = trimmed.replace(trailerPattern, "")
  const status = statusCodePattern.exec(body)
  if (status === null) return { statusCode: "UNKNOWN", message: body, fields: [] }
  const statusCode = status[1] ?? "UNKNOWN"
  const rest = body.slice(status[0].length)
  const lastColon = rest.lastIndexOf(":")
  if (!hasTrailer || lastColon === -1) return { statusCode, message: rest.trim(), fields: [] }
  return {
    statusCode,
    message: rest.slice(0, lastColon).trim(),
    fields: rest
      .slice(lastColon + 1)
      .split(",")
      .map((field) => field.trim())
      .filter((field) => field !== "")
  }
}
