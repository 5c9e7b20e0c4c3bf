/**
 * The connector as a real process (dist/main.js) against the emulator on loopback: its stdout
 * holds protocol messages only; SIGTERM mid-run is graceful, and `kill -9` mid-run followed by
 * a rerun from the last emitted state leaves no record missing and, for upsert, none duplicated.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { EmulatorServer, Org } from "@sfdc-activation/salesforce-emulator"
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

const connector = path.resolve(import.meta.dirname, "../../dist/main.js")
const org = Org.make()
let server: EmulatorServer.Running

beforeAll(async () => {
  server = await EmulatorServer.start(org, { port: 0 })
})
afterAll(async () => {
  await server.close()
})

const files = (mode: string) => {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), "connector-signals-"))
  const config = path.join(directory, "config.json")
  const catalog = path.join(directory, "catalog.json")
  fs.writeFileSync(
    config,
    JSON.stringify({
      client_id: org.credentials.clientId,
      client_secret: org.credentials.clientSecret,
      refresh_token: org.credentials.refreshToken,
      is_sandbox: false,
      auth_type: "Client",
      login_url: server.url,
      batch_size_mb: 0.0005,
      max_concurrent_jobs: 1
    })
  )
  fs.writeFileSync(
    catalog,
    JSON.stringify({
      streams: [
        {
          stream: {
            name: "people",
            json_schema: { type: "object", properties: { LastName: { type: "string" }, External_Id__c: { type: "string" } } },
            supported_sync_modes: ["incremental"]
          },
          sync_mode: "incremental",
          destination_sync_mode: mode,
          destination_object_name: "Contact",
          ...(mode === "append_dedup" ? { primary_key: [["External_Id__c"]] } : {})
        }
      ]
    })
  )
  return { config, catalog }
}

/** Records with ids `prefix-0…`, a STATE after every fifth. */
const input = (prefix: string, count: number): Array<string> => {
  const lines: Array<string> = []
  for (let index = 0; index < count; index++) {
    lines.push(JSON.stringify({ type: "RECORD", record: { stream: "people", emitted_at: 1, data: { LastName: `Person ${index}`, External_Id__c: `${prefix}-${index}` } } }))
    if (index % 5 === 4) lines.push(`{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"people"},"stream_state":{"position":${index + 1}}}}}`)
  }
  return lines
}

interface Run {
  readonly child: ChildProcess
  readonly stdout: Array<string>
  readonly exited: Promise<number | null>
}

const start = (args: ReadonlyArray<string>): Run => {
  const child = spawn(process.execPath, [connector, ...args], { stdio: ["pipe", "pipe", "pipe"] })
  const stdout: Array<string> = []
  let pending = ""
  child.stdout?.on("data", (chunk: Buffer) => {
    const lines = (pending + chunk.toString("utf8")).split("\n")
    pending = lines.pop() ?? ""
    stdout.push(...lines.filter((line) => line !== ""))
  })
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)))
  return { child, stdout, exited }
}

