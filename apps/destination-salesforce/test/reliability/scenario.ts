/**
 * One fault scenario: the standard input (unique ids, known bad records, a STATE every 5
 * records) through `write` against the emulated org and s3rver, then the invariant.
 */
import { expect } from "@effect/vitest"
import type { RejectedRecord } from "@sfdc-activation/rejects-s3"
import type { Faults, Org } from "@sfdc-activation/salesforce-emulator"
import * as Effect from "effect/Effect"
import {
  checkInvariant,
  configuredStream,
  connectorConfig,
  type emulatedOrg,
  jsonFile,
  recordLine,
  rejectsIn,
  type RunOutput,
  runConnector,
  type S3,
  s3Storage,
  stateLine,
  traceError
} from "./harness.js"

export const stream = "people"
export const recordCount = 60
const stateEvery = 5
/** About a dozen rows per job: several jobs per run. */
const batchSizeMb = 0.0005

export type Mode = "upsert" | "insert"

/**
 * Input records with unique ids: every 7th lacks LastName (rejected locally), every 11th names
 * an Account that does not exist (rejected by Salesforce). A STATE after every 5th record.
 */
export const input = (mode: Mode, prefix: string) => {
  const ids: Array<string> = []
  const lines: Array<string> = []
  for (let index = 0; index < recordCount; index++) {
    const id = `${prefix}-${String(index).padStart(3, "0")}`
    ids.push(id)
    const data: Record<string, unknown> = mode === "upsert" ? { External_Id__c: id, Title: id } : { Title: id }
    if (index % 7 !== 3) data["LastName"] = `Person ${index}`
    if (index % 11 === 5) data["Account.External_Id__c"] = "NO-SUCH-ACCOUNT"
    lines.push(recordLine(stream, data))
    if (index % stateEvery === stateEvery - 1) lines.push(stateLine(stream, index))
  }
  return { ids, lines }
}

export const catalogFor = (mode: Mode) => ({
  streams: [
    mode === "upsert"
      ? configuredStream(stream, "append_dedup", ["External_Id__c", "LastName", "Title", "Account.External_Id__c"], { primary_key: [["External_Id__c"]] })
      : configuredStream(stream, "append", ["LastName", "Title", "Account.External_Id__c"])
  ]
})

export const storedTitles = (org: Org.Org, prefix: string) =>
  org
    .storedRecords("Contact")
    .map((contact) => String(contact["Title"] ?? ""))
    .filter((title) => title.startsWith(`${prefix}-`))

export const idOfReject = (reject: RejectedRecord.RejectedRecord) => reject.row["Title"]

export interface Scenario {
  readonly name: string
  readonly faults: Faults.Config
  readonly mode?: Mode
  /** The run completes (exit 0), or fails with an error whose message contains this. */
  readonly outcome: "succeeds" | { readonly failsWith: ReadonlyArray<string>; readonly failureType?: string }
  /** Rejects beyond the 13 bad records this fault may cause (rows it keeps failing), by status code. */
  readonly extraRejects?: ReadonlyArray<string>
  /** Something only this fault makes happen, so the scenario is known to have hit it. */
  readonly proof?: (stats: Org.Stats, output: RunOutput) => void
  /** Over the emulator's loopback HTTP server instead of MSW (responses cut mid-body). */
  readonly http?: boolean
  /** Jobs in flight (default 2); 1 makes the order of calls, and so a call budget, deterministic. */
  readonly maxConcurrentJobs?: number
}

let prefixes = 0

/** Runs one scenario and checks the invariant; returns the run and the invariant's figures. */
export const runScenario = (env: ReturnType<typeof emulatedOrg>, s3: S3, scenario: Scenario) =>
  Effect.gen(function* () {
    const { org, httpServer } = env
    const mode = scenario.mode ?? "upsert"
    const prefix = `F${++prefixes}`
    const { ids, lines } = input(mode, prefix)
    const storage = s3Storage(s3)
    org.setFaults({ processingDelayMs: 0, ...scenario.faults })
    const loginUrl = scenario.http === true ? (yield* Effect.promise(httpServer)).url : undefined
    const config = jsonFile(
      connectorConfig({ object_storage_config: storage, batch_size_mb: batchSizeMb, max_concurrent_jobs: scenario.maxConcurrentJobs ?? 2, ...(loginUrl === undefined ? {} : { login_url: loginUrl }) })
    )
    const output = yield* runConnector(["write", "--config", config, "--catalog", jsonFile(catalogFor(mode))], lines, () => new Set(storedTitles(org, prefix)))
    org.setFaults({ processingDelayMs: 0 })
    yield* Effect.promise(() => s3.start())
    s3.clearFaults()
    const rejects = yield* rejectsIn(s3, storage.bucket_path)
    const report = checkInvariant({ ids, stored: storedTitles(org, prefix), rejects, idOf: idOfReject, output })
    const error = traceError(output)
    if (scenario.outcome === "succeeds") {
      expect(error?.message).toBeUndefined()
      expect(output.code).toBe(0)
      expect(report.acknowledged).toBe(recordCount)
      // 9 without LastName, 5 with an unknown Account (one record has both faults); a fault
      // that keeps failing rows may reject more, with its own status codes only.
      const expected = new Set(["REQUIRED_FIELD_MISSING", "INVALID_FIELD", ...(scenario.extraRejects ?? [])])
      for (const reject of rejects) expect(expected).toContain(reject.statusCode)
      if (scenario.extraRejects === undefined) expect(report.rejected).toBe(13)
      else expect(report.rejected).toBeGreaterThanOrEqual(13)
      expect(report.stored + report.rejected).toBe(recordCount)
    } else {
      expect(output.code).toBe(1)
      for (const part of scenario.outcome.failsWith) expect(error?.message).toContain(part)
      if (scenario.outcome.failureType !== undefined) expect(error?.failure_type).toBe(scenario.outcome.failureType)
    }
    scenario.proof?.(org.stats(), output)
    return { output, report, rejects }
  })

