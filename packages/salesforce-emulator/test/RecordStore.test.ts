import { describe, expect, it } from "@effect/vitest"
import { IngestJob, OrgFixture, RecordStore, SalesforceId } from "../src/index.js"

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

describe("ObjectStore rows kept as text", () => {
  /** A source that reads `LastName,External_Id__c` rows out of `text`, counting what it materializes. */
  const sourceOf = (text: string) => {
    const reads: Array<string> = []
    const source: RecordStore.RowSource = {
      materialize: (id, start, end) => {
        const [LastName, External_Id__c] = text.slice(start, end).split(",")
        reads.push(id)
        return { Id: id, LastName: LastName ?? null, External_Id__c: External_Id__c ?? null }
      }
    }
    return { source, reads }
  }
  const text = "Ada,K-1\nGrace,K-2\nEdsger,K-3\n"
  const spans = [
    [0, 7],
    [8, 17],
    [18, 28]
  ] as const

  const loaded = () => {
    if (contact === undefined) throw new Error("the default fixture has no Contact")
    const store = new RecordStore.ObjectStore(contact)
    const { source, reads } = sourceOf(text)
    const ids = spans.map(([start, end], index) => {
      const sequence = store.nextSequence()
      store.insertLazy(sequence, source, start, end, { External_Id__c: `K-${index + 1}` })
      return SalesforceId.make("003", sequence)
    })
    return { store, ids, reads }
  }

  it("finds each record by its Id, reads its row only when asked, and keeps what it read", () => {
    const { store, ids, reads } = loaded()
    expect(store.records.size).toBe(3)
    expect(ids.every((id) => store.records.has(id))).toBe(true)
    expect(reads).toEqual([])
    expect(store.records.get(ids[1] ?? "")).toEqual({ Id: ids[1], LastName: "Grace", External_Id__c: "K-2" })
    expect(store.records.get(ids[1] ?? "")).toBe(store.records.get(ids[1] ?? ""))
    expect(reads).toEqual([ids[1]])
    expect(store.findBy("External_Id__c", "k-3")).toEqual([ids[2]])
    expect([...store.records.values()].map((record) => record["LastName"])).toEqual(["Ada", "Grace", "Edsger"])
  })

  it("answers no record for an Id whose case-safe suffix is wrong, and deletes by Id", () => {
    const { store, ids } = loaded()
    const first = ids[0] ?? ""
    const misspelt = `${first.slice(0, 15)}${first.endsWith("AAA") ? "AAB" : "AAA"}`
    expect(store.records.has(misspelt)).toBe(false)
    expect(store.records.get(misspelt)).toBeUndefined()
    store.records.delete(misspelt)
    expect(store.records.size).toBe(3)
    store.remove(first, true)
    expect(store.records.has(first)).toBe(false)
    expect(store.records.size).toBe(2)
    expect(store.findBy("External_Id__c", "K-1")).toEqual([])
    expect(store.deleted.has(first)).toBe(true)
  })

  it("does not take an Id with characters outside base 62 for a record kept as text", () => {
    const { store, ids } = loaded()
    const third = ids[2] ?? ""
    const colon = `${third.slice(0, 14)}:${third.slice(15)}`
    expect(SalesforceId.sequenceOf(colon)).toBe(-1)
    expect(store.records.get(colon)).toBeUndefined()
    expect(store.records.get(third)).toMatchObject({ Id: third, LastName: "Edsger" })
  })

  it("never makes again an Id a seed was given, and keeps rows after it as text", () => {
    if (contact === undefined) throw new Error("the default fixture has no Contact")
    const store = new RecordStore.ObjectStore(contact)
    const seeded = SalesforceId.make("003", 2)
    store.insert({ Id: seeded, LastName: "Seed", External_Id__c: "S-1" })
    const { source, reads } = sourceOf(text)
    const sequence = store.nextSequence()
    expect(sequence).toBe(3)
    store.insertLazy(sequence, source, 0, 7, { External_Id__c: "K-1" })
    expect(reads).toEqual([])
    expect(store.records.size).toBe(2)
    expect(store.records.get(seeded)).toMatchObject({ LastName: "Seed" })
    expect(store.records.get(SalesforceId.make("003", 3))).toMatchObject({ LastName: "Ada" })
    store.remove(seeded, false)
    expect(store.records.has(seeded)).toBe(false)
    expect([...store.records.values()].map((record) => record["LastName"])).toEqual(["Ada"])
  })

  it("builds an index on first lookup over records kept as text, leaving deleted ones out", () => {
    if (contact === undefined) throw new Error("the default fixture has no Contact")
    const store = new RecordStore.ObjectStore({
      ...contact,
      fields: contact.fields.map((field) => (field.name === "LastName" ? { ...field, idLookup: true } : field))
    })
    const { source, reads } = sourceOf(text)
    const ids = spans.map(([start, end], index) => {
      const sequence = store.nextSequence()
      store.insertLazy(sequence, source, start, end, { External_Id__c: `K-${index + 1}` })
      return SalesforceId.make("003", sequence)
    })
    store.remove(ids[0] ?? "", true)
    expect(store.findBy("LastName", "grace")).toEqual([ids[1]])
    expect(store.findBy("LastName", "Ada")).toEqual([])
    expect([...store.records.scan()].map((record) => record["LastName"])).toEqual(["Grace", "Edsger"])
    expect(reads.length).toBeGreaterThan(0)
  })

  it("stores the read record for a sequence number nextSequence did not just give", () => {
    if (contact === undefined) throw new Error("the default fixture has no Contact")
    const store = new RecordStore.ObjectStore(contact)
    const { source, reads } = sourceOf(text)
    const id = SalesforceId.make("003", 9)
    store.insertLazy(9, source, 8, 17, { External_Id__c: "K-2" })
    expect(reads).toEqual([id])
    expect(store.records.get(id)).toMatchObject({ LastName: "Grace" })
    expect(store.findBy("External_Id__c", "K-2")).toEqual([id])
  })

  it("keeps in its indexes the Ids it made as they read, others as given", () => {
    const store = sharedExternalIds()
    const made = store.nextId()
    store.insert({ Id: made, LastName: "Made", External_Id__c: "K-1" })
    const misspelt = `${made.slice(0, 15)}${made.endsWith("AAA") ? "AAB" : "AAA"}`
    store.insert({ Id: misspelt, LastName: "Other", External_Id__c: "K-1" })
    store.insert({ Id: "0035g0000000009", LastName: "Short", External_Id__c: "K-1" })
    expect(store.findBy("External_Id__c", "K-1")).toEqual([made, misspelt, "0035g0000000009"])
    store.remove(misspelt, false)
    expect(store.holders("External_Id__c", "k-1")).toEqual([made, "0035g0000000009"])
    store.remove(made, false)
    expect(store.holders("External_Id__c", "K-1")).toBe("0035g0000000009")
  })
})

