import { describe, expect, it } from "@effect/vitest"
import * as Either from "effect/Either"
import * as FastCheck from "effect/FastCheck"
import { CsvEncoder, CsvValue, FieldMetadata } from "../src/index.js"
import { account, contact, encoderFor, keyed, user } from "./fixtures.js"

/** Salesforce's own matching rules, which local validation must not be stricter than. */

const lineOf = (result: CsvEncoder.EncodedRow | CsvEncoder.LocalReject): string =>
  result._tag === "Row" ? result.line : `REJECTED ${result.statusCode}: ${result.message}`

const made = (options: CsvEncoder.Options): string => {
  const result = CsvEncoder.make(options)
  return Either.isRight(result) ? result.right.header : `${result.left.reason} ${result.left.column ?? ""}`
}

const describeOf = (input: unknown): FieldMetadata.ObjectMetadata => {
  const decoded = FieldMetadata.decodeObjectMetadata(input)
  if (Either.isLeft(decoded)) throw new Error(String(decoded.left))
  return decoded.right
}

const id = "003000000000001"

describe("restricted picklists", () => {
  const update = encoderFor({ object: contact, operation: "update", columns: keyed("Id", "Status__c", "Interests__c") })

  it("match a value in any case and send its defined spelling", () => {
    expect(lineOf(update.encode({ Id: id, Status__c: "open" }))).toBe(`${id},Open,\n`)
    expect(lineOf(update.encode({ Id: id, Status__c: "CLOSED" }))).toBe(`${id},Closed,\n`)
    expect(lineOf(update.encode({ Id: id, Status__c: "Open" }))).toBe(`${id},Open,\n`)
    // inactive and unknown values stay refused, in any case
    expect(lineOf(update.encode({ Id: id, Status__c: "legacy" }))).toBe(
      "REJECTED INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST: Status__c: bad value for restricted picklist field: legacy"
    )
    expect(lineOf(update.encode({ Id: id, Status__c: "opened" }))).toContain("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST")
    // a bad value too long for the field is too long first, as Salesforce reports it
    expect(lineOf(update.encode({ Id: id, Status__c: "o".repeat(256) }))).toContain("STRING_TOO_LONG")
    // a constant is matched the same way
    const constant = encoderFor({ object: contact, operation: "insert", columns: [...keyed("LastName"), { column: "Status__c", source: { constant: "closed" } }] })
    expect(lineOf(constant.encode({ LastName: "Hopper" }))).toBe("Hopper,Closed\n")
  })

  it("trim each multipicklist value around ';', match it in any case and send the defined spellings joined by ';'", () => {
    expect(lineOf(update.encode({ Id: id, Interests__c: "Golf; Tennis" }))).toBe(`${id},,Golf;Tennis\n`)
    expect(lineOf(update.encode({ Id: id, Interests__c: " golf ;TENNIS; chess" }))).toBe(`${id},,Golf;Tennis;Chess\n`)
    expect(lineOf(update.encode({ Id: id, Interests__c: ["golf", "Chess "] }))).toBe(`${id},,Golf;Chess\n`)
    expect(lineOf(update.encode({ Id: id, Interests__c: "Golf;Tennis" }))).toBe(`${id},,Golf;Tennis\n`)
    expect(lineOf(update.encode({ Id: id, Interests__c: "Golf; Polo" }))).toBe(
      "REJECTED INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST: Interests__c: bad value for restricted picklist field:  Polo"
    )
    expect(lineOf(update.encode({ Id: id, Interests__c: "Golf;;Tennis" }))).toContain("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST")
  })

  it("pass values as they are when validation is off", () => {
    const raw = encoderFor({ object: contact, operation: "update", validate: false, columns: keyed("Id", "Status__c", "Interests__c") })
    expect(lineOf(raw.encode({ Id: id, Status__c: "open", Interests__c: "golf; tennis" }))).toBe(`${id},open,golf; tennis\n`)
  })
})

