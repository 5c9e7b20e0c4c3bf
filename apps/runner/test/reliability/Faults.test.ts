/**
 * The runner under faults, against the emulator on loopback: transient failures are retried
 * and every row ends in the org or the rejects; REQUEST_LIMIT_EXCEEDED fails the run with a
 * clear message; broken configuration fails before anything is sent.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { readdirSync, readFileSync } from "node:fs"
import * as path from "node:path"
import { AuthError } from "@sfdc-activation/auth"
import { PipelineError } from "@sfdc-activation/pipeline"
import * as SyncRun from "../../src/Commands/SyncRun.js"
import { contactsUpsert, loopbackOrg, runCli, workspace } from "../support.js"

const { org, url, env } = loopbackOrg()

const rowCount = 300
const rows = Array.from({ length: rowCount }, (_, index) =>
  JSON.stringify(index % 50 === 7 ? { key: `F-${index}` } : { key: `F-${index}`, last: `Person ${index}` })
).join("\n")

const contactsSync = (orgUrl: string) =>
  contactsUpsert({
    org: orgUrl,
    source: "  type: file\n  path: contacts.jsonl\n  format: jsonl",
    extra: "batchSize: 40\nconcurrency: 3\nrejects:\n  type: local\n  directory: .rejects\n  format: jsonl\n"
  })

/** Every input row is stored or rejected, once. */
const accountedFor = (root: string) => {
  const stored = org.storedRecords("Contact").map((record) => String(record["External_Id__c"] ?? "")).filter((key) => key.startsWith("F-"))
  const rejectFiles = readdirSync(path.join(root, ".rejects"), { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile())
  const rejected = rejectFiles.flatMap((entry) =>
    readFileSync(path.join(entry.parentPath, entry.name), "utf8")
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => String((JSON.parse(line) as { row: Record<string, string> }).row["key"] ?? (JSON.parse(line) as { row: Record<string, string> }).row["External_Id__c"]))
  )
  return { stored, rejected }
}

const scenarios: ReadonlyArray<{ readonly name: string; readonly faults: Record<string, unknown> }> = [
  { name: "503 bursts on create", faults: { httpErrors: [{ call: "create", status: 503, every: 2, times: 3 }] } },
  { name: "500 on upload", faults: { httpErrors: [{ call: "upload", status: 500, every: 3, times: 2 }] } },
  { name: "dropped connections mid-upload", faults: { dropConnections: [{ call: "upload", every: 2, times: 2 }] } },
  { name: "503 on poll and results", faults: { httpErrors: [{ call: "poll", status: 503, every: 2, times: 3 }, { call: "results", status: 503, every: 2, times: 2 }] } },
  { name: "sessions expiring every 5 requests", faults: { sessionTtlRequests: 5 } },
  { name: "UNABLE_TO_LOCK_ROW on many rows", faults: { lockErrorRate: 0.4 } },
  { name: "a job that fails part way", faults: { failJobAfterRows: 25 } }
]

