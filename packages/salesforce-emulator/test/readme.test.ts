import { describe, expect, it } from "@effect/vitest"
import * as path from "node:path"
import { afterAll, beforeAll } from "vitest"
import { readmeSnippet } from "../../../configs/readme-snippet.mjs"
import { insertContacts, mswServer, org } from "../examples/usage.js"

beforeAll(() => mswServer.listen({ onUnhandledRequest: "error" }))
afterAll(() => mswServer.close())

describe("README", () => {
  it("shows the typechecked example", () => {
    const { snippet, example } = readmeSnippet(path.join(import.meta.dirname, ".."))
    expect(snippet).toBe(example)
  })

  it("the example inserts one Contact and reports the other's failure", async () => {
    const { failedCsv, stats } = await insertContacts()
    expect(failedCsv).toBe(
      '"sf__Id","sf__Error",LastName,Email\n"","REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --",,nobody@example.com\n'
    )
    expect(stats.records["Contact"]).toBe(2)
    expect(org.storedRecords("Contact").some((record) => record["LastName"] === "Lovelace")).toBe(true)
  })
})
