/**
 * Metering: what a run cost. Every call is counted by kind, and the `Sforce-Limit-Info`
 * header (`api-usage=10018/100000`) is read into the org's API usage.
 */
import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import * as Ref from "effect/Ref"
import type { CallKind } from "./BulkApiError.js"

export interface ApiUsage {
  readonly calls: Readonly<Partial<Record<CallKind, number>>>
  readonly totalCalls: number
  /** The org's API requests used / allowed in the rolling 24 hours, from the last response that said. */
  readonly orgApiRequests: { readonly used: number; readonly max: number } | undefined
}

export const empty: ApiUsage = { calls: {}, totalCalls: 0, orgApiRequests: undefined }

/** `api-usage=10018/100000` → used / max. */
export const parseLimitInfo = (header: string | undefined): { used: number; max: number } | undefined => {
  if (header === undefined) return undefined
  const match = /api-usage=(\d+)\/(\d+)/.exec(header)
  if (match === null) return undefined
  return { used: Number(match[1]), max: Number(match[2]) }
}

export const callsMetric = Metric.counter("salesforce_api_calls", { description: "Salesforce API calls made", incremental: true })
export const apiUsedMetric = Metric.gauge("salesforce_org_api_requests_used", {
  description: "API requests the org used in the rolling 24 hours"
})
export const apiMaxMetric = Metric.gauge("salesforce_org_api_requests_max", {
  description: "API requests the org may make in the rolling 24 hours"
})

/** Records one call and what its response said about the org's usage. */
export const record = (usage: Ref.Ref<ApiUsage>, kind: CallKind, limitInfo: string | undefined): Effect.Effect<void> => {
  const orgApiRequests = parseLimitInfo(limitInfo)
  return Effect.zipRight(
    Ref.update(usage, (current) => ({
      calls: { ...current.calls, [kind]: (current.calls[kind] ?? 0) + 1 },
      totalCalls: current.totalCalls + 1,
      orgApiRequests: orgApiRequests ?? current.orgApiRequests
    })),
    Effect.all(
      [
        Metric.increment(Metric.tagged(callsMetric, "kind", kind)),
        ...(orgApiRequests === undefined
          ? []
          : [Metric.set(apiUsedMetric, orgApiRequests.used), Metric.set(apiMaxMetric, orgApiRequests.max)])
      ],
      { discard: true }
    )
  )
}
