import { describe, expect, it } from "@effect/vitest"
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import { RejectedRecord, RejectFormat } from "../src/index.js"
import { rejected } from "./fixtures.js"

describe("parseSfError", () => {
  it("splits status code, message and fields", () => {
    expect(
      RejectedRecord.parseSfError("REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --")
    ).toEqual({ statusCode: "REQUIRED_FIELD_MISSING", message: "Required fields are missing: [LastName]", fields: ["LastName"] })
  })

  it("keeps colons inside the message", () => {
    expect(
      RejectedRecord.parseSfError(
        "DUPLICATE_VALUE:duplicate value found: External_Id__c duplicates value on record with id: 001xx000003DGb2AAG:External_Id__c --"
      )
    ).toEqual({
      statusCode: "DUPLICATE_VALUE",
      message: "duplicate value found: External_Id__c duplicates value on record with id: 001xx000003DGb2AAG",
      fields: ["External_Id__c"]
    })
  })

  it("reads an empty field list", () => {
    expect(
      RejectedRecord.parseSfError(
        "UNABLE_TO_LOCK_ROW:unable to obtain exclusive access to this record or 1 records: 001xx000003DGb2AAG:--"
      )
    ).toEqual({
      statusCode: "UNABLE_TO_LOCK_ROW",
      message: "unable to obtain exclusive access to this record or 1 records: 001xx000003DGb2AAG",
      fields: []
    })
  })

  it("reads several fields", () => {
    expect(RejectedRecord.parseSfError("REQUIRED_FIELD_MISSING:Required fields are missing: [LastName, Company]:LastName,Company --").fields).toEqual([
      "LastName",
      "Company"
    ])
  })

  it("keeps text without a trailer or status code whole", () => {
    expect(RejectedRecord.parseSfError("INVALID_FIELD:Foo: bar")).toEqual({
      statusCode: "INVALID_FIELD",
      message: "Foo: bar",
      fields: []
    })
    expect(RejectedRecord.parseSfError("Record not processed")).toEqual({
      statusCode: "UNKNOWN",
      message: "Record not processed",
      fields: []
    })
  })
})

describe("RejectFormat", () => {
  it("a CSV line quotes commas, quotes and newlines and carries the row as JSON", () => {
    const line = RejectFormat.csvLine(rejected(1))
    expect(line).toContain('"{""Email"":""person1@example.com"",""FirstName"":""Ann, \\""the 1th\\"""",')
    expect(RejectFormat.csvHeader.split(",")).toHaveLength(RejectFormat.csvColumns.length)
  })

  it("CSV rows decode back to the record, empty optional columns as absent", () => {
    const record = rejected(2, { sfId: "003xx000004TmiQAAS" })
    const encoded = Schema.encodeSync(RejectFormat.CsvRecord)(record)
    expect(Schema.decodeUnknownSync(RejectFormat.CsvRecord)(encoded)).toEqual(record)
    const { jobId: _jobId, syncId: _syncId, ...local } = record
    const decoded = Schema.decodeUnknownSync(RejectFormat.CsvRecord)(Schema.encodeSync(RejectFormat.CsvRecord)(local))
    expect(decoded).toEqual(local)
    expect("jobId" in decoded).toBe(false)
  })

  it("csvRecordOf reads a row as the schema does, and lets the schema say what is wrong", () => {
    const record = rejected(3, { sfId: "003xx000004TmiQAAS", stream: { name: "contacts", namespace: "crm" } })
    const { jobId: _jobId, syncId: _syncId, ...local } = record
    const withSource = { ...local, rowForm: "source" as const, sourceValues: { tags: ["a", "b"], at: 1700000000000, none: null } }
    for (const sample of [record, local, withSource]) {
      const row = Schema.encodeSync(RejectFormat.CsvRecord)(sample)
      expect(RejectFormat.csvRecordOf(row)).toEqual(Either.right(Schema.decodeUnknownSync(RejectFormat.CsvRecord)(row)))
    }
    const row = Schema.encodeSync(RejectFormat.CsvRecord)(record)
    const odd = { ...row, record: '{"__proto__":"x","Email":"a@example.com"}' }
    expect(RejectFormat.csvRecordOf(odd)).toEqual(Schema.decodeUnknownEither(RejectFormat.CsvRecord)(odd))
    const brokenRows = [
      { ...row, record: "{not json" },
      { ...row, record: '{"Email":1}' },
      { ...row, object: undefined },
      { ...row, row_form: "sideways" },
      { ...row, source_values: "{not json" },
      { ...row, source_values: "[1]" }
    ]
    for (const broken of brokenRows) {
      const decoded = RejectFormat.csvRecordOf(broken)
      expect(Either.isLeft(decoded)).toBe(true)
      expect(Either.getLeft(decoded)).toEqual(Either.getLeft(Schema.decodeUnknownEither(RejectFormat.CsvRecord)(broken)))
    }
  })

  it("names objects by format and compression", () => {
    expect(RejectFormat.extension("csv", "gzip")).toBe(".csv.gz")
    expect(RejectFormat.fromName("a/b_1.jsonl")).toEqual({ format: "jsonl", compression: "none" })
    expect(RejectFormat.fromName("a/_probe/x")).toBeUndefined()
  })
})
