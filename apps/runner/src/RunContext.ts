/**
 * What every command runs with: where it writes, the environment, the directory relative
 * paths resolve against, standard input, the secret scrubber, the progress display and the
 * request to stop.
 */
import type * as Effect from "effect/Effect"
import type * as Stream from "effect/Stream"
import type { Output, Progress } from "./Progress.js"
import type { Redactor } from "./Redactor.js"
import type { SourceError } from "./Sources/Source.js"
import type { Environment } from "./SyncFiles.js"

export interface RunContext {
  readonly output: Output
  readonly env: Environment
  readonly baseDir: string
  readonly stdin: Stream.Stream<Uint8Array, SourceError>
  readonly redactor: Redactor
  readonly progress: Progress
  /**
   * Completes when the process is asked to stop (a first SIGINT / SIGTERM): the sync running
   * sends nothing new and awaits its jobs already in Salesforce; the syncs after it are skipped.
   */
  readonly stop: Effect.Effect<void>
}

/** A run id that sorts by time and is safe in paths: `run-20240601-120000-ab12`. */
export const runId = (prefix: string, now: Date, suffix: string): string => {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15)
  return `${prefix}-${stamp}-${suffix}`
}
