/**
 * `discover`: what this destination can do with each sObject, as Airbyte DestinationOperations
 * built from describe.
 */
import type { AirbyteMessage } from "@sfdc-activation/airbyte-protocol"
import type { AuthError } from "@sfdc-activation/auth"
import { type BulkApiError, BulkClient, type OrgMetadata } from "@sfdc-activation/bulk-client"
import * as Effect from "effect/Effect"

/** Describe calls in flight at once: a real org has hundreds of objects. */
export const describeConcurrency = 8

/** Compound and opaque field types the Bulk API cannot load. */
const unloadableTypes: ReadonlySet<string> = new Set(["address", "location", "complexvalue", "anyType", "base64"])

type JsonSchema = Readonly<Record<string, unknown>>

const baseSchema = (field: OrgMetadata.FieldDescribe): JsonSchema => {
  switch (field.type) {
    case "int":
      return { type: "integer" }
    case "double":
    case "currency":
    case "percent":
    case "long":
      return { type: "number" }
    case "boolean":
      return { type: "boolean" }
    case "date":
      return { type: "string", format: "date" }
    case "datetime":
      return { type: "string", format: "date-time", airbyte_type: "timestamp_with_timezone" }
    default:
      return { type: "string" }
  }
}

/** The JSON schema of one field; nillable fields also take null. */
export const fieldSchema = (field: OrgMetadata.FieldDescribe): JsonSchema => {
  const schema = baseSchema(field)
  const typed = field.nillable ? { ...schema, type: ["null", schema["type"]] } : schema
  return field.label === undefined ? typed : { ...typed, title: field.label }
}

/** Required on insert: createable, not nillable, and no default on create. */
export const isRequiredOnInsert = (field: OrgMetadata.FieldDescribe): boolean =>
  field.createable && !field.nillable && !field.defaultedOnCreate

const objectSchema = (fields: ReadonlyArray<OrgMetadata.FieldDescribe>, required: ReadonlyArray<string> = []): JsonSchema => ({
  type: "object",
  additionalProperties: false,
  ...(required.length === 0 ? {} : { required }),
  properties: Object.fromEntries(fields.map((field) => [field.name, fieldSchema(field)]))
})

/** The operations one sObject supports, by the rules of the Airbyte destination catalog. */
export const operationsOf = (describe: OrgMetadata.SObjectDescribe): Array<AirbyteMessage.DestinationOperation> => {
  const loadable = describe.fields.filter((field) => !unloadableTypes.has(field.type))
  const createable = loadable.filter((field) => field.createable)
  const updateable = loadable.filter((field) => field.updateable)
  const idField = loadable.find((field) => field.name === "Id")
  const externalIds = loadable.filter((field) => field.externalId)
  const operations: Array<AirbyteMessage.DestinationOperation> = []
  if (describe.createable && createable.length > 0) {
    operations.push({
      object_name: describe.name,
      sync_mode: "append",
      json_schema: objectSchema(createable, createable.filter(isRequiredOnInsert).map((field) => field.name)),
      matching_keys: []
    })
  }
  if (describe.updateable && updateable.length > 0 && idField !== undefined) {
    operations.push({
      object_name: describe.name,
      sync_mode: "update",
      json_schema: objectSchema([idField, ...updateable], ["Id"]),
      matching_keys: [["Id"]]
    })
  }
  if (describe.createable && describe.updateable && externalIds.length > 0) {
    const upsertable = loadable.filter((field) => field.createable || field.updateable)
    // a key the upsert cannot write (an auto-number) is not offered: the schema could not hold it
    const keys = externalIds.filter((field) => upsertable.includes(field))
    if (keys.length > 0) {
      operations.push({
        object_name: describe.name,
        sync_mode: "append_dedup",
        json_schema: objectSchema(upsertable),
        matching_keys: keys.map((field) => [field.name])
      })
    }
  }
  if (describe.deletable && idField !== undefined) {
    operations.push({
      object_name: describe.name,
      sync_mode: "soft_delete",
      json_schema: objectSchema([idField], ["Id"]),
      matching_keys: [["Id"]]
    })
  }
  return operations
}

/**
 * Describe failures that are the object's own (no such object for this user, access refused, an
 * answer that does not decode): the object is left out. Transient ones were retried by the client,
 * and a spent daily API limit or a failed login would fail every object: those fail discover.
 */
const objectReasons: ReadonlySet<BulkApiError.BulkApiErrorReason> = new Set([
  "NotFound",
  "Forbidden",
  "InvalidRequest",
  "FeatureNotEnabled",
  "UnexpectedResponse"
])

/** One object's describe, or `undefined` (with a WARN) when that object cannot be described. */
const describeOrSkip = (bulk: BulkClient.BulkClientService, name: string) =>
  bulk.describeSObject(name).pipe(
    Effect.catchIf(
      (error): error is BulkApiError.BulkApiError => error._tag === "BulkApiError" && objectReasons.has(error.reason),
      (error) => Effect.as(Effect.logWarning(`${name} is left out of the catalog: ${error.message}`), undefined)
    )
  )

/** Describes every loadable sObject of the org (bounded concurrency) into its operations. */
export const discover: Effect.Effect<
  Array<AirbyteMessage.DestinationOperation>,
  BulkApiError.BulkApiError | AuthError.AuthError,
  BulkClient.BulkClient
> = Effect.gen(function* () {
  const bulk = yield* BulkClient.BulkClient
  const global = yield* bulk.describeGlobal
  const candidates = global.sobjects.filter((object) => object.createable || object.updateable || object.deletable)
  const described = yield* Effect.forEach(candidates, (object) => describeOrSkip(bulk, object.name), {
    concurrency: describeConcurrency
  })
  return described.flatMap((describe) => (describe === undefined ? [] : operationsOf(describe)))
})
