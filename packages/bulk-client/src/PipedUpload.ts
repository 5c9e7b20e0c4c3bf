/**
 * Upload bodies piped from a Node stream (a batch file) through `node:http(s)`.
 *
 * An upload is up to 100 MiB. Sent through `fetch`, every chunk of a streamed body stays alive
 * until the request ends (≈ the whole body in buffers, per upload in flight), and each chunk
 * passes through fibers that compete with the encoder for the event loop. A pipe from the file
 * to the socket holds a few chunks at a time and needs no scheduling of ours. The body is opened
 * anew each time the request is sent, so a request replayed after a token refresh sends it whole.
 */
import * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Effect from "effect/Effect"
import http from "node:http"
import https from "node:https"
import type { Readable } from "node:stream"

/** A request body read from a Node stream, opened for each sending of the request. */
export class NodeStreamBody {
  constructor(readonly open: Effect.Effect<Readable, unknown>) {}
}

/** The body of a request: the stream, of `contentLength` bytes. */
export const httpBody = (body: NodeStreamBody, options: { readonly contentType: string; readonly contentLength: number }): HttpBody.HttpBody =>
  HttpBody.raw(body, options)

const streamedBodyOf = (request: HttpClientRequest.HttpClientRequest): NodeStreamBody | undefined =>
  request.body._tag === "Raw" && request.body.body instanceof NodeStreamBody ? request.body.body : undefined

/** Statuses whose answer has no body (a web `Response` refuses one). */
const bodiless = new Set([101, 204, 205, 304])

const send = (request: HttpClientRequest.HttpClientRequest, url: URL, signal: AbortSignal, body: NodeStreamBody) =>
  Effect.flatMap(
    Effect.mapError(body.open, (cause) => new HttpClientError.RequestError({ request, reason: "Encode", cause })),
    (readable) =>
      Effect.async<HttpClientResponse.HttpClientResponse, HttpClientError.RequestError>((resume) => {
        const transport = url.protocol === "https:" ? https : http
        let settled = false
        const settle = (outcome: Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.RequestError>) => {
          if (settled) return
          settled = true
          resume(outcome)
        }
        const failed = (cause: unknown) => {
          readable.destroy()
          settle(Effect.fail(new HttpClientError.RequestError({ request, reason: "Transport", cause })))
        }
        const outgoing = transport.request(url, { method: request.method, headers: request.headers, signal }, (incoming) => {
          const chunks: Array<Buffer> = []
          incoming.on("data", (chunk: Buffer) => chunks.push(chunk))
          incoming.on("error", failed)
          incoming.on("end", () => {
            const status = incoming.statusCode ?? 0
            const headers = new Headers()
            for (const [name, value] of Object.entries(incoming.headers)) {
              if (typeof value === "string") headers.set(name, value)
              else if (Array.isArray(value)) for (const item of value) headers.append(name, item)
            }
            const answer = bodiless.has(status) ? null : Buffer.concat(chunks)
            settle(Effect.succeed(HttpClientResponse.fromWeb(request, new Response(answer, { status, headers }))))
          })
        })
        outgoing.on("error", failed)
        readable.on("error", (cause) => outgoing.destroy(cause))
        readable.pipe(outgoing)
        return Effect.sync(() => {
          readable.destroy()
          outgoing.destroy()
        })
      })
  )

/** Sends requests whose body is a `NodeStreamBody`; any other body is refused. */
export const client: HttpClient.HttpClient = HttpClient.make((request, url, signal) => {
  const body = streamedBodyOf(request)
  return body === undefined
    ? Effect.fail(new HttpClientError.RequestError({ request, reason: "Encode", description: "only a NodeStreamBody can be piped" }))
    : send(request, url, signal, body)
})
