import { describe, expect, it } from "@effect/vitest"
import { setupServer } from "msw/node"
import { afterAll, beforeAll } from "vitest"
import { handlers, Org } from "../src/index.js"

const baseUrl = "https://acme.my.salesforce.com"
const org = Org.make({ faults: { processingDelayMs: 0 } })
const server = setupServer(...handlers(org, baseUrl, { loginUrls: ["https://login.salesforce.com"] }))

beforeAll(() => server.listen({ onUnhandledRequest: "error" }))
afterAll(() => server.close())

const tokenBody = () =>
  new URLSearchParams({ grant_type: "refresh_token", refresh_token: org.credentials.refreshToken, client_id: org.credentials.clientId, client_secret: org.credentials.clientSecret })

describe("MSW handlers", () => {
  it("serve the token endpoint at the base URL and login hosts, with instance_url = base URL", async () => {
    for (const host of [baseUrl, "https://login.salesforce.com"]) {
      const token = (await (await fetch(`${host}/services/oauth2/token`, { method: "POST", body: tokenBody() })).json()) as Record<string, string>
      expect(token["instance_url"]).toBe(baseUrl)
    }
  })

  it("serve a whole ingest job through fetch", async () => {
    const headers = { authorization: `Bearer ${org.issueAccessToken()}`, "content-type": "application/json" }
    const job = (await (await fetch(`${baseUrl}/services/data/v62.0/jobs/ingest`, { method: "POST", headers, body: JSON.stringify({ object: "Lead", operation: "insert" }) })).json()) as { id: string }
    const upload = await fetch(`${baseUrl}/services/data/v62.0/jobs/ingest/${job.id}/batches`, { method: "PUT", headers: { ...headers, "content-type": "text/csv" }, body: "LastName,Company\nDoe,Acme\n" })
    expect(upload.status).toBe(201)
    await fetch(`${baseUrl}/services/data/v62.0/jobs/ingest/${job.id}`, { method: "PATCH", headers, body: JSON.stringify({ state: "UploadComplete" }) })
    const info = (await (await fetch(`${baseUrl}/services/data/v62.0/jobs/ingest/${job.id}`, { headers })).json()) as { state: string }
    expect(info.state).toBe("JobComplete")
    const results = await fetch(`${baseUrl}/services/data/v62.0/jobs/ingest/${job.id}/successfulResults/`, { headers: { ...headers, "accept-encoding": "gzip" } })
    // sent gzip-encoded; fetch (through MSW as over the network) hands back the decoded body
    expect(results.headers.get("content-encoding")).toBe("gzip")
    const text = await results.text()
    expect(text).toMatch(/^"sf__Id","sf__Created",LastName,Company\n"00Q\w{15}","true",Doe,Acme\n$/)
  })

  it("turn dropped connections into network errors", async () => {
    org.setFaults({ processingDelayMs: 0, dropConnections: [{ call: "limits", every: 1, times: 1 }] })
    const headers = { authorization: `Bearer ${org.issueAccessToken()}` }
    await expect(fetch(`${baseUrl}/services/data/v62.0/limits`, { headers })).rejects.toThrow()
    expect((await fetch(`${baseUrl}/services/data/v62.0/limits`, { headers })).status).toBe(200)
  })
})
