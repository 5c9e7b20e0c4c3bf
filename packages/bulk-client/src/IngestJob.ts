/**
 * Bulk API 2.0 ingest jobs: what is sent to create one, and the JobInfo Salesforce returns.
 */
import * as Schema from "effect/Schema"

export const Operation = Schema.Literal("insert", "update", "upsert", "delete", "hardDelete")
export type Operation = typeof Operation.Type

export const JobState = Schema.Literal("Open", "UploadComplete", "InProgress", "JobComplete", "Failed", "Aborted")
export type JobState = typeof JobState.Type

/** States after which a job changes no more. */
export const isTerminal = (state: JobState): boolean => state === "JobComplete" || state === "Failed" || state === "Aborted"

export interface CreateJob {
  readonly object: string
  readonly operation: Operation
  /** Required for upsert: an external id field of the object, or `Id`. */
  readonly externalIdFieldName?: string | undefined
  readonly lineEnding?: "LF" | "CRLF" | undefined
  readonly columnDelimiter?: "COMMA" | "TAB" | "SEMICOLON" | "PIPE" | "CARET" | "BACKQUOTE" | undefined
  readonly assignmentRuleId?: string | undefined
}

const optionalNumber = Schema.optional(Schema.NullOr(Schema.Number))
const optionalString = Schema.optional(Schema.NullOr(Schema.String))

export const JobInfo = Schema.Struct({
  id: Schema.String,
  operation: Operation,
  object: Schema.String,
  state: JobState,
  createdById: optionalString,
  createdDate: optionalString,
  systemModstamp: optionalString,
  externalIdFieldName: optionalString,
  concurrencyMode: optionalString,
  contentType: optionalString,
  apiVersion: optionalNumber,
  jobType: optionalString,
  contentUrl: optionalString,
  lineEnding: optionalString,
  columnDelimiter: optionalString,
  numberRecordsProcessed: optionalNumber,
  numberRecordsFailed: optionalNumber,
  retries: optionalNumber,
  totalProcessingTime: optionalNumber,
  apiActiveProcessingTime: optionalNumber,
  apexProcessingTime: optionalNumber,
  errorMessage: optionalString
})
export type JobInfo = typeof JobInfo.Type

export const JobList = Schema.Struct({
  done: Schema.Boolean,
  records: Schema.Array(JobInfo),
  nextRecordsUrl: Schema.optional(Schema.NullOr(Schema.String))
})

/** The three result sets of a finished job. */
export const ResultSet = Schema.Literal("successfulResults", "failedResults", "unprocessedrecords")
export type ResultSet = typeof ResultSet.Type
