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
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { readFileSync } from "node:fs"
import { randomUUID } from "node:crypto"
import { open, rename, rm } from "node:fs/promises"
import * as path from "node:path"
import { ConfigError } from "./ConfigError.js"
import { maskUserinfo, type Redactor } from "./Redactor.js"
import type { Environment } from "./SyncFiles.js"
import * as SyncDefinition from "./SyncDefinition.js"

export type Connection = Context.Context<BulkClient.BulkClient | SalesforceSession.SalesforceSession>

/** The emulator finishes jobs at once: poll it briskly instead of Salesforce's 1 s start. */
const localPollInterval = "50 millis"

/** A stable, secret-free name of an org for logs, reports and caching. */
export const orgLabel = (org: SyncDefinition.Org): string => maskUserinfo(SyncDefinition.loginOf(org))

/** The environment variable naming a file that holds the refresh token, where each rotated one is saved. */
const refreshTokenFileVariable = "SALESFORCE_REFRESH_TOKEN_FILE"

/** The file an org's refresh token is read from and rotated ones saved to, when the environment names one (the definition declares no credentials). */
export const refreshTokenFileOf = (org: SyncDefinition.Org, env: Environment, baseDir: string): string | undefined => {
  const file = typeof org !== "string" && org.credentials !== undefined ? undefined : setting(env, refreshTokenFileVariable)
  return file === undefined ? undefined : path.resolve(baseDir, file)
}

const readRefreshTokenFile = (file: string): Effect.Effect<string, ConfigError> =>
  Effect.flatMap(
    Effect.try({
      try: () => readFileSync(file, "utf8").trim(),
      catch: (cause) => new ConfigError({ detail: `cannot read ${refreshTokenFileVariable} ${file}: ${cause instanceof Error ? cause.message : String(cause)}` })
    }),
    (token) => (token === "" ? Effect.fail(new ConfigError({ detail: `${refreshTokenFileVariable} ${file} is empty: put the refresh token in it` })) : Effect.succeed(token))
  )

/** The credentials an org is given: from its definition, else from the environment (relative files from `baseDir`). */
export const credentialsFor = (
  org: SyncDefinition.Org,
  env: Environment,
  redactor: Redactor,
  baseDir = "."
): Effect.Effect<Credentials.Credentials, ConfigError> =>
  Effect.suspend(() => {
    const tokenFile = refreshTokenFileOf(org, env, baseDir)
    if (tokenFile === undefined) return credentialsOf(org, env, redactor)
    if (setting(env, "SALESFORCE_REFRESH_TOKEN") !== undefined) {
      return Effect.fail(new ConfigError({ detail: `set SALESFORCE_REFRESH_TOKEN or ${refreshTokenFileVariable}, not both` }))
    }
    return Effect.flatMap(readRefreshTokenFile(tokenFile), (token) => credentialsOf(org, { ...env, SALESFORCE_REFRESH_TOKEN: token }, redactor))
  })

const credentialsOf = (org: SyncDefinition.Org, env: Environment, redactor: Redactor): Effect.Effect<Credentials.Credentials, ConfigError> => {
  const declared = typeof org === "string" ? undefined : org.credentials
  const secret = (value: string) => {
    redactor.add(value)
    return Redacted.make(value)
  }
  if (declared !== undefined) {
    switch (declared.type) {
      case "refreshToken":
        return Effect.succeed(
          Credentials.refreshToken({ clientId: declared.clientId, clientSecret: secret(declared.clientSecret), refreshToken: secret(declared.refreshToken) })
        )
      case "clientCredentials":
        return Effect.succeed(Credentials.clientCredentials({ clientId: declared.clientId, clientSecret: secret(declared.clientSecret) }))
      case "jwt":
        return Effect.succeed(Credentials.jwtBearer({ clientId: declared.clientId, username: declared.username, privateKey: secret(declared.privateKey) }))
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
const setting = (env: Environment, name: string): string | undefined => {
  const value = env[name]
  return value === undefined || value.trim() === "" ? undefined : value
}

const connect = (layer: Layer.Layer<BulkClient.BulkClient | SalesforceSession.SalesforceSession, AuthError.AuthError>, scope: Scope.Scope) =>
  Layer.buildWithScope(layer, scope)

/**
 * Replaces `file` with `text`, readable by its owner only: written under a name of its own (two
 * runs at once never mix their writes), flushed to disk, renamed into place, the rename flushed
 * too — the old token is dead once Salesforce rotated it, so the new one must survive a crash.
 */
const replaceDurably = async (file: string, text: string): Promise<void> => {
  const temporary = `${file}.${process.pid}.${randomUUID()}.partial`
  const handle = await open(temporary, "w", 0o600)
  try {
    await handle.writeFile(text)
    await handle.sync()
  } finally {
    await handle.close()
  }
  try {
    await rename(temporary, file)
  } catch (cause) {
    await rm(temporary, { force: true })
    throw cause
  }
  const directory = await open(path.dirname(file), "r").catch(() => undefined)
  // not every platform syncs a directory (Windows); the rename is done either way
  await directory?.sync().catch(() => undefined)
  await directory?.close()
}

/**
 * Keeps the refresh token Salesforce rotates in saved to `file` (written whole, then renamed into
 * place, readable by its owner only): as each rotation happens, and once more as the connection
 * closes, so the next run logs in with it.
 */
const saveRotatedRefreshTokens = (session: SalesforceSession.SalesforceSessionService, file: string, redactor: Redactor, scope: Scope.Scope) =>
  Effect.gen(function* () {
    const lock = yield* Effect.makeSemaphore(1)
    let saved: string | undefined
    const saveLatest = lock.withPermits(1)(
      Effect.gen(function* () {
        const latest = Option.map(yield* session.rotatedRefreshToken, Redacted.value)
        if (Option.isNone(latest) || latest.value === saved) return
        const token = latest.value
        redactor.add(token)
        yield* Effect.tryPromise(() => replaceDurably(file, `${token}\n`))
        saved = token
        yield* Effect.log(`saved the rotated refresh token to ${file}`)
      }).pipe(
        Effect.catchAll((error) =>
          Effect.logError(`cannot save the rotated refresh token to ${file} (${error.message}): the next run fails with InvalidGrant until a valid token is there`)
        )
      )
    )
    yield* Effect.forkIn(Stream.runForEach(session.refreshTokenRotations, () => saveLatest), scope)
    yield* Scope.addFinalizer(scope, saveLatest)
  })

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
        const tokenFile = refreshTokenFileOf(org, env, baseDir)
        if (tokenFile !== undefined) yield* saveRotatedRefreshTokens(Context.get(connection, SalesforceSession.SalesforceSession), tokenFile, redactor, scope)
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