describe("empty multipicklist arrays", () => {
  it("are null: #N/A under the clear policy, an empty cell under leave, restricted or not", () => {
    const clear = encoderFor({ object: contact, operation: "update", columns: keyed("Id", "Interests__c") })
    expect(lineOf(clear.encode({ Id: id, Interests__c: [] }))).toBe(`${id},#N/A\n`)
    const leave = encoderFor({ object: contact, operation: "update", nullPolicy: "leave", columns: keyed("Id", "Interests__c") })
    expect(lineOf(leave.encode({ Id: id, Interests__c: [] }))).toBe(`${id},\n`)
    const insert = encoderFor({ object: contact, operation: "insert", columns: keyed("LastName", "Interests__c") })
    expect(lineOf(insert.encode({ LastName: "Hopper", Interests__c: [] }))).toBe("Hopper,\n")
    const raw = encoderFor({ object: contact, operation: "update", validate: false, columns: keyed("Id", "Interests__c") })
    expect(lineOf(raw.encode({ Id: id, Interests__c: [] }))).toBe(`${id},#N/A\n`)
    const constant = encoderFor({ object: contact, operation: "update", columns: [...keyed("Id"), { column: "Interests__c", source: { constant: [] } }] })
    expect(lineOf(constant.encode({ Id: id }))).toBe(`${id},#N/A\n`)
  })

  it("on a required multipicklist are a missing required value, like null", () => {
    const required = describeOf({
      name: "Thing__c",
      fields: [
        { name: "Id", type: "id", length: 18, nillable: false, createable: false, updateable: false },
        { name: "Tags__c", type: "multipicklist", length: 4099, nillable: false, picklistValues: [{ value: "A" }] }
      ]
    })
    const encoder = encoderFor({ object: required, operation: "update", columns: keyed("Id", "Tags__c") })
    expect(lineOf(encoder.encode({ Id: id, Tags__c: [] }))).toBe("REJECTED REQUIRED_FIELD_MISSING: Required fields are missing: [Tags__c]")
  })
})

describe("numbers", () => {
  it("are written as plain decimal digits, never in exponent form", () => {
    expect(CsvValue.plainNumber(1e21)).toBe("1000000000000000000000")
    expect(CsvValue.plainNumber(-1.5e21)).toBe("-1500000000000000000000")
    expect(CsvValue.plainNumber(2 ** 80)).toBe("1208925819614629174706176")
    expect(CsvValue.plainNumber(1e-7)).toBe("0.0000001")
    expect(CsvValue.plainNumber(-1.25e-9)).toBe("-0.00000000125")
    expect(CsvValue.plainNumber(0.000001)).toBe("0.000001")
    expect(CsvValue.plainNumber(123.456)).toBe("123.456")
    expect(CsvValue.plainNumber(-0)).toBe("0")
    expect(CsvValue.text(1e21)).toBe("1000000000000000000000")
    expect(CsvValue.text(1e-7)).toBe("0.0000001")
    expect(CsvValue.decimal(1e21)).toBe("1000000000000000000000")
    expect(CsvValue.decimal(-2.5e-8)).toBe("-0.000000025")
    expect(CsvValue.integer(1e21)).toBe("1000000000000000000000")
    expect(CsvValue.multipicklist([1e21, 1e-7])).toBe("1000000000000000000000;0.0000001")
    expect(CsvValue.decimal(-0)).toBe("0")
    expect([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY].map(CsvValue.decimal)).toEqual([undefined, undefined, undefined])
  })

  it("in a text field keep their digits", () => {
    const encoder = encoderFor({ object: contact, operation: "update", columns: keyed("Id", "Description", "Score__c") })
    const { d: value } = JSON.parse('{"d":1000000000000000000000}') as { d: unknown }
    expect(lineOf(encoder.encode({ Id: id, Description: value, Score__c: 1e-7 }))).toBe(`${id},1000000000000000000000,0.0000001\n`)
  })

  it.prop(
    "every finite number is plain digits that read back as the same number",
    [FastCheck.double({ noNaN: true, noDefaultInfinity: true })],
    ([value]) => {
      const text = CsvValue.plainNumber(value)
      expect(text).toMatch(/^-?\d+(?:\.\d+)?$/)
      expect(Number(text)).toBe(value === 0 ? 0 : value)
    },
    { fastCheck: { numRuns: 500 } }
  )
})

