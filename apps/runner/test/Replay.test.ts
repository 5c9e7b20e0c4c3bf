import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { readdirSync, readFileSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { contactsUpsert, loopbackOrg, runCli, workspace } from "./support.js"

const { org, url, env } = loopbackOrg({ faults: { processingDelayMs: 0 } })

const SavedStates = Schema.parseJson(
  Schema.Array(Schema.Struct({ stream: Schema.Struct({ stream_descriptor: Schema.Struct({ name: Schema.String }), stream_state: Schema.Struct({ cursor: Schema.Number }) }) }))
)

const sync = (name: string, object: string, file: string, mappings: string, extra = "") => `name: ${name}
org: ${url()}
source:
  type: file
  path: ${file}
  format: jsonl
object: ${object}
operation: upsert
externalIdField: External_Id__c
mappings:
${mappings}rejects:
  type: local
  directory: .rejects
${extra}`

describe("replay", () => {
  it.live("resubmits rows Salesforce refused, as they were sent, once the org is fixed", () =>
    Effect.gen(function* () {
      const root = yield* workspace(
        {
          "accounts.yaml": sync("accounts", "Account", "accounts.jsonl", "  External_Id__c: key\n  Name: name\n"),
          "contacts.yaml": sync("contacts", "Contact", "contacts.jsonl", "  External_Id__c: key\n  LastName: last\n  Account.External_Id__c: account\n")
        },
        {
          "accounts.jsonl": "",
          "contacts.jsonl": '{"key":"RP-1","last":"Early","account":"ACC-LATE"}\n{"key":"RP-2","last":"Fine","account":null}\n'
        }
      )
      const first = yield* runCli(["sync", "--sync", "contacts"], { cwd: root, env: env() })
      expect(first.stdout).toContain("INVALID_FIELD")
      const runDir = readdirSync(path.join(root, ".rejects"))[0] ?? ""
      expect(org.storedRecords("Contact").filter((contact) => contact["External_Id__c"] === "RP-1")).toHaveLength(0)

      // The fix: the missing parent arrives.
      writeFileSync(path.join(root, "accounts.jsonl"), '{"key":"ACC-LATE","name":"Late Industries"}\n')
      const accounts = yield* runCli(["sync", "--sync", "accounts"], { cwd: root, env: env() })
      expect(accounts.code).toBe(0)

      const replayed = yield* runCli(["replay", "--from", `.rejects/${runDir}`], { cwd: root, env: env() })
      expect(replayed.code).toBe(0)
      const late = org.storedRecords("Account").find((account) => account["External_Id__c"] === "ACC-LATE")
      const contact = org.storedRecords("Contact").find((record) => record["External_Id__c"] === "RP-1")
      expect(contact).toMatchObject({ LastName: "Early", AccountId: late?.["Id"] })
      expect(org.storedRecords("Contact").filter((record) => record["External_Id__c"] === "RP-1")).toHaveLength(1)
    })
  )
})

describe("airbyte source state", () => {
  const streamState = (name: string, cursor: number) =>
    JSON.stringify({ type: "STATE", state: { type: "STREAM", stream: { stream_descriptor: { name }, stream_state: { cursor } } } })
  const streamRecord = (stream: string, key: string) => JSON.stringify({ type: "RECORD", record: { stream, emitted_at: 1, data: { key, last: key } } })
  const airbyteSync = (name: string, input: string, stream?: string) =>
    contactsUpsert({ name, org: url(), source: `  type: airbyte\n${input}\n${stream === undefined ? "" : `  stream: ${stream}\n`}  stateFile: state.json` })
  const savedStreams = (root: string) =>
    Schema.decodeUnknownSync(SavedStates)(readFileSync(path.join(root, "state.json"), "utf8")).map((state) => state.stream.stream_descriptor.name)

  it.live("writes the source's merged STATE to stateFile once the records before it are settled", () =>
    Effect.gen(function* () {
      const state = (name: string, cursor: string) =>
        `{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"${name}"},"stream_state":{"cursor":${cursor}}}}}`
      const record = (key: string, last: string) => JSON.stringify({ type: "RECORD", record: { stream: "people", emitted_at: 1, data: { key, last } } })
      const messages = [record("ST-1", "One"), state("people", "1"), state("other", '"x"'), record("ST-2", "Two"), state("people", "12345678901234567890")]
      const root = yield* workspace(
        {
          "people.yaml": contactsUpsert({
            name: "people",
            org: url(),
            source: "  type: airbyte\n  file: messages.jsonl\n  stream: people\n  stateFile: state/people.json"
          })
        },
        { "messages.jsonl": `${messages.join("\n")}\n` }
      )
      const result = yield* runCli(["sync"], { cwd: root, env: env() })
      expect(result.code).toBe(0)
      const saved = readFileSync(path.join(root, "state/people.json"), "utf8")
      expect(saved).toContain('"cursor":12345678901234567890')
      // only the synced stream's state: the records of "other" were not sent
      expect(JSON.parse(saved.replace(/12345678901234567890/, "0"))).toEqual([
        { type: "STREAM", stream: { stream_descriptor: { name: "people" }, stream_state: { cursor: 0 } } }
      ])
      expect(org.storedRecords("Contact").filter((contact) => String(contact["External_Id__c"]).startsWith("ST-"))).toHaveLength(2)
    })
  )

  it.live("a sync of one stream does not checkpoint the streams whose records it dropped", () =>
    Effect.gen(function* () {
      // A connector resuming from state.json: each stream's records past its cursor, then its state.
      const connector = `
const fs = require("fs")
const cursors = {}
try { for (const s of JSON.parse(fs.readFileSync("state.json", "utf8"))) cursors[s.stream.stream_descriptor.name] = s.stream.stream_state.cursor } catch {}
for (const stream of ["users", "orders"]) {
  for (let i = (cursors[stream] ?? 0) + 1; i <= 2; i++) console.log(JSON.stringify({ type: "RECORD", record: { stream, emitted_at: 1, data: { key: "SF2-" + stream + "-" + i, last: "x" } } }))
  console.log(JSON.stringify({ type: "STATE", state: { type: "STREAM", stream: { stream_descriptor: { name: stream }, stream_state: { cursor: 2 } } } }))
}`
      const command = `  command: [${JSON.stringify(process.execPath)}, "-e", ${JSON.stringify(connector)}]`
      const root = yield* workspace({ "1-users.yaml": airbyteSync("users", command, "users"), "2-orders.yaml": airbyteSync("orders", command, "orders") })
      const result = yield* runCli(["sync"], { cwd: root, env: env() })
      expect(result.code).toBe(0)
      const stored = (prefix: string) => org.storedRecords("Contact").filter((contact) => String(contact["External_Id__c"]).startsWith(prefix))
      expect(stored("SF2-users-")).toHaveLength(2)
      expect(stored("SF2-orders-")).toHaveLength(2)
      expect(savedStreams(root)).toEqual(["users", "orders"])
    })
  )

  it.live("keeps the states an earlier run saved for streams a later run does not checkpoint", () =>
    Effect.gen(function* () {
      const root = yield* workspace(
        { "a.yaml": airbyteSync("a", "  file: m.jsonl") },
        { "m.jsonl": `${[streamRecord("users", "SF1-1"), streamState("users", 1), streamRecord("orders", "SF1-2"), streamState("orders", 7)].join("\n")}\n` }
      )
      expect((yield* runCli(["sync"], { cwd: root, env: env() })).code).toBe(0)
      expect(savedStreams(root)).toEqual(["users", "orders"])
      // The next run has news for users only, and fails before any orders state.
      writeFileSync(path.join(root, "m.jsonl"), `${[streamRecord("users", "SF1-3"), streamState("users", 2), "{broken"].join("\n")}\n`)
      expect((yield* runCli(["sync"], { cwd: root, env: env() })).code).toBe(1)
      const saved = Schema.decodeUnknownSync(SavedStates)(readFileSync(path.join(root, "state.json"), "utf8"))
      expect(saved.map((state) => [state.stream.stream_descriptor.name, state.stream.stream_state.cursor])).toEqual([["users", 2], ["orders", 7]])
    })
  )

  it.live("a malformed state file fails the sync naming the file", () =>
    Effect.gen(function* () {
      const root = yield* workspace(
        { "a.yaml": airbyteSync("a", "  file: m.jsonl") },
        { "m.jsonl": `${[streamRecord("users", "SF3-1"), streamState("users", 1)].join("\n")}\n`, "state.json": "[{not json" }
      )
      const result = yield* runCli(["sync"], { cwd: root, env: env() })
      expect(result.code).toBe(1)
      expect(result.stdout).toContain(`cannot read the state file ${path.join(root, "state.json")}`)
      expect(readFileSync(path.join(root, "state.json"), "utf8")).toBe("[{not json")
    })
  )
})
