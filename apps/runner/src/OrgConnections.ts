/**
 * Salesforce connections for the orgs syncs name, opened once per invocation and shared:
 * production, sandbox or a My Domain with credentials from the definition or the environment,
 * and `local` — the embedded emulator, served on a loopback port for the life of the run (so
 * the Contacts of one sync find the Accounts of the sync before).
 */
import { NodeHttpClient } from "@effect/platform-node"
import { type AuthError, Credentials, SalesforceSession } from "@sfdc-activation/auth"
import { BulkClient } from "@sfdc-activation/bulk-client"
import { EmulatorServer, Org as EmulatedOrg } from "@sfdc-activation/salesforce-emulator"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Scope from "effect/Scope"
import { ConfigError } from "./ConfigError.js"
import { maskUserinfo, type Redactor } from "./Redactor.js"
import * as RefreshTokenFile from "./RefreshTokenFile.js"
import type { Environment } from "./SyncFiles.js"
import * as SyncDefinition from "./SyncDefinition.js"

export type Connection = Context.Context<BulkClient.BulkClient | SalesforceSession.SalesforceSession>

/** The emulator finishes jobs at once: poll it briskly instead of Salesforce's 1 s start. */
const localPollInterval = "50 millis"

/** A stable, secret-free name of an org for logs, reports and caching. */
export const orgLabel = (org: SyncDefinition.Org): string => maskUserinfo(SyncDefinition.loginOf(org))

/** The credentials an org is given: from its definition, else from the environment (relative files from `baseDir`). */
export const credentialsFor = (
  org: SyncDefinition.Org,
  env: Environment,
  redactor: Redactor,
  baseDir = "."
): Effect.Effect<Credentials.Credentials, ConfigError> =>
  Effect.suspend(() => {
    const tokenFile = RefreshTokenFile.of(org, setting(env, RefreshTokenFile.variable), baseDir)
    if (tokenFile === undefined) return credentialsOf(org, env, redactor)
    if (setting(env, "SALESFORCE_REFRESH_TOKEN") !== undefined) {
      return Effect.fail(new ConfigError({ detail: `set SALESFORCE_REFRESH_TOKEN or ${RefreshTokenFile.variable}, not both` }))
    }
    return Effect.flatMap(RefreshTokenFile.read(tokenFile), (token) => credentialsOf(org, { ...env, SALESFORCE_REFRESH_TOKEN: token }, redactor))
  })

const credentialsOf = (org: SyncDefinition.Org, env: Environment, redactor: Redactor): Effect.Effect<Credentials.Credentials, ConfigError> => {
  const declared = typeof org === "string" ? undefined : org.credentials
  // values trimmed as settings are: a `${VAR}` read from a file often ends with a newline
  const secret = (value: string) => {
    redactor.add(value.trim())
    return Redacted.make(value.trim())
  }
  if (declared !== undefined) {
    switch (declared.type) {
      case "refreshToken":
        return Effect.succeed(
          Credentials.refreshToken({ clientId: declared.clientId.trim(), clientSecret: secret(declared.clientSecret), refreshToken: secret(declared.refreshToken) })
        )
      case "clientCredentials":
        return Effect.succeed(Credentials.clientCredentials({ clientId: declared.clientId.trim(), clientSecret: secret(declared.clientSecret) }))
      case "jwt":
        return Effect.succeed(
          Credentials.jwtBearer({ clientId: declared.clientId.trim(), username: declared.username.trim(), privateKey: secret(declared.privateKey) })
        )
    }
  }
  const clientId = setting(env, "SALESFORCE_CLIENT_ID")
  const clientSecret = setting(env, "SALESFORCE_CLIENT_SECRET")
  const refreshToken = setting(env, "SALESFORCE_REFRESH_TOKEN")
  const username = setting(env, "SALESFORCE_USERNAME")
  const privateKey = setting(env, "SALESFORCE_PRIVATE_KEY")
  if (clientId !== undefined && username !== undefined && privateKey !== undefined) {
    return Effect.succeed(Credentials.jwtBearer({ clientId, username, privateKey: secret(privateKey) }))
  }
  if (clientId !== undefined && clientSecret !== undefined && refreshToken !== undefined) {
    return Effect.succeed(Credentials.refreshToken({ clientId, clientSecret: secret(clientSecret), refreshToken: secret(refreshToken) }))
  }
  if (clientId !== undefined && clientSecret !== undefined) {
    return Effect.succeed(Credentials.clientCredentials({ clientId, clientSecret: secret(clientSecret) }))
  }
  const missingClientId = clientId === undefined && [clientSecret, refreshToken, username, privateKey].some((value) => value !== undefined)
  return Effect.fail(
    new ConfigError({
      detail: `no credentials for org ${orgLabel(org)}${missingClientId ? " (SALESFORCE_CLIENT_ID is not set)" : ""}: set SALESFORCE_CLIENT_ID (the consumer key) with SALESFORCE_CLIENT_SECRET and SALESFORCE_REFRESH_TOKEN or SALESFORCE_REFRESH_TOKEN_FILE (refresh token), with SALESFORCE_USERNAME and SALESFORCE_PRIVATE_KEY (JWT), or with SALESFORCE_CLIENT_SECRET alone (client credentials, My Domain only); or declare org.credentials`
    })
  )
}

