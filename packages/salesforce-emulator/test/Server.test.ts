import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as http from "node:http"
import * as os from "node:os"
import * as path from "node:path"
import * as readline from "node:readline"
import { EmulatorServer, Org } from "../src/index.js"
import { api } from "./support.js"

const tokenBody = (org: Org.Org) =>
  new URLSearchParams({ grant_type: "refresh_token", refresh_token: org.credentials.refreshToken, client_id: org.credentials.clientId, client_secret: org.credentials.clientSecret })

/** `src/server.ts --port 0 --faults FILE` as a process: its first stdout line, and a SIGTERM stop that resolves to its exit code. */
const startCli = (faults: unknown) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sf-emulator-"))
  const faultsFile = path.join(dir, "faults.json")
  fs.writeFileSync(faultsFile, JSON.stringify(faults))
  const child = spawn(process.execPath, ["--import", "tsx/esm", path.join(import.meta.dirname, "../src/server.ts"), "--port", "0", "--faults", faultsFile], {
    stdio: ["ignore", "pipe", "inherit"]
  })
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
  const lines = readline.createInterface({ input: child.stdout })
  const firstLine = Promise.race([
    new Promise<string>((resolve) => lines.once("line", resolve)),
    exited.then((code) => Promise.reject(new Error(`the server exited with ${code} before printing its URL`)))
  ])
  const stop = async () => {
    child.kill("SIGTERM")
    const code = await exited
    fs.rmSync(dir, { recursive: true })
    return code
  }
  return { firstLine, stop }
}

