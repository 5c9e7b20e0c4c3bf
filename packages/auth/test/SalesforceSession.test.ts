import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { afterAll, afterEach, beforeAll, describe, expect, it } from "@effect/vitest"
import { handlers, Org, OrgFixture } from "@sfdc-activation/salesforce-emulator"
import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import { http, HttpResponse } from "msw"
import { setupServer } from "msw/node"
import { generateKeyPairSync, type KeyObject } from "node:crypto"
import { inspect } from "node:util"
import { Credentials, SalesforceSession } from "../src/index.js"

const baseUrl = "https://emulator.my.salesforce.com"
const org = Org.make()
const server = setupServer(...handlers(org, baseUrl))

beforeAll(() => server.listen({ onUnhandledRequest: "error" }))
afterEach(() => {
  server.resetHandlers()
  org.reset()
})
afterAll(() => server.close())

const noDelayRetry = Schedule.recurs(3)

const refreshTokenConfig = (overrides: Partial<Omit<Credentials.RefreshToken, "_tag">> = {}): SalesforceSession.SessionConfig => ({
  credentials: Credentials.refreshToken({
    clientId: org.credentials.clientId,
    clientSecret: Redacted.make(org.credentials.clientSecret),
    refreshToken: Redacted.make(org.credentials.refreshToken),
    ...overrides
  }),
  login: { loginUrl: baseUrl },
  tokenRetry: noDelayRetry
})

const sessionLayer = (config: SalesforceSession.SessionConfig) =>
  SalesforceSession.layer(config).pipe(Layer.provide(FetchHttpClient.layer))

const withSession = <A, E>(
  config: SalesforceSession.SessionConfig,
  use: (session: SalesforceSession.SalesforceSessionService) => Effect.Effect<A, E>
) => Effect.flatMap(SalesforceSession.SalesforceSession, use).pipe(Effect.provide(sessionLayer(config)))

const limitsRequest = HttpClientRequest.get("/services/data/v62.0/limits/")

/** Lets in-flight I/O (MSW answers) complete, without touching any clock, until `done` or `rounds` run out. */
const settleUntil = (done: () => boolean, rounds = 200) =>
  Effect.gen(function* () {
    for (let round = 0; round < rounds && !done(); round++) {
      yield* Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))
    }
  })

/** A promise the test settles: an MSW handler awaits it to hold its answer back. */
const gate = () => {
  let open = () => {}
  const opened = new Promise<void>((resolve) => {
    open = resolve
  })
  return { opened, open }
}

/** The `aud` claim of the JWT bearer assertion in a token request's form. */
const assertionClaims = async (request: Request): Promise<Record<string, unknown>> => {
  const assertion = new URLSearchParams(await request.text()).get("assertion") ?? ""
  const claims: unknown = JSON.parse(Buffer.from(assertion.split(".")[1] ?? "", "base64url").toString("utf8"))
  return typeof claims === "object" && claims !== null ? { ...claims } : {}
}

