/**
 * A sync definition the runner cannot use. It names the file and, when it can, the line and
 * column, and says what was expected. Exit code 2.
 */
import * as Data from "effect/Data"

export class ConfigError extends Data.TaggedError("ConfigError")<{
  readonly file?: string | undefined
  readonly line?: number | undefined
  readonly column?: number | undefined
  readonly detail: string
}> {
  override get message(): string {
    const where =
      this.file === undefined ? "" : `${this.file}${this.line === undefined ? "" : `:${this.line}:${this.column ?? 1}`}: `
    return `${where}${this.detail}`
  }
}
