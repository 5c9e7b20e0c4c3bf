/**
 * Hostile and broken input: each gets a clear error naming the place, and what was accepted
 * before it is kept (stored, or rejected with a reason). Plus a property test: random records
 * through the encoder into the emulated org, every accepted value read back unchanged.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as FastCheck from "effect/FastCheck"
import {
  checkInvariant,
  configuredStream,
  connectorConfig,
  jsonFile,
  recordLine,
  rejectsIn,
  reliabilitySuite,
  runConnector,
  s3Storage,
  stateLine,
  traceError
} from "./harness.js"

const { org, s3 } = reliabilitySuite()

const fields = ["External_Id__c", "LastName", "Title", "Description", "Birthdate", "DoNotCall", "Last_Engaged_At__c"]
const catalog = { streams: [configuredStream("people", "append_dedup", fields, { primary_key: [["External_Id__c"]] })] }
const storedIds = () => new Set(org.storedRecords("Contact").map((contact) => String(contact["External_Id__c"])))
const byId = (id: string) => org.storedRecords("Contact").find((contact) => contact["External_Id__c"] === id)

const write = (lines: ReadonlyArray<string>, overrides: Record<string, unknown> = {}) =>
  Effect.gen(function* () {
    const storage = s3Storage(s3())
    const config = jsonFile(connectorConfig({ object_storage_config: storage, batch_size_mb: 0.002, ...overrides }))
    const output = yield* runConnector(["write", "--config", config, "--catalog", jsonFile(catalog)], lines, storedIds)
    const rejects = yield* rejectsIn(s3(), storage.bucket_path)
    return { output, rejects, error: traceError(output) }
  })

/** Two good records and their state, then `bad` as line 4. */
const afterGood = (bad: string) => [
  recordLine("people", { External_Id__c: "OK-1", LastName: "First" }),
  recordLine("people", { External_Id__c: "OK-2", LastName: "Second" }),
  stateLine("people", 1),
  bad,
  recordLine("people", { External_Id__c: "LATE-1", LastName: "Never acknowledged" }),
  stateLine("people", 3)
]

describe("broken input stops the run, naming the line; what came before is kept", () => {
  const cases: ReadonlyArray<readonly [string, string, ReadonlyArray<string>]> = [
    ["malformed JSON", '{"type":"RECORD","record":{"stream":"people","data":{"LastName":"Bro', ["input line 4"]],
    ["a record for an unknown stream", recordLine("strangers", { LastName: "Who" }), ["UnknownStream", "strangers", "input line 4"]],
    ["a record whose data is not an object", '{"type":"RECORD","record":{"stream":"people","data":[1,2,3],"emitted_at":1}}', ["input line 4"]],
    ["a record whose data is a string", '{"type":"RECORD","record":{"stream":"people","data":"LastName=Smith","emitted_at":1}}', ["input line 4"]],
    ["a line that is not a message", "[]", ["input line 4"]]
  ]
  for (const [name, bad, expected] of cases) {
    it.live(name, () =>
      Effect.gen(function* () {
        const { output, error } = yield* write(afterGood(bad))
        expect(output.code).toBe(1)
        for (const part of expected) expect(error?.message).toContain(part)
        expect(byId("OK-1")).toBeDefined()
        expect(byId("OK-2")).toBeDefined()
        checkInvariant({
          ids: ["OK-1", "OK-2", "BAD", "LATE-1"],
          stored: org.storedRecords("Contact").map((contact) => String(contact["External_Id__c"])),
          rejects: [],
          idOf: () => undefined,
          output
        })
        expect(output.states.map((state) => state.cursor)).toEqual([1])
      }))
  }
})

