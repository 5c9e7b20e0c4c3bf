/**
 * The MSW face: request handlers that hand every request under the emulator's base URL to
 * `org.handle`, for in-process tests with `setupServer(...handlers(org))`.
 */
import { http, HttpResponse, type HttpHandler } from "msw"
import type { Org } from "./Org.js"
import * as Responses from "./Responses.js"

/** Options of `handlers`. */
export interface HandlersOptions {
  /** More hosts that answer the token endpoint (e.g. `https://login.salesforce.com`); `instance_url` stays `baseUrl`. */
  readonly loginUrls?: ReadonlyArray<string>
}

export const defaultBaseUrl = "https://emulator.my.salesforce.com"

/** MSW v2 handlers serving `org` at `baseUrl` (login host and instance at once). */
export const handlers = (org: Org, baseUrl: string = defaultBaseUrl, options: HandlersOptions = {}): Array<HttpHandler> => {
  const instanceUrl = baseUrl.replace(/\/+$/, "")
  const forward = async ({ request }: { request: Request }): Promise<Response> => {
    const response = await org.handle(request, { instanceUrl })
    const drop = Responses.dropOf(response)
    return drop !== undefined && drop.afterBytes === undefined ? HttpResponse.error() : response
  }
  return [instanceUrl, ...(options.loginUrls ?? []).map((url) => url.replace(/\/+$/, ""))].map((url) => http.all(`${url}/*`, forward))
}
