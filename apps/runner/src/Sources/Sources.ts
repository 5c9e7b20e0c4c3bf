/**
 * The reader for a sync's `source`.
 */
import type * as Stream from "effect/Stream"
import type * as SyncDefinition from "../SyncDefinition.js"
import * as AirbyteSource from "./AirbyteSource.js"
import * as DuckDbSource from "./DuckDbSource.js"
import * as FileSource from "./FileSource.js"
import * as PostgresSource from "./PostgresSource.js"
import type { SourceError, SourceReader } from "./Source.js"

export interface SourceContext {
  /** Relative paths in a definition resolve against this directory (the repository root). */
  readonly baseDir: string
  readonly stdin: Stream.Stream<Uint8Array, SourceError>
}

export const reader = (source: SyncDefinition.Source, context: SourceContext): SourceReader => {
  switch (source.type) {
    case "duckdb":
      return DuckDbSource.reader(source, context.baseDir)
    case "postgres":
      return PostgresSource.reader(source)
    case "file":
      return FileSource.reader(source, context.baseDir)
    case "airbyte":
      return AirbyteSource.reader(source, context.baseDir, context.stdin)
  }
}
