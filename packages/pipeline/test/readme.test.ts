import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import * as path from "node:path"
import { readmeSnippet } from "../../../configs/readme-snippet.mjs"
import { syncContacts } from "../examples/usage.js"
import { bulkLayer, emulatedOrgSuite, localRejects, readRejects, tempDirectory } from "./support.js"

const { org } = emulatedOrgSuite()

describe("README", () => {
  it("shows the typechecked example", () => {
    const { snippet, example } = readmeSnippet(path.join(import.meta.dirname, ".."))
    expect(snippet).toBe(example)
  })

  it.live("the example upserts contacts linked to their accounts and rejects the orphans", () =>
    Effect.gen(function* () {
      org.setFaults({ processingDelayMs: 0 })
      const directory = tempDirectory("readme-rejects-")
      const accountKey = org.storedRecords("Account").find((account) => account["External_Id__c"] !== null)?.["External_Id__c"]
      yield* syncContacts(
        Stream.make(
          { id: "R-1", last_name: "Lovelace", email: "ada@example.com", account_key: accountKey },
          { id: "R-2", last_name: "Nobody", email: "nobody@example.com", account_key: "NO-SUCH-ACCOUNT" }
        )
      ).pipe(Effect.provide(Layer.merge(bulkLayer(org), localRejects(directory))))
      expect(org.storedRecords("Contact").filter((contact) => contact["External_Id__c"] === "R-1")).toHaveLength(1)
      const rejects = yield* readRejects(directory)
      expect(rejects.map((reject) => reject.row["External_Id__c"])).toEqual(["R-2"])
    }))
})
