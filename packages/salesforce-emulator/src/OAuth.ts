/**
 * The OAuth 2.0 token endpoint: refresh-token, client-credentials and JWT-bearer grants, with
 * Salesforce's error bodies. Secrets are compared, never echoed.
 */
import * as crypto from "node:crypto"
import type { Credentials } from "./OrgFixture.js"
import * as Responses from "./Responses.js"

/** What the token endpoint needs from the org. */
export interface TokenContext {
  readonly credentials: Credentials
  readonly rotateRefreshToken: boolean
  readonly jwtPublicKey: string | undefined
  readonly organizationId: string
  /** Milliseconds since the epoch. */
  readonly now: () => number
  /** The Id of the active user with this username, if any. */
  readonly userIdFor: (username: string) => string | undefined
  /** Issues an access token for a user. */
  readonly issue: (userId: string) => string
  /** Replaces the refresh token (rotation) and returns the new one. */
  readonly rotate: () => string
}

const loginHosts = new Set(["login.salesforce.com", "test.salesforce.com"])
const jwtBearerGrant = "urn:ietf:params:oauth:grant-type:jwt-bearer"
/** A JWT assertion may expire at most this far ahead. */
const maxAssertionLifetimeSeconds = 3 * 60
const clockSkewSeconds = 5

const sameSecret = (given: string, expected: string): boolean => {
  const left = Buffer.from(given)
  const right = Buffer.from(expected)
  return left.length === right.length && crypto.timingSafeEqual(left, right)
}

const clientOf = (form: URLSearchParams, headers: Headers): { id: string | null; secret: string | null } => {
  const authorization = headers.get("authorization")
  if (authorization !== null && authorization.toLowerCase().startsWith("basic ")) {
    const decoded = Buffer.from(authorization.slice(6), "base64").toString("utf8")
    const colon = decoded.indexOf(":")
    if (colon !== -1) {
      return { id: decodeURIComponent(decoded.slice(0, colon)), secret: decodeURIComponent(decoded.slice(colon + 1)) }
    }
  }
  return { id: form.get("client_id"), secret: form.get("client_secret") }
}

const checkClient = (form: URLSearchParams, headers: Headers, context: TokenContext, needSecret: boolean): Response | undefined => {
  const client = clientOf(form, headers)
  if (client.id === null || client.id !== context.credentials.clientId) {
    return Responses.oauthError("invalid_client_id", "client identifier invalid")
  }
  if (needSecret && (client.secret === null || !sameSecret(client.secret, context.credentials.clientSecret))) {
    return Responses.oauthError("invalid_client", "invalid client credentials")
  }
  return undefined
}

const success = (context: TokenContext, instanceUrl: string, userId: string, refreshToken: string | undefined): Response => {
  const issuedAt = String(context.now())
  const id = `${instanceUrl.replace(/\/$/, "")}/id/${context.organizationId}/${userId}`
  const signature = crypto.createHmac("sha256", context.credentials.clientSecret).update(id + issuedAt).digest("base64")
  return Responses.json({
    access_token: context.issue(userId),
    ...(refreshToken !== undefined ? { refresh_token: refreshToken } : {}),
    signature,
    scope: "api refresh_token",
    instance_url: instanceUrl.replace(/\/$/, ""),
    id,
    token_type: "Bearer",
    issued_at: issuedAt
  })
}

const base64UrlJson = (part: string | undefined): unknown => {
  if (part === undefined) return undefined
  try {
    return JSON.parse(Buffer.from(part, "base64url").toString("utf8"))
  } catch {
    return undefined
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value)

const jwtBearer = (form: URLSearchParams, context: TokenContext, requestUrl: URL, instanceUrl: string): Response => {
  const assertion = form.get("assertion") ?? ""
  const parts = assertion.split(".")
  const header = base64UrlJson(parts[0])
  const claims = base64UrlJson(parts[1])
  if (parts.length !== 3 || !isRecord(header) || !isRecord(claims) || header["alg"] !== "RS256") {
    return Responses.oauthError("invalid_grant", "invalid assertion")
  }
  if (context.jwtPublicKey !== undefined) {
    const valid = crypto.verify(
      "RSA-SHA256",
      Buffer.from(`${parts[0]}.${parts[1]}`),
      context.jwtPublicKey,
      Buffer.from(parts[2] ?? "", "base64url")
    )
    if (!valid) return Responses.oauthError("invalid_grant", "invalid assertion")
  }
  if (claims["iss"] !== context.credentials.clientId) return Responses.oauthError("invalid_client_id", "client identifier invalid")
  const audiences = new Set(["https://login.salesforce.com", "https://test.salesforce.com", requestUrl.origin, instanceUrl.replace(/\/$/, "")])
  const audience = claims["aud"]
  const audienceList = Array.isArray(audience) ? audience : [audience]
  if (!audienceList.some((entry) => typeof entry === "string" && audiences.has(entry.replace(/\/$/, "")))) {
    return Responses.oauthError("invalid_grant", "audience is invalid")
  }
  const expiry = claims["exp"]
  const nowSeconds = context.now() / 1000
  if (typeof expiry !== "number" || expiry < nowSeconds - clockSkewSeconds) {
    return Responses.oauthError("invalid_grant", "expired authorization code")
  }
  if (expiry > nowSeconds + maxAssertionLifetimeSeconds + clockSkewSeconds) {
    return Responses.oauthError("invalid_grant", "invalid assertion")
  }
  const subject = claims["sub"]
  const userId = typeof subject === "string" ? context.userIdFor(subject) : undefined
  if (userId === undefined) return Responses.oauthError("invalid_grant", "user hasn't approved this consumer")
  return success(context, instanceUrl, userId, undefined)
}

/** Answers `POST /services/oauth2/token`. */
export const token = (body: string, headers: Headers, requestUrl: URL, instanceUrl: string, context: TokenContext): Response => {
  const form = new URLSearchParams(body)
  const grantType = form.get("grant_type")
  switch (grantType ?? "") {
    case "refresh_token": {
      const clientError = checkClient(form, headers, context, true)
      if (clientError !== undefined) return clientError
      const refreshToken = form.get("refresh_token")
      if (refreshToken === null || !sameSecret(refreshToken, context.credentials.refreshToken)) {
        return Responses.oauthError("invalid_grant", "expired access/refresh token")
      }
      const userId = context.userIdFor(context.credentials.username)
      if (userId === undefined) return Responses.oauthError("invalid_grant", "inactive user")
      return success(context, instanceUrl, userId, context.rotateRefreshToken ? context.rotate() : undefined)
    }
    case "client_credentials": {
      if (loginHosts.has(requestUrl.hostname)) return Responses.oauthError("invalid_grant", "request not supported on this domain")
      const clientError = checkClient(form, headers, context, true)
      if (clientError !== undefined) return clientError
      const userId = context.userIdFor(context.credentials.username)
      if (userId === undefined) return Responses.oauthError("invalid_grant", "no client credentials user enabled")
      return success(context, instanceUrl, userId, undefined)
    }
    case jwtBearerGrant:
      return jwtBearer(form, context, requestUrl, instanceUrl)
    default:
      return Responses.oauthError("unsupported_grant_type", "grant type not supported")
  }
}
