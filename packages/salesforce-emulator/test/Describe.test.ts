import { describe, expect, it } from "@effect/vitest"
import { Org } from "../src/index.js"
import { api, Client } from "./support.js"

interface FieldJson {
  readonly name: string
  readonly [key: string]: unknown
}

describe("describe", () => {
  it("lists the default objects in describe global", async () => {
    const client = new Client(Org.make())
    const body = (await client.json(`${api}/sobjects/`)) as { encoding: string; sobjects: Array<{ name: string; custom: boolean; keyPrefix: string }> }
    expect(body.encoding).toBe("UTF-8")
    expect(body.sobjects.map((sobject) => sobject.name).sort()).toEqual(["Account", "Case", "Contact", "Lead", "Opportunity", "Product_Usage__c", "User"])
    expect(body.sobjects.find((sobject) => sobject.name === "Product_Usage__c")).toMatchObject({ custom: true, keyPrefix: "a0U" })
  })

  it("describes fields as a real org types them", async () => {
    const client = new Client(Org.make())
    const body = (await client.json(`${api}/sobjects/Opportunity/describe/`)) as { name: string; fields: Array<FieldJson>; createable: boolean }
    const field = (name: string) => body.fields.find((candidate) => candidate.name === name)
    expect(body).toMatchObject({ name: "Opportunity", createable: true, keyPrefix: "006" })
    expect(field("StageName")).toMatchObject({ type: "picklist", restrictedPicklist: true, nillable: false, createable: true, defaultedOnCreate: false })
    expect(field("CloseDate")).toMatchObject({ type: "date", soapType: "xsd:date", nillable: false })
    expect(field("Amount")).toMatchObject({ type: "currency", precision: 18, scale: 2 })
    expect(field("ExpectedRevenue")).toMatchObject({ calculated: true, createable: false, updateable: false })
    expect(field("Id")).toMatchObject({ type: "id", idLookup: true, createable: false, length: 18 })
    expect(field("AccountId")).toMatchObject({ type: "reference", referenceTo: ["Account"], relationshipName: "Account" })
    const stage = field("StageName")?.["picklistValues"]
    expect(stage).toContainEqual({ value: "Closed Won", label: "Closed Won", active: true, defaultValue: false, validFor: null })
    const contact = (await client.json(`${api}/sobjects/Contact/describe`)) as { fields: Array<FieldJson> }
    expect(contact.fields.find((candidate) => candidate.name === "External_Id__c")).toMatchObject({ externalId: true, unique: true, idLookup: true, custom: true })
    const caseBody = (await client.json(`${api}/sobjects/Case/describe`)) as { fields: Array<FieldJson> }
    expect(caseBody.fields.find((candidate) => candidate.name === "CaseNumber")).toMatchObject({ autoNumber: true, createable: false })
  })

  it("answers 304 to If-Modified-Since at or after the metadata date, and 404 for unknown objects", async () => {
    const client = new Client(Org.make())
    const later = await client.call(`${api}/sobjects/Account/describe`, { headers: { "if-modified-since": "Sat, 01 Jun 2024 00:00:00 GMT" } })
    expect(later.status).toBe(304)
    const global = await client.call(`${api}/sobjects`, { headers: { "if-modified-since": "Mon, 01 Jul 2024 00:00:00 GMT" } })
    expect(global.status).toBe(304)
    const earlier = await client.call(`${api}/sobjects/Account/describe`, { headers: { "if-modified-since": "Wed, 01 May 2024 00:00:00 GMT" } })
    expect(earlier.status).toBe(200)
    expect(earlier.headers.get("last-modified")).toBe("Sat, 01 Jun 2024 00:00:00 GMT")
    expect((await client.call(`${api}/sobjects/Nope__c/describe`)).status).toBe(404)
  })

  it("serves the token's identity URL and the fixture through the admin API", async () => {
    const org = Org.make()
    const token = (await (
      await org.handle(
        new Request("https://emulator.my.salesforce.com/services/oauth2/token", {
          method: "POST",
          body: new URLSearchParams({ grant_type: "client_credentials", client_id: org.credentials.clientId, client_secret: org.credentials.clientSecret })
        })
      )
    ).json()) as { id: string; access_token: string }
    const identity = await new Client(org, token.access_token).json(new URL(token.id).pathname)
    expect(identity).toMatchObject({ username: "integration@emulator.local", active: true, organization_id: "00D5g000004emuL" })
    const fixture = (await (await org.handle(new Request("https://emulator.my.salesforce.com/__emulator/fixture"))).json()) as { sobjects: Array<unknown> }
    expect(fixture.sobjects).toHaveLength(7)
  })

  it("serves other API versions", async () => {
    const client = new Client(Org.make())
    const job = (await client.json("/services/data/v58.0/jobs/ingest", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ object: "Account", operation: "insert" })
    })) as { apiVersion: number; contentUrl: string }
    expect(job.apiVersion).toBe(58)
    expect(job.contentUrl).toMatch(/^services\/data\/v58\.0\/jobs\/ingest\/750\w{15}\/batches$/)
  })
})
