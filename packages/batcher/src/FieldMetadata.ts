/**
 * The subset of a Salesforce describe (`GET /sobjects/{Name}/describe/`) that CSV encoding and
 * local validation need. Callers decode describe output with these schemas; the batcher never
 * depends on the Salesforce client. Unknown describe keys are ignored; keys a test fixture may
 * leave out get describe's usual defaults.
 */
import * as Schema from "effect/Schema"

/** Every field `type` describe reports. */
export const FieldType = Schema.Literal(
  "id",
  "string",
  "textarea",
  "email",
  "phone",
  "url",
  "picklist",
  "multipicklist",
  "combobox",
  "reference",
  "boolean",
  "int",
  "long",
  "double",
  "currency",
  "percent",
  "date",
  "datetime",
  "time",
  "base64",
  "encryptedstring",
  "address",
  "location",
  "anyType",
  "complexvalue",
  "json"
)
export type FieldType = typeof FieldType.Type

/** One entry of `picklistValues`. */
export const PicklistValue = Schema.Struct({
  value: Schema.String,
  active: Schema.optionalWith(Schema.Boolean, { default: () => true })
})
export type PicklistValue = typeof PicklistValue.Type

const flag = (byDefault: boolean) => Schema.optionalWith(Schema.Boolean, { default: () => byDefault })
const count = Schema.optionalWith(Schema.Number, { default: () => 0, nullable: true })

/** One element of describe's `fields[]`. */
export const FieldMetadata = Schema.Struct({
  name: Schema.String,
  type: FieldType,
  /** Maximum length in characters for text fields; 0 when not applicable. */
  length: count,
  precision: count,
  scale: count,
  nillable: flag(true),
  createable: flag(true),
  updateable: flag(true),
  defaultedOnCreate: flag(false),
  externalId: flag(false),
  idLookup: flag(false),
  unique: flag(false),
  calculated: flag(false),
  picklistValues: Schema.optionalWith(Schema.Array(PicklistValue), { default: () => [], nullable: true }),
  restrictedPicklist: flag(false),
  referenceTo: Schema.optionalWith(Schema.Array(Schema.String), { default: () => [], nullable: true }),
  relationshipName: Schema.optionalWith(Schema.String, { as: "Option", nullable: true })
})
export type FieldMetadata = typeof FieldMetadata.Type

/** An sObject's name and fields, as describe returns them. */
export const ObjectMetadata = Schema.Struct({
  name: Schema.String,
  fields: Schema.Array(FieldMetadata)
})
export type ObjectMetadata = typeof ObjectMetadata.Type

/** Decodes describe output (or a hand-written fixture) into `ObjectMetadata`. */
export const decodeObjectMetadata = Schema.decodeUnknownEither(ObjectMetadata)

/** Salesforce's usual reading of "required on insert". */
export const isRequiredOnInsert = (field: FieldMetadata): boolean =>
  field.createable && !field.nillable && !field.defaultedOnCreate
