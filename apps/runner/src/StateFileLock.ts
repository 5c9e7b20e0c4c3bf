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
import { readlinkSync } from "node:fs"
import { hostname } from "node:os"
import * as path from "node:path"
import { errnoCode, StateFileError } from "./StateFile.js"

/** How often a held lock is touched. */
export const touchEvery = Duration.seconds(15)
/** A lock not touched for this long belongs to a run that is gone. */
export const staleAfter = Duration.minutes(2)

const Holder = Schema.Struct({
  pid: Schema.Number,
  host: Schema.String,
  since: Schema.String,
  /** The holder's process namespace (Linux): containers sharing a host name do not see each other's processes. */
  pidNamespace: Schema.optional(Schema.String)
})
type Holder = typeof Holder.Type
const decodeHolder = Schema.decodeUnknownEither(Schema.parseJson(Holder))

/** This process's pid namespace, where Linux tells it. */
const pidNamespace = (): string | undefined => {
  try {
    return readlinkSync("/proc/self/ns/pid")
  } catch {
    return undefined
  }
}

const sameHolder = (a: Holder, b: Holder) => a.pid === b.pid && a.host === b.host && a.since === b.since

export const lockPath = (file: string): string => `${file}.lock`

/** Whether process `pid` of this host still runs (a process of another user counts). */
const running = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (cause) {
    return errnoCode(cause) !== "ESRCH"
  }
}

type Attempt =
  | { readonly _tag: "Taken" }
  | { readonly _tag: "Released" }
  | { readonly _tag: "Held"; readonly holder: Holder | undefined; readonly text: string; readonly stale: boolean }

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
  const read = await Promise.all([readFile(lock, "utf8"), stat(lock)]).catch((cause: unknown) => {
    if (errnoCode(cause) === "ENOENT") return undefined
    throw cause
  })
  // let go between the two steps: try again
  if (read === undefined) return { _tag: "Released" }
  const [text, touched] = read
  const holder = Either.getOrUndefined(decodeHolder(text))
  // only a process of this host and namespace can be seen to be gone
  const gone =
    holder !== undefined && holder.host === mine.host && holder.pidNamespace === mine.pidNamespace && holder.pid !== process.pid && !running(holder.pid)
  return { _tag: "Held", holder, text, stale: gone || Date.now() - touched.mtimeMs > Duration.toMillis(staleAfter) }
}

/**
 * Removes the lock judged stale (its text `judged`), one run at a time: under `<lock>.takeover`,
 * and only while the lock still holds that text, so a lock another run has just taken is kept.
 */
export const takeOver = async (lock: string, judged: string): Promise<void> => {
  const guard = `${lock}.takeover`
  try {
    await writeFile(guard, "", { flag: "wx" })
  } catch (cause) {
    if (errnoCode(cause) !== "EEXIST") throw cause
    // another run is taking over; a guard left by one killed meanwhile goes once stale
    const left = await stat(guard).catch(() => undefined)
    if (left !== undefined && Date.now() - left.mtimeMs > Duration.toMillis(staleAfter)) await rm(guard, { force: true })
    return
  }
  try {
    const now = await readFile(lock, "utf8").catch(() => undefined)
    if (now === judged) await rm(lock, { force: true })
  } finally {
    await rm(guard, { force: true })
  }
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
    const mine: Holder = { pid: process.pid, host: hostname(), since: new Date().toISOString(), pidNamespace: pidNamespace() }
    yield* io(() => mkdir(path.dirname(file), { recursive: true }))
    // a few times at most: again after a lock was let go or a stale one removed
    let last: Holder | undefined
    for (let tries = 0; tries < 3; tries++) {
      const outcome = yield* io(() => attempt(lock, mine))
      if (outcome._tag === "Taken") return mine
      if (outcome._tag === "Released") continue
      last = outcome.holder
      if (!outcome.stale) return yield* Effect.fail(failure(heldMessage(file, outcome.holder)))
      if (outcome.holder !== undefined) {
        yield* Effect.logWarning(
          `taking over the lock of ${file} left by process ${outcome.holder.pid} on ${outcome.holder.host} (since ${outcome.holder.since}), which is no longer running`
        )
      }
      yield* io(() => takeOver(lock, outcome.text))
    }
    return yield* Effect.fail(failure(heldMessage(file, last)))
  })
  /** Touches the lock while it is this run's; says so once if another run took it over (this one thought gone). */
  let lost = false
  const touch = (mine: Holder) =>
    Effect.flatMap(
      io(async () => {
        const text = await readFile(lock, "utf8").catch(() => undefined)
        const holder = text === undefined ? undefined : Either.getOrUndefined(decodeHolder(text))
        if (holder === undefined || !sameHolder(holder, mine)) return holder ?? false
        const now = new Date()
        await utimes(lock, now, now)
        return true
      }),
      (owned) => {
        if (owned === true || lost) return Effect.void
        lost = true
        return Effect.logError(
          `the lock of ${file} is no longer this run's${owned === false ? "" : ` (process ${owned.pid} on ${owned.host} took it over)`}: two runs may now write this state file`
        )
      }
    )
  /** Removes the lock unless another run took it over meanwhile (this one was thought gone). */
  const release = (mine: Holder) =>
    Effect.promise(async () => {
      const text = await readFile(lock, "utf8").catch(() => undefined)
      const holder = text === undefined ? undefined : Either.getOrUndefined(decodeHolder(text))
      if (holder !== undefined && sameHolder(holder, mine)) await rm(lock, { force: true })
    })
  return Effect.acquireRelease(take, release).pipe(
    Effect.flatMap((mine) => Effect.forkScoped(Effect.forever(Effect.zipRight(Effect.sleep(touchEvery), Effect.ignore(touch(mine)))))),
    Effect.asVoid
  )
}
