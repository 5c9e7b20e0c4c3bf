/**
 * The port the sink and the reader use: an object store that takes objects part by part and
 * lists and streams them back. Adapters: `S3Store` and `LocalStore`.
 */
import type * as Effect from "effect/Effect"
import type * as Stream from "effect/Stream"
import type { RejectSinkError } from "./RejectSinkError.js"

/** One object being written. Not safe for concurrent use; the sink serialises calls. */
export interface ObjectUpload {
  readonly key: string
  /** Stores the next part (S3: every part but the last must hold at least `minPartBytes`). */
  readonly uploadPart: (bytes: Uint8Array) => Effect.Effect<void, RejectSinkError>
  /** Stores the last bytes and makes the whole object durable and readable; fails rather than overwrite another object. */
  readonly complete: (lastBytes: Uint8Array) => Effect.Effect<void, RejectSinkError>
  /** Discards what was stored so far (best effort, never fails). */
  readonly abort: Effect.Effect<void>
}

export interface ObjectStore {
  /** Smallest size of a part that is not the last one. */
  readonly minPartBytes: number
  /**
   * Whether an object (or, locally, one being written) is under the key; false when that cannot
   * be told (no read permission). A sink skips such keys; `complete` never overwrites one either.
   */
  readonly exists: (key: string) => Effect.Effect<boolean>
  /**
   * Starts an object; nothing is stored until the first part or `complete`. `replace`: an object
   * meant to be rewritten (a replay mark) replaces the one under its key.
   */
  readonly begin: (key: string, options?: { readonly replace?: boolean }) => ObjectUpload
  /** Keys under a prefix, in lexicographic order. */
  readonly list: (prefix: string) => Stream.Stream<string, RejectSinkError>
  /** The bytes of one object, streamed. */
  readonly read: (key: string) => Stream.Stream<Uint8Array, RejectSinkError>
  readonly remove: (key: string) => Effect.Effect<void, RejectSinkError>
}
