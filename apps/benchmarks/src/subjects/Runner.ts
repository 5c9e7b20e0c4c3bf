/**
 * Ours, runner: the same rows from the CSV file through DuckDB and `runner sync`; `runner-file`
 * (opt-in): the same CSV file as a `type: file` source, read by the runner itself.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { fields } from "../Data.js"
import { measureNode } from "../Measure.js"
import { result, type RunContext, type RunResult } from "../Run.js"

export const mainScript = path.resolve(import.meta.dirname, "../../../runner/dist/main.js")

/** BENCH_RUNNER_SERIAL=1 adds `serial: true` (one job at a time). */
const serial = process.env["BENCH_RUNNER_SERIAL"] === "1"

export type RunnerSubject = "runner" | "runner-file"

/** One sync: the CSV read by DuckDB (every column as text, as the connector sees JSON strings), or as a file source. */
const definition = (subject: RunnerSubject, csv: string, url: string) =>
  [
    "name: bench",
    "org:",
    `  login: ${url}`,
    "source:",
    ...(subject === "runner"
      ? ["  type: duckdb", `  query: SELECT * FROM read_csv('${csv}', header = true, all_varchar = true)`]
      : ["  type: file", `  path: ${csv}`]),
    "object: Contact",
    "operation: insert",
    "mappings:",
    ...fields.map((field) => `  ${field}: ${field}`),
    "rejects: none",
    ...(serial ? ["serial: true"] : []),
    ""
  ].join("\n")

export const run = async (context: RunContext, subject: RunnerSubject = "runner"): Promise<RunResult> => {
  const credentials = await context.emulator.credentials()
  const configDir = path.join(context.directory, "syncs")
  mkdirSync(configDir, { recursive: true })
  writeFileSync(path.join(configDir, "bench.yaml"), definition(subject, context.dataset.csv, context.emulator.url))
  const stdoutFile = path.join(context.directory, "runner.out")
  const figures = await measureNode({
    args: [...context.nodeFlags, mainScript, "sync", "--config-dir", configDir, "--report", path.join(context.directory, "runner-report.json")],
    cwd: context.directory,
    env: {
      SALESFORCE_CLIENT_ID: credentials.clientId,
      SALESFORCE_CLIENT_SECRET: credentials.clientSecret,
      SALESFORCE_REFRESH_TOKEN: credentials.refreshToken
    },
    stdoutFile,
    stderrFile: path.join(context.directory, "runner.err")
  })
  const failure = readFileSync(stdoutFile, "utf8")
    .split("\n")
    .find((line) => /^\s+\w+Failed: /.test(line))
  const note = [serial ? "serial: true" : undefined, failure === undefined ? undefined : `failed: ${failure.trim()}`].filter((part) => part !== undefined).join("; ")
  return result(subject, context, figures, note === "" ? undefined : note)
}
