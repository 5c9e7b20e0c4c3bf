/**
 * The reliability suite's shared pieces: an emulated org behind MSW with recognisable
 * secrets, s3rver behind a front that can fail or go away, the connector run in-process with
 * every output byte kept, and the one invariant every fault scenario is checked against.
 */
import { EmulatorServer, handlers, Org, OrgFixture } from "@sfdc-activation/salesforce-emulator"
import { RejectReader, type RejectedRecord } from "@sfdc-activation/rejects-s3"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import { afterAll, afterEach, beforeAll } from "@effect/vitest"
import { setupServer } from "msw/node"
import * as fs from "node:fs"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import S3rver from "s3rver"
import * as Cli from "../../src/Cli.js"

export const baseUrl = "https://reliability.my.salesforce.com"
export const bucket = "rejects"

/** Secret values no output may ever contain. */
export const secrets = {
  clientSecret: "CLIENT-SECRET-canary-7f3a9c",
  refreshToken: "REFRESH-TOKEN-canary-51d2e8",
  s3AccessKey: "AKIA-CANARY-S3-ACCESS-0042",
  s3SecretKey: "S3-SECRET-KEY-canary-9b8a7c"
}
export const clientId = "reliability-client-id"

/** An org with the default fixture and the canary credentials, served through MSW. */
export const emulatedOrg = () => {
  const fixture: OrgFixture.OrgFixture = {
    ...OrgFixture.defaultFixture,
    credentials: { clientId, clientSecret: secrets.clientSecret, refreshToken: secrets.refreshToken }
  }
  const org = Org.make({ fixture })
  const server = setupServer(...handlers(org, baseUrl))
  /** Every bearer token a request carried: the access tokens of the run. */
  const accessTokens = new Set<string>()
  server.events.on("request:start", ({ request }) => {
    const authorization = request.headers.get("authorization")
    if (authorization !== null && authorization.startsWith("Bearer ")) accessTokens.add(authorization.slice("Bearer ".length))
  })
  /**
   * The same org on a loopback HTTP server, for faults that cut a response part way: a real
   * socket is destroyed mid-body (MSW cannot stand for that).
   */
  let running: EmulatorServer.Running | undefined
  const httpServer = async () => {
    running ??= await EmulatorServer.start(org, { port: 0 })
    return running
  }
  const closeHttp = async () => {
    await running?.close()
    running = undefined
  }
  return { org, server, accessTokens, httpServer, closeHttp }
}

export const tempDirectory = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), prefix))

/** Writes a JSON file in a temp directory and returns its path. */
export const jsonFile = (value: unknown): string => {
  const file = path.join(tempDirectory("reliability-config-"), "file.json")
  fs.writeFileSync(file, JSON.stringify(value))
  return file
}

export type S3Fault = { readonly status: number; readonly code: string }

/**
 * s3rver on loopback behind a front that can answer errors, and stop (connections dropped, the port kept) and start again.
 * s3rver only knows its own access key, so the front maps the canary key to it (it does not
 * check SigV4 signatures).
 */
