/**
 * One run at a time per state file: a sync holds `<stateFile>.lock` from before it reads the
 * file until its last state is written. Two runs sharing the file at once (a scheduled run that
 * overlaps the previous one) would both resume from the same state and send the same records,
 * then overwrite each other's progress; the second one now stops before sending anything.
 *
 * The lock file names its holder (process, host, start) and is touched while held, so a lock
 * left by a run that was killed is taken over: at once when its process is gone from this host,
 * otherwise once it has not been touched for `staleAfter`.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import { randomUUID } from "node:crypto"
import { link, mkdir, readFile, rm, stat, utimes, writeFile } from "node:fs/promises"
import { hostname } from "node:os"
import * as path from "node:path"
import { StateFileError } from "./StateFile.js"

/** How often a held lock is touched. */
export const touchEvery = Duration.seconds(15)
/** A lock not touched for this long belongs to a run that is gone. */
export const staleAfter = Duration.minutes(2)

const Holder = Schema.Struct({ pid: Schema.Number, host: Schema.String, since: Schema.String })
type Holder = typeof Holder.Type
const decodeHolder = Schema.decodeUnknownEither(Schema.parseJson(Holder))

export const lockPath = (file: string): string => `${file}.lock`

const errnoCode = (cause: unknown): unknown => (cause instanceof Error && "code" in cause ? cause.code : undefined)

/** Whether process `pid` of this host still runs (a process of another user counts). */
const running = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (cause) {
    return errnoCode(cause) !== "ESRCH"
  }
}

type Attempt = { readonly _tag: "Taken" } | { readonly _tag: "Held"; readonly holder: Holder | undefined; readonly stale: boolean }

/** Creates the lock file whole (linked from a file already written), or reads who holds it. */
const attempt = async (lock: string, mine: Holder): Promise<Attempt> => {
  const draft = `${lock}.${process.pid}.${randomUUID()}`
  await writeFile(draft, `${JSON.stringify(mine)}\n`)
  try {
    await link(draft, lock)
    return { _tag: "Taken" }
  } catch (cause) {
    if (errnoCode(cause) !== "EEXIST") throw cause
  } finally {
    await rm(draft, { force: true })
  }
  const [text, touched] = await Promise.all([readFile(lock, "utf8"), stat(lock)]).catch((cause: unknown) => {
    // released between the two steps: try again
    if (errnoCode(cause) === "ENOENT") return [undefined, undefined] as const
    throw cause
  })
  if (text === undefined || touched === undefined) return { _tag: "Held", holder: undefined, stale: true }
  const holder = Either.getOrUndefined(decodeHolder(text))
  const gone = holder !== undefined && holder.host === mine.host && holder.pid !== process.pid && !running(holder.pid)
  return { _tag: "Held", holder, stale: gone || Date.now() - touched.mtimeMs > Duration.toMillis(staleAfter) }
}

const heldMessage = (file: string, holder: Holder | undefined): string =>
  `another run is using it${holder === undefined ? "" : ` (process ${holder.pid} on ${holder.host}, since ${holder.since})`}; ` +
  `two runs at once would send the same records twice. Wait for that run to end, or remove ${lockPath(file)} if no run is going`

/**
 * Holds the lock of `file` for the scope, touching it every `touchEvery`; fails naming the holder
 * when another run holds it. A stale lock (see the module doc) is taken over with a warning.
 */
export const hold = (file: string): Effect.Effect<void, StateFileError, Scope.Scope> => {
  const lock = lockPath(file)
  const failure = (detail: string) => new StateFileError({ file, operation: "lock", detail })
  const io = <A>(run: () => Promise<A>) =>
    Effect.tryPromise({ try: run, catch: (cause) => failure(cause instanceof Error ? cause.message : String(cause)) })
  const take = Effect.gen(function* () {
    const mine: Holder = { pid: process.pid, host: hostname(), since: new Date().toISOString() }
    yield* io(() => mkdir(path.dirname(file), { recursive: true }))
    // twice at most: once more after a stale lock was removed
    for (let tries = 0; tries < 2; tries++) {
      const outcome = yield* io(() => attempt(lock, mine))
      if (outcome._tag === "Taken") return mine
      if (!outcome.stale) return yield* Effect.fail(failure(heldMessage(file, outcome.holder)))
      if (outcome.holder !== undefined) {
        yield* Effect.logWarning(
          `took over the lock of ${file} left by process ${outcome.holder.pid} on ${outcome.holder.host} (since ${outcome.holder.since}), which is no longer running`
        )
      }
      yield* io(() => rm(lock, { force: true }))
    }
    return yield* Effect.fail(failure(heldMessage(file, undefined)))
  })
  const touch = io(() => {
    const now = new Date()
    return utimes(lock, now, now)
  })
  /** Removes the lock unless another run took it over meanwhile (this one was thought gone). */
  const release = (mine: Holder) =>
    Effect.promise(async () => {
      const text = await readFile(lock, "utf8").catch(() => undefined)
      const holder = text === undefined ? undefined : Either.getOrUndefined(decodeHolder(text))
      if (holder !== undefined && holder.pid === mine.pid && holder.host === mine.host && holder.since === mine.since) await rm(lock, { force: true })
    })
  return Effect.acquireRelease(take, release).pipe(
    Effect.zipRight(Effect.forkScoped(Effect.forever(Effect.zipRight(Effect.sleep(touchEvery), Effect.ignore(touch))))),
    Effect.asVoid
  )
}
