/**
 * Why a sync stopped. Records settled before the failure stay settled, and every
 * checkpoint released before it stands; nothing after it was acknowledged.
 */
import * as Schema from "effect/Schema"

export const PipelineErrorReason = Schema.Literal(
  /** A stream's mapping cannot work with the object (unknown field, not createable…). */
  "InvalidMapping",
  /** A record names a stream no plan covers. */
  "UnknownStream",
  /** Salesforce refused or failed a call that retries could not get through. */
  "SalesforceFailed",
  /** Rejected records could not be stored, so they cannot be acknowledged. */
  "RejectSinkFailed",
  /** A batch could not be built (temp files). */
  "BatchFailed",
  /** The run was asked to stop (`PipelineOptions.stop`): what was started ended, nothing new started. */
  "Stopped"
)
export type PipelineErrorReason = typeof PipelineErrorReason.Type

export class PipelineError extends Schema.TaggedError<PipelineError>()("PipelineError", {
  reason: PipelineErrorReason,
  detail: Schema.String,
  stream: Schema.optional(Schema.String),
  cause: Schema.optional(Schema.Unknown)
}) {
  override get message(): string {
    const where = this.stream === undefined ? "" : ` (stream ${this.stream})`
    return `${this.reason}${where}: ${this.detail}`
  }
}
