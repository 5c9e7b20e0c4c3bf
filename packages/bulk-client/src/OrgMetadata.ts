/**
 * Describe and limits: what the org holds and what it may still spend.
 */
import * as Schema from "effect/Schema"

const flag = Schema.optionalWith(Schema.Boolean, { default: () => false })

export const PicklistValue = Schema.Struct({
  value: Schema.String,
  label: Schema.optional(Schema.NullOr(Schema.String)),
  active: flag,
  defaultValue: flag
})

export const FieldDescribe = Schema.Struct({
  name: Schema.String,
  label: Schema.optional(Schema.String),
  type: Schema.String,
  soapType: Schema.optional(Schema.String),
  length: Schema.optionalWith(Schema.Number, { default: () => 0 }),
  precision: Schema.optionalWith(Schema.Number, { default: () => 0 }),
  scale: Schema.optionalWith(Schema.Number, { default: () => 0 }),
  nillable: flag,
  createable: flag,
  updateable: flag,
  defaultedOnCreate: flag,
  externalId: flag,
  idLookup: flag,
  unique: flag,
  calculated: flag,
  autoNumber: flag,
  picklistValues: Schema.optionalWith(Schema.Array(PicklistValue), { default: () => [] }),
  restrictedPicklist: flag,
  referenceTo: Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] }),
  relationshipName: Schema.optional(Schema.NullOr(Schema.String))
})
export type FieldDescribe = typeof FieldDescribe.Type

export const SObjectDescribe = Schema.Struct({
  name: Schema.String,
  label: Schema.optional(Schema.String),
  custom: flag,
  createable: flag,
  updateable: flag,
  deletable: flag,
  queryable: flag,
  keyPrefix: Schema.optional(Schema.NullOr(Schema.String)),
  fields: Schema.Array(FieldDescribe)
})
export type SObjectDescribe = typeof SObjectDescribe.Type

export const SObjectSummary = Schema.Struct({
  name: Schema.String,
  label: Schema.optional(Schema.String),
  custom: flag,
  createable: flag,
  updateable: flag,
  deletable: flag,
  queryable: flag
})
export type SObjectSummary = typeof SObjectSummary.Type

export const GlobalDescribe = Schema.Struct({
  encoding: Schema.optional(Schema.String),
  maxBatchSize: Schema.optional(Schema.Number),
  sobjects: Schema.Array(SObjectSummary)
})
export type GlobalDescribe = typeof GlobalDescribe.Type

export const Limit = Schema.Struct({ Max: Schema.Number, Remaining: Schema.Number })
export type Limit = typeof Limit.Type

/** `/limits`: every limit the org reports, by name (`DailyApiRequests`, `DailyBulkApiBatches`…). */
export const Limits = Schema.Record({
  key: Schema.String,
  value: Schema.Struct({ Max: Schema.Number, Remaining: Schema.Number }, { key: Schema.String, value: Schema.Unknown })
})
export type Limits = typeof Limits.Type
