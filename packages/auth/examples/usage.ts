import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { Credentials, SalesforceSession } from "@sfdc-activation/auth"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

// A session from a Connected App's refresh token; secrets come from the environment, Redacted.
export const SessionLive = Layer.unwrapEffect(
  Effect.gen(function* () {
    const credentials = Credentials.refreshToken({
      clientId: yield* Config.string("SALESFORCE_CLIENT_ID"),
      clientSecret: yield* Config.redacted("SALESFORCE_CLIENT_SECRET"),
      refreshToken: yield* Config.redacted("SALESFORCE_REFRESH_TOKEN")
    })
    const loginUrl = yield* Config.string("SALESFORCE_LOGIN_URL").pipe(Config.withDefault("https://login.salesforce.com"))
    return SalesforceSession.layer({ credentials, login: { loginUrl } })
  })
).pipe(Layer.provide(FetchHttpClient.layer))

// Relative paths go to the org's instance; an expired session is renewed once, transparently.
export const apiLimits = Effect.gen(function* () {
  const session = yield* SalesforceSession.SalesforceSession
  const response = yield* session.client.execute(HttpClientRequest.get("/services/data/v62.0/limits/"))
  return yield* response.json
})
