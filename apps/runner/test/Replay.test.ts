import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { readdirSync, readFileSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { loopbackOrg, runCli, workspace } from "./support.js"

const { org, url, env } = loopbackOrg({ faults: { processingDelayMs: 0 } })

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
  it.live("writes the source's merged STATE to stateFile once the records before it are settled", () =>
    Effect.gen(function* () {
      const state = (name: string, cursor: string) =>
        `{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"${name}"},"stream_state":{"cursor":${cursor}}}}}`
      const record = (key: string, last: string) => JSON.stringify({ type: "RECORD", record: { stream: "people", emitted_at: 1, data: { key, last } } })
      const messages = [record("ST-1", "One"), state("people", "1"), state("other", '"x"'), record("ST-2", "Two"), state("people", "12345678901234567890")]
      const root = yield* workspace(
        {
          "people.yaml": `name: people
org: ${url()}
source:
  type: airbyte
  file: messages.jsonl
  stream: people
  stateFile: state/people.json
object: Contact
operation: upsert
externalIdField: External_Id__c
mappings:
  External_Id__c: key
  LastName: last
`
        },
        { "messages.jsonl": `${messages.join("\n")}\n` }
      )
      const result = yield* runCli(["sync"], { cwd: root, env: env() })
      expect(result.code).toBe(0)
      const saved = readFileSync(path.join(root, "state/people.json"), "utf8")
      expect(saved).toContain('"cursor":12345678901234567890')
      expect(JSON.parse(saved.replace(/12345678901234567890/, "0"))).toEqual([
        { type: "STREAM", stream: { stream_descriptor: { name: "people" }, stream_state: { cursor: 0 } } },
        { type: "STREAM", stream: { stream_descriptor: { name: "other" }, stream_state: { cursor: "x" } } }
      ])
      expect(org.storedRecords("Contact").filter((contact) => String(contact["External_Id__c"]).startsWith("ST-"))).toHaveLength(2)
    })
  )
})
