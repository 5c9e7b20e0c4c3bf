// A real S3-protocol server (s3rver) on loopback, behind a small front server that adds what a
// test needs: AbortMultipartUpload (s3rver lacks it), fault injection (errors, delays), request
// counting, and stop / start to play an outage (the port stays held: connections are dropped).
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as fs from "node:fs"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import S3rver from "s3rver"
import type { S3Store } from "../src/index.js"

export const bucket = "rejects"

export interface SeenRequest {
  readonly method: string
  readonly url: string
  /** The request's If-None-Match header, if any. */
  readonly ifNoneMatch?: string | undefined
}

/** Decides how to answer one request: forward it, delay it, or fail it. */
export type Fault =
  | { readonly _tag: "Status"; readonly status: number; readonly code: string }
  | { readonly _tag: "Delay"; readonly millis: number }

export interface Harness {
  readonly port: number
  readonly directory: string
  readonly requests: Array<SeenRequest>
  /** Faults applied to the next matching requests, first match wins, each used `times` times. */
  readonly inject: (fault: Fault, times: number, matches?: (request: SeenRequest) => boolean) => void
  readonly stop: Effect.Effect<void>
  readonly start: Effect.Effect<void>
  /** Multipart uploads started and neither completed nor aborted. */
  readonly openUploads: () => ReadonlyArray<string>
  readonly connection: (overrides?: Partial<S3Store.S3Connection>) => S3Store.S3Connection
}

const errorBody = (code: string) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>injected</Message></Error>`

const listen = (server: http.Server, port: number) =>
  Effect.async<number>((resume) => {
    server.listen(port, "127.0.0.1", () => {
      const address: AddressInfo | string | null = server.address()
      resume(Effect.succeed(typeof address === "object" && address !== null ? address.port : port))
    })
  })

const close = (server: http.Server) =>
  Effect.async<void>((resume) => {
    if (!server.listening) return resume(Effect.void)
    server.close(() => resume(Effect.void))
    server.closeAllConnections()
  })

export const make = Effect.gen(function* () {
  const directory = yield* Effect.acquireRelease(
    Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "rejects-s3rver-"))),
    (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
  )
  const s3rver = new S3rver({ directory, silent: true, configureBuckets: [{ name: bucket }] })
  yield* Effect.promise(() => s3rver.configureBuckets())
  const forward = s3rver.callback()
  const uploadsDirectory = path.join(directory, bucket, "._S3rver_uploads")
  const requests: Array<SeenRequest> = []
  const faults: Array<{ fault: Fault; remaining: number; matches: (request: SeenRequest) => boolean }> = []

  const handle = (request: http.IncomingMessage, response: http.ServerResponse) => {
    const seen = { method: request.method ?? "GET", url: request.url ?? "/", ifNoneMatch: request.headers["if-none-match"] }
    requests.push(seen)
    const rule = faults.find((candidate) => candidate.remaining > 0 && candidate.matches(seen))
    if (rule !== undefined) rule.remaining -= 1
    const url = new URL(seen.url, "http://localhost")
    const answer = () => {
      const uploadId = url.searchParams.get("uploadId")
      if (seen.method === "DELETE" && uploadId !== null) {
        fs.rmSync(path.join(uploadsDirectory, path.basename(uploadId)), { recursive: true, force: true })
        request.resume()
        response.writeHead(204).end()
        return
      }
      forward(request, response)
    }
    if (rule === undefined) return answer()
    switch (rule.fault._tag) {
      case "Status": {
        request.resume()
        response.writeHead(rule.fault.status, { "content-type": "application/xml" }).end(errorBody(rule.fault.code))
        return
      }
      case "Delay": {
        // A client that gave up meanwhile is not answered: S3 stores nothing for a PUT whose
        // connection broke, while s3rver would store the truncated body over a later good one.
        let abandoned = false
        response.once("close", () => {
          abandoned = true
        })
        setTimeout(() => {
          if (!abandoned) answer()
        }, rule.fault.millis)
        return
      }
    }
  }

  // While "down", every connection is dropped as it arrives: the port stays ours, so no other
  // process on the machine can take it during the outage.
  let down = false
  const server = http.createServer(handle)
  server.on("connection", (socket) => {
    if (down) socket.destroy()
  })
  const port = yield* listen(server, 0)
  yield* Effect.addFinalizer(() => close(server))

  return {
    port,
    directory,
    requests,
    inject: (fault, times, matches = () => true) => {
      faults.push({ fault, remaining: times, matches })
    },
    stop: Effect.sync(() => {
      down = true
      server.closeAllConnections()
    }),
    start: Effect.sync(() => {
      down = false
    }),
    openUploads: () => (fs.existsSync(uploadsDirectory) ? fs.readdirSync(uploadsDirectory) : []),
    connection: (overrides = {}) => ({
      bucket,
      region: "us-east-1",
      endpoint: `http://127.0.0.1:${port}`,
      forcePathStyle: true,
      credentials: { accessKeyId: Redacted.make("S3RVER"), secretAccessKey: Redacted.make("S3RVER") },
      // Generous: a 5 MiB part through s3rver can take seconds on a loaded CI machine, and a
      // timed-out attempt would add a request to the counts some tests check.
      requestTimeoutMillis: 20_000,
      retry: { baseDelayMillis: 5, maxRetries: 3 },
      ...overrides
    })
  } satisfies Harness
})
