/**
 * An authenticated Salesforce session: the current access token and instance URL, and an
 * `HttpClient` that sends relative paths to the instance with the bearer token.
 *
 * Salesforce does not say when a token expires; expiry shows as a 401
 * `INVALID_SESSION_ID`. Any request meeting it triggers one shared refresh — concurrent
 * requests wait for the same one (single flight) and share its outcome, failure included —
 * and is replayed once; a second 401 is an error, never a loop. A request whose body is a
 * stream (read by its first sending) is not replayed: it fails as a transport error, to be
 * sent anew by its caller. Rotated refresh tokens are
 * kept and published. Neither the authenticated client's errors nor its responses carry the
 * access token: their request's `Authorization` header is redacted, in the errors a response's
 * body makes too, so anything built from them can be printed.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as HttpIncomingMessage from "@effect/platform/HttpIncomingMessage"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Inspectable from "effect/Inspectable"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import type * as Schedule from "effect/Schedule"
import * as Ref from "effect/Ref"
import * as Stream from "effect/Stream"
import * as SubscriptionRef from "effect/SubscriptionRef"
import { AuthError } from "./AuthError.js"
import type * as Credentials from "./Credentials.js"
import * as LoginUrl from "./LoginUrl.js"
import * as TokenEndpoint from "./TokenEndpoint.js"

export interface SessionConfig {
  readonly credentials: Credentials.Credentials
  readonly login: LoginUrl.LoginTarget
  /** Retries of the token request on network errors and 5xx (default: `TokenEndpoint.defaultRetry`). */
  readonly tokenRetry?: Schedule.Schedule<unknown, unknown> | undefined
}

/** One granted session; `generation` counts refreshes, so a refresh is never done twice. */
export interface Session {
  readonly accessToken: Redacted.Redacted<string>
  readonly instanceUrl: string
  readonly generation: number
}

/** An HttpClient whose requests may also fail with `AuthError` (a session that cannot be renewed). */
export type AuthenticatedClient = HttpClient.HttpClient.With<HttpClientError.HttpClientError | AuthError>

export interface SalesforceSessionService {
  /** The session now in use. */
  readonly current: Effect.Effect<Session>
  /**
   * Replaces the session `stale`, unless another fiber already did; returns the fresh one.
   * Concurrent calls for the same `stale` session share one token request and its outcome.
   */
  readonly refresh: (stale: Session) => Effect.Effect<Session, AuthError>
  /** Sends relative paths (`/services/data/…`) to the instance, authenticated, renewing the session once on 401. */
  readonly client: AuthenticatedClient
  /** `client`'s authentication over another transport (for bodies the layer's `HttpClient` should not carry). */
  readonly authenticate: (transport: HttpClient.HttpClient) => AuthenticatedClient
  /** The refresh token in force, when Salesforce rotated the configured one. */
  readonly rotatedRefreshToken: Effect.Effect<Option.Option<Redacted.Redacted<string>>>
  /** Each refresh token Salesforce rotates in, from subscription on (the latest one first, if any). */
  readonly refreshTokenRotations: Stream.Stream<Redacted.Redacted<string>>
}

export class SalesforceSession extends Context.Tag("@sfdc-activation/auth/SalesforceSession")<
  SalesforceSession,
  SalesforceSessionService
>() {}

interface Renewed {
  readonly session: Session
  readonly granted: boolean
}

/**
 * The session in use, and the refresh of it under way, if any. Every fiber renewing the same
 * stale session awaits `refreshing`: the outcome of one grant, failure included.
 */
interface State {
  readonly session: Session
  readonly refreshing: Deferred.Deferred<Session, AuthError> | undefined
}

/** What a renewing fiber does: take the session another fiber renewed, join its refresh, or lead one. */
type Role =
  | { readonly _tag: "Renewed"; readonly session: Session }
  | { readonly _tag: "Join"; readonly refreshing: Deferred.Deferred<Session, AuthError> }
  | { readonly _tag: "Lead" }

/** Renewals one request may go through when the sessions it is given keep dying (never a loop). */
const maxSessionRenewals = 3

/**
 * The JWT `aud` claim: the shared login host — test for sandboxes (`isSandbox`, or a
 * `*.sandbox.my.salesforce.com` My Domain) — or a loopback emulator's origin.
 */
const jwtAudience = (target: LoginUrl.LoginTarget, loginOrigin: string): string => {
  if (LoginUrl.isSharedLoginHost(loginOrigin)) return loginOrigin
  if (LoginUrl.isLoopbackHost(new URL(loginOrigin).hostname)) return loginOrigin
  return target.isSandbox === true || LoginUrl.isSandboxMyDomain(loginOrigin) ? LoginUrl.sandbox : LoginUrl.production
}

