/** The one error of this package: why storing or reading rejected records failed. */
import * as Data from "effect/Data"

/**
 * - `Unavailable`: storage could not be reached or kept failing (5xx, throttling, network,
 *   timeouts) after the retries; the records are not stored and must not be acknowledged.
 * - `AccessDenied`: credentials refused (403, bad key, expired token).
 * - `BucketNotFound`: the bucket does not exist.
 * - `Config`: the configuration cannot work (bad layout template, bad directory).
 * - `Rejected`: storage refused the request for another reason (a 4xx).
 * - `Io`: a local file-system error.
 * - `Corrupt`: a stored object could not be decoded (reader).
 * - `Failed`: the sink failed earlier and refuses further work (see `RejectSink`).
 */
export type Reason =
  | "Unavailable"
  | "AccessDenied"
  | "BucketNotFound"
  | "Config"
  | "Rejected"
  | "Io"
  | "Corrupt"
  | "Failed"

/** Messages never hold credentials; `cause` is the underlying error for debugging. */
export class RejectSinkError extends Data.TaggedError("RejectSinkError")<{
  readonly reason: Reason
  readonly message: string
  /** The object key or file the operation was about, when there is one. */
  readonly key?: string
  readonly cause?: unknown
}> {
  /** Whether retrying the same call later may succeed. */
  get isTransient(): boolean {
    return this.reason === "Unavailable"
  }
}
