/**
 * A refresh token kept in a file (`SALESFORCE_REFRESH_TOKEN_FILE`): read at login, and each one
 * Salesforce rotates in saved back, so the next run logs in when the Connected App rotates tokens.
 */
import type { SalesforceSession } from "@sfdc-activation/auth"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { randomUUID } from "node:crypto"
import { readFileSync } from "node:fs"
import { open, rename, rm } from "node:fs/promises"
import * as path from "node:path"
import { ConfigError } from "./ConfigError.js"
import type { Redactor } from "./Redactor.js"
import type * as SyncDefinition from "./SyncDefinition.js"

/** The environment variable naming a file that holds the refresh token, where each rotated one is saved. */
export const variable = "SALESFORCE_REFRESH_TOKEN_FILE"

/**
 * The file an org's refresh token is read from and rotated ones saved to: `setting` (the
 * variable's value), from `baseDir`, unless the definition declares the org's credentials.
 */
export const of = (org: SyncDefinition.Org, setting: string | undefined, baseDir: string): string | undefined =>
  setting === undefined || (typeof org !== "string" && org.credentials !== undefined) ? undefined : path.resolve(baseDir, setting)

/** The token the file holds. */
export const read = (file: string): Effect.Effect<string, ConfigError> =>
  Effect.flatMap(
    Effect.try({
      try: () => readFileSync(file, "utf8").trim(),
      catch: (cause) => new ConfigError({ detail: `cannot read ${variable} ${file}: ${cause instanceof Error ? cause.message : String(cause)}` })
    }),
    (token) => (token === "" ? Effect.fail(new ConfigError({ detail: `${variable} ${file} is empty: put the refresh token in it` })) : Effect.succeed(token))
  )

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
export const saveRotations = (session: SalesforceSession.SalesforceSessionService, file: string, redactor: Redactor, scope: Scope.Scope) =>
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
