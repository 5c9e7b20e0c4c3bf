/**
 * Ours, connector: the RECORD lines piped into `destination-salesforce write` (append → insert),
 * and its other paths:
 * - `connector-upsert`: `append_dedup` on External_Id__c → upsert (into an org without them: all created);
 * - `connector-refused`: the rows loaded once first (not measured), then again: Salesforce refuses
 *   every row (DUPLICATE_VALUE on the unique External_Id__c), and every row goes to the reject sink;
 * - `connector-failing-jobs`: every job ends Failed after a tenth of N rows (100,000 at 1M); the
 *   rest are sent again in follow-up jobs while each gets rows through (at most 10), then rejected;
 * - `connector-many-streams`: the same rows spread round-robin over 300 streams (all into Contact),
 *   with a STREAM state after every 500 records, as a catalog of many streams sends them;
 * - `connector-fan-out`: `append_dedup` of the first N / 2 rows, each given twice in a row, as a
 *   join that fans out sends them (each key created, then updated).
 */
import { createReadStream, createWriteStream, readFileSync, writeFileSync } from "node:fs"
import { once } from "node:events"
import { createInterface } from "node:readline"
import * as path from "node:path"
import { fields, streamName } from "../Data.js"
import { measureNode } from "../Measure.js"
import { contextOf, result, type RunContext, type RunResult, type Subject } from "../Run.js"

export const mainScript = path.resolve(import.meta.dirname, "../../../destination-salesforce/dist/main.js")

export type ConnectorSubject = Extract<Subject, `connector${string}`>

/** `connector-many-streams`: streams the rows are spread over, and records between two states. */
const manyStreams = 300
const recordsPerState = 500

const manyStreamName = (index: number) => `${streamName}-${index % manyStreams}`

/** The dataset's lines with their stream names spread over `manyStreams`, and a STREAM state after every `recordsPerState`. */
const spreadOverStreams = async (input: string, output: string) => {
  const out = createWriteStream(output)
  let buffer = ""
  let index = 0
  const marker = `"stream":"${streamName}"`
  for await (const line of createInterface({ input: createReadStream(input), crlfDelay: Infinity })) {
    const stream = manyStreamName(index)
    buffer += `${line.replace(marker, `"stream":"${stream}"`)}\n`
    index++
    if (index % recordsPerState === 0) {
      buffer += `{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"${stream}"},"stream_state":{"position":${index}}}}}\n`
    }
    if (buffer.length >= 1 << 20) {
      if (!out.write(buffer)) await once(out, "drain")
      buffer = ""
    }
  }
  out.end(buffer)
  await once(out, "finish")
}

/** The first half of the dataset's lines, each written twice in a row. */
const eachTwice = async (input: string, output: string, count: number) => {
  const out = createWriteStream(output)
  let buffer = ""
  let index = 0
  for await (const line of createInterface({ input: createReadStream(input), crlfDelay: Infinity })) {
    if (index++ >= count / 2) break
    buffer += `${line}\n${line}\n`
    if (buffer.length >= 1 << 20) {
      if (!out.write(buffer)) await once(out, "drain")
      buffer = ""
    }
  }
  out.end(buffer)
  await once(out, "finish")
}

/** Subjects that upsert on External_Id__c. */
const upserts = (subject: ConnectorSubject) => subject === "connector-upsert" || subject === "connector-fan-out"

export const isConnectorSubject = (subject: Subject): subject is ConnectorSubject => subject.startsWith("connector")

const catalogOf = (subject: ConnectorSubject) => ({
  streams: (subject === "connector-many-streams" ? Array.from({ length: manyStreams }, (_, index) => manyStreamName(index)) : [streamName]).map((name) => (
    {
      stream: {
        name,
        json_schema: { type: "object", properties: Object.fromEntries(fields.map((field) => [field, { type: ["null", field === "DoNotCall" ? "boolean" : "string"] }])) },
        supported_sync_modes: ["full_refresh", "incremental"]
      },
      sync_mode: "full_refresh",
      destination_sync_mode: upserts(subject) ? "append_dedup" : "append",
      ...(upserts(subject) ? { primary_key: [["External_Id__c"]] } : {}),
      destination_object_name: "Contact",
      sync_id: 1,
      generation_id: 1,
      minimum_generation_id: 0
    }
  ))
})

