/**
 * A null org: an HTTP server on loopback that answers the Bulk API calls a load makes (token,
 * describe, create, upload, close, poll, results) and stores nothing. An upload's rows are only
 * counted; a closed job is complete at once with every row processed. Measured against it, a
 * subject shows its own cost, without Salesforce's share of the work (the emulator's processing,
 * which otherwise runs on the same cores).
 *
 * It runs in the harness's process, which is otherwise idle while a subject runs (it waits for the
 * subject to exit); its CPU time is the harness's. Rows are counted by line breaks: the generated
 * rows hold none in their values. The successful results list no rows: an upsert against it would
 * count none created.
 */
import { once } from "node:events"
import http from "node:http"
import type { AddressInfo } from "node:net"
import type { Emulator, Stats } from "./Emulator.js"

interface NullJob {
  readonly id: string
  readonly object: string
  readonly operation: string
  readonly createdDate: string
  state: "Open" | "UploadComplete" | "JobComplete" | "Aborted"
  rows: number
}

const apiPath = /^\/services\/data\/v[\d.]+(\/.*)$/
const jobPath = /^\/jobs\/ingest\/([^/]+)(\/[^/?]*)?\/?$/
const newline = 10

const credentials = { clientId: "null-org-client", clientSecret: "null-org-secret", refreshToken: "null-org-refresh" }

/** Rows in an uploaded CSV: its lines after the header (a last line without a newline counts). */
class RowCounter {
  private lines = 0
  private lastByte = newline

  add(chunk: Buffer): void {
    for (let at = chunk.indexOf(newline); at !== -1; at = chunk.indexOf(newline, at + 1)) this.lines++
    if (chunk.length > 0) this.lastByte = chunk[chunk.length - 1] ?? newline
  }

  get rows(): number {
    return Math.max(0, this.lines + (this.lastByte === newline ? 0 : 1) - 1)
  }
}

/**
 * Starts a null org that serves `describes` (sObject name → its describe result, as the emulator
 * gives it). The result speaks the `Emulator` interface: stats count calls by kind and rows
 * "stored" per object, so a subject's figures read the same.
 */
export const start = async (describes: Readonly<Record<string, unknown>>): Promise<Emulator> => {
  const jobs = new Map<string, NullJob>()
  const calls: Record<string, number> = {}
  const records: Record<string, number> = {}
  let rowsProcessed = 0
  const count = (kind: string) => {
    calls[kind] = (calls[kind] ?? 0) + 1
  }
  const cpuAtStart = process.cpuUsage()

  const jobInfo = (job: NullJob) => ({
    id: job.id,
    operation: job.operation,
    object: job.object,
    createdById: "005000000000001AAA",
    createdDate: job.createdDate,
    systemModstamp: new Date().toISOString(),
    state: job.state,
    concurrencyMode: "Parallel",
    contentType: "CSV",
    apiVersion: 62.0,
    jobType: "V2Ingest",
    lineEnding: "LF",
    columnDelimiter: "COMMA",
    numberRecordsProcessed: job.state === "JobComplete" ? job.rows : 0,
    numberRecordsFailed: 0,
    retries: 0,
    totalProcessingTime: 0,
    apiActiveProcessingTime: 0,
    apexProcessingTime: 0,
    contentUrl: `services/data/v62.0/jobs/ingest/${job.id}/batches`
  })

  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://null-org")
    const rows = new RowCounter()
    const body: Array<Buffer> = []
    const isUpload = request.method === "PUT"
    request.on("data", (chunk: Buffer) => (isUpload ? rows.add(chunk) : body.push(chunk)))
    request.on("end", () => {
      const json = (status: number, value: unknown) => {
        response.writeHead(status, { "Content-Type": "application/json" })
        response.end(JSON.stringify(value))
      }
      const notFound = () => json(404, [{ errorCode: "NOT_FOUND", message: `${request.method ?? ""} ${url.pathname}` }])
      if (url.pathname === "/services/oauth2/token") {
        count("token")
        const address = server.address() as AddressInfo
        return json(200, {
          access_token: "null-org-token",
          instance_url: `http://127.0.0.1:${address.port}`,
          id: "http://null-org/id/00D000000000001AAA/005000000000001AAA",
          token_type: "Bearer",
          issued_at: String(Date.now()),
          signature: "null-org",
          scope: "api"
        })
      }
      const api = apiPath.exec(url.pathname)?.[1]
      const describeOf = api === undefined ? undefined : /^\/sobjects\/([^/]+)\/describe\/?$/.exec(api)?.[1]
      if (describeOf !== undefined) {
        count("describe")
        const describe = describes[describeOf]
        return describe === undefined ? notFound() : json(200, describe)
      }
      if (api === "/jobs/ingest" || api === "/jobs/ingest/") {
        if (request.method !== "POST") return notFound()
        count("create")
        const spec = JSON.parse(Buffer.concat(body).toString("utf8")) as { object?: string; operation?: string }
        const id = `750${String(jobs.size + 1).padStart(12, "0")}AAA`
        const job: NullJob = { id, object: spec.object ?? "", operation: spec.operation ?? "", createdDate: new Date().toISOString(), state: "Open", rows: 0 }
        jobs.set(id, job)
        return json(200, jobInfo(job))
      }
      const [, id = "", part = ""] = (api === undefined ? undefined : jobPath.exec(api)) ?? []
      const job = jobs.get(id)
      if (job === undefined) return notFound()
      if (part === "/batches" && isUpload) {
        count("upload")
        job.rows = rows.rows
        response.writeHead(201)
        return response.end()
      }
      if (part === "" && request.method === "PATCH") {
        count("close")
        const { state } = JSON.parse(Buffer.concat(body).toString("utf8")) as { state?: string }
        if (state === "UploadComplete") {
          rowsProcessed += job.rows
          records[job.object] = (records[job.object] ?? 0) + job.rows
          json(200, jobInfo({ ...job, state: "UploadComplete" }))
          job.state = "JobComplete"
          return
        }
        job.state = "Aborted"
        return json(200, jobInfo(job))
      }
      if (part === "" && request.method === "GET") {
        count("poll")
        return json(200, jobInfo(job))
      }
      if (part !== "" && request.method === "GET") {
        count("results")
        response.writeHead(200, { "Content-Type": "text/csv" })
        // no row failed and none was left unprocessed; the successful rows are not listed
        const header = part.startsWith("/successfulResults") ? "sf__Id,sf__Created\n" : part.startsWith("/failedResults") ? "sf__Id,sf__Error\n" : ""
        return response.end(header)
      }
      return notFound()
    })
  })
  server.listen(0, "127.0.0.1")
  await once(server, "listening")
  const address = server.address() as AddressInfo
  const stats = (): Stats => ({
    calls: { ...calls, total: Object.values(calls).reduce((sum, value) => sum + value, 0) },
    records: { ...records },
    rowsProcessed,
    rowsFailed: 0
  })
  return {
    url: `http://127.0.0.1:${address.port}`,
    credentials: () => Promise.resolve(credentials),
    stats: () => Promise.resolve(stats()),
    reset: () => Promise.resolve(),
    setFaults: () => Promise.reject(new Error("the null org injects no faults")),
    describe: (sobject) => Promise.resolve(describes[sobject]),
    cpuSeconds: () => {
      const used = process.cpuUsage(cpuAtStart)
      return (used.user + used.system) / 1e6
    },
    stop: async () => {
      server.closeAllConnections()
      server.close()
      await once(server, "close")
    }
  }
}