describe("bad values are rejected with a reason, the run goes on", () => {
  it.live("wrong types, unknown fields, a 10 MB string, odd dates", () =>
    Effect.gen(function* () {
      const huge = "x".repeat(10 * 1024 * 1024)
      const lines = [
        recordLine("people", { External_Id__c: "T-BOOL", LastName: "Bool", DoNotCall: "perhaps" }),
        recordLine("people", { External_Id__c: "T-DATE", LastName: "Date", Birthdate: "31/12/1999" }),
        recordLine("people", { External_Id__c: "T-DATE2", LastName: "Date2", Birthdate: "1999-02-30" }),
        recordLine("people", { External_Id__c: "T-DT", LastName: "DateTime", Last_Engaged_At__c: "yesterday at noon" }),
        recordLine("people", { External_Id__c: "T-OBJ", LastName: { first: "not", last: "a string" } }),
        recordLine("people", { External_Id__c: "T-HUGE", LastName: "Huge", Description: huge }),
        recordLine("people", { External_Id__c: "T-NUM", LastName: "Number", Title: 9007199254740991 }),
        recordLine("people", { External_Id__c: "T-EXTRA", LastName: "Extra", No_Such_Field__c: "ignored", Nested: { a: 1 } }),
        recordLine("people", { External_Id__c: "T-OK", LastName: "Fine", Birthdate: "2001-09-09", Last_Engaged_At__c: "2024-02-29T23:59:59.999+05:30" }),
        stateLine("people", 8)
      ]
      const { output, rejects, error } = yield* write(lines, { batch_size_mb: 12 })
      expect(error?.message).toBeUndefined()
      expect(output.code).toBe(0)
      const reasonOf = (id: string) => rejects.find((reject) => reject.row["External_Id__c"] === id)
      for (const id of ["T-BOOL", "T-DATE", "T-DATE2", "T-DT", "T-HUGE"]) {
        expect(reasonOf(id)?.message, id).toMatch(/\S/)
        expect(byId(id), id).toBeUndefined()
      }
      // A field too long names the field; the 10 MB value is not echoed into the reason.
      expect(reasonOf("T-HUGE")?.fields).toContain("Description")
      expect(reasonOf("T-HUGE")?.message.length).toBeLessThan(1_000)
      expect(reasonOf("T-DATE")?.fields).toContain("Birthdate")
      // A number where text belongs is sent as its digits (2^53 - 1, exactly).
      expect(byId("T-NUM")?.["Title"]).toBe("9007199254740991")
      expect(byId("T-EXTRA")).toBeDefined()
      expect(byId("T-OK")).toMatchObject({ Birthdate: "2001-09-09" })
      // An object where a string belongs: stored as its JSON text or rejected, never lost.
      expect(byId("T-OBJ") !== undefined || reasonOf("T-OBJ") !== undefined).toBe(true)
      expect(output.states.map((state) => state.cursor)).toEqual([8])
    }), 60_000)

  it.live("quotes, commas, CR, LF, tabs, emoji and right-to-left text round-trip; NUL is refused or kept, never corrupts", () =>
    Effect.gen(function* () {
      const values: Record<string, string> = {
        "S-QUOTE": 'He said "hi", then \'bye\'',
        "S-COMMA": "a,b,,c,",
        "S-CRLF": "line one\r\nline two\rthree\nfour",
        "S-TAB": "col\tcol\t",
        "S-EMOJI": "🚀 launch 👩‍👩‍👧 family",
        "S-RTL": "مرحبا بالعالم שלום",
        "S-LEAD": "  padded  "
      }
      const lines = [
        ...Object.entries(values).map(([id, value]) => recordLine("people", { External_Id__c: id, LastName: "Chars", Description: value })),
        recordLine("people", { External_Id__c: "S-NUL", LastName: "Nul", Description: "before\u0000after" }),
        stateLine("people", 8)
      ]
      const { output, rejects, error } = yield* write(lines)
      expect(error?.message).toBeUndefined()
      expect(output.code).toBe(0)
      for (const [id, value] of Object.entries(values)) expect(byId(id)?.["Description"], id).toBe(value)
      const nul = byId("S-NUL")
      const nulReject = rejects.find((reject) => reject.row["External_Id__c"] === "S-NUL")
      expect(nul !== undefined || nulReject !== undefined).toBe(true)
      if (nul !== undefined) expect(String(nul["Description"]).startsWith("before")).toBe(true)
    }))
})