/**
 * An environment variable's value; empty or blank counts as unset (CI systems pass an unset
 * secret as an empty string).
 */
/** An environment setting, without the whitespace a secret read from a file often ends with (no Salesforce value holds any at its ends). */
const setting = (env: Environment, name: string): string | undefined => {
  const value = env[name]?.trim()
  return value === undefined || value === "" ? undefined : value
}

const connect = (layer: Layer.Layer<BulkClient.BulkClient | SalesforceSession.SalesforceSession, AuthError.AuthError>, scope: Scope.Scope) =>
  Layer.buildWithScope(layer, scope)

export interface OrgConnections {
  /** The connection to `org`, opened on first use and kept for the invocation. */
  readonly get: (org: SyncDefinition.Org) => Effect.Effect<Connection, ConfigError | AuthError.AuthError>
}

/** Connections that live as long as the enclosing scope (the emulator server with them). */
export const make = (env: Environment, redactor: Redactor, baseDir: string): Effect.Effect<OrgConnections, never, Scope.Scope> =>
  Effect.gen(function* () {
    const scope = yield* Effect.scope
    const cache = new Map<string, Connection>()
    const lock = yield* Effect.makeSemaphore(1)
    const open = (org: SyncDefinition.Org) =>
      Effect.gen(function* () {
        const login = SyncDefinition.loginOf(org)
        const apiVersion = typeof org === "string" ? undefined : org.apiVersion
        if (login === "local") {
          // a sync copied from the examples keeps `org: local`: say so where real runs happen
          const ci = setting(env, "CI")
          if ((ci !== undefined && ci.toLowerCase() !== "false") || setting(env, "SALESFORCE_CLIENT_ID") !== undefined) {
            yield* Effect.logWarning(
              "org: local is the embedded emulator, created empty for this run and then dropped: nothing is written to Salesforce (set org: production, sandbox or your My Domain URL)"
            )
          }
          const emulated = EmulatedOrg.make()
          const server = yield* EmulatorServer.scoped(emulated).pipe(Scope.extend(scope))
          const credentials = emulated.credentials
          const session = SalesforceSession.layer({
            credentials: Credentials.refreshToken({
              clientId: credentials.clientId,
              clientSecret: Redacted.make(credentials.clientSecret),
              refreshToken: Redacted.make(credentials.refreshToken)
            }),
            login: { loginUrl: server.url }
          }).pipe(Layer.provide(NodeHttpClient.layer))
          const bulk = BulkClient.layer({ apiVersion, poll: { schedule: Schedule.spaced(localPollInterval) } })
          return yield* connect(bulk.pipe(Layer.provideMerge(session)), scope)
        }
        const credentials = yield* credentialsFor(org, env, redactor, baseDir)
        const target = login === "production" ? {} : login === "sandbox" ? { isSandbox: true } : { loginUrl: login }
        const session = SalesforceSession.layer({ credentials, login: target }).pipe(Layer.provide(NodeHttpClient.layer))
        const connection = yield* connect(BulkClient.layer({ apiVersion }).pipe(Layer.provideMerge(session)), scope)
        const tokenFile = RefreshTokenFile.of(org, setting(env, RefreshTokenFile.variable), baseDir)
        if (tokenFile !== undefined) yield* RefreshTokenFile.saveRotations(Context.get(connection, SalesforceSession.SalesforceSession), tokenFile, redactor, scope)
        return connection
      })
    return {
      get: (org) =>
        lock.withPermits(1)(
          Effect.gen(function* () {
            const key = JSON.stringify(org)
            const cached = cache.get(key)
            if (cached !== undefined) return cached
            const connection = yield* open(org)
            cache.set(key, connection)
            return connection
          })
        )
    }
  })
