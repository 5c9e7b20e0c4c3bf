/**
 * Why a Bulk API, describe or limits call failed, in terms a caller acts on.
 */
import * as Schema from "effect/Schema"

export const BulkApiErrorReason = Schema.Literal(
  /** 5xx or `SERVER_UNAVAILABLE`: retried, then reported. */
  "ServerError",
  /** The request never got an answer (connection refused, reset, timed out). */
  "Network",
  /** HTTP 429: slow down and retry. */
  "Throttled",
  /** `REQUEST_LIMIT_EXCEEDED`: the org's daily API allowance is spent; retrying will not help today. */
  "RateLimited",
  /** The job is not in a state that allows this call (`INVALIDJOBSTATE`, a second upload). */
  "InvalidJobState",
  /** `NOT_FOUND`: no such job, object or resource. */
  "NotFound",
  /** `FEATURENOTENABLED`, such as hardDelete without the Bulk API Hard Delete permission. */
  "FeatureNotEnabled",
  /** `API_DISABLED_FOR_ORG` and other permission refusals (403). */
  "Forbidden",
  /** Any other 4xx: the request itself is wrong (`INVALIDJOB`, `INVALID_FIELD`…). */
  "InvalidRequest",
  /** An upload failed part way; its job was aborted and a new job must carry the rows. */
  "UploadFailed",
  /** Polling ran past its overall timeout, or the caller's poll schedule ended first; the job was left alone and may still finish. */
  "PollTimeout",
  /** The answer could not be decoded. */
  "UnexpectedResponse"
)
export type BulkApiErrorReason = typeof BulkApiErrorReason.Type

/** Bulk API calls by kind, as metered and as named in errors. */
export const CallKind = Schema.Literal(
  "create",
  "upload",
  "close",
  "abort",
  "info",
  "list",
  "delete",
  "results",
  "describe",
  "limits"
)
export type CallKind = typeof CallKind.Type

const transientReasons: ReadonlySet<BulkApiErrorReason> = new Set(["ServerError", "Network", "Throttled"])

export class BulkApiError extends Schema.TaggedError<BulkApiError>()("BulkApiError", {
  reason: BulkApiErrorReason,
  call: CallKind,
  detail: Schema.String,
  status: Schema.optional(Schema.Number),
  errorCode: Schema.optional(Schema.String),
  jobId: Schema.optional(Schema.String),
  /** For `RateLimited`: API requests used and allowed in the rolling 24 hours, when known. */
  apiUsage: Schema.optional(Schema.Struct({ used: Schema.Number, max: Schema.Number }))
}) {
  override get message(): string {
    const job = this.jobId === undefined ? "" : ` (job ${this.jobId})`
    const code = this.errorCode === undefined ? "" : ` ${this.errorCode}:`
    const usage =
      this.apiUsage === undefined ? "" : `; API requests used ${this.apiUsage.used} of ${this.apiUsage.max} in the last 24 hours`
    const resets =
      this.reason === "RateLimited"
        ? ". The org's daily limit is counted over a rolling 24 hours: it frees up as the calls of the past 24 hours age out, so run again later"
        : ""
    return `Salesforce ${this.call} call failed${job}: ${this.reason}:${code} ${this.detail}${usage}${resets}`
  }

  /** Whether retrying the same call may succeed. */
  get isTransient(): boolean {
    return transientReasons.has(this.reason)
  }
}
