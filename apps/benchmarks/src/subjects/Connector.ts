/** Ours, connector: the RECORD lines piped into `destination-salesforce write` (append → insert). */
import { readFileSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { fields, streamName } from "../Data.js"
import { measureNode } from "../Measure.js"
import { result, type RunContext, type RunResult } from "../Run.js"

export const mainScript = path.resolve(import.meta.dirname, "../../../destination-salesforce/dist/main.js")

const catalog = {
  streams: [
    {
      stream: {
        name: streamName,
        json_schema: { type: "object", properties: Object.fromEntries(fields.map((field) => [field, { type: ["null", field === "DoNotCall" ? "boolean" : "string"] }])) },
        supported_sync_modes: ["full_refresh", "incremental"]
      },
      sync_mode: "full_refresh",
      destination_sync_mode: "append",
      destination_object_name: "Contact",
      sync_id: 1,
      generation_id: 1,
      minimum_generation_id: 0
    }
  ]
}

/** BENCH_CONNECTOR_JOBS sets `max_concurrent_jobs` (default: the connector's own, 4). */
const maxConcurrentJobs = process.env["BENCH_CONNECTOR_JOBS"]

/** The message of the connector's ERROR trace, if it emitted one. */
const errorOf = (stdoutFile: string): string | undefined => {
  const line = readFileSync(stdoutFile, "utf8")
    .split("\n")
    .reverse()
    .find((text) => text.includes('"type":"ERROR"'))
  if (line === undefined) return undefined
  const message = (JSON.parse(line) as { trace?: { error?: { message?: string } } }).trace?.error?.message
  return message === undefined ? undefined : `failed: ${message}`
}

/** Runs the connector against `context.emulator`; `subject` names the run (the null org's is its own). */
export const run = async (context: RunContext, subject: "connector" | "connector-null-org" = "connector"): Promise<RunResult> => {
  const credentials = await context.emulator.credentials()
  const config = path.join(context.directory, "connector-config.json")
  const catalogFile = path.join(context.directory, "connector-catalog.json")
  writeFileSync(
    config,
    JSON.stringify({
      client_id: credentials.clientId,
      client_secret: credentials.clientSecret,
      refresh_token: credentials.refreshToken,
      auth_type: "Client",
      is_sandbox: false,
      login_url: context.emulator.url,
      ...(maxConcurrentJobs === undefined ? {} : { max_concurrent_jobs: Number(maxConcurrentJobs) })
    })
  )
  writeFileSync(catalogFile, JSON.stringify(catalog))
  const stdoutFile = path.join(context.directory, "connector.out")
  const figures = await measureNode({
    args: [...context.nodeFlags, mainScript, "write", "--config", config, "--catalog", catalogFile],
    stdinFile: context.dataset.jsonl,
    stdoutFile,
    stderrFile: path.join(context.directory, "connector.err")
  })
  const jobs = maxConcurrentJobs === undefined ? undefined : `max_concurrent_jobs: ${maxConcurrentJobs}`
  const note = [jobs, errorOf(stdoutFile)].filter((part) => part !== undefined).join("; ")
  return result(subject, context, figures, note === "" ? undefined : note)
}
