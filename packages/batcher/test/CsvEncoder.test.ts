import { describe, expect, it } from "@effect/vitest"
import * as Either from "effect/Either"
import * as FastCheck from "effect/FastCheck"
import { parse } from "csv-parse/sync"
import { CsvEncoder } from "../src/index.js"
import { account, contact, encoderFor, keyed, user } from "./fixtures.js"

const lineOf = (result: CsvEncoder.EncodedRow | CsvEncoder.LocalReject): string =>
  result._tag === "Row" ? result.line : `REJECTED ${result.statusCode}: ${result.message}`

const configReason = (options: CsvEncoder.Options) => {
  const made = CsvEncoder.make(options)
  return Either.isLeft(made) ? made.left.reason : "ok"
}

/** Strings full of what breaks CSV writers: quotes, commas, CR/LF, astral characters, lone surrogates excluded. */
const hostileString = FastCheck.string({
  unit: FastCheck.oneof(
    { weight: 4, arbitrary: FastCheck.constantFrom('"', ",", "\r", "\n", "\r\n", ";", " ", "#N/A", "\u0000", "\t") },
    { weight: 4, arbitrary: FastCheck.fullUnicode() },
    { weight: 2, arbitrary: FastCheck.char() }
  ),
  maxLength: 40
})

describe("CsvEncoder.make", () => {
  it("builds the header from the mapping, relationship columns included", () => {
    const encoder = encoderFor({
      object: contact,
      operation: "upsert",
      externalIdFieldName: "External_Id__c",
      columns: keyed("External_Id__c", "LastName", "Account.Account_Number__c", "User:Owner.Email"),
      parents: { Account: account, User: user }
    })
    expect(encoder.header).toBe("External_Id__c,LastName,Account.Account_Number__c,User:Owner.Email\n")
    expect(encoder.headerBytes).toBe(encoder.header.length)
  })

  it("refuses mappings Salesforce would fail as a whole", () => {
    const base = { object: contact, parents: { Account: account } } as const
    expect(configReason({ ...base, operation: "insert", columns: keyed("LastName", "Foo__c") })).toBe("UnknownField")
    expect(configReason({ ...base, operation: "insert", columns: keyed("LastName", "LastName") })).toBe("DuplicateColumn")
    expect(configReason({ ...base, operation: "insert", columns: keyed("LastName", "Name") })).toBe("FieldNotCreateable")
    expect(configReason({ ...base, operation: "update", columns: keyed("Id", "Name") })).toBe("FieldNotUpdateable")
    expect(configReason({ ...base, operation: "update", columns: keyed("LastName") })).toBe("IdColumnMissing")
    expect(configReason({ ...base, operation: "delete", columns: keyed("Id", "LastName") })).toBe("DeleteTakesOnlyId")
    expect(configReason({ ...base, operation: "upsert", columns: keyed("External_Id__c") })).toBe("ExternalIdMissing")
    expect(configReason({ ...base, operation: "upsert", externalIdFieldName: "Email", columns: keyed("Email") })).toBe("ExternalIdInvalid")
    expect(configReason({ ...base, operation: "upsert", externalIdFieldName: "External_Id__c", columns: keyed("LastName") })).toBe("ExternalIdMissing")
    expect(configReason({ ...base, operation: "insert", columns: keyed("FirstName") })).toBe("RequiredFieldNotMapped")
    expect(configReason({ ...base, operation: "insert", validate: false, columns: keyed("FirstName") })).toBe("ok")
    expect(configReason({ ...base, operation: "insert", columns: keyed("LastName", "Account.Site") })).toBe("InvalidRelationship")
    expect(configReason({ ...base, operation: "insert", columns: keyed("LastName", "Account.Nope__c") })).toBe("UnknownField")
    expect(configReason({ ...base, operation: "insert", columns: keyed("LastName", "Owner.Email") })).toBe("InvalidRelationship")
    expect(configReason({ ...base, operation: "insert", columns: keyed("LastName", "Boss.Email") })).toBe("InvalidRelationship")
    expect(configReason({ ...base, operation: "insert", columns: keyed("LastName", "Account.Parent.Site") })).toBe("InvalidRelationship")
    expect(configReason({ ...base, operation: "insert", columns: [] })).toBe("NoColumns")
    expect(
      configReason({ ...base, operation: "insert", columns: [...keyed("LastName"), { column: "Status__c", source: { constant: "Nope" } }] })
    ).toBe("InvalidConstant")
    expect(configReason({ ...base, operation: "delete", columns: keyed("Id") })).toBe("ok")
  })

  it("accepts both spellings of a polymorphic relationship column, and any parent field without parent describe", () => {
    for (const column of ["User:Owner.Email", "Owner:User.Email", "Group:Owner.Anything"]) {
      expect(configReason({ object: contact, operation: "insert", columns: keyed("LastName", column), parents: { User: user } })).toBe("ok")
    }
  })

  it("writes a relationship header as Salesforce reads it: ObjectType:Relationship only for a polymorphic field", () => {
    const header = (column: string) => encoderFor({ object: contact, operation: "insert", columns: keyed("LastName", column), parents: { Account: account, User: user } }).header
    expect(header("Owner:User.Email")).toBe("LastName,User:Owner.Email\n")
    expect(header("owner:group.Anything")).toBe("LastName,Group:Owner.Anything\n")
    // Account is not polymorphic: a type before it would fail the job
    expect(header("Account:Account.Account_Number__c")).toBe("LastName,Account.Account_Number__c\n")
    expect(header("account:ACCOUNT.account_number__c")).toBe("LastName,Account.Account_Number__c\n")
  })
})

