import { describe, expect, it } from "@effect/vitest"
import * as Either from "effect/Either"
import { afterEach, vi } from "vitest"
import { Faults, Org } from "../src/index.js"
import { api, baseUrl, Client, parseCsv, syncOrg } from "./support.js"

const limitsStatuses = async (client: Client, count: number): Promise<Array<number>> => {
  const statuses: Array<number> = []
  for (let index = 0; index < count; index++) statuses.push((await client.call(`${api}/limits`)).status)
  return statuses
}

describe("fault injection", () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it("answers every Nth call of a kind with the status, at most `times` times", async () => {
    const { client } = syncOrg({ faults: { httpErrors: [{ call: "limits", status: 503, every: 2, times: 2 }] } })
    expect(await limitsStatuses(client, 7)).toEqual([200, 503, 200, 503, 200, 200, 200])
    const { client: other } = syncOrg({ faults: { httpErrors: [{ call: "limits", status: 503, every: 1 }] } })
    const response = await other.call(`${api}/limits`)
    expect(await response.json()).toEqual([{ errorCode: "SERVER_UNAVAILABLE", message: "Server temporarily unavailable" }])
  })

  it("targets only the chosen call kind, or any", async () => {
    const { client } = syncOrg({ faults: { httpErrors: [{ call: "create", status: 500, every: 1 }] } })
    expect(await limitsStatuses(client, 2)).toEqual([200, 200])
    const created = await client.call(`${api}/jobs/ingest`, { method: "POST", body: JSON.stringify({ object: "Account", operation: "insert" }) })
    expect(created.status).toBe(500)
    expect(((await created.json()) as Array<{ errorCode: string }>)[0]?.errorCode).toBe("UNKNOWN_EXCEPTION")
    const { client: anyClient } = syncOrg({ faults: { httpErrors: [{ call: "any", status: 502, every: 3 }] } })
    expect(await limitsStatuses(anyClient, 3)).toEqual([200, 200, 502])
  })

  it("hits a seeded, deterministic share of calls with `rate`", async () => {
    const pattern = async (seed: number) => {
      const org = Org.make({ seed, faults: { processingDelayMs: 0, httpErrors: [{ call: "limits", status: 503, rate: 0.5 }] } })
      return limitsStatuses(new Client(org), 40)
    }
    const first = await pattern(7)
    expect(await pattern(7)).toEqual(first)
    const failures = first.filter((status) => status === 503).length
    expect(failures).toBeGreaterThan(5)
    expect(failures).toBeLessThan(35)
  })

  it("drops connections before any byte", async () => {
    const { client } = syncOrg({ faults: { dropConnections: [{ call: "upload", every: 1, times: 1 }] } })
    const job = await client.create({ object: "Account", operation: "insert" })
    const first = await client.upload(job.id, "Name\nA\n")
    expect(first.type).toBe("error")
    // the dropped upload was never stored: the retry is the job's one upload
    expect((await client.upload(job.id, "Name\nA\n")).status).toBe(201)
  })

  it("cuts a results download after `afterBytes`", async () => {
    const { client } = syncOrg({ faults: { dropConnections: [{ call: "results", afterBytes: 10 }] } })
    const job = await client.create({ object: "Contact", operation: "insert" })
    await client.upload(job.id, "LastName\nA\nB\nC\n")
    await client.patch(job.id, "UploadComplete")
    const response = await client.call(`${api}/jobs/ingest/${job.id}/successfulResults/`)
    expect(response.status).toBe(200)
    const reader: ReadableStreamDefaultReader<Uint8Array> | undefined = response.body?.getReader()
    const received: Array<number> = []
    const failure = await (async () => {
      for (;;) {
        const chunk = await reader?.read()
        if (chunk === undefined || chunk.done) return "completed"
        received.push(chunk.value.byteLength)
      }
    })().catch((error: unknown) => (error instanceof Error ? error.message : "failed"))
    expect(failure).toContain("connection dropped")
    expect(received.reduce((sum, size) => sum + size, 0)).toBe(10)
  })

  it("delays responses by latencyMs and slowResponses", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] })
    const { client } = syncOrg({ faults: { latencyMs: 100, slowResponses: [{ call: "limits", delayMs: 900, times: 1 }] } })
    let settled = false
    const pending = client.call(`${api}/limits`).then((response) => {
      settled = true
      return response
    })
    await vi.advanceTimersByTimeAsync(999)
    expect(settled).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    expect((await pending).status).toBe(200)
  })

  it("expires sessions after sessionTtlRequests", async () => {
    const { client } = syncOrg({ faults: { sessionTtlRequests: 3 } })
    expect(await limitsStatuses(client, 4)).toEqual([200, 200, 200, 401])
  })

  it("expires sessions after sessionTtlSeconds", async () => {
    let now = Date.parse("2024-06-01T00:00:00Z")
    const org = Org.make({ clock: () => now, faults: { sessionTtlSeconds: 60 } })
    const client = new Client(org)
    expect((await client.call(`${api}/limits`)).status).toBe(200)
    now += 61_000
    const expired = await client.call(`${api}/limits`)
    expect(expired.status).toBe(401)
    expect(await expired.json()).toEqual([{ errorCode: "INVALID_SESSION_ID", message: "Session expired or invalid" }])
  })

  it("fails rows with UNABLE_TO_LOCK_ROW on their first attempt only", async () => {
    const { client, org } = syncOrg({ faults: { lockErrorRate: 0.5 } })
    const csv = `LastName\n${Array.from({ length: 40 }, (_, index) => `L${index}`).join("\n")}\n`
    const first = await client.run({ object: "Contact", operation: "insert" }, csv)
    expect(first.failed.length).toBeGreaterThan(5)
    expect(first.failed.every((row) => /^UNABLE_TO_LOCK_ROW:unable to obtain exclusive access to this record or 1 records/.test(row["sf__Error"] ?? ""))).toBe(true)
    const retry = `LastName\n${first.failed.map((row) => row["LastName"]).join("\n")}\n`
    const second = await client.run({ object: "Contact", operation: "insert" }, retry)
    expect(second.failed).toHaveLength(0)
    expect(org.storedRecords("Contact")).toHaveLength(41)
  })

  it("ends a job Failed after failJobAfterRows, keeping saved rows and listing the rest as unprocessed", async () => {
    const { client, org } = syncOrg({ faults: { failJobAfterRows: 2 } })
    const { info, successful, unprocessed } = await client.run({ object: "Contact", operation: "insert" }, "LastName\nA\nB\nC\nD\n")
    expect(info.state).toBe("Failed")
    expect(info.errorMessage).toMatch(/failed after 2 rows/)
    expect(info.numberRecordsProcessed).toBe(2)
    expect(successful.map((row) => row["LastName"]).sort()).toEqual(["A", "B"])
    expect(unprocessed.map((row) => row["LastName"]).sort()).toEqual(["C", "D"])
    expect(org.storedRecords("Contact")).toHaveLength(3)
  })

  it("refuses uploads over maxUploadBytes", async () => {
    const { client } = syncOrg({ faults: { maxUploadBytes: 16 } })
    const job = await client.create({ object: "Contact", operation: "insert" })
    const response = await client.upload(job.id, "LastName\nSomeone Long\n")
    expect(response.status).toBe(413)
    expect(((await response.json()) as Array<{ errorCode: string }>)[0]?.errorCode).toBe("EXCEEDED_MAX_SIZE_REQUEST")
    expect((await client.upload(job.id, "LastName\nA\n")).status).toBe(201)
  })

  it("answers 403 REQUEST_LIMIT_EXCEEDED past dailyApiRequests; token calls do not count", async () => {
    const { client, org } = syncOrg({ faults: { dailyApiRequests: 2 } })
    const statuses = await limitsStatuses(client, 3)
    expect(statuses).toEqual([200, 200, 403])
    const refused = await client.call(`${api}/limits`)
    expect(await refused.json()).toEqual([{ errorCode: "REQUEST_LIMIT_EXCEEDED", message: "TotalRequests Limit exceeded." }])
    const token = await org.handle(
      new Request(`${baseUrl}/services/oauth2/token`, {
        method: "POST",
        body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: org.credentials.refreshToken, client_id: org.credentials.clientId, client_secret: org.credentials.clientSecret })
      })
    )
    expect(token.status).toBe(200)
    expect(org.stats().usage.apiRequests).toBe(2)
  })

  it("refuses to close jobs once dailyBulkApiBatches is used up", async () => {
    const { client } = syncOrg({ faults: { dailyBulkApiBatches: 1 } })
    expect((await client.run({ object: "Contact", operation: "insert" }, "LastName\nA\n")).info.state).toBe("JobComplete")
    const job = await client.create({ object: "Contact", operation: "insert" })
    await client.upload(job.id, "LastName\nB\n")
    const closed = await client.patch(job.id, "UploadComplete")
    expect(closed.status).toBe(403)
    expect(((await closed.json()) as Array<{ errorCode: string }>)[0]?.errorCode).toBe("REQUEST_LIMIT_EXCEEDED")
  })

  it("changes faults at runtime through the admin API; {} clears them; reset restores the start config", async () => {
    const { client, org } = syncOrg({ faults: { dailyApiRequests: 50 } })
    const admin = (path: string, body?: unknown) =>
      org.handle(new Request(`${baseUrl}/__emulator${path}`, body === undefined ? {} : { method: "POST", body: JSON.stringify(body) }))
    expect((await admin("/faults", { httpErrors: [{ call: "limits", status: 503, every: 1 }] })).status).toBe(200)
    expect(await limitsStatuses(client, 1)).toEqual([503])
    expect((await admin("/faults", { httpErrors: [{ call: "nope", status: 503 }] })).status).toBe(400)
    await admin("/faults", {})
    expect(await limitsStatuses(client, 1)).toEqual([200])
    expect(org.faults).toEqual({})
    await admin("/faults", { processingDelayMs: 0 })
    await client.run({ object: "Contact", operation: "insert" }, "LastName\nA\n")
    expect((await (await admin("/stats")).json()) as Org.Stats).toMatchObject({ records: { Contact: 2 }, jobs: { JobComplete: 1 } })
    const records = (await (await admin("/objects/Contact/records")).json()) as Array<Record<string, unknown>>
    expect(records.map((record) => record["LastName"]).sort()).toEqual(["A", "Hopper"])
    expect(records[0]?.["Id"]).toMatch(/^003\w{15}$/)
    await admin("/reset", {})
    expect(org.faults).toEqual({ processingDelayMs: 0, dailyApiRequests: 50 })
    expect(org.stats()).toMatchObject({ records: { Contact: 1 }, jobs: {}, rowsProcessed: 0, calls: { total: 0 } })
  })

  it("decodes fault files and reports what is wrong", () => {
    expect(Either.isRight(Faults.decode({ processingDelayMs: 200, sessionTtlRequests: 50, rotateRefreshToken: true, httpErrors: [{ call: "token", status: 503, every: 3, times: 5 }], dropConnections: [{ call: "upload", every: 2, times: 1 }], latencyMs: 0, lockErrorRate: 0.2, failJobAfterRows: 500, dailyApiRequests: 100000 }))).toBe(true)
    const wrong = Faults.decode({ lockErrorRate: 2 })
    expect(Either.isLeft(wrong) && wrong.left).toContain("lockErrorRate")
  })

  it("records injected failures in stats.calls", async () => {
    const { client, org } = syncOrg({ faults: { httpErrors: [{ call: "limits", status: 503, every: 1 }] } })
    await limitsStatuses(client, 2)
    expect(org.stats().calls.limits).toBe(2)
    expect(parseCsv("a\n1\n")).toEqual([{ a: "1" }])
  })
})
