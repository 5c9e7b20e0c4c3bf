import { describe, expect, it } from "@effect/vitest"
import * as path from "node:path"
import { readmeSnippet } from "../../../configs/readme-snippet.mjs"
import { readResults } from "../examples/usage.js"

describe("README", () => {
  it("shows the typechecked example", () => {
    const { snippet, example } = readmeSnippet(path.join(import.meta.dirname, ".."))
    expect(snippet).toBe(example)
  })

  it("the example reads rows and counts the created ones across chunks", () => {
    const bytes = new TextEncoder().encode('sf__Id,sf__Created,Name\n001A,true,"Hopper, G"\n001B,false,Turing\n')
    const { rows, created } = readResults([bytes.subarray(0, 30), bytes.subarray(30)])
    expect(rows).toEqual([
      { sf__Id: "001A", sf__Created: "true", Name: "Hopper, G" },
      { sf__Id: "001B", sf__Created: "false", Name: "Turing" }
    ])
    expect(created).toBe(1)
  })
})
