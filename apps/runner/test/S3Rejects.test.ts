import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import S3rver from "s3rver"
import { loopbackOrg, runCli, workspace } from "./support.js"

const { org, url, env: orgEnv } = loopbackOrg({ faults: { processingDelayMs: 0 } })
const bucket = "runner-rejects"
let s3: http.Server
let s3Endpoint = ""

beforeAll(async () => {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), "runner-s3-"))
  const s3rver = new S3rver({ directory, silent: true, configureBuckets: [{ name: bucket }] })
  await s3rver.configureBuckets()
  s3 = http.createServer(s3rver.callback())
  await new Promise<void>((resolve) => s3.listen(0, "127.0.0.1", resolve))
  const address: AddressInfo | string | null = s3.address()
  s3Endpoint = `http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}`
})
afterAll(async () => {
  await new Promise<void>((resolve) => s3.close(() => resolve()))
})

const leadsWithRejectsAt = (rejectsPath: string) =>
  workspace(
    {
      "leads.yaml": `name: leads
org: ${url()}
source:
  type: file
  path: leads.jsonl
  format: jsonl
object: Lead
operation: insert
mappings:
  LastName: last
  Company: company
rejects:
  type: s3
  bucket: ${bucket}
  region: us-east-1
  endpoint: ${s3Endpoint}
  path: ${rejectsPath}
  accessKeyId: \${S3_KEY}
  secretAccessKey: \${S3_SECRET}
`
    },
    { "leads.jsonl": '{"last":"Kept","company":"Acme"}\n{"last":"Nameless"}\n' }
  )

describe("rejects in S3", () => {
  it.live("stores a run's rejects in the bucket, and replays them from s3://", () =>
    Effect.gen(function* () {
      const root = yield* leadsWithRejectsAt("salesforce/rejects")
      const env = { ...orgEnv(), S3_KEY: "S3RVER", S3_SECRET: "S3RVER" }
      const first = yield* runCli(["sync"], { cwd: root, env })
      expect(first.code).toBe(0)
      const location = /s3:\/\/[^\s]+/.exec(first.stdout)?.[0] ?? ""
      expect(location.startsWith(`s3://${bucket}/salesforce/rejects/`)).toBe(true)
      const replayed = yield* runCli(["replay", "--from", location], { cwd: root, env })
      expect(replayed.stdout).toContain("REQUIRED_FIELD_MISSING")
      expect(replayed.stdout).toMatch(/1 read/)
      expect(`${first.stdout}${first.stderr}${replayed.stdout}${replayed.stderr}`).not.toContain(org.credentials.clientSecret)
    })
  )

  it.live("a bucket and path from the environment are printed as written (${VAR}), not masked, for a shell to expand", () =>
    Effect.gen(function* () {
      const root = yield* leadsWithRejectsAt("\"${REJECTS_PREFIX}/nightly\"")
      const definition = path.join(root, "configs/syncs/leads.yaml")
      fs.writeFileSync(definition, fs.readFileSync(definition, "utf8").replace(`bucket: ${bucket}`, "bucket: ${REJECTS_BUCKET}"))
      const env = { ...orgEnv(), S3_KEY: "S3RVER", S3_SECRET: "S3RVER", REJECTS_BUCKET: bucket, REJECTS_PREFIX: "salesforce" }
      const first = yield* runCli(["sync", "--report", "report.json"], { cwd: root, env })
      expect(first.code).toBe(0)
      const location = /s3:\/\/[^\s]+/.exec(first.stdout)?.[0] ?? ""
      expect(location).toMatch(/^s3:\/\/\$\{REJECTS_BUCKET\}\/\$\{REJECTS_PREFIX\}\/nightly\/[^/]+$/)
      expect(fs.readFileSync(path.join(root, "report.json"), "utf8")).toContain(location)
      // the printed command's --from word, as a shell with the same environment reads it
      const printed = first.stdout.split("\n").find((line) => line.includes("runner:replay --")) ?? ""
      const word = printed.slice(printed.indexOf("--from ") + "--from ".length)
      const expanded = execFileSync("sh", ["-c", `printf '%s' ${word}`], { env: { PATH: process.env["PATH"] ?? "", ...env } }).toString()
      expect(expanded).toBe(location.replace("${REJECTS_BUCKET}", bucket).replace("${REJECTS_PREFIX}", "salesforce"))
      const replayed = yield* runCli(["replay", "--from", expanded], { cwd: root, env })
      expect(replayed.stdout).toContain("REQUIRED_FIELD_MISSING")
      expect(replayed.stdout).toMatch(/1 read/)
    })
  )

  it.live("prints a location that replays what was stored when path ends with /, and takes it with a / too", () =>
    Effect.gen(function* () {
      const root = yield* leadsWithRejectsAt("salesforce/trailing/")
      const env = { ...orgEnv(), S3_KEY: "S3RVER", S3_SECRET: "S3RVER" }
      const first = yield* runCli(["sync"], { cwd: root, env })
      expect(first.code).toBe(0)
      const location = /s3:\/\/[^\s]+/.exec(first.stdout)?.[0] ?? ""
      expect(location).toMatch(new RegExp(`^s3://${bucket}/salesforce/trailing/[^/]+$`))
      // the second replay of the same rows needs --again (the first marked them replayed)
      for (const [from, again] of [[location, []], [`${location}/`, ["--again"]]] as const) {
        const replayed = yield* runCli(["replay", "--from", from, ...again], { cwd: root, env })
        expect(replayed.stderr).not.toContain("no rejected records")
        expect(replayed.stdout).toContain("REQUIRED_FIELD_MISSING")
        expect(replayed.stdout).toMatch(/1 read/)
      }
    })
  )
})