describe("SalesforceSession", () => {
  it.effect("gets a session with a refresh token and sends relative paths to the instance", () =>
    withSession(refreshTokenConfig(), (session) =>
      Effect.gen(function* () {
        const current = yield* session.current
        expect(current.instanceUrl).toBe(baseUrl)
        const response = yield* session.client.execute(limitsRequest)
        expect(response.status).toBe(200)
        const body = yield* response.json
        expect(body).toHaveProperty("DailyApiRequests")
        expect(org.stats().calls.token).toBe(1)
      })
    ))

  it.effect("gets a session with client credentials on a My Domain URL", () =>
    withSession(
      {
        credentials: Credentials.clientCredentials({
          clientId: org.credentials.clientId,
          clientSecret: Redacted.make(org.credentials.clientSecret)
        }),
        login: { loginUrl: baseUrl }
      },
      (session) => Effect.map(session.current, (current) => expect(current.instanceUrl).toBe(baseUrl))
    ))

  it.live("gets a session with a JWT bearer assertion signed by the user's key, and refuses a wrong key", () =>
    Effect.gen(function* () {
      const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 })
      const jwtOrg = Org.make({ fixture: { ...OrgFixture.defaultFixture, jwtPublicKey: publicKey.export({ type: "spki", format: "pem" }).toString() } })
      const jwtUrl = "https://jwt-org.my.salesforce.com"
      server.use(...handlers(jwtOrg, jwtUrl))
      const pem = (key: KeyObject) => Redacted.make(key.export({ type: "pkcs8", format: "pem" }).toString())
      const jwtConfig = (key: KeyObject): SalesforceSession.SessionConfig => ({
        credentials: Credentials.jwtBearer({ clientId: jwtOrg.credentials.clientId, username: jwtOrg.credentials.username, privateKey: pem(key) }),
        login: { loginUrl: jwtUrl },
        tokenRetry: noDelayRetry
      })
      const session = yield* withSession(jwtConfig(privateKey), (service) => service.current)
      expect(session.instanceUrl).toBe(jwtUrl)
      const wrongKey = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey
      const refused = yield* Effect.flip(withSession(jwtConfig(wrongKey), () => Effect.void))
      expect(refused).toMatchObject({ reason: "InvalidGrant" })
      const notAKey = yield* Effect.flip(
        withSession(
          { ...jwtConfig(privateKey), credentials: Credentials.jwtBearer({ clientId: "id", username: "u", privateKey: Redacted.make("not a key") }) },
          () => Effect.void
        )
      )
      expect(notAKey).toMatchObject({ reason: "InvalidPrivateKey" })
      expect(notAKey.message).not.toContain("not a key")
    }))

  it.effect("signs the JWT for test.salesforce.com on a sandbox My Domain or with isSandbox, else login.salesforce.com", () =>
    Effect.gen(function* () {
      const sandboxUrl = "https://acme--uat.sandbox.my.salesforce.com"
      const productionUrl = "https://acme.my.salesforce.com"
      const audiences: Array<unknown> = []
      const expiries: Array<unknown> = []
      server.use(
        ...[sandboxUrl, productionUrl].map((origin) =>
          http.post(`${origin}/services/oauth2/token`, async ({ request }) => {
            const claims = await assertionClaims(request)
            audiences.push(claims["aud"])
            expiries.push(claims["exp"])
            return HttpResponse.json({ access_token: "00D!token", instance_url: origin })
          })
        )
      )
      const privateKey = Redacted.make(
        generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "pem" }).toString()
      )
      const credentials = Credentials.jwtBearer({ clientId: "cid", username: "integration@acme.com", privateKey })
      for (const login of [{ loginUrl: sandboxUrl }, { loginUrl: productionUrl, isSandbox: true }, { loginUrl: productionUrl }]) {
        yield* withSession({ credentials, login, tokenRetry: noDelayRetry }, (session) => session.current)
      }
      expect(audiences).toEqual(["https://test.salesforce.com", "https://test.salesforce.com", "https://login.salesforce.com"])
      // two minutes ahead (the TestClock is at 0): Salesforce allows three, the rest is for clock drift
      expect(expiries).toEqual([120, 120, 120])
    }))

  it.effect("refuses client credentials on the shared login host before sending anything", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        withSession(
          {
            credentials: Credentials.clientCredentials({ clientId: "id", clientSecret: Redacted.make("secret") }),
            login: { isSandbox: true }
          },
          () => Effect.void
        )
      )
      expect(error).toMatchObject({ _tag: "AuthError", reason: "UnsupportedGrant" })
      expect(error.message).toContain("My Domain")
      expect(org.stats().calls.token).toBe(0)
    }))

  it.effect("maps token refusals to reasons with Salesforce's description, never retried", () =>
    Effect.gen(function* () {
      const badToken = yield* Effect.flip(
        withSession(refreshTokenConfig({ refreshToken: Redacted.make("not-the-token") }), () => Effect.void)
      )
      expect(badToken).toMatchObject({ reason: "InvalidGrant", errorCode: "invalid_grant", status: 400 })
      expect(badToken.description.length).toBeGreaterThan(0)
      const badSecret = yield* Effect.flip(withSession(refreshTokenConfig({ clientSecret: Redacted.make("wrong") }), () => Effect.void))
      expect(badSecret.reason).toBe("InvalidClient")
      const badClient = yield* Effect.flip(withSession(refreshTokenConfig({ clientId: "nobody" }), () => Effect.void))
      expect(badClient.reason).toBe("InvalidClientId")
      expect(org.stats().calls.token).toBe(3)
      // the message says where it logged in: a sandbox token sent to production reads the same
      expect(badToken.message).toContain(`(login ${baseUrl})`)
    }))

  it.effect("retries Salesforce's busy refusals (a refresh already running for the token, 'retry your request')", () =>
    Effect.gen(function* () {
      const busy = [
        { error: "invalid_grant", error_description: "token request is already being processed" },
        { error: "unknown_error", error_description: "retry your request" }
      ]
      let refused = 0
      server.use(
        http.post(`${baseUrl}/services/oauth2/token`, () => {
          const body = busy[refused]
          if (body === undefined) return undefined
          refused++
          return HttpResponse.json(body, { status: 400 })
        })
      )
      yield* withSession(refreshTokenConfig(), (session) => session.current)
      expect(refused).toBe(2)
      expect(org.stats().calls.token).toBe(1)
    }))

  it.live("names the login host and the cause when the token endpoint cannot be reached", () =>
    Effect.gen(function* () {
      server.use(http.post("https://unreachable.my.salesforce.com/services/oauth2/token", () => HttpResponse.error()))
      const error = yield* Effect.flip(
        withSession({ ...refreshTokenConfig(), login: { loginUrl: "https://unreachable.my.salesforce.com" } }, () => Effect.void)
      )
      expect(error.reason).toBe("Unavailable")
      expect(error.message).toContain("the token endpoint https://unreachable.my.salesforce.com could not be reached (Transport: ")
    }))

  it.effect("retries the token endpoint on 5xx and gives up after the schedule", () =>
    Effect.gen(function* () {
      org.setFaults({ httpErrors: [{ call: "token", status: 503, every: 1, times: 2 }] })
      yield* withSession(refreshTokenConfig(), (session) => session.current)
      expect(org.stats().calls.token).toBe(3)
      org.reset()
      org.setFaults({ httpErrors: [{ call: "token", status: 500, every: 1 }] })
      const error = yield* Effect.flip(withSession(refreshTokenConfig(), () => Effect.void))
      expect(error).toMatchObject({ reason: "Unavailable", status: 500 })
      expect(error.isTransient).toBe(true)
      expect(org.stats().calls.token).toBe(4)
    }))

  it.effect("retries a throttled (429) or timed-out (408) token request, whatever its body says", () =>
    Effect.gen(function* () {
      for (const status of [429, 408]) {
        org.reset()
        let refused = 0
        server.use(
          http.post(`${baseUrl}/services/oauth2/token`, () => {
            if (refused++ > 0) return undefined // on to the emulator
            return new HttpResponse("<html>Too many requests</html>", { status, headers: { "content-type": "text/html" } })
          })
        )
        const session = yield* withSession(refreshTokenConfig(), (service) => service.current)
        expect(session.generation).toBe(0)
        expect(org.stats().calls.token).toBe(1)
        expect(refused).toBe(2)
      }
    }))

  it.effect("retries a token answer that breaks off while read; one that reads whole but is not JSON is UnexpectedResponse", () =>
    Effect.gen(function* () {
      org.setFaults({ dropConnections: [{ call: "token", every: 1, times: 1, afterBytes: 10 }] })
      const session = yield* withSession(refreshTokenConfig(), (service) => service.current)
      expect(session.instanceUrl).toBe(baseUrl)
      expect(org.stats().calls.token).toBe(2)
      let tokenCalls = 0
      server.use(
        http.post(`${baseUrl}/services/oauth2/token`, () => {
          tokenCalls++
          return new HttpResponse("<html>Down for maintenance</html>", { status: 200, headers: { "content-type": "text/html" } })
        })
      )
      const error = yield* Effect.flip(withSession(refreshTokenConfig(), () => Effect.void))
      expect(error).toMatchObject({ reason: "UnexpectedResponse", status: 200 })
      expect(error.isTransient).toBe(false)
      expect(tokenCalls).toBe(1)
    }))

  it.effect("backs off between token retries on the default schedule", () =>
    Effect.gen(function* () {
      org.setFaults({ httpErrors: [{ call: "token", status: 503, every: 1, times: 2 }] })
      const { tokenRetry: _default, ...config } = refreshTokenConfig()
      const fiber = yield* Effect.fork(withSession(config, (session) => session.current))
      yield* settleUntil(() => org.stats().calls.token === 1)
      yield* settleUntil(() => false, 20)
      expect(org.stats().calls.token).toBe(1)
      for (let round = 0; round < 20 && Option.isNone(yield* Fiber.poll(fiber)); round++) {
        yield* TestClock.adjust("1 second")
        yield* settleUntil(() => false, 20)
      }
      const session = yield* Fiber.join(fiber)
      expect(session.generation).toBe(0)
      expect(org.stats().calls.token).toBe(3)
    }))

  it.effect("renews an expired session once for ten concurrent calls (single flight) and replays them", () =>
    withSession(refreshTokenConfig(), (session) =>
      Effect.gen(function* () {
        org.expireSessions()
        const responses = yield* Effect.all(
          Array.from({ length: 10 }, () => session.client.execute(limitsRequest)),
          { concurrency: "unbounded" }
        )
        expect(responses.map((response) => response.status)).toEqual(Array.from({ length: 10 }, () => 200))
        expect(org.stats().calls.token).toBe(2)
        expect((yield* session.current).generation).toBe(1)
      })
    ))

  it.effect("renews the session for a request with a streamed body, but does not send that body again empty", () =>
    withSession(refreshTokenConfig(), (session) =>
      Effect.gen(function* () {
        org.expireSessions()
        const job = new TextEncoder().encode(JSON.stringify({ object: "Contact", operation: "insert", contentType: "CSV", lineEnding: "LF" }))
        const oneShot = () => {
          let sent = false
          return Stream.suspend(() => (sent ? Stream.empty : ((sent = true), Stream.make(job))))
        }
        const create = (body: Stream.Stream<Uint8Array>) =>
          session.client.execute(
            HttpClientRequest.post("/services/data/v62.0/jobs/ingest").pipe(HttpClientRequest.bodyStream(body, { contentType: "application/json" }))
          )
        const openJobs = () => org.stats().jobs["Open"] ?? 0
        const before = openJobs()
        const error = yield* Effect.flip(create(oneShot()))
        expect(error._tag).toBe("RequestError")
        expect(String(error.cause)).toContain("cannot be sent again")
        expect(openJobs()).toBe(before)
        expect((yield* session.current).generation).toBe(1)
        expect((yield* create(oneShot())).status).toBe(200)
        expect(openJobs()).toBe(before + 1)
      })
    ))

  it.effect("shares a failed refresh with every concurrent call waiting on it; a later call tries again", () =>
    withSession(refreshTokenConfig(), (session) =>
      Effect.gen(function* () {
        org.expireSessions()
        const refusal = gate()
        let tokenCalls = 0
        server.use(
          http.post(`${baseUrl}/services/oauth2/token`, async () => {
            tokenCalls++
            await refusal.opened
            return HttpResponse.json({ error: "invalid_grant", error_description: "expired access/refresh token" }, { status: 400 })
          })
        )
        const calls = yield* Effect.fork(
          Effect.all(
            Array.from({ length: 10 }, () => Effect.flip(session.client.execute(limitsRequest))),
            { concurrency: "unbounded" }
          )
        )
        // All ten 401s are in, and wait for the one refresh held back, before it fails.
        yield* settleUntil(() => org.stats().calls.limits === 10 && tokenCalls === 1)
        yield* settleUntil(() => false, 20)
        refusal.open()
        const errors = yield* Fiber.join(calls)
        expect(errors.map((error) => error._tag === "AuthError" && error.reason)).toEqual(Array.from({ length: 10 }, () => "InvalidGrant"))
        expect(tokenCalls).toBe(1)
        server.resetHandlers()
        const response = yield* session.client.execute(limitsRequest)
        expect(response.status).toBe(200)
        expect(org.stats().calls.token).toBe(2)
        expect((yield* session.current).generation).toBe(1)
      })
    ))

  it.effect("retries a token endpoint outage during a refresh once for all waiting calls, not once per call", () =>
    withSession(
      { ...refreshTokenConfig(), tokenRetry: Schedule.spaced("1 second").pipe(Schedule.intersect(Schedule.recurs(3))) },
      (session) =>
        Effect.gen(function* () {
          org.expireSessions()
          org.setFaults({ httpErrors: [{ call: "token", status: 503, every: 1 }] })
          const calls = yield* Effect.fork(
            Effect.all(
              Array.from({ length: 10 }, () => Effect.flip(session.client.execute(limitsRequest))),
              { concurrency: "unbounded" }
            )
          )
          yield* settleUntil(() => org.stats().calls.limits === 10 && org.stats().calls.token === 2)
          yield* settleUntil(() => false, 20)
          for (let round = 0; round < 100 && Option.isNone(yield* Fiber.poll(calls)); round++) {
            yield* TestClock.adjust("1 second")
            yield* settleUntil(() => false, 20)
          }
          const errors = yield* Fiber.join(calls)
          expect(errors.map((error) => error._tag === "AuthError" && error.reason)).toEqual(Array.from({ length: 10 }, () => "Unavailable"))
          expect(org.stats().calls.token).toBe(1 + 4) // the first grant, then one refresh and its 3 retries
        })
    ))

  it.effect("a call interrupted while it leads a refresh does not cut the refresh short: the rotated token is kept, the calls waiting get its session", () =>
    withSession(refreshTokenConfig(), (session) =>
      Effect.gen(function* () {
        org.setFaults({ rotateRefreshToken: true })
        org.expireSessions()
        const held = gate()
        let tokenCalls = 0
        server.use(
          http.post(`${baseUrl}/services/oauth2/token`, async () => {
            tokenCalls++
            if (tokenCalls === 1) await held.opened
            return undefined // on to the emulator, which rotates the refresh token
          })
        )
        const first = yield* Effect.fork(session.client.execute(limitsRequest))
        yield* settleUntil(() => tokenCalls === 1)
        const second = yield* Effect.fork(session.client.execute(limitsRequest))
        yield* settleUntil(() => org.stats().calls.limits === 2)
        yield* settleUntil(() => false, 20)
        yield* Fiber.interrupt(first)
        held.open()
        const response = yield* Fiber.join(second)
        expect(response.status).toBe(200)
        expect(tokenCalls).toBe(1)
        expect((yield* session.current).generation).toBe(1)
        expect(Option.map(yield* session.rotatedRefreshToken, Redacted.value)).toEqual(Option.some(org.credentials.refreshToken))
        // the next refresh logs in with the rotated token (the configured one is dead)
        org.expireSessions()
        expect((yield* session.client.execute(limitsRequest)).status).toBe(200)
        expect(tokenCalls).toBe(2)
      })
    ))

  it.effect("sends only paths on the instance: one without a leading / is refused before the token goes anywhere", () =>
    withSession(refreshTokenConfig(), (session) =>
      Effect.gen(function* () {
        const sent: Array<string> = []
        server.events.on("request:start", ({ request }) => void sent.push(request.url))
        for (const url of [".evil.example/steal", "https://evil.example/steal"]) {
          const error = yield* Effect.flip(session.client.execute(HttpClientRequest.get(url)))
          expect(error).toMatchObject({ _tag: "RequestError", reason: "InvalidUrl" })
        }
        server.events.removeAllListeners()
        expect(sent).toEqual([])
        expect((yield* session.client.execute(limitsRequest)).status).toBe(200)
      })
    ))

  it.effect("a refresh whose token endpoint never answers times out, fails the calls waiting on it, and the next call refreshes again", () =>
    withSession(refreshTokenConfig(), (session) =>
      Effect.gen(function* () {
        org.expireSessions()
        let hung = 0
        server.use(
          http.post(`${baseUrl}/services/oauth2/token`, async () => {
            hung++
            await new Promise<never>(() => {})
          })
        )
        const waiting = yield* Effect.fork(Effect.flip(session.client.execute(limitsRequest)))
        yield* settleUntil(() => hung === 1)
        for (let round = 0; round < 10 && Option.isNone(yield* Fiber.poll(waiting)); round++) {
          yield* TestClock.adjust("30 seconds")
          yield* settleUntil(() => false, 20)
        }
        const done = yield* Fiber.poll(waiting)
        expect(Option.isSome(done)).toBe(true)
        expect(yield* Fiber.join(waiting)).toMatchObject({ _tag: "AuthError", reason: "Unavailable" })
        expect(hung).toBe(4) // the request and its 3 retries, each cut by the timeout
        server.resetHandlers()
        expect((yield* session.client.execute(limitsRequest)).status).toBe(200)
      })
    ))

  it.effect("fails with SessionRejected when a fresh session is refused too", () =>
    withSession(refreshTokenConfig(), (session) =>
      Effect.gen(function* () {
        server.use(
          http.get(`${baseUrl}/services/data/v62.0/limits/`, () =>
            HttpResponse.json([{ message: "Session expired or invalid", errorCode: "INVALID_SESSION_ID" }], { status: 401 })
          )
        )
        const error = yield* Effect.flip(session.client.execute(limitsRequest))
        expect(error).toMatchObject({ _tag: "AuthError", reason: "SessionRejected" })
        expect(org.stats().calls.token).toBe(2)
      })
    ))

  it.effect("keeps and publishes a rotated refresh token, and uses it for the next refresh; warns once", () => {
    const warnings: Array<string> = []
    const capture = Logger.replace(Logger.defaultLogger, Logger.make(({ message }) => warnings.push(String(message))))
    return withSession(refreshTokenConfig(), (session) =>
      Effect.gen(function* () {
        const rotations = yield* session.refreshTokenRotations.pipe(Stream.take(2), Stream.runCollect, Effect.fork)
        yield* Effect.yieldNow()
        org.setFaults({ rotateRefreshToken: true })
        for (let round = 0; round < 2; round++) {
          org.expireSessions()
          const response = yield* session.client.execute(limitsRequest)
          expect(response.status).toBe(200)
        }
        const published = Chunk.toArray(yield* Fiber.join(rotations)).map(Redacted.value)
        expect(published).toHaveLength(2)
        expect(published[1]).toBe(org.credentials.refreshToken)
        expect(published[0]).not.toBe(published[1])
        const kept = yield* session.rotatedRefreshToken
        expect(Option.map(kept, Redacted.value)).toEqual(Option.some(org.credentials.refreshToken))
        expect(warnings.filter((line) => line.includes("rotated the refresh token"))).toHaveLength(1)
      })
    ).pipe(Effect.provide(capture))
  })

  it.effect("keeps the access token out of the errors of its client, which keep their type and reason", () =>
    withSession(refreshTokenConfig(), (session) =>
      Effect.gen(function* () {
        org.setFaults({ dropConnections: [{ call: "limits", every: 1 }] })
        const error = yield* Effect.flip(session.client.execute(limitsRequest))
        const token = Redacted.value((yield* session.current).accessToken)
        expect(error).toMatchObject({ _tag: "RequestError", reason: "Transport" })
        if (error._tag === "RequestError") expect(error.request.url).toBe(`${baseUrl}/services/data/v62.0/limits/`)
        for (const rendered of [JSON.stringify(error), inspect(error, { depth: 10 }), String(error)]) {
          expect(rendered).not.toContain(token)
        }
      })
    ))

  it.effect("keeps the access token out of its responses and of the errors built from them", () =>
    withSession(refreshTokenConfig(), (session) =>
      Effect.gen(function* () {
        server.use(http.get(`${baseUrl}/services/data/v62.0/not-json/`, () => HttpResponse.text("<html>maintenance</html>")))
        const token = Redacted.value((yield* session.current).accessToken)
        const ok = yield* session.client.execute(limitsRequest)
        expect(ok.status).toBe(200)
        expect(ok.request.url).toBe(`${baseUrl}/services/data/v62.0/limits/`)
        expect(ok.request.headers["authorization"]).toBe("Bearer <redacted>")
        const notFound = yield* Effect.flip(
          Effect.flatMap(session.client.execute(HttpClientRequest.get("/services/data/v62.0/sobjects/Nope/describe/")), HttpClientResponse.filterStatusOk)
        )
        const notJson = yield* Effect.flip(Effect.flatMap(session.client.execute(HttpClientRequest.get("/services/data/v62.0/not-json/")), (response) => response.json))
        expect([notFound, notJson]).toMatchObject([
          { _tag: "ResponseError", reason: "StatusCode" },
          { _tag: "ResponseError", reason: "Decode" }
        ])
        expect(yield* (yield* session.client.execute(limitsRequest)).json).toMatchObject({ DailyApiRequests: {} })
        for (const shown of [ok, notFound, notJson]) {
          for (const rendered of [JSON.stringify(shown), inspect(shown, { depth: 10 }), String(shown)]) expect(rendered).not.toContain(token)
        }
      })
    ))

  it.effect("never lets a secret reach an error message or a log line", () =>
    Effect.gen(function* () {
      const secrets = ["client-secret-XYZZY-1234", "refresh-token-PLUGH-5678"]
      const lines: Array<string> = []
      const capture = Logger.replace(
        Logger.defaultLogger,
        Logger.make(({ message, cause }) => lines.push(`${String(message)} ${Cause.pretty(cause)}`))
      )
      const exit = yield* withSession(
        refreshTokenConfig({ clientSecret: Redacted.make(secrets[0] ?? ""), refreshToken: Redacted.make(secrets[1] ?? "") }),
        () => Effect.void
      ).pipe(Effect.tapErrorCause(Effect.logError), Effect.provide(capture), Effect.exit)
      expect(Exit.isFailure(exit)).toBe(true)
      const rendered = [...lines, Exit.isFailure(exit) ? Cause.pretty(exit.cause) : "", JSON.stringify(exit)].join("\n")
      expect(rendered).toContain("AuthError")
      for (const secret of secrets) expect(rendered).not.toContain(secret)
    }))
})
