import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { contactsUpsert, loopbackOrg, runCli, workspace } from "./support.js"

const { org, url } = loopbackOrg({ faults: { processingDelayMs: 0 } })

const loaded = (key: string) => org.storedRecords("Contact").filter((contact) => contact["External_Id__c"] === key)

describe("credentials", () => {
  it.live("read from the environment or written as ${VAR}, they lose the whitespace at their ends (a secret file's newline)", () =>
    Effect.gen(function* () {
      const padded = { SF_ID: ` ${org.credentials.clientId}\n`, SF_SECRET: `${org.credentials.clientSecret}\r\n`, SF_TOKEN: `\t${org.credentials.refreshToken}\n` }
      const fromEnvironment = yield* workspace(
        { "c.yaml": contactsUpsert({ org: url(), source: "  type: file\n  path: contacts.jsonl" }) },
        { "contacts.jsonl": '{"key":"CR-1","last":"Env"}\n' }
      )
      const environment = { SALESFORCE_CLIENT_ID: padded.SF_ID, SALESFORCE_CLIENT_SECRET: padded.SF_SECRET, SALESFORCE_REFRESH_TOKEN: padded.SF_TOKEN }
      const first = yield* runCli(["sync"], { cwd: fromEnvironment, env: environment })
      expect(first.stdout).toContain("1 created")
      expect(first.code).toBe(0)
      expect(loaded("CR-1")).toHaveLength(1)

      const declared = `{ login: "${url()}", credentials: { type: refreshToken, clientId: "\${SF_ID}", clientSecret: "\${SF_SECRET}", refreshToken: "\${SF_TOKEN}" } }`
      const fromDefinition = yield* workspace(
        { "c.yaml": contactsUpsert({ org: declared, source: "  type: file\n  path: contacts.jsonl" }) },
        { "contacts.jsonl": '{"key":"CR-2","last":"Declared"}\n' }
      )
      const second = yield* runCli(["sync"], { cwd: fromDefinition, env: padded })
      expect(second.code).toBe(0)
      expect(loaded("CR-2")).toHaveLength(1)
      expect(`${second.stdout}${second.stderr}`).not.toContain(org.credentials.refreshToken)
    })
  )
})