export const startS3 = async () => {
  const directory = tempDirectory("reliability-s3-")
  const s3rver = new S3rver({ directory, silent: true, configureBuckets: [{ name: bucket }] })
  await s3rver.configureBuckets()
  const forward = s3rver.callback()
  const faults: Array<{ fault: S3Fault; remaining: number }> = []
  let requests = 0
  const handle = (request: http.IncomingMessage, response: http.ServerResponse) => {
    requests++
    const rule = faults.find((candidate) => candidate.remaining > 0)
    if (rule !== undefined) {
      rule.remaining--
      request.resume()
      response
        .writeHead(rule.fault.status, { "content-type": "application/xml" })
        .end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${rule.fault.code}</Code><Message>injected</Message></Error>`)
      return
    }
    const authorization = request.headers.authorization
    if (authorization !== undefined) request.headers.authorization = authorization.replace(/Credential=[^/]+\//, "Credential=S3RVER/")
    forward(request, response)
  }
  const listen = (server: http.Server, port: number) =>
    new Promise<number>((resolve) =>
      server.listen(port, "127.0.0.1", () => {
        const address: AddressInfo | string | null = server.address()
        resolve(typeof address === "object" && address !== null ? address.port : port)
      })
    )
  const close = (server: http.Server) =>
    new Promise<void>((resolve) => {
      if (!server.listening) return resolve()
      server.close(() => resolve())
      server.closeAllConnections()
    })
  // While "down", every connection is dropped as it arrives: the port stays ours, so no other
  // process on the machine can take it during the outage.
  let down = false
  const server = http.createServer(handle)
  server.on("connection", (socket) => {
    if (down) socket.destroy()
  })
  const port = await listen(server, 0)
  return {
    endpoint: `http://127.0.0.1:${port}`,
    directory,
    requests: () => requests,
    /** The next `times` requests answer `fault`. */
    inject: (fault: S3Fault, times: number) => void faults.push({ fault, remaining: times }),
    clearFaults: () => void faults.splice(0, faults.length),
    stop: (): Promise<void> => {
      down = true
      server.closeAllConnections()
      return Promise.resolve()
    },
    start: (): Promise<void> => {
      down = false
      return Promise.resolve()
    },
    close: () => close(server)
  }
}
export type S3 = Awaited<ReturnType<typeof startS3>>

/**
 * Registers a test file's hooks: the org served through MSW and s3rver started before the
 * tests, the org reset and s3rver cleared of faults (and up again) after each, all closed at
 * the end. `s3()` is the running s3rver.
 */
export const reliabilitySuite = () => {
  const env = emulatedOrg()
  let running: S3 | undefined
  beforeAll(async () => {
    env.server.listen({ onUnhandledRequest: "bypass" })
    running = await startS3()
  })
  afterEach(async () => {
    env.org.reset()
    running?.clearFaults()
    await running?.start()
  })
  afterAll(async () => {
    env.server.close()
    await env.closeHttp()
    await running?.close()
  })
  const s3 = (): S3 => {
    if (running === undefined) throw new Error("s3rver is not running: call s3() inside a test")
    return running
  }
  return { ...env, s3 }
}

let bucketPaths = 0
/** The connector's S3 storage config, under a fresh prefix. */
export const s3Storage = (s3: S3, format: "JSONL" | "CSV" = "JSONL") => ({
  storage_type: "S3",
  access_key_id: secrets.s3AccessKey,
  secret_access_key: secrets.s3SecretKey,
  s3_bucket_name: bucket,
  s3_bucket_region: "us-east-1",
  s3_endpoint: s3.endpoint,
  bucket_path: `reliability-${process.pid}-${++bucketPaths}`,
  format
})

/** Every rejected record stored under `prefix`. */
export const rejectsIn = (s3: S3, prefix: string): Effect.Effect<Array<RejectedRecord.RejectedRecord>> =>
  RejectReader.read({
    _tag: "S3",
    connection: {
      bucket,
      region: "us-east-1",
      endpoint: s3.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: Redacted.make("S3RVER"), secretAccessKey: Redacted.make("S3RVER") }
    },
    prefix: `${prefix}/`
  }).pipe(Stream.runCollect, Effect.map(Chunk.toArray), Effect.orDie)

export const connectorConfig = (overrides: Record<string, unknown> = {}) => ({
  client_id: clientId,
  client_secret: secrets.clientSecret,
  refresh_token: secrets.refreshToken,
  is_sandbox: false,
  auth_type: "Client",
  login_url: baseUrl,
  ...overrides
})

/** A configured stream whose properties are all nullable strings. */
export const configuredStream = (name: string, mode: string, properties: ReadonlyArray<string>, extra: Record<string, unknown> = {}) => ({
  stream: {
    name,
    json_schema: { type: "object", properties: Object.fromEntries(properties.map((property) => [property, { type: ["null", "string"] }])) },
    supported_sync_modes: ["full_refresh", "incremental"]
  },
  sync_mode: "incremental",
  destination_sync_mode: mode,
  destination_object_name: "Contact",
  sync_id: 9,
  generation_id: 1,
  minimum_generation_id: 0,
  ...extra
})

export const recordLine = (stream: string, data: unknown) =>
  JSON.stringify({ type: "RECORD", record: { stream, data, emitted_at: 1_732_665_600_000 } })

/** A STREAM state whose cursor is the index of the last record before it. */
export const stateLine = (stream: string, cursor: number) =>
  JSON.stringify({ type: "STATE", state: { type: "STREAM", stream: { stream_descriptor: { name: stream }, stream_state: { cursor } } } })

export interface RunOutput {
  readonly code: number
  readonly lines: ReadonlyArray<string>
  readonly messages: ReadonlyArray<Message>
  /** For each STATE line, in order: its cursor and the ids stored in the org when it was written. */
  readonly states: ReadonlyArray<{ readonly cursor: number; readonly storedAt: ReadonlySet<string> }>
}

export interface Message {
  readonly type: string
  readonly state?: { readonly stream?: { readonly stream_state?: { readonly cursor?: number } } }
  readonly trace?: { readonly type: string; readonly error?: { readonly failure_type: string; readonly message: string; readonly stack_trace?: string } }
  readonly log?: { readonly level: string; readonly message: string }
  readonly control?: unknown
}

/**
 * Runs a connector command in-process. `storedIds` is called, synchronously, as each STATE
 * line is written, so a test can see what the org held at the moment of the acknowledgement.
 */
