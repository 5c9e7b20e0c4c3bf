/**
 * Salesforce OAuth 2.0 for Effect: credentials, login URLs, and an authenticated session.
 */
export * as AuthError from "./AuthError.js"
export * as Credentials from "./Credentials.js"
export * as LoginUrl from "./LoginUrl.js"
export * as SalesforceSession from "./SalesforceSession.js"
export * as TokenEndpoint from "./TokenEndpoint.js"
