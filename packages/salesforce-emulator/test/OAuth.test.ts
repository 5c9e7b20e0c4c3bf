import { describe, expect, it } from "@effect/vitest"
import * as crypto from "node:crypto"
import { Org, OrgFixture } from "../src/index.js"
import { api, baseUrl, Client } from "./support.js"

const token = (org: Org.Org, form: Record<string, string>, url = baseUrl, headers: Record<string, string> = {}) =>
  org.handle(
    new Request(`${url}/services/oauth2/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json", ...headers },
      body: new URLSearchParams(form)
    }),
    { instanceUrl: baseUrl }
  )

const refreshForm = (org: Org.Org) => ({
  grant_type: "refresh_token",
  refresh_token: org.credentials.refreshToken,
  client_id: org.credentials.clientId,
  client_secret: org.credentials.clientSecret
})

const { privateKey, publicKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 })
const publicPem = publicKey.export({ type: "spki", format: "pem" }).toString()

const jwt = (claims: Record<string, unknown>, key: crypto.KeyObject = privateKey): string => {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url")
  const body = `${encode({ alg: "RS256" })}.${encode(claims)}`
  return `${body}.${crypto.sign("RSA-SHA256", Buffer.from(body), key).toString("base64url")}`
}

describe("OAuth token endpoint", () => {
  it("grants a refresh_token request with a Salesforce-like token and the emulator's instance_url", async () => {
    const org = Org.make()
    const response = await token(org, refreshForm(org))
    expect(response.status).toBe(200)
    const body = (await response.json()) as Record<string, string>
    expect(body).toMatchObject({ instance_url: baseUrl, token_type: "Bearer", scope: "api refresh_token" })
    expect(body["signature"]).toMatch(/^[\w+/]+=*$/)
    expect(body["access_token"]).toMatch(/^00D\w{12}!AQ[\w.]+$/)
    expect(body["id"]).toMatch(new RegExp(`^${baseUrl}/id/00D\\w{12}/005\\w{15}$`))
    expect(body["refresh_token"]).toBeUndefined()
    const client = new Client(org, body["access_token"])
    expect((await client.call(`${api}/limits`)).status).toBe(200)
  })

  it("accepts the client secret as HTTP Basic", async () => {
    const org = Org.make()
    const { client_id, client_secret, ...form } = refreshForm(org)
    const basic = Buffer.from(`${client_id}:${client_secret}`).toString("base64")
    expect((await token(org, form, baseUrl, { authorization: `Basic ${basic}` })).status).toBe(200)
  })

  it("answers Salesforce's error bodies", async () => {
    const org = Org.make()
    const cases: Array<[Record<string, string>, string, string]> = [
      [{ ...refreshForm(org), refresh_token: "stale" }, "invalid_grant", "expired access/refresh token"],
      [{ ...refreshForm(org), client_id: "other" }, "invalid_client_id", "client identifier invalid"],
      [{ ...refreshForm(org), client_secret: "wrong" }, "invalid_client", "invalid client credentials"],
      [{ grant_type: "password" }, "unsupported_grant_type", "grant type not supported"]
    ]
    for (const [form, error, description] of cases) {
      const response = await token(org, form)
      expect(response.status).toBe(400)
      const body = await response.json()
      expect(body).toEqual({ error, error_description: description })
      expect(JSON.stringify(body)).not.toContain(org.credentials.clientSecret)
    }
  })

  it("rotates refresh tokens when configured: the old one dies, credentials show the new one", async () => {
    const org = Org.make({ faults: { rotateRefreshToken: true } })
    const first = refreshForm(org)
    const body = (await (await token(org, first)).json()) as Record<string, string>
    expect(body["refresh_token"]).toBeDefined()
    expect(body["refresh_token"]).not.toBe(first.refresh_token)
    expect(org.credentials.refreshToken).toBe(body["refresh_token"])
    expect(((await (await token(org, first)).json()) as Record<string, string>)["error"]).toBe("invalid_grant")
    expect((await token(org, refreshForm(org))).status).toBe(200)
  })

  it("grants client_credentials on a My Domain host only", async () => {
    const org = Org.make()
    const form = { grant_type: "client_credentials", client_id: org.credentials.clientId, client_secret: org.credentials.clientSecret }
    expect((await token(org, form)).status).toBe(200)
    const login = await token(org, form, "https://login.salesforce.com")
    expect(await login.json()).toEqual({ error: "invalid_grant", error_description: "request not supported on this domain" })
  })

  it("grants JWT bearer assertions signed with the fixture's key, checking iss, sub, aud and exp", async () => {
    const org = Org.make({ fixture: { ...OrgFixture.defaultFixture, jwtPublicKey: publicPem } })
    const now = Math.floor(Date.now() / 1000)
    const claims = { iss: org.credentials.clientId, sub: org.credentials.username, aud: "https://login.salesforce.com", exp: now + 120 }
    const grant = (assertion: string) => token(org, { grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer", assertion })
    expect((await grant(jwt(claims))).status).toBe(200)
    const errorOf = async (assertion: string) => ((await (await grant(assertion)).json()) as Record<string, string>)["error_description"]
    const otherKey = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey
    expect(await errorOf(jwt(claims, otherKey))).toBe("invalid assertion")
    expect(await errorOf(jwt({ ...claims, iss: "someone" }))).toBe("client identifier invalid")
    expect(await errorOf(jwt({ ...claims, sub: "nobody@example.com" }))).toBe("user hasn't approved this consumer")
    expect(await errorOf(jwt({ ...claims, aud: "https://example.com" }))).toBe("audience is invalid")
    expect(await errorOf(jwt({ ...claims, exp: now - 60 }))).toBe("expired authorization code")
    expect(await errorOf(jwt({ ...claims, exp: now + 3600 }))).toBe("invalid assertion")
  })

  it("rejects API calls without a valid session with 401 INVALID_SESSION_ID", async () => {
    const org = Org.make()
    const response = await new Client(org, "00D000000000000!bogus").call(`${api}/limits`)
    expect(response.status).toBe(401)
    expect(await response.json()).toEqual([{ message: "Session expired or invalid", errorCode: "INVALID_SESSION_ID" }])
  })

  it("ends every session on expireSessions, and lists live tokens", async () => {
    const org = Org.make()
    const issued = org.issueAccessToken()
    expect(org.activeAccessTokens()).toEqual([issued])
    expect((await new Client(org, issued).call(`${api}/limits`)).status).toBe(200)
    org.expireSessions()
    expect(org.activeAccessTokens()).toEqual([])
    const expired = await new Client(org, issued).call(`${api}/limits`)
    expect(expired.status).toBe(401)
    expect(await expired.json()).toEqual([{ message: "Session expired or invalid", errorCode: "INVALID_SESSION_ID" }])
  })
})
