import { describe, expect, it } from "@effect/vitest"
import jsforce from "jsforce"
import { EmulatorServer, Org } from "../src/index.js"

describe("a real client (jsforce 3.10.16)", () => {
  it("logs in with a refresh token and loads with bulk2.loadAndWaitForResults", async () => {
    const org = Org.make({ faults: { processingDelayMs: 10 } })
    const server = await EmulatorServer.start(org)
    try {
      const { clientId, clientSecret, refreshToken } = org.credentials
      const oauth2 = new jsforce.OAuth2({ loginUrl: server.url, clientId, clientSecret, redirectUri: `${server.url}/callback` })
      const token = await oauth2.refreshToken(refreshToken)
      expect(token.instance_url).toBe(server.url)
      const connection = new jsforce.Connection({ instanceUrl: token.instance_url, accessToken: token.access_token, version: "62.0" })
      const results = await connection.bulk2.loadAndWaitForResults({
        object: "Contact",
        operation: "upsert",
        externalIdFieldName: "External_Id__c",
        input: "External_Id__c,LastName,Email\nC-0001,Hopper,grace@example.com\nJ-1,Doe,john@example.com\nJ-2,,nobody@example.com\n",
        pollInterval: 20,
        pollTimeout: 20_000
      })
      const field = (row: object, name: string): unknown => Object.getOwnPropertyDescriptor(row, name)?.value
      expect(results.successfulResults.map((row) => [field(row, "External_Id__c"), row.sf__Created]).sort()).toEqual([
        ["C-0001", "false"],
        ["J-1", "true"]
      ])
      expect(results.failedResults.map((row) => row.sf__Error)).toEqual(["REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --"])
      expect(results.unprocessedRecords).toEqual([])
      expect(org.storedRecords("Contact").map((record) => record["LastName"]).sort()).toEqual(["Doe", "Hopper"])
    } finally {
      await server.close()
    }
  })
})