export const runConnector = (
  args: ReadonlyArray<string>,
  stdinLines: ReadonlyArray<string>,
  storedIds: () => ReadonlySet<string> = () => new Set()
) =>
  Effect.gen(function* () {
    const lines: Array<string> = []
    const states: Array<{ cursor: number; storedAt: ReadonlySet<string> }> = []
    const io: Cli.Io = {
      stdin: Stream.make(new TextEncoder().encode(stdinLines.map((line) => `${line}\n`).join(""))),
      stdout: {
        write: (text, callback) => {
          for (const line of text.split("\n")) {
            if (line === "") continue
            lines.push(line)
            if (line.startsWith('{"type":"STATE"')) {
              const message = JSON.parse(line) as Message
              states.push({ cursor: message.state?.stream?.stream_state?.cursor ?? Number.NaN, storedAt: storedIds() })
            }
          }
          callback(null)
          return true
        }
      }
    }
    const code = yield* Cli.main(args, io)
    const messages = lines.map((line) => JSON.parse(line) as Message)
    return { code, lines, messages, states } satisfies RunOutput
  })

/** The TRACE ERROR of a run, if it failed. */
export const traceError = (output: RunOutput) => output.messages.find((message) => message.trace?.type === "ERROR")?.trace?.error

export interface InvariantInput {
  /** Input record ids in input order (record i has cursor i). */
  readonly ids: ReadonlyArray<string>
  /** Id values of the org's records (one entry per stored record, duplicates kept). */
  readonly stored: ReadonlyArray<string>
  readonly rejects: ReadonlyArray<RejectedRecord.RejectedRecord>
  readonly idOf: (reject: RejectedRecord.RejectedRecord) => string | undefined
  readonly output: RunOutput
  /** Several runs may legitimately store a record again (insert, at-least-once). */
  readonly allowDuplicates?: boolean
}

export interface InvariantReport {
  readonly acknowledged: number
  readonly stored: number
  readonly rejected: number
  readonly pending: number
}

/**
 * Every input record is exactly one of: stored in the org, in the rejects, or after the last
 * released checkpoint (the next run resends it). States come out in order, each only once
 * every record before it was stored or rejected — checked against the org as it was when the
 * state was written — and no record is stored twice.
 */
export const checkInvariant = (input: InvariantInput): InvariantReport => {
  const storedCount = new Map<string, number>()
  for (const id of input.stored) storedCount.set(id, (storedCount.get(id) ?? 0) + 1)
  const rejectedCount = new Map<string, number>()
  for (const reject of input.rejects) {
    const id = input.idOf(reject)
    if (id !== undefined) rejectedCount.set(id, (rejectedCount.get(id) ?? 0) + 1)
  }
  const cursors = input.output.states.map((state) => state.cursor)
  for (let index = 1; index < cursors.length; index++) {
    if (!((cursors[index] ?? 0) >= (cursors[index - 1] ?? 0))) throw new Error(`states out of order: ${cursors.join(",")}`)
  }
  const last = cursors.at(-1) ?? -1
  const problems: Array<string> = []
  let stored = 0
  let rejected = 0
  input.ids.forEach((id, index) => {
    const inOrg = storedCount.get(id) ?? 0
    const inRejects = rejectedCount.get(id) ?? 0
    if (inOrg > 1 && input.allowDuplicates !== true) problems.push(`${id} stored ${inOrg} times`)
    if (inOrg > 0 && inRejects > 0) problems.push(`${id} both stored and rejected`)
    if (inRejects > 1) problems.push(`${id} rejected ${inRejects} times`)
    if (inOrg > 0) stored++
    if (inRejects > 0) rejected++
    if (index <= last && inOrg === 0 && inRejects === 0) problems.push(`${id} (record ${index}) acknowledged by state ${last} but neither stored nor rejected`)
  })
  // No early release: when a state was written, what it covers was already stored, or rejected
  // (rejects are durable before release, so the final rejects include them).
  for (const state of input.output.states) {
    for (let index = 0; index <= state.cursor && index < input.ids.length; index++) {
      const id = input.ids[index] ?? ""
      if (!state.storedAt.has(id) && (rejectedCount.get(id) ?? 0) === 0) {
        problems.push(`state ${state.cursor} was released before record ${index} (${id}) was stored or rejected`)
        break
      }
    }
  }
  if (problems.length > 0) throw new Error(`invariant broken:\n${problems.slice(0, 20).join("\n")}`)
  return { acknowledged: last + 1, stored, rejected, pending: input.ids.length - Math.max(0, last + 1) }
}

/** Every string a run wrote anywhere, for the secret scan. */
export const scanForSecrets = (texts: ReadonlyArray<string>, values: ReadonlyArray<string>): Array<string> => {
  const found: Array<string> = []
  for (const value of values) {
    if (value.length < 6) continue
    for (const text of texts) {
      if (text.includes(value)) {
        found.push(`${value.slice(0, 6)}… in ${text.slice(Math.max(0, text.indexOf(value) - 80), text.indexOf(value))}`)
        break
      }
    }
  }
  return found
}

/** The raw bytes s3rver stored (every reject object), as text. */
export const storedObjectsText = (s3: S3): Array<string> => {
  const texts: Array<string> = []
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name)
      if (entry.isDirectory()) walk(full)
      else texts.push(fs.readFileSync(full).toString("utf8"))
    }
  }
  walk(s3.directory)
  return texts
}
