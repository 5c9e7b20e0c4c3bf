import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { contactsUpsert, loopbackOrg, runCli, workspace } from "./support.js"

// An org whose connected app rotates the refresh token at every refresh-token grant.
const { org, url } = loopbackOrg({ faults: { processingDelayMs: 0, rotateRefreshToken: true } })

const sync = () => contactsUpsert({ org: url(), source: "  type: file\n  path: contacts.jsonl" })
const loaded = () => org.storedRecords("Contact").filter((contact) => String(contact["External_Id__c"]).startsWith("RT-"))

describe("SALESFORCE_REFRESH_TOKEN_FILE", () => {
  it.live("reads the refresh token from the file and saves each rotated one back, so the next run logs in", () =>
    Effect.gen(function* () {
      const root = yield* workspace({ "c.yaml": sync() }, { "contacts.jsonl": '{"key":"RT-1","last":"One"}\n', "secrets/token": `${org.credentials.refreshToken}\n` })
      const env = { SALESFORCE_CLIENT_ID: org.credentials.clientId, SALESFORCE_CLIENT_SECRET: org.credentials.clientSecret, SALESFORCE_REFRESH_TOKEN_FILE: "secrets/token" }
      const tokens = [org.credentials.refreshToken]
      for (const key of ["RT-1", "RT-2"]) {
        writeFileSync(path.join(root, "contacts.jsonl"), `${JSON.stringify({ key, last: "Rotated" })}\n`)
        const result = yield* runCli(["sync"], { cwd: root, env })
        expect(result.code).toBe(0)
        // the org rotated the token the run used: the file holds the one now in force
        const saved = readFileSync(path.join(root, "secrets/token"), "utf8")
        expect(saved).toBe(`${org.credentials.refreshToken}\n`)
        expect(tokens).not.toContain(org.credentials.refreshToken)
        tokens.push(org.credentials.refreshToken)
        expect(statSync(path.join(root, "secrets/token")).mode & 0o777).toBe(0o600)
        expect(result.stderr).toContain(`saved the rotated refresh token to ${path.join(root, "secrets/token")}`)
        for (const token of tokens) expect(`${result.stdout}${result.stderr}`).not.toContain(token)
      }
      expect(loaded().map((contact) => contact["External_Id__c"]).sort()).toEqual(["RT-1", "RT-2"])
      // written under names of their own, renamed into place: nothing left beside it
      expect(readdirSync(path.join(root, "secrets"))).toEqual(["token"])
    })
  )

  it.live("is a configuration error when missing, empty, or set beside SALESFORCE_REFRESH_TOKEN, naming the file", () =>
    Effect.gen(function* () {
      const root = yield* workspace({ "c.yaml": sync() }, { "contacts.jsonl": '{"key":"RT-X","last":"Never"}\n', "empty": "\n" })
      const base = { SALESFORCE_CLIENT_ID: org.credentials.clientId, SALESFORCE_CLIENT_SECRET: org.credentials.clientSecret }
      const missing = yield* runCli(["sync"], { cwd: root, env: { ...base, SALESFORCE_REFRESH_TOKEN_FILE: "nowhere" } })
      expect(missing.code).toBe(2)
      expect(missing.stdout).toContain(`cannot read SALESFORCE_REFRESH_TOKEN_FILE ${path.join(root, "nowhere")}: ENOENT`)
      const empty = yield* runCli(["sync"], { cwd: root, env: { ...base, SALESFORCE_REFRESH_TOKEN_FILE: "empty" } })
      expect(empty.stdout).toContain(`SALESFORCE_REFRESH_TOKEN_FILE ${path.join(root, "empty")} is empty: put the refresh token in it`)
      const both = yield* runCli(["sync"], { cwd: root, env: { ...base, SALESFORCE_REFRESH_TOKEN_FILE: "empty", SALESFORCE_REFRESH_TOKEN: "token-as-well" } })
      expect(both.stdout).toContain("set SALESFORCE_REFRESH_TOKEN or SALESFORCE_REFRESH_TOKEN_FILE, not both")
      expect(loaded().filter((contact) => contact["External_Id__c"] === "RT-X")).toEqual([])
    })
  )
})