describe("field and relationship names", () => {
  it("match describe in any case, and the header is written in describe's spelling", () => {
    expect(made({ object: contact, operation: "insert", columns: keyed("lastname", "EMAIL") })).toBe("LastName,Email\n")
    expect(made({ object: contact, operation: "update", columns: keyed("id", "firstName") })).toBe("Id,FirstName\n")
    expect(made({ object: contact, operation: "delete", columns: keyed("ID") })).toBe("Id\n")
    expect(
      made({ object: contact, operation: "upsert", externalIdFieldName: "external_id__c", columns: keyed("EXTERNAL_ID__C", "LastName") })
    ).toBe("External_Id__c,LastName\n")
    expect(
      made({
        object: contact,
        operation: "insert",
        columns: keyed("LastName", "account.account_number__c", "OWNER:user.email"),
        parents: { Account: account, User: user }
      })
    ).toBe("LastName,Account.Account_Number__c,User:Owner.Email\n")
    // without the parent's describe the parent field stays as given
    expect(made({ object: contact, operation: "insert", columns: keyed("LastName", "account.Some_Key__c") })).toBe(
      "LastName,Account.Some_Key__c\n"
    )
    expect(encoderFor({ object: contact, operation: "insert", columns: keyed("lastname") }).columns).toEqual(["LastName"])
  })

  it("that differ only in case are the same column", () => {
    expect(made({ object: contact, operation: "insert", columns: keyed("LastName", "lastname") })).toBe("DuplicateColumn lastname")
    expect(
      made({ object: contact, operation: "insert", columns: keyed("LastName", "Account.Account_Number__c", "account.ACCOUNT_NUMBER__C"), parents: { Account: account } })
    ).toBe("DuplicateColumn account.ACCOUNT_NUMBER__C")
  })

  it("keep the other mapping checks, reported on the column as given", () => {
    const base = { object: contact, parents: { Account: account } } as const
    expect(made({ ...base, operation: "insert", columns: keyed("lastname", "name") })).toBe("FieldNotCreateable name")
    expect(made({ ...base, operation: "insert", columns: keyed("lastname", "account.site") })).toBe("InvalidRelationship account.site")
    expect(made({ ...base, operation: "insert", columns: keyed("lastname", "owner.email") })).toBe("InvalidRelationship owner.email")
    expect(made({ ...base, operation: "delete", columns: keyed("id", "lastname") })).toBe("DeleteTakesOnlyId lastname")
    expect(made({ ...base, operation: "upsert", externalIdFieldName: "email", columns: keyed("email") })).toBe("ExternalIdInvalid email")
    expect(made({ ...base, operation: "insert", columns: keyed("firstname") })).toBe("RequiredFieldNotMapped LastName")
  })

  it("find the matching key in any case", () => {
    const update = encoderFor({ object: contact, operation: "update", columns: keyed("id", "lastname") })
    expect(lineOf(update.encode({ lastname: "x" }))).toBe("REJECTED MISSING_ARGUMENT: Id not specified")
    const upsert = encoderFor({ object: contact, operation: "upsert", externalIdFieldName: "External_Id__c", columns: keyed("external_id__c") })
    expect(lineOf(upsert.encode({ external_id__c: null }))).toBe("REJECTED MISSING_ARGUMENT: External_Id__c not specified")
  })
})

describe("Salesforce's size limits", () => {
  const notes = describeOf({
    name: "Note__c",
    fields: [
      ...[1, 2, 3, 4].map((n) => ({ name: `Body${n}__c`, type: "textarea", length: 131072 })),
      { name: "Data__c", type: "json" }
    ]
  })
  const bodies = keyed("Body1__c", "Body2__c", "Body3__c", "Body4__c")
  const full = "x".repeat(131072)

  it("a record over 400,000 characters is refused locally, validated or not", () => {
    // three full fields, three commas: 393,218 characters; the fourth field takes the rest
    const record = (last: number) => ({ Body1__c: full, Body2__c: full, Body3__c: full, Body4__c: "y".repeat(last) })
    for (const validate of [true, false]) {
      const encoder = encoderFor({ object: notes, operation: "insert", validate, columns: bodies })
      const fits = encoder.encodeLine(record(6781))
      expect(typeof fits === "string" ? fits.length : fits.statusCode).toBe(400_001)
      const over = encoder.encodeLine(record(6782))
      expect(typeof over === "string" ? `line of ${over.length}` : over).toEqual({
        _tag: "Rejected",
        statusCode: "RECORD_TOO_LARGE",
        message: "the record has 400001 characters; Salesforce takes at most 400000 characters per record",
        fields: []
      })
      expect(lineOf(encoder.encode(record(131072)))).toContain("RECORD_TOO_LARGE")
    }
  })

  it("a field describe gives no length is capped at 131,072 characters", () => {
    const encoder = encoderFor({ object: notes, operation: "insert", columns: keyed("Data__c") })
    expect(lineOf(encoder.encode({ Data__c: "z".repeat(131072) }))).toBe(`${"z".repeat(131072)}\n`)
    expect(lineOf(encoder.encode({ Data__c: "z".repeat(131073) }))).toBe(
      `REJECTED STRING_TOO_LONG: Data__c: data value too large: ${"z".repeat(100)}... (max length=131072)`
    )
  })
})