const authorize = (request: HttpClientRequest.HttpClientRequest, session: Session) =>
  request.pipe(HttpClientRequest.prependUrl(session.instanceUrl), HttpClientRequest.bearerToken(session.accessToken))

/** A request as the client's responses and errors show it: its `Authorization` header redacted. */
const redactedRequest = (request: HttpClientRequest.HttpClientRequest): HttpClientRequest.HttpClientRequest =>
  HttpClientRequest.setHeader(request, "authorization", "Bearer <redacted>")

/**
 * A response of the authenticated client: the transport's, with its request redacted, and the
 * errors reading its body makes keeping that request and this response (the transport's own
 * response keeps the token in its request).
 */
class RedactedResponse extends Inspectable.Class implements HttpClientResponse.HttpClientResponse {
  readonly [HttpClientResponse.TypeId]: HttpClientResponse.TypeId = HttpClientResponse.TypeId
  readonly [HttpIncomingMessage.TypeId]: HttpIncomingMessage.TypeId = HttpIncomingMessage.TypeId
  readonly #response: HttpClientResponse.HttpClientResponse

  constructor(
    readonly request: HttpClientRequest.HttpClientRequest,
    response: HttpClientResponse.HttpClientResponse
  ) {
    super()
    this.#response = response
  }

  get status(): number {
    return this.#response.status
  }
  get headers() {
    return this.#response.headers
  }
  get cookies() {
    return this.#response.cookies
  }
  get remoteAddress() {
    return this.#response.remoteAddress
  }
  get json() {
    return Effect.mapError(this.#response.json, this.#redacted)
  }
  get text() {
    return Effect.mapError(this.#response.text, this.#redacted)
  }
  get urlParamsBody() {
    return Effect.mapError(this.#response.urlParamsBody, this.#redacted)
  }
  get arrayBuffer() {
    return Effect.mapError(this.#response.arrayBuffer, this.#redacted)
  }
  get formData() {
    return Effect.mapError(this.#response.formData, this.#redacted)
  }
  get stream() {
    return Stream.mapError(this.#response.stream, this.#redacted)
  }

  readonly #redacted = (error: HttpClientError.ResponseError): HttpClientError.ResponseError =>
    new HttpClientError.ResponseError({ request: this.request, response: this, reason: error.reason, ...errorDetails(error) })

  toJSON(): unknown {
    return { _id: "@effect/platform/HttpClientResponse", request: this.request.toJSON(), status: this.status }
  }
}

const errorDetails = (error: HttpClientError.HttpClientError) => ({
  ...(error.cause === undefined ? {} : { cause: error.cause }),
  ...(error.description === undefined ? {} : { description: error.description })
})

/** The same error, the access token in its request's `Authorization` header (and its response's request) redacted. */
const withoutToken = (error: HttpClientError.HttpClientError): HttpClientError.HttpClientError => {
  const request = redactedRequest(error.request)
  return error._tag === "RequestError"
    ? new HttpClientError.RequestError({ request, reason: error.reason, ...errorDetails(error) })
    : new HttpClientError.ResponseError({ request, response: new RedactedResponse(request, error.response), reason: error.reason, ...errorDetails(error) })
}

/** Builds a session: asks for the first token now, so bad credentials fail at once. */
export const make = (
  config: SessionConfig
): Effect.Effect<SalesforceSessionService, AuthError, HttpClient.HttpClient> =>
  Effect.gen(function* () {
    const http = yield* HttpClient.HttpClient
    const loginOrigin = yield* LoginUrl.resolve(config.login)
    if (config.credentials._tag === "ClientCredentials" && LoginUrl.isSharedLoginHost(loginOrigin)) {
      return yield* new AuthError({
        reason: "UnsupportedGrant",
        description: "the client credentials flow only works on your org's My Domain login URL (https://NAME.my.salesforce.com)"
      })
    }
    const audience = jwtAudience(config.login, loginOrigin)
    const rotated = yield* SubscriptionRef.make(Option.none<Redacted.Redacted<string>>())

    const grant = (generation: number): Effect.Effect<Session, AuthError> =>
      Effect.gen(function* () {
        const refreshToken = yield* SubscriptionRef.get(rotated)
        const credentials =
          config.credentials._tag === "RefreshToken" && Option.isSome(refreshToken)
            ? { ...config.credentials, refreshToken: refreshToken.value }
            : config.credentials
        const token = yield* TokenEndpoint.requestToken(http, { loginOrigin, audience, credentials, retry: config.tokenRetry })
        if (token.rotatedRefreshToken !== undefined && config.credentials._tag === "RefreshToken") {
          // said once: every later refresh rotates it again, and the same warning would repeat
          const first = Option.isNone(yield* SubscriptionRef.getAndSet(rotated, Option.some(token.rotatedRefreshToken)))
          if (first) yield* Effect.logWarning("Salesforce rotated the refresh token; the configured one no longer works, and the new one must be saved for the next run")
        }
        return { accessToken: token.accessToken, instanceUrl: token.instanceUrl, generation }
      })

    const state = yield* Ref.make<State>({ session: yield* grant(0), refreshing: undefined })
    const currentSession = Effect.map(Ref.get(state), (current) => current.session)

    /**
     * Replaces `stale` unless another fiber already did, or joins the refresh of it under way;
     * says whether this call granted the new session. The grant runs on a fiber of its own: the
     * call leading it may be interrupted, but a token request Salesforce may have answered
     * (rotating the refresh token, which kills the old one) is never cut short, so the rotated
     * token is kept and the calls waiting get its session.
     */
    const renew = (stale: Session): Effect.Effect<Renewed, AuthError> =>
      Effect.uninterruptibleMask((restore) =>
        Effect.gen(function* () {
          const flight = yield* Deferred.make<Session, AuthError>()
          const role = yield* Ref.modify(state, (current): readonly [Role, State] => {
            if (current.session.generation !== stale.generation) return [{ _tag: "Renewed", session: current.session }, current]
            if (current.refreshing !== undefined) return [{ _tag: "Join", refreshing: current.refreshing }, current]
            return [{ _tag: "Lead" }, { ...current, refreshing: flight }]
          })
          if (role._tag === "Renewed") return { session: role.session, granted: false }
          if (role._tag === "Join") return { session: yield* restore(Deferred.await(role.refreshing)), granted: false }
          // the fiber inherits this region's uninterruptibility; the grant itself must stay
          // interruptible, or its request timeout could never cut a token endpoint that hangs
          yield* Effect.forkDaemon(
            Effect.flatMap(Effect.exit(Effect.interruptible(grant(stale.generation + 1))), (exit) =>
              Effect.zipRight(
                Ref.update(state, (current) => ({ session: Exit.isSuccess(exit) ? exit.value : current.session, refreshing: undefined })),
                Deferred.done(flight, exit)
              )
            )
          )
          return { session: yield* restore(Deferred.await(flight)), granted: true }
        })
      )

    const refresh = (stale: Session): Effect.Effect<Session, AuthError> => Effect.map(renew(stale), (renewed) => renewed.session)

    /**
     * A 401 renews the session and replays the request. A 401 on a session this request's own
     * refresh granted is final; one on a session another request renewed (which may have died
     * since, under concurrent load) is renewed again, a bounded number of times.
     */
    const send = (
      transport: HttpClient.HttpClient,
      request: HttpClientRequest.HttpClientRequest
    ): Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError | AuthError> =>
      Effect.gen(function* () {
        if (!request.url.startsWith("/")) {
          // joined to the instance URL, `evil.example/x` would name another host and carry the token there
          return yield* new HttpClientError.RequestError({
            request,
            reason: "InvalidUrl",
            cause: new Error(`a request of the authenticated client is a path on the instance, starting with "/": ${request.url}`)
          })
        }
        let session = yield* currentSession
        let ownGrant = false
        for (let renewals = 0; ; renewals++) {
          const authorized = authorize(request, session)
          const response = yield* transport.execute(authorized).pipe(Effect.mapError(withoutToken))
          if (response.status !== 401) return new RedactedResponse(redactedRequest(authorized), response)
          if (ownGrant || renewals >= maxSessionRenewals) {
            return yield* new AuthError({
              reason: "SessionRejected",
              description: "Salesforce refused a freshly issued session (INVALID_SESSION_ID); check the user's API permissions",
              status: 401
            })
          }
          const renewed = yield* renew(session)
          session = renewed.session
          ownGrant = renewed.granted
          if (request.body._tag === "Stream") {
            // A stream body was read by the first sending: replayed, it would go out empty.
            return yield* new HttpClientError.RequestError({
              request,
              reason: "Transport",
              cause: new Error("the session expired while a streamed body was sent; it cannot be sent again: the session is renewed, send the request anew")
            })
          }
        }
      })

    const authenticate = (transport: HttpClient.HttpClient): AuthenticatedClient =>
      HttpClient.makeWith<never, never, HttpClientError.HttpClientError | AuthError, never>(
        (request) => Effect.flatMap(request, (sent) => send(transport, sent)),
        Effect.succeed
      )

    return {
      current: currentSession,
      refresh,
      client: authenticate(http),
      authenticate,
      rotatedRefreshToken: SubscriptionRef.get(rotated),
      refreshTokenRotations: rotated.changes.pipe(Stream.filterMap((token) => token))
    }
  })

/** The session as a layer; needs an `HttpClient` (e.g. `FetchHttpClient.layer`). */
export const layer = (config: SessionConfig): Layer.Layer<SalesforceSession, AuthError, HttpClient.HttpClient> =>
  Layer.effect(SalesforceSession, make(config))
