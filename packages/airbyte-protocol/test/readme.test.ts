import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import * as path from "node:path"
import { readmeSnippet } from "../../../configs/readme-snippet.mjs"
import { echoStates } from "../examples/usage.js"

describe("README", () => {
  it("shows the typechecked example", () => {
    const { snippet, example } = readmeSnippet(path.join(import.meta.dirname, ".."))
    expect(snippet).toBe(example)
  })

  it.effect("the example echoes states with their record counts", () =>
    Effect.gen(function* () {
      const written: Array<string> = []
      const input = [
        '{"type":"RECORD","record":{"stream":"s","data":{},"emitted_at":1}}',
        '{"type":"RECORD","record":{"stream":"s","data":{},"emitted_at":2}}',
        '{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"s"}}}}'
      ].join("\n")
      yield* echoStates(Stream.make(new TextEncoder().encode(input)), {
        write: (text, callback) => {
          written.push(text)
          callback(null)
          return true
        }
      })
      expect(written).toEqual([
        '{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"s"}},"destinationStats":{"recordCount":2.0}}}\n'
      ])
    }))
})