describe("EmulatorServer", () => {
  it("serves login and instance on one loopback URL; instance_url is that URL", async () => {
    const org = Org.make({ faults: { processingDelayMs: 0 } })
    const server = await EmulatorServer.start(org, { port: 0 })
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
      const token = (await (await fetch(`${server.url}/services/oauth2/token`, { method: "POST", body: tokenBody(org) })).json()) as Record<string, string>
      expect(token["instance_url"]).toBe(server.url)
      const limits = await fetch(`${server.url}${api}/limits`, { headers: { authorization: `Bearer ${token["access_token"]}` } })
      expect(limits.status).toBe(200)
      expect(limits.headers.get("sforce-limit-info")).toBe("api-usage=1/100000")
      const records = (await (await fetch(`${server.url}/__emulator/objects/Account/records`)).json()) as Array<{ Id: string }>
      expect(records).toHaveLength(2)
    } finally {
      await server.close()
    }
  })

  it("hands request bodies to the org as sent: JSON, form and a CSV upload with multi-byte text", async () => {
    const org = Org.make({ faults: { processingDelayMs: 0 } })
    const server = await EmulatorServer.start(org)
    try {
      const token = (await (await fetch(`${server.url}/services/oauth2/token`, { method: "POST", body: tokenBody(org) })).json()) as Record<string, string>
      const headers = { authorization: `Bearer ${token["access_token"]}` }
      const job = (await (await fetch(`${server.url}${api}/jobs/ingest`, { method: "POST", headers, body: JSON.stringify({ object: "Contact", operation: "insert" }) })).json()) as { id: string }
      const upload = await fetch(`${server.url}${api}/jobs/ingest/${job.id}/batches`, {
        method: "PUT",
        headers: { ...headers, "content-type": "text/csv" },
        body: "LastName,Title\nÅngström,\"Bürokrat, 東京\"\nKahlo,🎨\n"
      })
      expect(upload.status).toBe(201)
      await fetch(`${server.url}${api}/jobs/ingest/${job.id}`, { method: "PATCH", headers, body: JSON.stringify({ state: "UploadComplete" }) })
      const stored = org.storedRecords("Contact").filter((contact) => contact["LastName"] === "Ångström" || contact["LastName"] === "Kahlo")
      expect(stored.map((contact) => [contact["LastName"], contact["Title"]])).toEqual([
        ["Ångström", "Bürokrat, 東京"],
        ["Kahlo", "🎨"]
      ])
    } finally {
      await server.close()
    }
  })

  it("reads an upload sent in small pieces whole, with or without a Content-Length", async () => {
    const org = Org.make({ faults: { processingDelayMs: 0 } })
    const server = await EmulatorServer.start(org)
    try {
      const headers = { authorization: `Bearer ${org.issueAccessToken()}` }
      const names = Array.from({ length: 300 }, (_, index) => `Ñandú ${index} 東京`)
      const csv = Buffer.from(`LastName\n${names.join("\n")}\n`)
      // 7-byte pieces split multi-byte characters
      const pieces = Array.from({ length: Math.ceil(csv.length / 7) }, (_, index) => csv.subarray(index * 7, index * 7 + 7))
      const uploadIn = async (declareLength: boolean): Promise<number> => {
        const job = (await (await fetch(`${server.url}${api}/jobs/ingest`, { method: "POST", headers, body: JSON.stringify({ object: "Contact", operation: "insert" }) })).json()) as { id: string }
        const status = await new Promise<number>((resolve, reject) => {
          const request = http.request(`${server.url}${api}/jobs/ingest/${job.id}/batches`, {
            method: "PUT",
            headers: { ...headers, "content-type": "text/csv", ...(declareLength ? { "content-length": String(csv.length) } : {}) }
          }, (response) => {
            response.resume()
            resolve(response.statusCode ?? 0)
          })
          request.on("error", reject)
          for (const piece of pieces) request.write(piece)
          request.end()
        })
        await fetch(`${server.url}${api}/jobs/ingest/${job.id}`, { method: "PATCH", headers, body: JSON.stringify({ state: "UploadComplete" }) })
        return status
      }
      for (const declareLength of [true, false]) {
        const before = org.storedRecords("Contact").length
        expect(await uploadIn(declareLength)).toBe(201)
        expect(org.storedRecords("Contact").slice(before).map((contact) => contact["LastName"])).toEqual(names)
      }
    } finally {
      await server.close()
    }
  })

  it("destroys the socket for dropped connections, mid-body with afterBytes", async () => {
    const org = Org.make({ faults: { processingDelayMs: 0, dropConnections: [{ call: "limits", every: 1, times: 1 }, { call: "results", afterBytes: 20 }] } })
    const server = await EmulatorServer.start(org)
    try {
      const token = org.issueAccessToken()
      const headers = { authorization: `Bearer ${token}` }
      await expect(fetch(`${server.url}${api}/limits`, { headers })).rejects.toThrow()
      expect((await fetch(`${server.url}${api}/limits`, { headers })).status).toBe(200)
      const job = (await (await fetch(`${server.url}${api}/jobs/ingest`, { method: "POST", headers, body: JSON.stringify({ object: "Contact", operation: "insert" }) })).json()) as { id: string }
      await fetch(`${server.url}${api}/jobs/ingest/${job.id}/batches`, { method: "PUT", headers: { ...headers, "content-type": "text/csv" }, body: "LastName\nA\nB\nC\n" })
      await fetch(`${server.url}${api}/jobs/ingest/${job.id}`, { method: "PATCH", headers, body: JSON.stringify({ state: "UploadComplete" }) })
      const results = await fetch(`${server.url}${api}/jobs/ingest/${job.id}/successfulResults/`, { headers })
      expect(results.status).toBe(200)
      await expect(results.text()).rejects.toThrow()
    } finally {
      await server.close()
    }
  })

  it.scoped("is a scoped resource: closed when the scope ends", () =>
    Effect.gen(function* () {
      const org = Org.make()
      const url = yield* Effect.scoped(
        Effect.gen(function* () {
          const { url } = yield* EmulatorServer.scoped(org, { port: 0 })
          const response = yield* Effect.promise(() => fetch(`${url}/__emulator/stats`))
          expect(response.status).toBe(200)
          return url
        })
      )
      const after = yield* Effect.promise(() => fetch(`${url}/__emulator/stats`).then(() => "open", () => "closed"))
      expect(after).toBe("closed")
    })
  )

  it("as a CLI, runs a job's batches back to back while no request comes in", async () => {
    // A batch that waited for the event loop to wake (an unref'd immediate does) would take one
    // batch per request: 3 batches in 1 s of silence would stay InProgress.
    const cli = startCli({ processingDelayMs: 5 })
    try {
      const url = (await cli.firstLine).replace("listening on ", "")
      const token = (await (await fetch(`${url}/services/oauth2/token`, { method: "POST", body: tokenBody(Org.make()) })).json()) as { access_token: string }
      const call = (suffix: string, init: RequestInit = {}) =>
        fetch(`${url}${api}/jobs/ingest${suffix}`, { ...init, headers: { authorization: `Bearer ${token.access_token}`, ...init.headers } })
      const job = (await (await call("", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ object: "Contact", operation: "insert", contentType: "CSV", lineEnding: "LF" }) })).json()) as { id: string }
      const rows = Array.from({ length: 30_000 }, (_, index) => `Person ${index}`)
      expect((await call(`/${job.id}/batches`, { method: "PUT", headers: { "content-type": "text/csv" }, body: `LastName\n${rows.join("\n")}\n` })).status).toBe(201)
      expect((await call(`/${job.id}`, { method: "PATCH", headers: { "content-type": "application/json" }, body: JSON.stringify({ state: "UploadComplete" }) })).status).toBe(200)
      await new Promise((resolve) => setTimeout(resolve, 1000))
      expect(await (await call(`/${job.id}`)).json()).toMatchObject({ state: "JobComplete", numberRecordsProcessed: 30_000 })
    } finally {
      await cli.stop()
    }
  }, 60_000)

  it("runs as a CLI: prints its URL first, loads --faults, stops on SIGTERM", async () => {
    const cli = startCli({ dailyApiRequests: 7 })
    const first = await cli.firstLine
    expect(first).toMatch(/^listening on http:\/\/127\.0\.0\.1:\d+$/)
    const url = first.replace("listening on ", "")
    const faults = await (await fetch(`${url}/__emulator/faults`)).json()
    expect(faults).toEqual({ dailyApiRequests: 7 })
    expect(await cli.stop()).toBe(0)
  }, 60_000)
})
