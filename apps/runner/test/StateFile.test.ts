import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import * as StateFile from "../src/StateFile.js"

const scratch = mkdtempSync(path.join(tmpdir(), "runner-state-"))

const streamState = (descriptor: { readonly name: string; readonly namespace?: string }, cursor: string) =>
  `{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":${JSON.stringify(descriptor)},"stream_state":{"cursor":${cursor}}}}}`

describe("StateFile", () => {
  it("keeps streams apart whose namespace and name only join to the same text", () => {
    const states = StateFile.make()
    states.merge(streamState({ namespace: "a.b", name: "c" }, "1"))
    expect(states.merge(streamState({ namespace: "a", name: "b.c" }, "2"))).toHaveLength(2)
    expect(StateFile.streamKey({ namespace: "a", name: "b" })).not.toBe(StateFile.streamKey({ name: "a.b" }))
  })

  it.effect("merges into the states the file already holds, exact numbers and all, and leaves the file format as it was", () =>
    Effect.gen(function* () {
      const file = path.join(scratch, "merge.json")
      writeFileSync(
        file,
        `[\n  {"type":"STREAM","stream":{"stream_descriptor":{"name":"users"},"stream_state":{"cursor":1}}},\n  {"type":"STREAM","stream":{"stream_descriptor":{"name":"orders","namespace":"shop"},"stream_state":{"cursor":12345678901234567890}}}\n]\n`
      )
      yield* StateFile.make().write(streamState({ name: "users" }, "2"), file)
      expect(readFileSync(file, "utf8")).toBe(
        `[\n  {"type":"STREAM","stream":{"stream_descriptor":{"name":"users"},"stream_state":{"cursor":2}}},\n  {"type":"STREAM","stream":{"stream_descriptor":{"name":"orders","namespace":"shop"},"stream_state":{"cursor":12345678901234567890}}}\n]\n`
      )
    })
  )

  it.effect("a global state in the file is replaced by a global state, and kept beside a stream's", () =>
    Effect.gen(function* () {
      const file = path.join(scratch, "global.json")
      writeFileSync(file, `[{"type":"GLOBAL","global":{"shared_state":{"lsn":1},"stream_states":[]}}]`)
      yield* StateFile.make().write(streamState({ name: "users" }, "2"), file)
      expect(readFileSync(file, "utf8")).toBe(
        `[\n  {"type":"GLOBAL","global":{"shared_state":{"lsn":1},"stream_states":[]}},\n  {"type":"STREAM","stream":{"stream_descriptor":{"name":"users"},"stream_state":{"cursor":2}}}\n]\n`
      )
      yield* StateFile.make().write(`{"type":"STATE","state":{"type":"GLOBAL","global":{"shared_state":{"lsn":2},"stream_states":[]}}}`, file)
      expect(readFileSync(file, "utf8")).toBe(`[\n  {"type":"GLOBAL","global":{"shared_state":{"lsn":2},"stream_states":[]}}\n]\n`)
    })
  )

  it.effect("refuses a malformed state file, naming it, and leaves it as it was", () =>
    Effect.gen(function* () {
      for (const [name, text] of [["broken.json", "[{not json"], ["object.json", `{"type":"STREAM"}`], ["numbers.json", "[1, 2]"]]) {
        const file = path.join(scratch, name ?? "")
        writeFileSync(file, text ?? "")
        const error = yield* Effect.flip(StateFile.make().write(streamState({ name: "users" }, "2"), file))
        expect(error.message).toMatch(new RegExp(`^cannot read the state file ${file.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}: `))
        expect(readFileSync(file, "utf8")).toBe(text)
      }
    })
  )
})
