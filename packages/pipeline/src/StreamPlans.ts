/**
 * Building a stream's plan from the org: the object's describe, and the describes of the
 * parents its relationship columns point at, decoded into the batcher's field metadata.
 */
import { type CsvEncoder, FieldMetadata } from "@sfdc-activation/batcher"
import { BulkApiError, BulkClient } from "@sfdc-activation/bulk-client"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import type { StreamPlan } from "./Pipeline.js"
import { PipelineError } from "./PipelineError.js"

/** What a caller decides; the metadata comes from describe. */
export type PlanRequest = Omit<StreamPlan, "object" | "parents"> & { readonly object: string }

const describeError = (object: string) => (cause: { readonly message: string }) =>
  cause instanceof BulkApiError.BulkApiError && cause.reason === "NotFound"
    ? new PipelineError({ reason: "InvalidMapping", detail: `the org has no object ${object} (or this user cannot see it)`, cause })
    : new PipelineError({ reason: "SalesforceFailed", detail: `describe of ${object} failed: ${cause.message}`, cause })

/** Describes `name` into the batcher's metadata. */
export const describeObject = (name: string) =>
  Effect.gen(function* () {
    const bulk = yield* BulkClient.BulkClient
    const describe = yield* Effect.mapError(bulk.describeSObject(name), describeError(name))
    return yield* Either.mapLeft(
      FieldMetadata.decodeObjectMetadata(describe),
      (cause) => new PipelineError({ reason: "SalesforceFailed", detail: `describe of ${name} could not be read: ${cause.message}`, cause })
    )
  })

/**
 * The parent object a relationship column points at: `Account.External_Id__c` through the
 * field whose relationshipName is `Account`; `Owner:User.Email` names its object (`User`).
 * Names match in any case, as in Salesforce's CSV header.
 */
export const parentOf = (object: FieldMetadata.ObjectMetadata, column: string): Option.Option<string> => {
  const dot = column.indexOf(".")
  if (dot === -1) return Option.none()
  const relation = column.slice(0, dot)
  const named = (name: string) => (field: FieldMetadata.FieldMetadata) => Option.getOrUndefined(field.relationshipName)?.toLowerCase() === name.toLowerCase()
  const colon = relation.indexOf(":")
  if (colon !== -1) {
    const [first = "", second = ""] = [relation.slice(0, colon), relation.slice(colon + 1)]
    return Option.some(object.fields.some(named(first)) ? second : first)
  }
  return Option.fromNullable(object.fields.find(named(relation))?.referenceTo[0])
}

/** The plan for one stream: the object and every parent its columns reach, described. */
export const plan = (request: PlanRequest) =>
  Effect.gen(function* () {
    const object = yield* describeObject(request.object)
    const parentNames = new Set(request.columns.flatMap((column: CsvEncoder.Column) => Option.toArray(parentOf(object, column.column))))
    const parents: Record<string, FieldMetadata.ObjectMetadata> = {}
    for (const name of parentNames) parents[name] = yield* describeObject(name)
    const plan: StreamPlan = { ...request, object, parents }
    return plan
  })
