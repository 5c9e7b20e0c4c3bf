import { describe, expect, it } from "@effect/vitest"
import { OrgMetadata } from "@sfdc-activation/bulk-client"
import * as Schema from "effect/Schema"
import { operationsOf } from "../src/Discover.js"

const ticket = Schema.decodeUnknownSync(OrgMetadata.SObjectDescribe)({
  name: "Ticket__c",
  createable: true,
  updateable: true,
  deletable: true,
  fields: [
    { name: "Id", type: "id", nillable: false, idLookup: true },
    { name: "Number__c", type: "string", length: 30, nillable: false, externalId: true, autoNumber: true, unique: true, idLookup: true },
    { name: "Key__c", type: "string", length: 80, nillable: true, createable: true, updateable: true, externalId: true, unique: true },
    { name: "Subject__c", type: "string", length: 80, nillable: true, createable: true, updateable: true }
  ]
})

describe("operationsOf", () => {
  it("offers as upsert keys only external ids the upsert can write, each a property of the schema", () => {
    const upsert = operationsOf(ticket).find((operation) => operation.sync_mode === "append_dedup")
    expect(upsert?.matching_keys).toEqual([["Key__c"]])
    const properties = Object.keys(upsert?.json_schema["properties"] ?? {})
    for (const [key] of upsert?.matching_keys ?? []) expect(properties).toContain(key)
  })

  it("offers no upsert when the only external id is an auto-number", () => {
    const autoNumbered = { ...ticket, fields: ticket.fields.filter((field) => field.name !== "Key__c") }
    expect(operationsOf(autoNumbered).map((operation) => operation.sync_mode)).toEqual(["append", "update", "soft_delete"])
  })
})
