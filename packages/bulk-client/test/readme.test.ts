import { describe, expect, it } from "@effect/vitest"
import * as path from "node:path"
import { readmeSnippet } from "../../../configs/readme-snippet.mjs"

describe("README", () => {
  it("shows the typechecked example", () => {
    const { snippet, example } = readmeSnippet(path.join(import.meta.dirname, ".."))
    expect(snippet).toBe(example)
  })
})