/** Rows after which the emulator ends each job Failed, for `connector-failing-jobs`: a tenth of the rows. */
const failJobAfterRows = (count: number) => Math.max(1, Math.floor(count / 10))

/** The connector's closing summary: "sync finished: N records in, C created, U updated, D deleted, R rejected, J jobs". */
const summaryOf = (stdoutFile: string) => {
  const found = /sync finished: (\d+) records in, (\d+) created, (\d+) updated, (\d+) deleted, (\d+) rejected/.exec(readFileSync(stdoutFile, "utf8"))
  if (found === null) return undefined
  const [recordsIn, created, updated, deleted, rejected] = found.slice(1).map(Number)
  return { recordsIn: recordsIn ?? 0, stored: (created ?? 0) + (updated ?? 0) + (deleted ?? 0), rejected: rejected ?? 0 }
}

/** BENCH_CONNECTOR_JOBS sets `max_concurrent_jobs` (default: the connector's own, 4). */
const maxConcurrentJobs = process.env["BENCH_CONNECTOR_JOBS"]

/** BENCH_CONNECTOR_BATCH_MB sets `batch_size_mb` (default: the connector's own, 100). */
const batchSizeMb = process.env["BENCH_CONNECTOR_BATCH_MB"]

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

/** Runs the connector against `context.emulator`; `subject` names the run and chooses its path. */
export const run = async (context: RunContext, subject: ConnectorSubject = "connector"): Promise<RunResult> => {
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
      ...(maxConcurrentJobs === undefined ? {} : { max_concurrent_jobs: Number(maxConcurrentJobs) }),
      ...(batchSizeMb === undefined ? {} : { batch_size_mb: Number(batchSizeMb) })
    })
  )
  writeFileSync(catalogFile, JSON.stringify(catalogOf(subject)))
  const stdoutFile = path.join(context.directory, "connector.out")
  let input = context.dataset.jsonl
  if (subject === "connector-many-streams") {
    input = path.join(context.directory, "records-many-streams.jsonl")
    await spreadOverStreams(context.dataset.jsonl, input)
  }
  if (subject === "connector-fan-out") {
    input = path.join(context.directory, "records-each-twice.jsonl")
    await eachTwice(context.dataset.jsonl, input, context.dataset.count)
  }
  const write = (nodeFlags: ReadonlyArray<string>) =>
    measureNode({
      args: [...nodeFlags, mainScript, "write", "--config", config, "--catalog", catalogFile],
      stdinFile: input,
      stdoutFile,
      stderrFile: path.join(context.directory, "connector.err")
    })
  let measured = context
  if (subject === "connector-refused") {
    const preload = await write([])
    if (preload.exitCode !== 0) throw new Error(`connector-refused: loading the rows first failed (${errorOf(stdoutFile) ?? `exit ${preload.exitCode}`})`)
    measured = await contextOf(context)
  }
  if (subject === "connector-failing-jobs") await context.emulator.setFaults({ failJobAfterRows: failJobAfterRows(context.dataset.count) })
  const figures = await write(context.nodeFlags)
  const summary = summaryOf(stdoutFile)
  const jobs = maxConcurrentJobs === undefined ? undefined : `max_concurrent_jobs: ${maxConcurrentJobs}`
  const batches = batchSizeMb === undefined ? undefined : `batch_size_mb: ${batchSizeMb}`
  const count = context.dataset.count
  const unaccounted = summary === undefined ? count : count - summary.stored - summary.rejected
  const lost = unaccounted === 0 ? undefined : `${unaccounted} records neither stored nor rejected`
  const note = [jobs, batches, errorOf(stdoutFile), lost].filter((part) => part !== undefined).join("; ")
  const expected =
    subject === "connector-refused"
      ? { loaded: 0, failed: count }
      : subject === "connector-failing-jobs"
        ? { loaded: summary?.stored ?? count, failed: 0 }
        : subject === "connector-fan-out"
          ? { loaded: Math.ceil(count / 2), failed: 0 }
          : { loaded: count, failed: 0 }
  const outcome = await result(subject, measured, figures, note === "" ? undefined : note, expected)
  return lost === undefined ? outcome : { ...outcome, ok: false }
}