describe("configuration errors name the field and never echo a secret", () => {
  it.live("a plain-http login URL to a non-loopback host is refused before any credential is sent", () =>
    Effect.gen(function* () {
      const { output, error } = yield* write([stateLine("people", 0)], { login_url: "http://evil.example.com" })
      expect(output.code).toBe(1)
      expect(error?.message).toContain("https://")
      expect(error?.failure_type).toBe("config_error")
      expect(org.stats().calls.token).toBe(0)
    }))

  it.live("a login URL that is not a URL, or carries credentials, is refused", () =>
    Effect.gen(function* () {
      const notUrl = yield* write([], { login_url: "not a url" })
      expect(notUrl.error?.message).toContain("is not a URL")
      const withUser = yield* write([], { login_url: "https://user:pass@acme.my.salesforce.com" })
      expect(withUser.error?.message).toContain("must not carry credentials")
      expect(withUser.output.lines.join("\n")).not.toContain("pass@")
    }))

  it.live("missing secrets name the fields", () =>
    Effect.gen(function* () {
      const config = jsonFile({ client_id: "x", is_sandbox: false, auth_type: "Client" })
      const output = yield* runConnector(["write", "--config", config, "--catalog", jsonFile(catalog)], [])
      const error = traceError(output)
      expect(output.code).toBe(1)
      expect(error?.failure_type).toBe("config_error")
      expect(error?.message).toContain("client_secret")
      expect(error?.message).toContain("refresh_token")
    }))

  it.live("a config that is not JSON names the file", () =>
    Effect.gen(function* () {
      const file = jsonFile({})
      const { writeFileSync } = yield* Effect.promise(() => import("node:fs"))
      writeFileSync(file, "{ client_id: nope")
      const output = yield* runConnector(["discover", "--config", file], [])
      expect(traceError(output)?.message).toContain(file)
      expect(traceError(output)?.message).toContain("not valid JSON")
    }))
})

/** Text of every kind a warehouse may hold: quotes, separators, line breaks, astral and RTL characters. */
const awkwardText = FastCheck.stringOf(
  FastCheck.oneof(
    FastCheck.constantFrom('"', ",", "\n", "\r", "\r\n", "\t", " ", "'", "\\", "#N/", "🚀", "👩‍👩‍👧", "ש", "م", "\u200f", "é", "ß", "中"),
    FastCheck.string({ unit: "grapheme", maxLength: 4 })
  ),
  { maxLength: 30 }
)

describe("property: random records round-trip through encoder → Salesforce", () => {
  it.live("every accepted value is stored exactly as sent; every refused record is in the rejects", () =>
    Effect.gen(function* () {
      const samples = FastCheck.sample(
        FastCheck.record({
          lastName: awkwardText,
          title: FastCheck.option(awkwardText, { nil: null }),
          description: awkwardText,
          doNotCall: FastCheck.boolean(),
          birthdate: FastCheck.option(FastCheck.date({ min: new Date("1900-01-01T00:00:00Z"), max: new Date("2099-12-31T00:00:00Z"), noInvalidDate: true }), { nil: null })
        }),
        { numRuns: 150, seed: 20_240_601 }
      )
      const lines = samples.map((sample, index) =>
        recordLine("people", {
          External_Id__c: `P-${index}`,
          LastName: sample.lastName,
          Title: sample.title,
          Description: sample.description,
          DoNotCall: sample.doNotCall,
          Birthdate: sample.birthdate === null ? null : sample.birthdate.toISOString().slice(0, 10)
        })
      )
      const { output, rejects, error } = yield* write([...lines, stateLine("people", samples.length - 1)])
      expect(error?.message).toBeUndefined()
      const rejected = new Set(rejects.map((reject) => reject.row["External_Id__c"]))
      let accepted = 0
      samples.forEach((sample, index) => {
        const id = `P-${index}`
        const stored = byId(id)
        if (rejected.has(id)) {
          expect(stored, id).toBeUndefined()
          return
        }
        accepted++
        expect(stored, `${id} neither stored nor rejected`).toBeDefined()
        expect(stored?.["LastName"], id).toBe(sample.lastName)
        expect(stored?.["Description"] ?? "", id).toBe(sample.description)
        expect(stored?.["Title"] ?? null, id).toBe(sample.title === "" ? null : sample.title)
        expect(stored?.["DoNotCall"], id).toBe(sample.doNotCall)
        expect(stored?.["Birthdate"] ?? null, id).toBe(sample.birthdate === null ? null : sample.birthdate.toISOString().slice(0, 10))
      })
      // Only blank last names (required) may be refused; everything else must get through.
      for (const reject of rejects) expect(reject.statusCode).toBe("REQUIRED_FIELD_MISSING")
      expect(accepted).toBeGreaterThan(100)
      expect(output.states.map((state) => state.cursor)).toEqual([samples.length - 1])
    }), 60_000)
})
