import { describe, expect, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import type { BulkClient } from "@sfdc-activation/bulk-client"
import { Pipeline, StreamPlans } from "../src/index.js"
import { bulkLayer, emulatedOrgSuite, localRejects, readRejects, tempDirectory } from "./support.js"

/** Values Salesforce accepts (the emulator validates as it does) go through local validation too. */

const { org } = emulatedOrgSuite()

const withOrg = <A, E>(effect: Effect.Effect<A, E, BulkClient.BulkClient>) => Effect.provide(effect, bulkLayer(org))
const column = (name: string, key = name) => ({ column: name, source: { key } })

/** Runs rows of stream `s` through the pipeline; returns the status codes of the rows rejected, locally or by the org. */
const sync = (plan: Pipeline.StreamPlan, rows: ReadonlyArray<Record<string, unknown>>) => {
  const directory = tempDirectory("encoding-rejects-")
  return Effect.gen(function* () {
    yield* Stream.fromIterable(rows.map((row) => Pipeline.record<string>("s", row))).pipe(
      Pipeline.run(new Map([["s", plan]])),
      Stream.runCollect,
      Effect.map(Chunk.toArray)
    )
    const rejects = yield* readRejects(directory)
    return rejects.map((reject) => reject.statusCode)
  }).pipe(Effect.provide(Layer.merge(bulkLayer(org), localRejects(directory))))
}

const stored = (object: string, field: string, value: string) => org.storedRecords(object).find((record) => record[field] === value)

describe("encoding round trips through the emulated org", () => {
  it.live("a restricted picklist value in another case is loaded as its defined spelling", () =>
    Effect.gen(function* () {
      org.setFaults({ processingDelayMs: 0 })
      const plan = yield* withOrg(StreamPlans.plan({
        stream: { name: "s" }, object: "Product_Usage__c", operation: "upsert", externalIdFieldName: "Usage_Key__c",
        columns: [column("Usage_Key__c", "key"), column("Feature__c", "feature")]
      }))
      expect(yield* sync(plan, [{ key: "U-1", feature: "api" }, { key: "U-2", feature: "MOBILE" }, { key: "U-3", feature: "Fax" }])).toEqual([
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
      ])
      expect(stored("Product_Usage__c", "Usage_Key__c", "U-1")?.["Feature__c"]).toBe("API")
      expect(stored("Product_Usage__c", "Usage_Key__c", "U-2")?.["Feature__c"]).toBe("Mobile")
    }))

  it.live("restricted multipicklist values with spaces around ';', in any case, are loaded as the defined values", () =>
    Effect.gen(function* () {
      org.setFaults({ processingDelayMs: 0 })
      const plan = yield* withOrg(StreamPlans.plan({
        stream: { name: "s" }, object: "Account", operation: "upsert", externalIdFieldName: "External_Id__c",
        columns: [column("External_Id__c", "id"), column("Regions__c", "regions")]
      }))
      expect(yield* sync(plan, [{ id: "ACME-001", regions: "emea; NA" }, { id: "GLOBEX-001", regions: ["latam ", " Apac"] }])).toEqual([])
      expect(stored("Account", "External_Id__c", "ACME-001")?.["Regions__c"]).toBe("EMEA;NA")
      expect(stored("Account", "External_Id__c", "GLOBEX-001")?.["Regions__c"]).toBe("LATAM;APAC")
    }))

  it.live("an empty multipicklist array clears the field under the clear policy and leaves it under leave", () =>
    Effect.gen(function* () {
      org.setFaults({ processingDelayMs: 0 })
      const request = {
        stream: { name: "s" }, object: "Account", operation: "upsert", externalIdFieldName: "External_Id__c",
        columns: [column("External_Id__c", "id"), column("Regions__c", "regions")]
      } as const
      const clear = yield* withOrg(StreamPlans.plan({ ...request, nullPolicy: "clear" }))
      const leave = yield* withOrg(StreamPlans.plan({ ...request, nullPolicy: "leave" }))
      expect(yield* sync(clear, [{ id: "ACME-001", regions: ["EMEA"] }, { id: "GLOBEX-001", regions: ["NA"] }])).toEqual([])
      expect(yield* sync(leave, [{ id: "GLOBEX-001", regions: [] }])).toEqual([])
      expect(stored("Account", "External_Id__c", "GLOBEX-001")?.["Regions__c"]).toBe("NA")
      expect(yield* sync(clear, [{ id: "ACME-001", regions: [] }])).toEqual([])
      expect(stored("Account", "External_Id__c", "ACME-001")?.["Regions__c"] ?? null).toBeNull()
      // the unrestricted Contact multipicklist too
      const contacts = yield* withOrg(StreamPlans.plan({
        stream: { name: "s" }, object: "Contact", operation: "upsert", externalIdFieldName: "External_Id__c",
        columns: [column("External_Id__c", "id"), column("Interests__c", "interests")], nullPolicy: "clear"
      }))
      expect(yield* sync(contacts, [{ id: "C-0001", interests: ["Events", "Webinars"] }])).toEqual([])
      expect(stored("Contact", "External_Id__c", "C-0001")?.["Interests__c"]).toBe("Events;Webinars")
      expect(yield* sync(contacts, [{ id: "C-0001", interests: [] }])).toEqual([])
      expect(stored("Contact", "External_Id__c", "C-0001")?.["Interests__c"] ?? null).toBeNull()
    }))

  it.live("a large JSON number in a text field is stored as its digits", () =>
    Effect.gen(function* () {
      org.setFaults({ processingDelayMs: 0 })
      const plan = yield* withOrg(StreamPlans.plan({
        stream: { name: "s" }, object: "Contact", operation: "upsert", externalIdFieldName: "External_Id__c",
        columns: [column("External_Id__c", "id"), column("Description", "description")]
      }))
      const row = JSON.parse('{"id":"C-0001","description":1000000000000000000000}') as Record<string, unknown>
      expect(yield* sync(plan, [row])).toEqual([])
      expect(stored("Contact", "External_Id__c", "C-0001")?.["Description"]).toBe("1000000000000000000000")
    }))

  it.live("field and relationship columns named in another case load into the described fields", () =>
    Effect.gen(function* () {
      org.setFaults({ processingDelayMs: 0 })
      const plan = yield* withOrg(StreamPlans.plan({
        stream: { name: "s" }, object: "Contact", operation: "insert",
        columns: [column("lastname", "last"), column("EMAIL", "email"), column("external_id__c", "id"), column("account.external_id__c", "account")]
      }))
      expect(yield* sync(plan, [{ last: "Hopper2", email: "g2@example.com", id: "T-CASE-1", account: "ACME-001" }])).toEqual([])
      const loaded = stored("Contact", "External_Id__c", "T-CASE-1")
      expect(loaded?.["LastName"]).toBe("Hopper2")
      expect(loaded?.["Email"]).toBe("g2@example.com")
      expect(loaded?.["AccountId"]).toBe(stored("Account", "External_Id__c", "ACME-001")?.["Id"])
    }))

  it.live("a key column named in another case still keeps a repeated key out of one job, so the later row wins", () =>
    Effect.gen(function* () {
      org.setFaults({ processingDelayMs: 0 })
      const plan = yield* withOrg(
        StreamPlans.plan({
          stream: { name: "s" },
          object: "Contact",
          operation: "upsert",
          externalIdFieldName: "External_Id__c",
          columns: [column("lastname", "last"), column("external_id__c", "key")]
        })
      )
      const rejects = yield* sync(plan, [{ key: "T-case", last: "First" }, { key: "T-case", last: "Second" }])
      expect(rejects).toEqual([])
      expect(stored("Contact", "External_Id__c", "T-case")?.["LastName"]).toBe("Second")
    }))

  it.effect("finds a relationship column's parent in any case", () =>
    Effect.gen(function* () {
      const contact = yield* withOrg(StreamPlans.plan({ stream: { name: "s" }, object: "Contact", operation: "insert", columns: [column("LastName")] }))
      expect([StreamPlans.parentOf(contact.object, "account.External_Id__c"), StreamPlans.parentOf(contact.object, "ACCOUNT.External_Id__c")]).toEqual([
        Option.some("Account"),
        Option.some("Account")
      ])
    }))
})
