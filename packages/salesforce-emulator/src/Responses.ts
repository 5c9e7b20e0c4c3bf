/**
 * Salesforce-shaped HTTP responses: JSON bodies, API error arrays, OAuth error objects, and the
 * stand-in for a dropped connection.
 */

/** A JSON response. */
export const json = (body: unknown, status = 200, headers: Record<string, string> = {}): Response =>
  new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json;charset=UTF-8", ...headers }
  })

/** An API error: `[{"errorCode","message"}]`. */
export const apiError = (status: number, errorCode: string, message: string): Response =>
  json([{ errorCode, message }], status)

/** An OAuth token error: `{"error","error_description"}` (400 unless told). */
export const oauthError = (error: string, description: string, status = 400): Response =>
  json({ error, error_description: description }, status)

export const notFound = (): Response => apiError(404, "NOT_FOUND", "The requested resource does not exist")

/** Default error code and message of an injected HTTP error, by status. */
export const injected = (status: number, errorCode?: string, message?: string): Response => {
  const code =
    errorCode ??
    (status === 503 ? "SERVER_UNAVAILABLE" : status === 401 ? "INVALID_SESSION_ID" : status === 403 ? "REQUEST_LIMIT_EXCEEDED" : status >= 500 ? "UNKNOWN_EXCEPTION" : "INVALID_REQUEST")
  const text =
    message ??
    (status === 503
      ? "Server temporarily unavailable"
      : status === 401
        ? "Session expired or invalid"
        : status === 403
          ? "TotalRequests Limit exceeded."
          : status >= 500
            ? "An unexpected error occurred. Please include this ErrorId if you contact support: 0000000000-00000 (-1)"
            : "The request was rejected")
  return apiError(status, code, text)
}

/** Marks a response whose connection must be cut: before any byte, or after `afterBytes` of the body. */
export interface Drop {
  readonly afterBytes: number | undefined
}

const drops = new WeakMap<Response, Drop>()

/** A response that stands for a dropped connection (`Response.error()` when nothing may be sent). */
export const dropped = (response: Response | undefined, afterBytes: number | undefined): Response => {
  if (response === undefined || afterBytes === undefined || response.body === null) {
    const failure = Response.error()
    drops.set(failure, { afterBytes: undefined })
    return failure
  }
  const source: ReadableStreamDefaultReader<Uint8Array> = response.body.getReader()
  let sent = 0
  let cut = false
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (cut) {
        controller.error(new Error("connection dropped by fault injection"))
        await source.cancel()
        return
      }
      const chunk = await source.read()
      if (chunk.done) {
        controller.close()
        return
      }
      const room = afterBytes - sent
      if (chunk.value.byteLength >= room) {
        sent = afterBytes
        cut = true
        if (room > 0) controller.enqueue(chunk.value.subarray(0, room))
        else {
          controller.error(new Error("connection dropped by fault injection"))
          await source.cancel()
        }
        return
      }
      sent += chunk.value.byteLength
      controller.enqueue(chunk.value)
    }
  })
  const headers = new Headers(response.headers)
  headers.delete("Content-Length")
  const truncated = new Response(body, { status: response.status, headers })
  drops.set(truncated, { afterBytes })
  return truncated
}

/** How a response must be cut, if it stands for a dropped connection. */
export const dropOf = (response: Response): Drop | undefined => drops.get(response)
