import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import type { Emulator } from "../src/Emulator.js"
import * as NullOrg from "../src/NullOrg.js"

const contact = { name: "Contact", fields: [{ name: "LastName" }] }

describe("NullOrg", () => {
  let org: Emulator
  let api: string
  const call = async (method: string, suffix: string, body?: string, contentType = "application/json") => {
    const response = await fetch(`${api}${suffix}`, {
      method,
      headers: { Authorization: "Bearer null-org-token", "Content-Type": contentType },
      ...(body === undefined ? {} : { body })
    })
    const text = await response.text()
    return { status: response.status, body: text.startsWith("{") || text.startsWith("[") ? (JSON.parse(text) as Record<string, unknown>) : text }
  }

  beforeAll(async () => {
    org = await NullOrg.start({ Contact: contact })
    const credentials = await org.credentials()
    const grant = new URLSearchParams({ grant_type: "refresh_token", refresh_token: credentials.refreshToken, client_id: credentials.clientId, client_secret: credentials.clientSecret })
    const token = (await (await fetch(`${org.url}/services/oauth2/token`, { method: "POST", body: grant })).json()) as { instance_url: string }
    api = `${token.instance_url}/services/data/v62.0`
  })
  afterAll(() => org.stop())

  it("serves the describes it was given, and no other", async () => {
    expect(await call("GET", "/sobjects/Contact/describe/")).toEqual({ status: 200, body: contact })
    expect((await call("GET", "/sobjects/Lead/describe/")).status).toBe(404)
  })

  it("counts an upload's rows and completes the job when it is closed, storing nothing", async () => {
    const created = await call("POST", "/jobs/ingest", JSON.stringify({ object: "Contact", operation: "insert", contentType: "CSV" }))
    const id = String(created.body["id" as never])
    expect(created.body).toMatchObject({ state: "Open", object: "Contact", operation: "insert" })
    expect((await call("PUT", `/jobs/ingest/${id}/batches`, "LastName\nLovelace\n\"Hopper, G\"\nTuring", "text/csv")).status).toBe(201)
    expect((await call("PATCH", `/jobs/ingest/${id}`, JSON.stringify({ state: "UploadComplete" }))).body).toMatchObject({ state: "UploadComplete" })
    expect((await call("GET", `/jobs/ingest/${id}`)).body).toMatchObject({ state: "JobComplete", numberRecordsProcessed: 3, numberRecordsFailed: 0 })
    expect((await call("GET", `/jobs/ingest/${id}/failedResults/`)).body).toBe("sf__Id,sf__Error\n")
    expect((await call("GET", `/jobs/ingest/${id}/successfulResults/`)).body).toBe("sf__Id,sf__Created\n")
    expect((await call("GET", "/jobs/ingest/750000000000099AAA")).status).toBe(404)
    const stats = await org.stats()
    expect([stats.records, stats.rowsProcessed, stats.rowsFailed]).toEqual([{ Contact: 3 }, 3, 0])
    expect(stats.calls).toMatchObject({ token: 1, describe: 2, create: 1, upload: 1, close: 1, poll: 1, results: 2, total: 9 })
  })
})
