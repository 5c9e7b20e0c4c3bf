import { describe, expect, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import * as TestClock from "effect/TestClock"
import { spawnSync } from "node:child_process"
import { existsSync, mkdtempSync, rmSync, readFileSync, readlinkSync, statSync, utimesSync, writeFileSync } from "node:fs"
import { stat } from "node:fs/promises"
import { hostname, tmpdir } from "node:os"
import * as path from "node:path"
import * as StateFileLock from "../src/StateFileLock.js"

const scratch = mkdtempSync(path.join(tmpdir(), "runner-lock-"))
let files = 0
const stateFile = () => path.join(scratch, `state-${++files}`, "state.json")

/** A lock file as another run leaves it, touched `ageMs` ago. */
const leftLock = (file: string, holder: { readonly pid: number; readonly host: string; readonly pidNamespace?: string }, ageMs = 0) => {
  const lock = StateFileLock.lockPath(file)
  writeFileSync(lock, `${JSON.stringify({ ...holder, since: "2026-01-02T03:04:05.000Z" })}\n`)
  const touched = new Date(Date.now() - ageMs)
  utimesSync(lock, touched, touched)
  return lock
}

/** The pid of a process that has ended. */
const endedPid = () => spawnSync(process.execPath, ["-e", ""]).pid ?? 0

const warnings = (run: Effect.Effect<void, unknown>) =>
  Effect.gen(function* () {
    const logged: Array<string> = []
    const logger = Logger.make(({ message }) => void logged.push(String(message)))
    yield* run.pipe(Effect.provide(Logger.replace(Logger.defaultLogger, logger)))
    return logged
  })

describe("StateFileLock", () => {
  it.effect("a second holder is refused, naming the first and the lock file, until the first lets go", () =>
    Effect.gen(function* () {
      const file = stateFile()
      const lock = StateFileLock.lockPath(file)
      yield* Effect.scoped(
        Effect.gen(function* () {
          yield* StateFileLock.hold(file)
          expect(JSON.parse(readFileSync(lock, "utf8"))).toMatchObject({ pid: process.pid, host: hostname() })
          const refused = yield* Effect.flip(Effect.scoped(StateFileLock.hold(file)))
          expect(refused.message).toContain(`cannot lock the state file ${file}: another run is using it (process ${process.pid} on ${hostname()}, since `)
          expect(refused.message).toContain(`remove ${lock} if no run is going`)
          // the refused attempt left the holder's lock in place
          expect(existsSync(lock)).toBe(true)
        })
      )
      expect(existsSync(lock)).toBe(false)
      yield* Effect.scoped(StateFileLock.hold(file))
    })
  )

  it.effect("refuses a lock of a run on another host that is still touched", () =>
    Effect.gen(function* () {
      const file = stateFile()
      yield* Effect.scoped(StateFileLock.hold(file))
      const lock = leftLock(file, { pid: 4242, host: "scheduler-7" })
      const refused = yield* Effect.flip(Effect.scoped(StateFileLock.hold(file)))
      expect(refused.message).toContain("another run is using it (process 4242 on scheduler-7, since 2026-01-02T03:04:05.000Z)")
      expect(readFileSync(lock, "utf8")).toContain("scheduler-7")
    })
  )

  it.effect("takes over, with a warning, a lock whose process is gone from this host", () =>
    Effect.gen(function* () {
      const file = stateFile()
      yield* Effect.scoped(StateFileLock.hold(file))
      const pid = endedPid()
      const lock = leftLock(file, { pid, host: hostname(), pidNamespace: readlinkSync("/proc/self/ns/pid") })
      let holder: unknown
      const logged = yield* warnings(Effect.scoped(Effect.zipRight(StateFileLock.hold(file), Effect.sync(() => void (holder = JSON.parse(readFileSync(lock, "utf8")))))))
      expect(holder).toMatchObject({ pid: process.pid, host: hostname() })
      expect(logged).toContainEqual(`taking over the lock of ${file} left by process ${pid} on ${hostname()} (since 2026-01-02T03:04:05.000Z), which is no longer running`)
    })
  )

  it.effect("does not take for gone a process of another pid namespace on a host of the same name (a container)", () =>
    Effect.gen(function* () {
      const file = stateFile()
      yield* Effect.scoped(StateFileLock.hold(file))
      leftLock(file, { pid: endedPid(), host: hostname(), pidNamespace: "pid:[1]" })
      const refused = yield* Effect.flip(Effect.scoped(StateFileLock.hold(file)))
      expect(refused.message).toContain("another run is using it")
    })
  )

  it.effect("a takeover removes only the lock it judged stale, and only when no other run is taking over", () =>
    Effect.gen(function* () {
      const file = stateFile()
      yield* Effect.scoped(StateFileLock.hold(file))
      const lock = leftLock(file, { pid: 4242, host: "scheduler-7" })
      const judged = readFileSync(lock, "utf8")
      // another run took the lock since it was judged: kept
      yield* Effect.promise(() => StateFileLock.takeOver(lock, judged.replace("4242", "4343")))
      expect(readFileSync(lock, "utf8")).toBe(judged)
      // another run is taking over: kept
      writeFileSync(`${lock}.takeover`, "")
      yield* Effect.promise(() => StateFileLock.takeOver(lock, judged))
      expect(readFileSync(lock, "utf8")).toBe(judged)
      rmSync(`${lock}.takeover`)
      yield* Effect.promise(() => StateFileLock.takeOver(lock, judged))
      expect(existsSync(lock)).toBe(false)
      expect(existsSync(`${lock}.takeover`)).toBe(false)
    })
  )

  it.effect("takes over a lock of another host not touched for longer than staleAfter", () =>
    Effect.gen(function* () {
      const file = stateFile()
      yield* Effect.scoped(StateFileLock.hold(file))
      leftLock(file, { pid: 4242, host: "scheduler-7" }, Duration.toMillis(StateFileLock.staleAfter) + 10_000)
      yield* Effect.scoped(StateFileLock.hold(file))
      // one touched just inside the limit is not
      leftLock(file, { pid: 4242, host: "scheduler-7" }, Duration.toMillis(StateFileLock.staleAfter) - 10_000)
      yield* Effect.flip(Effect.scoped(StateFileLock.hold(file)))
    })
  )

  it.scoped("a held lock is touched every touchEvery, so it never looks stale while its run goes on", () =>
    Effect.gen(function* () {
      const file = stateFile()
      const lock = StateFileLock.lockPath(file)
      yield* StateFileLock.hold(file)
      const longAgo = new Date(Date.now() - 3_600_000)
      utimesSync(lock, longAgo, longAgo)
      yield* TestClock.adjust(Duration.subtract(StateFileLock.touchEvery, Duration.seconds(1)))
      yield* Effect.promise(() => stat(lock))
      expect(statSync(lock).mtimeMs).toBeLessThan(Date.now() - 60_000)
      yield* TestClock.adjust(Duration.seconds(1))
      let touchedAt = statSync(lock).mtimeMs
      for (let reads = 0; reads < 200 && touchedAt < Date.now() - 60_000; reads++) touchedAt = (yield* Effect.promise(() => stat(lock))).mtimeMs
      expect(touchedAt).toBeGreaterThan(Date.now() - 60_000)
    })
  )

  it.scoped("a run whose lock another run took over stops touching it and says so, once", () =>
    Effect.gen(function* () {
      const file = stateFile()
      const lock = StateFileLock.lockPath(file)
      const logged: Array<string> = []
      yield* Effect.provide(StateFileLock.hold(file), Logger.replace(Logger.defaultLogger, Logger.make(({ message }) => void logged.push(String(message)))))
      leftLock(file, { pid: 4242, host: "scheduler-7" }, 60_000)
      for (let beat = 0; beat < 2; beat++) {
        yield* TestClock.adjust(StateFileLock.touchEvery)
        for (let reads = 0; reads < 50 && logged.length === 0; reads++) yield* Effect.promise(() => stat(lock))
      }
      expect(statSync(lock).mtimeMs).toBeLessThan(Date.now() - 30_000)
      expect(logged.filter((line) => line.includes("is no longer this run's"))).toEqual([
        `the lock of ${file} is no longer this run's (process 4242 on scheduler-7 took it over): two runs may now write this state file`
      ])
    })
  )

  it.effect("leaves alone a lock another run took over meanwhile", () =>
    Effect.gen(function* () {
      const file = stateFile()
      const lock = StateFileLock.lockPath(file)
      yield* Effect.scoped(Effect.zipRight(StateFileLock.hold(file), Effect.sync(() => leftLock(file, { pid: 4242, host: "scheduler-7" }))))
      expect(readFileSync(lock, "utf8")).toContain("scheduler-7")
    })
  )
})