describe("CsvEncoder.encode", () => {
  const every = encoderFor({
    object: contact,
    operation: "update",
    columns: keyed(
      "Id", "LastName", "Description", "Birthdate", "Last_Seen__c", "Call_Time__c", "Opted_Out__c", "Score__c",
      "Visits__c", "Revenue__c", "Share__c", "Status__c", "Interests__c", "Payload__c", "Account.Account_Number__c"
    ),
    parents: { Account: account }
  })

  it("writes every type as Salesforce reads it", () => {
    const row = every.encode({
      Id: "003000000000001AAA",
      LastName: 'O\'Brien, "Ace"',
      Description: "two\nlines",
      Birthdate: "1990-05-17",
      Last_Seen__c: "2024-11-27T12:00:00+01:00",
      Call_Time__c: "08:30",
      Opted_Out__c: 1,
      Score__c: 12.5,
      Visits__c: "42",
      Revenue__c: 1e21,
      Share__c: "-0.5",
      Status__c: "Open",
      Interests__c: ["Golf", "Tennis"],
      Payload__c: { tags: ["a", "b"], nested: { n: 1 } },
      "Account.Account_Number__c": 1001
    })
    expect(lineOf(row)).toBe(
      '003000000000001AAA,"O\'Brien, ""Ace""","two\nlines",1990-05-17,2024-11-27T11:00:00.000Z,08:30:00.000Z,true,12.5,42,1000000000000000000000,-0.5,Open,Golf;Tennis,' +
        '"{""tags"":[""a"",""b""],""nested"":{""n"":1}}",1001\n'
    )
  })

  it("takes a key every object inherits (constructor, toString, __proto__) from the record only when it is the record's own", () => {
    const columns: Array<CsvEncoder.Column> = [
      { column: "Id", source: { key: "Id" } },
      { column: "LastName", source: { key: "constructor" } },
      { column: "Description", source: { key: "toString" } },
      { column: "FirstName", source: { key: "__proto__" } }
    ]
    const update = encoderFor({ object: contact, operation: "update", columns })
    expect(lineOf(update.encode({ Id: "003000000000001" }))).toBe("003000000000001,,,\n")
    const own = Object.fromEntries([["Id", "003000000000001"], ["constructor", "Mercedes"], ["toString", "Sales"], ["__proto__", "Ada"]])
    expect(lineOf(update.encode(own))).toBe("003000000000001,Mercedes,Sales,Ada\n")
  })

  it("clears nulls on update by default, leaves missing keys, and honours per-column and per-sync policy", () => {
    const columns: Array<CsvEncoder.Column> = [
      { column: "Id", source: { key: "Id" } },
      { column: "FirstName", source: { key: "FirstName" } },
      { column: "Email", source: { key: "Email" }, nullPolicy: "leave" },
      { column: "Score__c", source: { key: "Score__c" } }
    ]
    const record = { Id: "003000000000001", FirstName: null, Email: null }
    expect(lineOf(encoderFor({ object: contact, operation: "update", columns }).encode(record))).toBe("003000000000001,#N/A,,\n")
    expect(lineOf(encoderFor({ object: contact, operation: "update", columns, nullPolicy: "leave" }).encode(record))).toBe(
      "003000000000001,,,\n"
    )
    expect(lineOf(encoderFor({ object: contact, operation: "update", columns }).encode({ ...record, FirstName: "" }))).toBe(
      "003000000000001,#N/A,,\n"
    )
    const insert = encoderFor({ object: contact, operation: "insert", columns: keyed("LastName", "FirstName") })
    expect(lineOf(insert.encode({ LastName: "Lovelace", FirstName: null }))).toBe("Lovelace,\n")
    // on insert a non-nillable field with a default (a checkbox) takes its default for a null, whatever the policy
    const clearing = encoderFor({ object: contact, operation: "insert", columns: keyed("LastName", "Opted_Out__c", "FirstName"), nullPolicy: "clear" })
    expect(lineOf(clearing.encode({ LastName: "Lovelace", Opted_Out__c: null, FirstName: null }))).toBe("Lovelace,,#N/A\n")
    // clearing a checkbox unchecks it: a null in a nullable boolean column does not cost the row
    const update = encoderFor({ object: contact, operation: "update", columns: keyed("Id", "Opted_Out__c") })
    expect(lineOf(update.encode({ Id: "003000000000001", Opted_Out__c: null }))).toBe("003000000000001,false\n")
    const leaving = encoderFor({ object: contact, operation: "update", columns: keyed("Id", "Opted_Out__c"), nullPolicy: "leave" })
    expect(lineOf(leaving.encode({ Id: "003000000000001", Opted_Out__c: null }))).toBe("003000000000001,\n")
  })

  it("writes constant columns", () => {
    const encoder = encoderFor({
      object: contact,
      operation: "insert",
      columns: [...keyed("LastName"), { column: "Status__c", source: { constant: "Closed" } }]
    })
    expect(lineOf(encoder.encode({ LastName: "Hopper" }))).toBe("Hopper,Closed\n")
  })

  it("rejects bad rows locally with Salesforce status codes", () => {
    const insert = encoderFor({ object: contact, operation: "insert", columns: keyed("LastName", "Status__c", "Interests__c", "Score__c", "Visits__c", "AccountId") })
    const reject = (record: Record<string, unknown>) => {
      const result = insert.encode({ LastName: "Ok", ...record })
      return result._tag === "Rejected" ? [result.statusCode, result.fields.join(","), result.message] : ["Row", "", result.line]
    }
    expect(reject({ LastName: undefined })).toEqual(["REQUIRED_FIELD_MISSING", "LastName", "Required fields are missing: [LastName]"])
    expect(reject({ LastName: null })[0]).toBe("REQUIRED_FIELD_MISSING")
    expect(reject({ LastName: "x".repeat(81) })).toEqual([
      "STRING_TOO_LONG",
      "LastName",
      `LastName: data value too large: ${"x".repeat(81)} (max length=80)`
    ])
    expect(reject({ LastName: "x".repeat(80) })[0]).toBe("Row")
    expect(reject({ Status__c: "Pending" })).toEqual([
      "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
      "Status__c",
      "Status__c: bad value for restricted picklist field: Pending"
    ])
    expect(reject({ Status__c: "Legacy" })[0]).toBe("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST")
    expect(reject({ Interests__c: ["Golf", "Polo"] })[0]).toBe("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST")
    expect(reject({ Score__c: Number.NaN })).toEqual(["INVALID_TYPE_ON_FIELD_IN_RECORD", "Score__c", "Score__c: value not of required type: NaN"])
    expect(reject({ Score__c: Number.POSITIVE_INFINITY })[0]).toBe("INVALID_TYPE_ON_FIELD_IN_RECORD")
    expect(reject({ Visits__c: "many" })[0]).toBe("INVALID_TYPE_ON_FIELD_IN_RECORD")
    expect(reject({ AccountId: "not-an-id" })[0]).toBe("MALFORMED_ID")
    expect(reject({ LastName: "#N/A" })).toEqual([
      "INVALID_FIELD",
      "LastName",
      "LastName: the text #N/A is the Bulk API's null marker and cannot be loaded as a value"
    ])
    expect(reject({ LastName: " #N/A" })[0]).toBe("Row")
    const update = encoderFor({ object: contact, operation: "update", columns: keyed("Id", "LastName") })
    expect(lineOf(update.encode({ Id: "003000000000001", LastName: null }))).toContain("REQUIRED_FIELD_MISSING")
    expect(lineOf(update.encode({ LastName: "x" }))).toBe("REJECTED MISSING_ARGUMENT: Id not specified")
    const rejected = update.encode({ LastName: "x" })
    expect(rejected._tag === "Rejected" && CsvEncoder.formatError(rejected)).toBe("MISSING_ARGUMENT:Id not specified:Id --")
  })

  it("passes everything through to Salesforce when validation is off", () => {
    const encoder = encoderFor({ object: contact, operation: "insert", validate: false, columns: keyed("LastName", "Score__c", "Status__c") })
    expect(lineOf(encoder.encode({ LastName: "x".repeat(81), Score__c: "n/a, really", Status__c: "Pending" }))).toBe(
      `${"x".repeat(81)},"n/a, really",Pending\n`
    )
    // values text would refuse go as their loose text (an object as JSON, NaN inside as null)
    expect(lineOf(encoder.encode({ LastName: { score: Number.NaN, list: [1, Number.NaN] } }))).toBe(`"{""score"":null,""list"":[1,null]}",,\n`)
    expect(lineOf(encoder.encode({ LastName: Number.NaN }))).toBe("NaN,,\n")
    // but the text #N/A, which Salesforce would take as "clear the field", cannot tell apart
    expect(lineOf(encoder.encode({ LastName: "#N/A" }))).toBe("REJECTED INVALID_FIELD: LastName: the text #N/A is the Bulk API's null marker and cannot be loaded as a value")
    // in a field of any type: dates, numbers, checkboxes, a relationship keyed by a number
    const typed = ["Birthdate", "Last_Seen__c", "Call_Time__c", "Opted_Out__c", "Score__c", "Visits__c", "Revenue__c", "Share__c", "Account.Account_Number__c"]
    const loose = encoderFor({ object: contact, operation: "update", validate: false, parents: { Account: account }, columns: keyed("Id", ...typed) })
    for (const column of typed) {
      expect(lineOf(loose.encode({ Id: "003000000000001", [column]: "#N/A" }))).toBe(
        `REJECTED INVALID_FIELD: ${column}: the text #N/A is the Bulk API's null marker and cannot be loaded as a value`
      )
    }
  })

  it("never writes a blank line for a lone empty cell", () => {
    const encoder = encoderFor({ object: contact, operation: "delete", validate: false, columns: keyed("Id") })
    expect(lineOf(encoder.encode({}))).toBe('""\n')
    expect(parse('Id\n""\n', { columns: true })).toEqual([{ Id: "" }])
  })

  const textEncoder = encoderFor({
    object: contact,
    operation: "update",
    validate: false,
    columns: keyed("Id", "LastName", "Description", "Email")
  })

  it.prop(
    "round-trips hostile strings through csv-parse, with exact UTF-8 byte counts",
    [FastCheck.array(hostileString, { minLength: 4, maxLength: 4 })],
    ([values]) => {
      const [Id = "", LastName = "", Description = "", Email = ""] = values
      const result = textEncoder.encode({ Id, LastName, Description, Email })
      // the null marker as a value is refused, validation on or off
      if (values.includes("#N/A")) return void expect(result._tag).toBe("Rejected")
      expect(result._tag).toBe("Row")
      if (result._tag !== "Row") return
      expect(result.bytes).toBe(new TextEncoder().encode(result.line).length)
      const csv = textEncoder.header + result.line
      const parsed: Array<Record<string, string>> = parse(csv, { columns: true, relax_column_count: false })
      // an empty value is written as #N/A (null policy "clear"); anything else comes back byte for byte
      const expected = [Id, LastName, Description, Email].map((value) => (value === "" ? "#N/A" : value))
      expect(parsed).toHaveLength(1)
      expect(parsed[0]).toEqual({ Id: expected[0], LastName: expected[1], Description: expected[2], Email: expected[3] })
    },
    { fastCheck: { numRuns: 300 } }
  )

  it.prop(
    "writes every finite number so that it reads back as the same number",
    [FastCheck.double({ noNaN: true, noDefaultInfinity: true })],
    ([value]) => {
      const result = every.encode({ Id: "003000000000001", Score__c: value })
      expect(result._tag).toBe("Row")
      if (result._tag !== "Row") return
      const parsed: Array<Record<string, string>> = parse(every.header + result.line, { columns: true })
      expect(Number(parsed[0]?.["Score__c"])).toBe(value === 0 ? 0 : value)
    }
  )

  it.prop(
    "normalises any instant, written with any offset, to the same UTC dateTime",
    [FastCheck.date({ min: new Date("1700-01-01T00:00:00Z"), max: new Date("4000-12-31T00:00:00Z"), noInvalidDate: true }), FastCheck.integer({ min: -14 * 60, max: 14 * 60 })],
    ([instant, offsetMinutes]) => {
      const shifted = new Date(instant.getTime() + offsetMinutes * 60_000).toISOString().slice(0, 23)
      const sign = offsetMinutes < 0 ? "-" : "+"
      const magnitude = Math.abs(offsetMinutes)
      const offset = `${sign}${String(Math.floor(magnitude / 60)).padStart(2, "0")}:${String(magnitude % 60).padStart(2, "0")}`
      const expected = instant.toISOString()
      // epoch millis near 1970 (|n| < 10^11) are refused as ambiguous: ISO text and Dates are not
      const millis = Math.abs(instant.getTime()) >= 1e11 ? [instant.getTime()] : []
      for (const value of [`${shifted}${offset}`, instant, ...millis]) {
        const result = every.encode({ Id: "003000000000001", Last_Seen__c: value })
        expect(lineOf(result)).toBe(`003000000000001,,,,${expected},,,,,,,,,,\n`)
      }
    }
  )
})
