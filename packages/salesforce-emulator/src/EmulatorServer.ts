/**
 * The loopback HTTP face: a `node:http` server handing every request to `org.handle`. One URL
 * serves the login host and the instance. Dropped-connection faults destroy the socket (mid-body
 * for `afterBytes`).
 */
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type { Org } from "./Org.js"
import * as Responses from "./Responses.js"

/** Options of `start` and `scoped`. */
export interface Options {
  /** Port to listen on; 0 (default) picks a free one. */
  readonly port?: number
  readonly host?: string
}

/** A running server. */
export interface Running {
  readonly url: string
  readonly close: () => Promise<void>
}

/** Bodies declaring at most this many bytes (Salesforce's own upload limit) are copied into one buffer as they arrive. */
const preallocatedBodyLimit = 150 * 1024 * 1024

/**
 * The request body. A declared `Content-Length` gets one buffer, filled as the chunks arrive: a
 * 100 MB upload is copied while it streams in, and its chunks are not all held until the end.
 */
const readBody = (request: http.IncomingMessage): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const declared = Number(request.headers["content-length"] ?? Number.NaN)
    const whole = Number.isSafeInteger(declared) && declared > 0 && declared <= preallocatedBodyLimit ? Buffer.allocUnsafe(declared) : undefined
    let filled = 0
    // bytes past the declared length (a lenient parser) follow in order: once one overflows, all do
    const chunks: Array<Buffer> = []
    request.on("data", (chunk: Buffer) => {
      if (whole !== undefined && chunks.length === 0 && filled + chunk.length <= whole.length) filled += chunk.copy(whole, filled)
      else chunks.push(chunk)
    })
    request.on("end", () => {
      if (whole === undefined) resolve(Buffer.concat(chunks))
      else resolve(chunks.length === 0 ? whole.subarray(0, filled) : Buffer.concat([whole.subarray(0, filled), ...chunks]))
    })
    request.on("error", reject)
  })

/** The request line and headers as a Fetch `Request`; the body, read already, goes to `org.handle` beside it. */
const toFetchRequest = (request: http.IncomingMessage, origin: string): Request => {
  const headers = new Headers()
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue
    headers.set(name, Array.isArray(value) ? value.join(", ") : value)
  }
  return new Request(new URL(request.url ?? "/", origin), { method: request.method ?? "GET", headers })
}

const writeChunk = (response: http.ServerResponse, chunk: Uint8Array): Promise<void> =>
  new Promise((resolve) => {
    response.write(chunk, () => resolve())
  })

const send = async (org: Org, origin: string, request: http.IncomingMessage, response: http.ServerResponse): Promise<void> => {
  const body = await readBody(request)
  const answer = await org.handle(toFetchRequest(request, origin), { body })
  const drop = Responses.dropOf(answer)
  if (answer.type === "error" || (drop !== undefined && drop.afterBytes === undefined)) {
    request.socket.destroy()
    return
  }
  const headers: Record<string, string> = {}
  answer.headers.forEach((value, name) => {
    headers[name] = value
  })
  response.writeHead(answer.status, headers)
  if (answer.body === null) {
    response.end()
    return
  }
  const reader: ReadableStreamDefaultReader<Uint8Array> = answer.body.getReader()
  for (;;) {
    const chunk = await reader.read().then(
      (result) => result,
      () => undefined
    )
    if (chunk === undefined) {
      response.destroy()
      request.socket.destroy()
      return
    }
    if (chunk.done) break
    await writeChunk(response, chunk.value)
  }
  response.end()
}

/** Starts serving `org` on loopback; `url` is `http://127.0.0.1:PORT`. */
export const start = (org: Org, options: Options = {}): Promise<Running> =>
  new Promise((resolve, reject) => {
    const host = options.host ?? "127.0.0.1"
    let origin = ""
    const server = http.createServer((request, response) => {
      send(org, origin, request, response).catch(() => {
        request.socket.destroy()
      })
    })
    server.on("error", reject)
    server.listen(options.port ?? 0, host, () => {
      const address: AddressInfo | string | null = server.address()
      const actualPort = typeof address === "object" && address !== null ? address.port : (options.port ?? 0)
      origin = `http://${host.includes(":") ? `[${host}]` : host}:${actualPort}`
      resolve({
        url: origin,
        close: () =>
          new Promise((done) => {
            org.shutdown()
            server.close(() => done())
            server.closeAllConnections()
          })
      })
    })
  })

/** The server as a scoped resource: started on acquire, closed on release. */
export const scoped = (org: Org, options: Options = {}): Effect.Effect<{ readonly url: string }, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.promise(() => start(org, options)),
    (running) => Effect.promise(() => running.close())
  ).pipe(Effect.map((running) => ({ url: running.url })))
