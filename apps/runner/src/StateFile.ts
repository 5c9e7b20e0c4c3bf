/**
 * The Airbyte state a source resumes from: released STATE messages, merged per stream (a
 * GLOBAL or LEGACY state replaces everything), written as the JSON array a connector's
 * `read --state` takes. Written atomically, so an interrupted run leaves the previous state.
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { StateLine } from "@sfdc-activation/airbyte-protocol"
import { mkdir, rename, writeFile } from "node:fs/promises"
import * as path from "node:path"

const StateMessage = Schema.Struct({
  type: Schema.Literal("STATE"),
  state: Schema.Record({ key: Schema.String, value: Schema.Unknown })
})
const decodeLine = Schema.decodeUnknownOption(Schema.parseJson(StateMessage))

const StreamState = Schema.Struct({
  type: Schema.Literal("STREAM"),
  stream: Schema.Struct({ stream_descriptor: Schema.Struct({ name: Schema.String, namespace: Schema.optional(Schema.NullOr(Schema.String)) }) })
})
const decodeStreamState = Schema.decodeUnknownOption(StreamState)

export class StateFileError extends Schema.TaggedError<StateFileError>()("StateFileError", { file: Schema.String, detail: Schema.String }) {
  override get message(): string {
    return `cannot write the state file ${this.file}: ${this.detail}`
  }
}

export const resolvePath = (baseDir: string, file: string): string => path.resolve(baseDir, file)

export interface StateFile {
  /** The states to resume from, after `line` was released. */
  readonly merge: (line: string) => ReadonlyArray<string>
  readonly write: (line: string, file: string) => Effect.Effect<void, StateFileError>
}

export const make = (): StateFile => {
  /** Each stream's latest state, as the exact text the source sent (numbers beyond 2^53 stay exact). */
  const byStream = new Map<string, string>()
  const merge = (line: string): ReadonlyArray<string> => {
    const decoded = decodeLine(line)
    const text = StateLine.stateText(line)
    if (decoded._tag === "None" || text === undefined) return [...byStream.values()]
    const stream = decodeStreamState(decoded.value.state)
    if (stream._tag === "Some") {
      const descriptor = stream.value.stream.stream_descriptor
      byStream.set(`${descriptor.namespace ?? ""}.${descriptor.name}`, text)
    } else {
      byStream.clear()
      byStream.set("", text)
    }
    return [...byStream.values()]
  }
  return {
    merge,
    write: (line, file) =>
      Effect.tryPromise({
        try: async () => {
          const states = merge(line)
          const temporary = `${file}.partial`
          await mkdir(path.dirname(file), { recursive: true })
          await writeFile(temporary, `[\n${states.map((state) => `  ${state}`).join(",\n")}\n]\n`)
          await rename(temporary, file)
        },
        catch: (cause) => new StateFileError({ file, detail: cause instanceof Error ? cause.message : String(cause) })
      })
  }
}