describe("KeyTable", () => {
  it("answers as a Map does through inserts, lookups, updates and deletes across many rebuilds", () => {
    const table = new RecordStore.KeyTable<number>()
    const reference = new Map<string, number>()
    let seed = 7
    const random = () => {
      seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0
      return seed / 2 ** 32
    }
    for (let step = 0; step < 60_000; step++) {
      const key = `k-${Math.floor(random() * 5_000)}`
      const roll = random()
      if (roll < 0.5) {
        // an insert looks its key up first, as an index does
        expect(table.get(key)).toBe(reference.get(key))
        table.set(key, step)
        reference.set(key, step)
      } else if (roll < 0.8) {
        table.delete(key)
        reference.delete(key)
      } else {
        expect(table.get(key)).toBe(reference.get(key))
      }
    }
    expect(table.size).toBe(reference.size)
    for (const [key, value] of reference) expect(table.get(key)).toBe(value)
    expect(table.get("k-absent")).toBeUndefined()
  })

  it("keeps keys that differ only past their hash, and the empty key", () => {
    const table = new RecordStore.KeyTable<string>()
    const keys = ["", "a", "A", "ab", "ba", "Aa", "BB", "é", "e\u0301"]
    for (const key of keys) table.set(key, `v${key}`)
    for (const key of keys) expect(table.get(key)).toBe(`v${key}`)
    table.delete("ab")
    expect(table.get("ab")).toBeUndefined()
    expect(table.get("ba")).toBe("vba")
    expect(table.size).toBe(keys.length - 1)
  })
})

describe("IngestJob.ResultBuffer", () => {
  it("writes text and copied bytes in order, past its first guess of the size", () => {
    const upload = Buffer.from("héllo,wörld\n", "utf8")
    const out = new IngestJob.ResultBuffer(0)
    const expected: Array<string> = []
    for (let round = 0; round < 200; round++) {
      out.text(`"${round}",`)
      out.copy(upload, 0, upload.length - 1)
      out.text("\r\n")
      expected.push(`"${round}",héllo,wörld\r\n`)
    }
    expect(out.finish().toString("utf8")).toBe(expected.join(""))
  })
})
