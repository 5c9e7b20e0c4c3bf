/**
 * Where to log in: production, sandbox, or an explicit My Domain URL.
 *
 * Credentials only ever travel over HTTPS; plain `http://` is accepted for loopback hosts
 * alone, so the local emulator works and nothing else can be reached in the clear.
 */
import * as Either from "effect/Either"
import { AuthError } from "./AuthError.js"

export const production = "https://login.salesforce.com"
export const sandbox = "https://test.salesforce.com"

export interface LoginTarget {
  /**
   * `true` for a sandbox (`test.salesforce.com`). With `loginUrl` set, it only makes the JWT
   * bearer audience `test.salesforce.com` (implied for a `*.sandbox.my.salesforce.com` URL).
   */
  readonly isSandbox?: boolean | undefined
  /** A My Domain URL such as `https://acme.my.salesforce.com`, or a loopback emulator URL. */
  readonly loginUrl?: string | undefined
}

const loopbackHosts = new Set(["localhost", "[::1]", "::1"])

/** `true` for 127.0.0.0/8, `localhost` and `[::1]`. */
export const isLoopbackHost = (hostname: string): boolean =>
  loopbackHosts.has(hostname) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname)

/** Checks a URL Salesforce credentials or tokens may be sent to; returns its origin. */
export const checkSecureOrigin = (url: string, what: string): Either.Either<string, AuthError> => {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return Either.left(new AuthError({ reason: "InvalidLoginUrl", description: `${what} ${JSON.stringify(url)} is not a URL` }))
  }
  if (parsed.username !== "" || parsed.password !== "") {
    return Either.left(new AuthError({ reason: "InvalidLoginUrl", description: `${what} must not carry credentials` }))
  }
  if (parsed.protocol === "https:") return Either.right(parsed.origin)
  if (parsed.protocol === "http:" && isLoopbackHost(parsed.hostname)) return Either.right(parsed.origin)
  return Either.left(
    new AuthError({
      reason: "InvalidLoginUrl",
      description: `${what} ${parsed.origin} must use https:// (plain http:// is allowed for loopback hosts only)`
    })
  )
}

/** The login origin for a target. */
export const resolve = (target: LoginTarget): Either.Either<string, AuthError> =>
  target.loginUrl === undefined || target.loginUrl === ""
    ? Either.right(target.isSandbox === true ? sandbox : production)
    : checkSecureOrigin(target.loginUrl, "login URL")

/** `true` for a sandbox's My Domain origin (`https://NAME--SANDBOX.sandbox.my.salesforce.com`). */
export const isSandboxMyDomain = (origin: string): boolean => {
  try {
    return new URL(origin).hostname.toLowerCase().endsWith(".sandbox.my.salesforce.com")
  } catch {
    return false
  }
}

/** `true` for the shared login hosts, where Salesforce refuses the client credentials flow. */
export const isSharedLoginHost = (origin: string): boolean => origin === production || origin === sandbox
