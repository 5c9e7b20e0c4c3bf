/**
 * The three ways a server-side integration gets a Salesforce session, and the form body
 * each sends to the token endpoint. Secrets stay `Redacted` until that body is built.
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { createSign } from "node:crypto"
import { AuthError } from "./AuthError.js"

/** Refresh token grant: a Connected App's key and secret, and a user's refresh token. */
export interface RefreshToken {
  readonly _tag: "RefreshToken"
  readonly clientId: string
  readonly clientSecret: Redacted.Redacted<string>
  readonly refreshToken: Redacted.Redacted<string>
}

/** Client credentials grant (My Domain only): runs as the app's execution user. */
export interface ClientCredentials {
  readonly _tag: "ClientCredentials"
  readonly clientId: string
  readonly clientSecret: Redacted.Redacted<string>
}

/** JWT bearer grant: a pre-authorised user, a certificate's RS256 private key (PEM). */
export interface JwtBearer {
  readonly _tag: "JwtBearer"
  readonly clientId: string
  readonly username: string
  readonly privateKey: Redacted.Redacted<string>
}

export type Credentials = RefreshToken | ClientCredentials | JwtBearer

export const refreshToken = (fields: Omit<RefreshToken, "_tag">): RefreshToken => ({ _tag: "RefreshToken", ...fields })
export const clientCredentials = (fields: Omit<ClientCredentials, "_tag">): ClientCredentials => ({
  _tag: "ClientCredentials",
  ...fields
})
export const jwtBearer = (fields: Omit<JwtBearer, "_tag">): JwtBearer => ({ _tag: "JwtBearer", ...fields })

/**
 * How long a JWT assertion is valid. Salesforce accepts at most three minutes ahead of its own
 * clock: two leave a minute for this machine's clock to run ahead of Salesforce's.
 */
export const jwtLifetimeSeconds = 2 * 60

const base64Url = (input: string | Buffer): string => Buffer.from(input).toString("base64url")

/** Signs a JWT bearer assertion for `audience` (the login origin) with RS256. */
export const signJwt = (credentials: JwtBearer, audience: string): Effect.Effect<string, AuthError> =>
  Effect.flatMap(Clock.currentTimeMillis, (now) =>
    Effect.try({
      try: () => {
        const header = base64Url(JSON.stringify({ alg: "RS256", typ: "JWT" }))
        const claims = base64Url(
          JSON.stringify({
            iss: credentials.clientId,
            sub: credentials.username,
            aud: audience,
            exp: Math.floor(now / 1000) + jwtLifetimeSeconds
          })
        )
        const signer = createSign("RSA-SHA256")
        signer.update(`${header}.${claims}`)
        return `${header}.${claims}.${signer.sign(Redacted.value(credentials.privateKey)).toString("base64url")}`
      },
      catch: () =>
        new AuthError({ reason: "InvalidPrivateKey", description: "the JWT private key is not a usable RSA private key (PEM)" })
    })
  )

/** The token request form for these credentials; `audience` is the JWT `aud` claim. */
export const tokenForm = (
  credentials: Credentials,
  audience: string
): Effect.Effect<ReadonlyArray<readonly [string, string]>, AuthError> => {
  switch (credentials._tag) {
    case "RefreshToken":
      return Effect.succeed([
        ["grant_type", "refresh_token"],
        ["refresh_token", Redacted.value(credentials.refreshToken)],
        ["client_id", credentials.clientId],
        ["client_secret", Redacted.value(credentials.clientSecret)]
      ])
    case "ClientCredentials":
      return Effect.succeed([
        ["grant_type", "client_credentials"],
        ["client_id", credentials.clientId],
        ["client_secret", Redacted.value(credentials.clientSecret)]
      ])
    case "JwtBearer":
      return Effect.map(signJwt(credentials, audience), (assertion) => [
        ["grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"],
        ["assertion", assertion]
      ])
  }
}
