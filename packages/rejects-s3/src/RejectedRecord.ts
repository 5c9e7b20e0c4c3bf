/**
 * A row Salesforce refused (or never processed), with everything needed to understand and
 * replay it: the row as sent, the raw `sf__Error` and its parsed parts, and where it came from.
 */
import * as Schema from "effect/Schema"

/** The stream a rejected record belongs to. */
export const StreamDescriptor = Schema.Struct({
  name: Schema.String,
  namespace: Schema.optional(Schema.String)
})
export type StreamDescriptor = typeof StreamDescriptor.Type

/** One rejected record. JSONL objects hold exactly this shape, one per line. */
export const RejectedRecord = Schema.Struct({
  /** The CSV row as sent to Salesforce: column → value. */
  row: Schema.Record({ key: Schema.String, value: Schema.String }),
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
