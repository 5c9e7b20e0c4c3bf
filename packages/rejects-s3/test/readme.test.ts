import { describe, expect, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { readmeSnippet } from "../../../configs/readme-snippet.mjs"
import { storeAndReplay } from "../examples/usage.js"

describe("README", () => {
  it("shows the typechecked example", () => {
    const { snippet, example } = readmeSnippet(path.join(import.meta.dirname, ".."))
    expect(snippet).toBe(example)
  })

  it.scoped("the example stores a rejected row and reads it back", () =>
    Effect.gen(function* () {
      const directory = yield* Effect.acquireRelease(
        Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "rejects-readme-"))),
        (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
      )
      const records = Chunk.toReadonlyArray(yield* storeAndReplay(directory))
      expect(records.map((record) => [record.row["Email"], record.statusCode, record.fields])).toEqual([
        ["ann@example.com", "REQUIRED_FIELD_MISSING", ["LastName"]]
      ])
      expect(fs.readdirSync(path.join(directory, "rejected", "42", "crm", "contacts"))[0]).toMatch(/_0\.csv\.gz$/)
    }))
})