/** Waits for `condition`, checking every 20 ms, failing after `timeoutMs`. */
const waitFor = async (condition: () => boolean, what: string, timeoutMs = 40_000) => {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** The run's exit code, or "hung" when it has not exited within `timeoutMs`. */
const exitedWithin = (run: Run, timeoutMs: number) =>
  Promise.race([run.exited, new Promise<"hung">((resolve) => setTimeout(() => resolve("hung"), timeoutMs))])

const states = (lines: ReadonlyArray<string>) => lines.filter((line) => line.startsWith('{"type":"STATE"'))

const stored = (prefix: string) =>
  org.storedRecords("Contact").filter((record) => String(record["External_Id__c"] ?? "").startsWith(`${prefix}-`))

describe("stdout, with the connector as a process", () => {
  it("holds only Airbyte messages, warnings included", async () => {
    org.reset()
    org.setFaults({ processingDelayMs: 0 })
    const { config, catalog } = files("append")
    const run = start(["write", "--config", config, "--catalog", catalog])
    const tooLong = JSON.stringify({ type: "RECORD", record: { stream: "people", emitted_at: 1, data: { LastName: "x".repeat(200), External_Id__c: "long-1" } } })
    run.child.stdin?.end(`${[...input("out", 5), tooLong].join("\n")}\n`)
    expect(await run.exited).toBe(0)
    const types = run.stdout.map((line) => {
      try {
        const message: unknown = JSON.parse(line)
        return typeof message === "object" && message !== null && "type" in message ? String(message.type) : `not a message: ${line}`
      } catch {
        return `not JSON: ${line}`
      }
    })
    expect(types.filter((type) => !["LOG", "STATE", "TRACE"].includes(type))).toEqual([])
    expect(run.stdout.some((line) => line.includes('"level":"WARN"') && line.includes("rejected"))).toBe(true)
  }, 90_000)
})

describe("max_batch_age_seconds, with the connector as a process", () => {
  it("sends a partial batch, and echoes its state, while the input stays open", async () => {
    org.reset()
    org.setFaults({ processingDelayMs: 0 })
    const { config, catalog } = files("append")
    const configured: unknown = JSON.parse(fs.readFileSync(config, "utf8"))
    fs.writeFileSync(config, JSON.stringify({ ...(typeof configured === "object" ? configured : {}), batch_size_mb: 50, max_batch_age_seconds: 1 }))
    const run = start(["write", "--config", config, "--catalog", catalog])
    run.child.stdin?.write(`${input("aged", 5).join("\n")}\n`)
    await waitFor(() => states(run.stdout).length === 1, "the state of a partial batch", 45_000)
    expect(stored("aged")).toHaveLength(5)
    run.child.stdin?.end()
    expect(await run.exited).toBe(0)
  }, 90_000)
})

describe("signals, with the connector as a process", () => {
  it("SIGTERM mid-run: open jobs aborted, no state for unsettled records, non-zero exit", async () => {
    org.reset()
    org.setFaults({ processingDelayMs: 60_000, slowResponses: [{ call: "upload", delayMs: 60_000, times: 1 }] })
    const { config, catalog } = files("append")
    const run = start(["write", "--config", config, "--catalog", catalog])
    run.child.stdin?.write(`${input("term", 40).join("\n")}\n`)
    await waitFor(() => org.stats().calls.upload >= 1, "the first upload")
    run.child.kill("SIGTERM")
    const code = await exitedWithin(run, 20_000)
    expect(code).not.toBe("hung")
    expect(code).not.toBe(0)
    expect(states(run.stdout)).toEqual([])
    expect(run.stdout.at(-1)).toContain('"failure_type":"transient_error"')
    await waitFor(() => (org.stats().jobs["Open"] ?? 0) === 0, "no job left Open", 5_000)
    expect(org.stats().jobs["Aborted"] ?? 0).toBeGreaterThanOrEqual(1)
    expect(stored("term")).toHaveLength(0)
  }, 90_000)

  it("SIGTERM while a job runs in Salesforce: the job is awaited and its state emitted, then a non-zero exit", async () => {
    org.reset()
    org.setFaults({ processingDelayMs: 1_500 })
    const { config, catalog } = files("append")
    const run = start(["write", "--config", config, "--catalog", catalog])
    // the input left open, as a source still running
    run.child.stdin?.write(`${input("drain", 40).join("\n")}\n`)
    await waitFor(() => org.stats().calls.close >= 1, "the first job closed")
    run.child.kill("SIGTERM")
    const code = await exitedWithin(run, 20_000)
    expect(code).not.toBe("hung")
    expect(code).not.toBe(0)
    // the job in Salesforce was awaited, not given up: its records are acknowledged, so the
    // next run starts after them (none inserted twice), and no job was left half done
    const acknowledged = states(run.stdout).map((line) => Number(/"position":(\d+)/.exec(line)?.[1]))
    expect(acknowledged.length).toBeGreaterThan(0)
    expect(stored("drain").length).toBeGreaterThanOrEqual(Math.max(...acknowledged))
    expect(org.stats().jobs).toMatchObject({ JobComplete: org.stats().calls.create })
    expect(run.stdout.at(-1)).toContain('"failure_type":"transient_error"')
    expect(run.stdout.at(-1)).toContain("asked to stop")
  }, 90_000)

  it("kill -9 mid-run, then a rerun from the last state: every record once (upsert)", async () => {
    org.reset()
    org.setFaults({ processingDelayMs: 0, slowResponses: [{ call: "poll", delayMs: 50 }] })
    const { config, catalog } = files("append_dedup")
    const lines = input("kill", 60)
    const first = start(["write", "--config", config, "--catalog", catalog])
    first.child.stdin?.end(`${lines.join("\n")}\n`)
    await waitFor(() => states(first.stdout).length >= 2, "two states")
    first.child.kill("SIGKILL")
    await first.exited
    const lastState = states(first.stdout).at(-1) ?? ""
    const position = Number(/"position":(\d+)/.exec(lastState)?.[1] ?? "0")
    expect(position).toBeGreaterThan(0)
    const resendFrom = lines.findIndex((line) => line.includes(`"position":${position}}`)) + 1
    const second = start(["write", "--config", config, "--catalog", catalog])
    second.child.stdin?.end(`${lines.slice(resendFrom).join("\n")}\n`)
    expect(await second.exited).toBe(0)
    const ids = stored("kill").map((record) => String(record["External_Id__c"]))
    expect(new Set(ids).size).toBe(ids.length)
    expect(new Set(ids)).toEqual(new Set(Array.from({ length: 60 }, (_, index) => `kill-${index}`)))
  }, 90_000)
})