describe("runner under faults", () => {
  for (const scenario of scenarios) {
    it.live(`${scenario.name}: every row stored or rejected, once`, () =>
      Effect.gen(function* () {
        org.reset()
        org.setFaults({ processingDelayMs: 0, ...scenario.faults })
        const root = yield* workspace({ "contacts.yaml": contactsSync(url()) }, { "contacts.jsonl": `${rows}\n` })
        const result = yield* runCli(["sync"], { cwd: root, env: env() })
        expect(result.code).toBe(0)
        const { stored, rejected } = accountedFor(root)
        expect(new Set(stored).size).toBe(stored.length)
        expect(new Set([...stored, ...rejected]).size).toBe(rowCount)
        expect(stored.length + rejected.length).toBe(rowCount)
        expect(rejected.length).toBe(6)
      })
    )
  }

  it.live("REQUEST_LIMIT_EXCEEDED fails the run with the limit and its window", () =>
    Effect.gen(function* () {
      org.reset()
      // the allowance runs out before the first job is made (a job already closed would be waited for)
      org.setFaults({ processingDelayMs: 0, dailyApiRequests: 3 })
      const root = yield* workspace({ "contacts.yaml": contactsSync(url()) }, { "contacts.jsonl": `${rows}\n` })
      const result = yield* runCli(["sync"], { cwd: root, env: env() })
      expect(result.code).toBe(1)
      expect(`${result.stdout}${result.stderr}`).toMatch(/REQUEST_LIMIT_EXCEEDED|RateLimited/)
      expect(`${result.stdout}${result.stderr}`).toContain("24 hours")
    })
  )

  it.live("a run that fails part way reports what it settled before: counts, rejects stored", () =>
    Effect.gen(function* () {
      org.reset()
      // The third job cannot be created: the two before it are in Salesforce.
      org.setFaults({ processingDelayMs: 0, httpErrors: [{ call: "create", status: 403, errorCode: "REQUEST_LIMIT_EXCEEDED", every: 3, times: 1 }] })
      const sync = contactsSync(url()).replace("concurrency: 3", "concurrency: 1")
      const root = yield* workspace({ "contacts.yaml": sync }, { "contacts.jsonl": `${rows}\n` })
      const result = yield* runCli(["sync", "--report", "report.json"], { cwd: root, env: env() })
      expect(result.code).toBe(1)
      const { stored, rejected } = accountedFor(root)
      expect(stored).toHaveLength(78)
      const report = JSON.parse(readFileSync(path.join(root, "report.json"), "utf8")) as { syncs: ReadonlyArray<{ status: string; created: number; rejected: number; jobs: number; rejectsLocation?: string }> }
      expect(report.syncs[0]).toMatchObject({ status: "failed", created: 78, rejected: rejected.length, jobs: 2 })
      expect(report.syncs[0]?.rejectsLocation).toContain(".rejects")
      expect(rejected.length).toBeGreaterThan(0)
      expect(result.stdout).toMatch(/78 created/)
      expect(result.stderr).toContain("sync contacts failed: 300 read, 78 created, 2 rejected")
    })
  )

  it.live("refused credentials exit 2 (configuration) in sync and snapshot alike, also when refused mid-run", () =>
    Effect.gen(function* () {
      org.reset()
      org.setFaults({ processingDelayMs: 0 })
      const root = yield* workspace({ "contacts.yaml": contactsSync(url()) }, { "contacts.jsonl": `${rows}\n` })
      const wrong = { ...env(), SALESFORCE_CLIENT_SECRET: "not-the-secret" }
      expect((yield* runCli(["sync"], { cwd: root, env: wrong })).code).toBe(2)
      const snapshot = yield* runCli(["snapshot"], { cwd: root, env: wrong })
      expect(snapshot.code).toBe(2)
      expect(snapshot.stderr).toContain("InvalidClient")
      // the token refused while the run renews its session: still the configuration's to fix
      const midRun = new PipelineError.PipelineError({
        reason: "SalesforceFailed",
        detail: "refused",
        cause: new AuthError.AuthError({ reason: "InvalidGrant", description: "expired access/refresh token" })
      })
      expect(SyncRun.isConfigProblem(midRun)).toBe(true)
      expect(SyncRun.isConfigProblem(new PipelineError.PipelineError({ reason: "SalesforceFailed", detail: "down", cause: new AuthError.AuthError({ reason: "Unavailable", description: "503" }) }))).toBe(false)
    })
  )

  it.live("a plain-http login URL that is not loopback, or missing secrets, fail before anything is sent", () =>
    Effect.gen(function* () {
      org.reset()
      const before = org.stats().calls.total
      const insecure = yield* workspace({ "contacts.yaml": contactsSync("http://acme.my.salesforce.com") }, { "contacts.jsonl": `${rows}\n` })
      const refused = yield* runCli(["sync"], { cwd: insecure, env: env() })
      expect(refused.code).not.toBe(0)
      expect(`${refused.stdout}${refused.stderr}`).toMatch(/https/)
      const noSecrets = yield* workspace({ "contacts.yaml": contactsSync(url()) }, { "contacts.jsonl": `${rows}\n` })
      const missing = yield* runCli(["sync"], { cwd: noSecrets, env: {} })
      expect(missing.code).not.toBe(0)
      expect(`${missing.stdout}${missing.stderr}`).toContain("SALESFORCE_CLIENT_ID")
      expect(org.stats().calls.total).toBe(before)
    })
  )
})
