import { describe, expect, it } from "@effect/vitest"
import * as zlib from "node:zlib"
import { afterEach, beforeEach, vi } from "vitest"
import { Org } from "../src/index.js"
import { api, Client, parseCsv, syncOrg } from "./support.js"

describe("Bulk API 2.0 ingest jobs", () => {
  it("creates a job with JobInfo, lists it, and answers unknown jobs with 404", async () => {
    const { client } = syncOrg()
    const job = await client.create({ object: "Account", operation: "insert" })
    expect(job).toMatchObject({ state: "Open", object: "Account", operation: "insert", apiVersion: 62, contentType: "CSV", concurrencyMode: "Parallel" })
    expect(job.id).toMatch(/^750\w{15}$/)
    const list = await client.json(`${api}/jobs/ingest`)
    expect(list).toMatchObject({ done: true, nextRecordsUrl: null, records: [{ id: job.id, state: "Open", jobType: "V2Ingest" }] })
    const missing = await client.call(`${api}/jobs/ingest/7505g00000zzzzzAAA`)
    expect(missing.status).toBe(404)
    expect(await missing.json()).toEqual([{ errorCode: "NOT_FOUND", message: "The requested resource does not exist" }])
  })

  it("validates the job definition", async () => {
    const { client } = syncOrg()
    const post = (body: string) => client.call(`${api}/jobs/ingest`, { method: "POST", headers: { "content-type": "application/json" }, body })
    const upsert = await post(JSON.stringify({ object: "Contact", operation: "upsert" }))
    expect(upsert.status).toBe(400)
    expect(await upsert.json()).toEqual([{ errorCode: "INVALIDJOB", message: "External ID was blank for Contact. An External ID must be specified for upsert." }])
    expect((await post(JSON.stringify({ object: "Nope__c", operation: "insert" }))).status).toBe(400)
    const malformed = await post("{")
    expect(((await malformed.json()) as Array<{ errorCode: string }>)[0]?.errorCode).toBe("JSON_PARSER_ERROR")
    expect((await post(JSON.stringify({ object: "Contact", operation: "upsert", externalIdFieldName: "LastName" }))).status).toBe(400)
  })

  it("accepts one upload per job; the second is INVALIDJOBSTATE", async () => {
    const { client } = syncOrg()
    const job = await client.create({ object: "Account", operation: "insert" })
    expect((await client.upload(job.id, "Name\nA\n")).status).toBe(201)
    const second = await client.upload(job.id, "Name\nB\n")
    expect(second.status).toBe(409)
    const [error] = (await second.json()) as Array<{ errorCode: string; message: string }>
    expect(error?.errorCode).toBe("INVALIDJOBSTATE")
    expect(error?.message).toContain("Found multiple contents for job")
  })

  it("uses 400 for INVALIDJOBSTATE when the fixture says so", async () => {
    const { client } = syncOrg({ fixture: { ...(await import("../src/index.js")).OrgFixture.defaultFixture, invalidJobStateStatus: 400 } })
    const job = await client.create({ object: "Account", operation: "insert" })
    expect((await client.call(`${api}/jobs/ingest/${job.id}`, { method: "DELETE" })).status).toBe(400)
  })

  it("aborts Open jobs, keeps their rows as unprocessed, deletes only terminal or UploadComplete jobs", async () => {
    const { client } = syncOrg()
    const job = await client.create({ object: "Account", operation: "insert" })
    await client.upload(job.id, "Name\nA\nB\n")
    const deleteOpen = await client.call(`${api}/jobs/ingest/${job.id}`, { method: "DELETE" })
    expect(deleteOpen.status).toBe(409)
    const aborted = await client.patch(job.id, "Aborted")
    expect(((await aborted.json()) as { state: string }).state).toBe("Aborted")
    expect(parseCsv(await client.results(job.id, "unprocessedrecords")).map((row) => row["Name"]).sort()).toEqual(["A", "B"])
    expect((await client.patch(job.id, "UploadComplete")).status).toBe(409)
    expect((await client.call(`${api}/jobs/ingest/${job.id}`, { method: "DELETE" })).status).toBe(204)
    expect((await client.call(`${api}/jobs/ingest/${job.id}`)).status).toBe(404)
  })

  it("renders the exact result CSV headers and quoting", async () => {
    const { client } = syncOrg()
    const job = await client.create({ object: "Contact", operation: "insert" })
    await client.upload(job.id, 'LastName,Title\n"Doe, Jr.","He said ""hi"""\n,Nobody\n')
    await client.patch(job.id, "UploadComplete")
    const successful = await client.results(job.id, "successfulResults")
    expect(successful).toMatch(/^"sf__Id","sf__Created",LastName,Title\n"003\w{15}","true","Doe, Jr.","He said ""hi"""\n$/)
    const failed = await client.results(job.id, "failedResults")
    expect(failed).toBe('"sf__Id","sf__Error",LastName,Title\n"","REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --",,Nobody\n')
    expect(await client.results(job.id, "unprocessedrecords")).toBe("LastName,Title\n")
  })

  it("echoes rows in any UTF-8 into results as they were uploaded", async () => {
    const { client } = syncOrg()
    const job = await client.create({ object: "Contact", operation: "insert" })
    await client.upload(job.id, 'LastName,Title\nÅngström,"Bürokrat, 東京"\n,🎨 "kein" Name\n')
    await client.patch(job.id, "UploadComplete")
    expect(await client.results(job.id, "successfulResults")).toMatch(/^"sf__Id","sf__Created",LastName,Title\n"003\w{15}","true",Ångström,"Bürokrat, 東京"\n$/)
    expect(await client.results(job.id, "failedResults")).toBe(
      '"sf__Id","sf__Error",LastName,Title\n"","REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --",,🎨 "kein" Name\n'
    )
  })

  it("compresses results when asked and accepts a gzip-encoded upload", async () => {
    const { client } = syncOrg()
    const job = await client.create({ object: "Contact", operation: "insert" })
    const upload = await client.call(`${api}/jobs/ingest/${job.id}/batches`, {
      method: "PUT",
      headers: { "content-type": "text/csv", "content-encoding": "gzip" },
      body: zlib.gzipSync("LastName\nZipped\n")
    })
    expect(upload.status).toBe(201)
    await client.patch(job.id, "UploadComplete")
    const response = await client.call(`${api}/jobs/ingest/${job.id}/successfulResults/`, { headers: { "accept-encoding": "gzip, deflate" } })
    expect(response.headers.get("content-encoding")).toBe("gzip")
    const text = zlib.gunzipSync(Buffer.from(await response.arrayBuffer())).toString("utf8")
    expect(parseCsv(text).map((row) => row["LastName"])).toEqual(["Zipped"])
  })

  it("honours other column delimiters and CRLF line endings", async () => {
    const { client } = syncOrg()
    const job = await client.create({ object: "Contact", operation: "insert", columnDelimiter: "PIPE", lineEnding: "CRLF" })
    await client.upload(job.id, "LastName|Title\r\nA|x,y\r\n")
    await client.patch(job.id, "UploadComplete")
    expect(await client.results(job.id, "successfulResults")).toMatch(/^"sf__Id"\|"sf__Created"\|LastName\|Title\r\n"003\w{15}"\|"true"\|A\|x,y\r\n$/)
  })

  it("fails the whole job when its rows do not end as its lineEnding says", async () => {
    const { client, org } = syncOrg()
    const before = org.storedRecords("Account").length
    const lf = await client.run({ object: "Account", operation: "insert", lineEnding: "LF" }, "Name,External_Id__c\r\nA,LE-1\r\nB,LE-2\r\n")
    expect(lf.info.state).toBe("Failed")
    expect(lf.info.errorMessage).toBe("ClientInputError : LineEnding is invalid on user data. Current LineEnding setting is LF")
    const crlf = await client.run({ object: "Account", operation: "upsert", externalIdFieldName: "External_Id__c", lineEnding: "CRLF" }, "Name,External_Id__c\r\nA,LE-1\nB,LE-2\n")
    expect(crlf.info.state).toBe("Failed")
    expect(crlf.info.errorMessage).toBe("ClientInputError : LineEnding is invalid on user data. Current LineEnding setting is CRLF")
    expect(crlf.successful).toHaveLength(0)
    expect(crlf.unprocessed.map((row) => row["Name"]).sort()).toEqual(["A", "B"])
    expect(org.storedRecords("Account")).toHaveLength(before)
    const quoted = await client.run({ object: "Account", operation: "insert", lineEnding: "LF" }, 'Name,Description\nA,"one\r\ntwo"\n')
    expect(quoted.info.state).toBe("JobComplete")
    expect(quoted.successful).toHaveLength(1)
  })

  it("refuses results before the job ends", async () => {
    const { client } = syncOrg()
    const job = await client.create({ object: "Contact", operation: "insert" })
    const response = await client.call(`${api}/jobs/ingest/${job.id}/successfulResults/`)
    expect(response.status).toBe(409)
  })

  it("reports Sforce-Limit-Info on REST responses", async () => {
    const { client } = syncOrg()
    await client.create({ object: "Contact", operation: "insert" })
    const response = await client.call(`${api}/limits`)
    expect(response.headers.get("sforce-limit-info")).toBe("api-usage=2/100000")
    expect(await response.json()).toMatchObject({ DailyApiRequests: { Max: 100_000, Remaining: 99_998 }, DailyBulkApiBatches: { Max: 15_000 } })
  })

  it("counts calls, jobs, records and batches in stats", async () => {
    const { client, org } = syncOrg()
    await client.run({ object: "Contact", operation: "insert" }, "LastName\nA\n\nB\n")
    const stats = org.stats()
    expect(stats.calls).toMatchObject({ create: 1, upload: 1, close: 1, poll: 1, results: 3, total: 7 })
    expect(stats.jobs).toEqual({ JobComplete: 1 })
    expect(stats.records["Contact"]).toBe(3)
    expect(stats.rowsProcessed).toBe(2)
    expect(stats.rowsFailed).toBe(0)
    expect(stats.usage).toEqual({ apiRequests: 7, jobsCreated: 1, batches: 1, recordsIngested: 2 })
  })
})

