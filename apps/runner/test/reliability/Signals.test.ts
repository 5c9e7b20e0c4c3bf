/**
 * The runner as a real process (dist/main.js) against the emulator on loopback: a first SIGINT
 * during a sync stops it gracefully (the job already in Salesforce awaited, its rows counted,
 * its rejects stored, the state file advanced, the syncs after it skipped, the summary printed);
 * a second one ends the run at once.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { type ChildProcess, spawn } from "node:child_process"
import { existsSync, readdirSync, readFileSync } from "node:fs"
import * as path from "node:path"
import { contactsUpsert, loopbackOrg, repoRoot, workspace } from "../support.js"

const runner = path.join(repoRoot, "apps/runner/dist/main.js")
const { org, url, env } = loopbackOrg()

/** Records `SIG-1…`, a STATE after every fifth; record 3 names an account that does not exist. */
const messages = (count: number): string =>
  Array.from({ length: count }, (_, index) => {
    const data = { key: `SIG-${index + 1}`, last: `Person ${index + 1}`, ...(index === 2 ? { account: "NO-SUCH-ACCOUNT" } : {}) }
    const record = JSON.stringify({ type: "RECORD", record: { stream: "people", emitted_at: 1, data } })
    const state = JSON.stringify({ type: "STATE", state: { type: "STREAM", stream: { stream_descriptor: { name: "people" }, stream_state: { cursor: index + 1 } } } })
    return index % 5 === 4 ? `${record}\n${state}` : record
  }).join("\n")

const syncs = () => ({
  "1-people.yaml": contactsUpsert({
    name: "people",
    org: url(),
    source: "  type: airbyte\n  file: messages.jsonl\n  stream: people\n  stateFile: state.json",
    extra: "  Account.External_Id__c: account\nbatchSize: 5\nconcurrency: 1\nrejects:\n  type: local\n  directory: .rejects\n  format: jsonl\n"
  }),
  "2-later.yaml": contactsUpsert({ name: "later", org: url(), source: "  type: file\n  path: messages.jsonl\n  format: jsonl" })
})

interface Run {
  readonly child: ChildProcess
  readonly output: { stdout: string; stderr: string }
  readonly exited: Promise<number | null>
}

const start = (root: string, args: ReadonlyArray<string> = ["sync", "--report", "report.json"]): Run => {
  const child = spawn(process.execPath, [runner, ...args], { cwd: root, env: { ...process.env, ...env() }, stdio: ["ignore", "pipe", "pipe"] })
  const output = { stdout: "", stderr: "" }
  child.stdout?.on("data", (chunk: Buffer) => void (output.stdout += chunk.toString("utf8")))
  child.stderr?.on("data", (chunk: Buffer) => void (output.stderr += chunk.toString("utf8")))
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)))
  return { child, output, exited }
}

/** Waits for `condition`, checking every 20 ms, failing after `timeoutMs`. */
const waitFor = (condition: () => boolean, what: string, timeoutMs = 40_000) =>
  Effect.promise(async () => {
    const deadline = Date.now() + timeoutMs
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  })

/** The run's exit code, or "hung" when it has not exited within `timeoutMs`. */
const exitedWithin = (run: Run, timeoutMs: number) =>
  Effect.promise(() => Promise.race([run.exited, new Promise<"hung">((resolve) => setTimeout(() => resolve("hung"), timeoutMs))]))

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** The syncs run (`args`) against an org taking `processingDelayMs` per job, sent SIGINT once their first job is closed. */
const interruptedOnceClosed = (processingDelayMs: number, args?: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    org.reset()
    org.setFaults({ processingDelayMs })
    const root = yield* workspace(syncs(), { "messages.jsonl": `${messages(20)}\n` })
    const run = start(root, args)
    yield* waitFor(() => org.stats().calls.close >= 1, "the first job closed")
    run.child.kill("SIGINT")
    return { root, run }
  })

const stored = () => org.storedRecords("Contact").filter((record) => String(record["External_Id__c"] ?? "").startsWith("SIG-"))

