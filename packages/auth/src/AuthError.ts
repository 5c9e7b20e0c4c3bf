/**
 * Why Salesforce (or the configuration) refused to give this client a session.
 */
import * as Schema from "effect/Schema"

export const AuthErrorReason = Schema.Literal(
  /** `invalid_grant`: expired or revoked refresh token, bad JWT, wrong user or password. */
  "InvalidGrant",
  /** `invalid_client`: wrong client secret. */
  "InvalidClient",
  /** `invalid_client_id`: unknown consumer key. */
  "InvalidClientId",
  /** `unsupported_grant_type`: the grant is not enabled for this app or host. */
  "UnsupportedGrant",
  /** Any other OAuth error code. */
  "TokenRequestRefused",
  /** The login URL is not one this client will send credentials to. */
  "InvalidLoginUrl",
  /** The JWT private key could not be used to sign. */
  "InvalidPrivateKey",
  /** The token endpoint stayed unreachable or answered 5xx after retries. */
  "Unavailable",
  /** The token endpoint answered something that is not a token. */
  "UnexpectedResponse",
  /** A request was refused as unauthenticated again right after a fresh token. */
  "SessionRejected"
)
export type AuthErrorReason = typeof AuthErrorReason.Type

/** Reasons that a retry later may cure; the others are configuration errors. */
const transientReasons: ReadonlySet<AuthErrorReason> = new Set(["Unavailable"])

export class AuthError extends Schema.TaggedError<AuthError>()("AuthError", {
  reason: AuthErrorReason,
  /** Salesforce's `error_description` or our own explanation; never holds a secret. */
  description: Schema.String,
  /** The OAuth `error` code, when Salesforce sent one. */
  errorCode: Schema.optional(Schema.String),
  status: Schema.optional(Schema.Number)
}) {
  override get message(): string {
    const code = this.errorCode === undefined ? "" : ` (${this.errorCode})`
    return `Salesforce authentication failed: ${this.reason}${code}: ${this.description}`
  }

  get isTransient(): boolean {
    return transientReasons.has(this.reason)
  }
}

const reasonByOAuthError: Readonly<Record<string, AuthErrorReason>> = {
  invalid_grant: "InvalidGrant",
  invalid_client: "InvalidClient",
  invalid_client_id: "InvalidClientId",
  unsupported_grant_type: "UnsupportedGrant"
}

/** The reason for an OAuth `error` code from the token endpoint. */
export const reasonOf = (oauthError: string): AuthErrorReason => reasonByOAuthError[oauthError] ?? "TokenRequestRefused"
