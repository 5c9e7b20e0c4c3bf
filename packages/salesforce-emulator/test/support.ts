/** A tiny Bulk API 2.0 client over `org.handle`, for tests. */
import { Csv, Org } from "../src/index.js"

export const baseUrl = "https://emulator.my.salesforce.com"
export const api = "/services/data/v62.0"

export interface JobInfo {
  readonly id: string
  readonly state: string
  readonly numberRecordsProcessed: number
  readonly numberRecordsFailed: number
  readonly errorMessage?: string
  readonly [key: string]: unknown
}

export const isJobInfo = (value: unknown): value is JobInfo =>
  typeof value === "object" && value !== null && "id" in value && "state" in value

/** Rows of a CSV text as objects keyed by the header. */
export const parseCsv = (text: string): Array<Record<string, string>> => {
  const reader = new Csv.Reader(text, ",")
  const header = reader.next()?.values ?? []
  const rows: Array<Record<string, string>> = []
  for (let row = reader.next(); row !== undefined; row = reader.next()) {
    rows.push(Object.fromEntries(header.map((name, index) => [name, row.values[index] ?? ""])))
  }
  return rows
}

export class Client {
  readonly token: string
  constructor(
    readonly org: Org.Org,
    token?: string
  ) {
    this.token = token ?? org.issueAccessToken()
  }

  call(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers)
    if (!headers.has("authorization")) headers.set("authorization", `Bearer ${this.token}`)
    return this.org.handle(new Request(`${baseUrl}${path}`, { ...init, headers }))
  }

  async json(path: string, init: RequestInit = {}): Promise<unknown> {
    return (await this.call(path, init)).json()
  }

  async create(body: Record<string, unknown>): Promise<JobInfo> {
    const info = await this.json(`${api}/jobs/ingest`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ contentType: "CSV", lineEnding: "LF", columnDelimiter: "COMMA", ...body })
    })
    if (!isJobInfo(info)) throw new Error(`job not created: ${JSON.stringify(info)}`)
    return info
  }

  upload(id: string, csv: string, headers: Record<string, string> = {}): Promise<Response> {
    return this.call(`${api}/jobs/ingest/${id}/batches`, { method: "PUT", headers: { "content-type": "text/csv", ...headers }, body: csv })
  }

  patch(id: string, state: string): Promise<Response> {
    return this.call(`${api}/jobs/ingest/${id}`, { method: "PATCH", headers: { "content-type": "application/json" }, body: JSON.stringify({ state }) })
  }

  async info(id: string): Promise<JobInfo> {
    const info = await this.json(`${api}/jobs/ingest/${id}`)
    if (!isJobInfo(info)) throw new Error(`no job info: ${JSON.stringify(info)}`)
    return info
  }

  async results(id: string, kind: "successfulResults" | "failedResults" | "unprocessedrecords"): Promise<string> {
    return (await this.call(`${api}/jobs/ingest/${id}/${kind}/`)).text()
  }

  /** create + upload + close (the org must run with processingDelayMs 0) + info + results. */
  async run(job: Record<string, unknown>, csv: string) {
    const created = await this.create(job)
    const uploaded = await this.upload(created.id, csv)
    if (uploaded.status !== 201) throw new Error(`upload refused: ${uploaded.status} ${await uploaded.text()}`)
    await this.patch(created.id, "UploadComplete")
    const info = await this.info(created.id)
    const successful = parseCsv(await this.results(created.id, "successfulResults"))
    const failed = parseCsv(await this.results(created.id, "failedResults"))
    const unprocessed = parseCsv(await this.results(created.id, "unprocessedrecords"))
    return { info, successful, failed, unprocessed }
  }
}

/** An org processing jobs at close, and a client with a token. */
export const syncOrg = (options: Org.Options = {}) => {
  const org = Org.make({ ...options, faults: { processingDelayMs: 0, ...options.faults } })
  return { org, client: new Client(org) }
}
