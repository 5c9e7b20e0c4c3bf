import { describe, expect, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import * as path from "node:path"
import { readmeSnippet } from "../../../configs/readme-snippet.mjs"
import { load } from "../examples/usage.js"
import { contact } from "./fixtures.js"

describe("README", () => {
  it("shows the typechecked example", () => {
    const { snippet, example } = readmeSnippet(path.join(import.meta.dirname, ".."))
    expect(snippet).toBe(example)
  })

  it.effect("the example uploads the good rows and returns the rejects", () =>
    Effect.gen(function* () {
      const uploaded: Array<string> = []
      const rejects = yield* load(
        contact,
        Stream.make(
          { id: "C-1", last_name: "Lovelace", email: null },
          { id: "C-2", last_name: "x".repeat(81) },
          { id: "C-3", last_name: "Hopper, Grace" }
        ),
        (batch) =>
          Effect.forEach(batch.parts, (part) =>
            Stream.runCollect(part.body.stream).pipe(
              Effect.map((chunks) => uploaded.push(Buffer.concat(Chunk.toArray(chunks)).toString("utf8"))),
              Effect.orDie
            )
          )
      )
      expect(uploaded).toEqual(['External_Id__c,LastName,Email\nC-1,Lovelace,\nC-3,"Hopper, Grace",\n'])
      expect(rejects).toEqual([
        `1 STRING_TOO_LONG:LastName: data value too large: ${"x".repeat(81)} (max length=80):LastName --`
      ])
    }))
})