describe("signals, with the runner as a process", () => {
  it.live("a first SIGINT while a job runs in Salesforce: the job is awaited and settled, nothing new is sent, the run reports and exits 1", () =>
    Effect.gen(function* () {
      const { root, run } = yield* interruptedOnceClosed(1_500)
      const code = yield* exitedWithin(run, 20_000)
      expect(code).toBe(1)
      expect(run.output.stderr).toContain("stopping: nothing new is sent")
      // the job closed before the signal ran to its end; no other was started
      expect(org.stats().calls.create).toBe(1)
      expect(org.stats().jobs).toMatchObject({ JobComplete: 1 })
      expect(stored().map((record) => record["External_Id__c"]).sort()).toEqual(["SIG-1", "SIG-2", "SIG-4", "SIG-5"])
      // its refused row is stored, its state kept: a rerun starts after these five records
      const rejectFiles = readdirSync(path.join(root, ".rejects"), { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile())
      const rejects = rejectFiles.map((entry) => readFileSync(path.join(entry.parentPath, entry.name), "utf8")).join("")
      expect(rejects).toContain("SIG-3")
      expect(JSON.parse(readFileSync(path.join(root, "state.json"), "utf8"))).toEqual([
        { type: "STREAM", stream: { stream_descriptor: { name: "people" }, stream_state: { cursor: 5 } } }
      ])
      const report = JSON.parse(readFileSync(path.join(root, "report.json"), "utf8")) as { syncs: Array<Record<string, unknown>> }
      expect(report.syncs[0]).toMatchObject({ name: "people", status: "failed", created: 4, rejected: 1 })
      expect(String(report.syncs[0]?.["detail"])).toContain("stopped by a signal")
      expect(report.syncs[1]).toMatchObject({ name: "later", status: "skipped", detail: "skipped: the run was stopped by a signal" })
      expect(run.output.stdout).toContain("stopped by a signal")
    })
  )

  it.live("stops as gracefully with the options written before the command", () =>
    Effect.gen(function* () {
      const { root, run } = yield* interruptedOnceClosed(1_500, ["--report", "report.json", "--log-format", "text", "sync"])
      expect(yield* exitedWithin(run, 20_000)).toBe(1)
      expect(run.output.stderr).toContain("stopping: nothing new is sent")
      expect(org.stats().jobs).toMatchObject({ JobComplete: 1 })
      expect(existsSync(path.join(root, "report.json"))).toBe(true)
    })
  )

  it.live("a source command with nothing more to say does not hold the stop: it is ended, and so is the run", () => {
    let run: Run | undefined
    let root = ""
    const sourcePid = () => (existsSync(path.join(root, "source.pid")) ? Number(readFileSync(path.join(root, "source.pid"), "utf8")) : undefined)
    return Effect.gen(function* () {
      org.reset()
      org.setFaults({ processingDelayMs: 0 })
      // a source that sends three records, notes its pid, then waits for news that never comes
      const source = `
require("fs").writeFileSync("source.pid", String(process.pid))
for (let i = 1; i <= 3; i++) console.log(JSON.stringify({ type: "RECORD", record: { stream: "people", emitted_at: 1, data: { key: "IDLE-" + i, last: "Idle" } } }))
setTimeout(() => {}, 600000)`
      const definition = contactsUpsert({ name: "idle", org: url(), source: `  type: airbyte\n  command: [${JSON.stringify(process.execPath)}, "-e", ${JSON.stringify(source)}]\n  stream: people` })
      root = yield* workspace({ "idle.yaml": definition })
      const started = start(root)
      run = started
      yield* waitFor(() => sourcePid() !== undefined && started.output.stderr.includes("sync idle:"), "the source started")
      yield* Effect.sleep("300 millis")
      started.child.kill("SIGINT")
      expect(yield* exitedWithin(started, 15_000)).toBe(1)
      expect(started.output.stdout).toContain("stopped by a signal")
      const pid = sourcePid()
      yield* waitFor(() => pid !== undefined && !isAlive(pid), "the source ended", 5_000)
    }).pipe(
      // whatever happened, nothing of this test outlives it
      Effect.ensuring(
        Effect.sync(() => {
          run?.child.kill("SIGKILL")
          const pid = sourcePid()
          if (pid !== undefined && isAlive(pid)) process.kill(pid, "SIGKILL")
        })
      )
    )
  })

  it.live("a second SIGINT ends the run at once: the job in Salesforce is not awaited", () =>
    Effect.gen(function* () {
      const { root, run } = yield* interruptedOnceClosed(60_000)
      yield* waitFor(() => run.output.stderr.includes("stopping:"), "the stop acknowledged")
      run.child.kill("SIGINT")
      expect(yield* exitedWithin(run, 10_000)).toBe(1)
      expect(stored()).toEqual([])
      expect(existsSync(path.join(root, "state.json"))).toBe(false)
      expect(existsSync(path.join(root, "report.json"))).toBe(false)
    })
  )
})