describe("asynchronous processing", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] })
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it("goes UploadComplete → InProgress → JobComplete after the processing delay", async () => {
    const org = Org.make({ faults: { processingDelayMs: 200 } })
    const client = new Client(org)
    const job = await client.create({ object: "Contact", operation: "insert" })
    await client.upload(job.id, "LastName\nA\n")
    expect(((await (await client.patch(job.id, "UploadComplete")).json()) as { state: string }).state).toBe("UploadComplete")
    expect((await client.info(job.id)).state).toBe("UploadComplete")
    await vi.advanceTimersByTimeAsync(200)
    expect((await client.info(job.id)).state).toBe("InProgress")
    await vi.advanceTimersByTimeAsync(200)
    expect(await client.info(job.id)).toMatchObject({ state: "JobComplete", numberRecordsProcessed: 1, numberRecordsFailed: 0 })
  })

  it("defaults to a 200 ms delay", async () => {
    const org = Org.make()
    const client = new Client(org)
    const job = await client.create({ object: "Contact", operation: "insert" })
    await client.upload(job.id, "LastName\nA\n")
    await client.patch(job.id, "UploadComplete")
    await vi.advanceTimersByTimeAsync(199)
    expect((await client.info(job.id)).state).toBe("UploadComplete")
    await vi.advanceTimersByTimeAsync(1)
    expect((await client.info(job.id)).state).toBe("InProgress")
  })

  it("aborting an UploadComplete job cancels its processing", async () => {
    const org = Org.make({ faults: { processingDelayMs: 50 } })
    const client = new Client(org)
    const job = await client.create({ object: "Contact", operation: "insert" })
    await client.upload(job.id, "LastName\nA\n")
    await client.patch(job.id, "UploadComplete")
    await client.patch(job.id, "Aborted")
    await vi.advanceTimersByTimeAsync(500)
    expect((await client.info(job.id)).state).toBe("Aborted")
    expect(org.storedRecords("Contact")).toHaveLength(1)
  })
})
