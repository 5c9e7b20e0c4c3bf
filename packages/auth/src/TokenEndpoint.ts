/**
 * `POST {login}/services/oauth2/token`: one grant, decoded into a token or an `AuthError`.
 * Only network errors (an answer that breaks off included) and 5xx answers are retried; OAuth
 * errors and answers that read fine but are not the expected JSON are configuration errors.
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import { AuthError, reasonOf } from "./AuthError.js"
import * as Credentials from "./Credentials.js"
import { checkSecureOrigin } from "./LoginUrl.js"

const TokenBody = Schema.Struct({
  access_token: Schema.String,
  instance_url: Schema.String,
  id: Schema.optional(Schema.String),
  token_type: Schema.optional(Schema.String),
  issued_at: Schema.optional(Schema.String),
  scope: Schema.optional(Schema.String),
  refresh_token: Schema.optional(Schema.String)
})

const OAuthErrorBody = Schema.Struct({
  error: Schema.String,
  error_description: Schema.optional(Schema.String)
})

/** A session granted by the token endpoint. */
export interface Token {
  readonly accessToken: Redacted.Redacted<string>
  /** The org's API origin, checked like the login URL. */
  readonly instanceUrl: string
  /** Set when the app rotates refresh tokens: the old one is dead, this one must be kept. */
  readonly rotatedRefreshToken: Redacted.Redacted<string> | undefined
}

/** Retries for network errors and 5xx: exponential from 250 ms, jittered, five retries. */
export const defaultRetry: Schedule.Schedule<unknown, unknown> = Schedule.exponential(Duration.millis(250)).pipe(
  Schedule.jittered,
  Schedule.intersect(Schedule.recurs(5))
)

/** How long one token request may take. */
export const requestTimeout = Duration.seconds(30)

const unavailable = (description: string, status?: number) =>
  new AuthError({ reason: "Unavailable", description, ...(status === undefined ? {} : { status }) })

/**
 * Refusals Salesforce gives while it is busy, not because of the configuration: a second
 * refresh of the same refresh token while one is running (parallel syncs sharing a token), and
 * its generic "retry your request". They are retried like a 5xx.
 */
const isTemporaryRefusal = (error: string, description: string | undefined): boolean =>
  (error === "invalid_grant" && /already being processed/i.test(description ?? "")) ||
  (error === "unknown_error" && /retry/i.test(description ?? ""))

/** What stopped a request on the way: the innermost cause (DNS, refused connection, certificate). */
const networkCause = (error: unknown): string => {
  let cause: unknown = error
  for (let depth = 0; depth < 5 && typeof cause === "object" && cause !== null && "cause" in cause && cause.cause !== undefined; depth++) cause = cause.cause
  return cause instanceof Error ? cause.message : String(cause)
}

/** The parsed JSON of a body that was read whole; `undefined` when it is not JSON. */
const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}

const decodeToken = Schema.decodeUnknownEither(TokenBody)
const decodeOAuthError = Schema.decodeUnknownEither(OAuthErrorBody)

const attempt = (
  client: HttpClient.HttpClient,
  loginOrigin: string,
  form: ReadonlyArray<readonly [string, string]>
): Effect.Effect<Token, AuthError> =>
  Effect.gen(function* () {
    const request = HttpClientRequest.post(`${loginOrigin}/services/oauth2/token`).pipe(
      HttpClientRequest.acceptJson,
      HttpClientRequest.bodyUrlParams(form)
    )
    // The body is read within the timeout too; one that breaks off is a network error (retried).
    const { response, text } = yield* client.execute(request).pipe(
      Effect.flatMap((response) =>
        response.status >= 500 ? Effect.succeed({ response, text: "" }) : Effect.map(response.text, (text) => ({ response, text }))
      ),
      Effect.timeoutFail({ duration: requestTimeout, onTimeout: () => unavailable("the token endpoint did not answer in time") }),
      Effect.catchTags({
        RequestError: (error) => Effect.fail(unavailable(`the token endpoint ${loginOrigin} could not be reached (${error.reason}: ${networkCause(error)})`)),
        ResponseError: (error) => Effect.fail(unavailable(`the token endpoint's answer could not be read (${error.reason})`))
      })
    )
    // 5xx, and a throttled (429) or timed-out (408) request, whatever the body: retried
    if (response.status >= 500 || response.status === 429 || response.status === 408) {
      return yield* unavailable(`the token endpoint answered HTTP ${response.status}`, response.status)
    }
    const body = parseJson(text)
    if (response.status === 200) {
      const token = decodeToken(body)
      if (Either.isLeft(token)) {
        return yield* new AuthError({ reason: "UnexpectedResponse", description: "the token response has no access_token / instance_url", status: 200 })
      }
      const instanceUrl = yield* checkSecureOrigin(token.right.instance_url, "instance_url")
      return {
        accessToken: Redacted.make(token.right.access_token),
        instanceUrl,
        rotatedRefreshToken: token.right.refresh_token === undefined ? undefined : Redacted.make(token.right.refresh_token)
      }
    }
    const refusal = decodeOAuthError(body)
    if (Either.isLeft(refusal)) {
      return yield* new AuthError({
        reason: "UnexpectedResponse",
        description: `the token endpoint answered HTTP ${response.status} without an OAuth error`,
        status: response.status
      })
    }
    const { error, error_description: description } = refusal.right
    if (isTemporaryRefusal(error, description)) {
      return yield* unavailable(`${loginOrigin} is busy: ${description ?? error}`, response.status)
    }
    return yield* new AuthError({
      reason: reasonOf(error),
      errorCode: error,
      description: `${description ?? error} (login ${loginOrigin})`,
      status: response.status
    })
  })

/** Requests a token, retrying only what may be transient. */
export const requestToken = (
  client: HttpClient.HttpClient,
  options: {
    readonly loginOrigin: string
    readonly audience: string
    readonly credentials: Credentials.Credentials
    readonly retry?: Schedule.Schedule<unknown, unknown> | undefined
  }
): Effect.Effect<Token, AuthError> =>
  Effect.flatMap(Credentials.tokenForm(options.credentials, options.audience), (form) =>
    attempt(client, options.loginOrigin, form).pipe(
      Effect.retry({ schedule: options.retry ?? defaultRetry, while: (error) => error.isTransient })
    )
  )
