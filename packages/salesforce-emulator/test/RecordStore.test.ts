import { describe, expect, it } from "@effect/vitest"
import { OrgFixture, RecordStore } from "../src/index.js"

const contact = OrgFixture.describe(OrgFixture.defaultFixture).sobjects.find((sobject) => sobject.name === "Contact")

/** Contact with External_Id__c an external id that is not unique: several records may hold a value. */
const sharedExternalIds = () => {
  if (contact === undefined) throw new Error("the default fixture has no Contact")
  return new RecordStore.ObjectStore({
    ...contact,
    fields: contact.fields.map((field) => (field.name === "External_Id__c" ? { ...field, unique: false } : field))
  })
}

describe("ObjectStore indexes", () => {
  it("keeps every holder of a value, whether or not it was looked up before each insert", () => {
    const store = sharedExternalIds()
    const insert = (id: string, value: string) => store.insert({ Id: id, LastName: id, External_Id__c: value })
    expect(store.holders("External_Id__c", "K-1")).toBeUndefined()
    insert("003000000000001AAA", "K-1")
    insert("003000000000002AAA", "k-1")
    expect(store.holders("External_Id__c", "K-9")).toBeUndefined()
    insert("003000000000003AAA", "K-1")
    expect(store.findBy("External_Id__c", "K-1")).toEqual(["003000000000001AAA", "003000000000002AAA", "003000000000003AAA"])
    store.remove("003000000000002AAA", false)
    expect(store.holders("External_Id__c", "k-1")).toEqual(["003000000000001AAA", "003000000000003AAA"])
    expect(store.holders("External_Id__c", "K-9")).toBeUndefined()
    insert("003000000000004AAA", "K-9")
    expect(store.holders("External_Id__c", "K-9")).toBe("003000000000004AAA")
  })
})
