/**
 * The org's shape, as a JSON fixture: sObjects with describe-level field metadata and seed
 * records, the connected app's credentials and the org's permissions. `decode` checks a fixture
 * and fills every flag Salesforce would report; `defaultFixture` is a recognisable sales org.
 */
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { defaultFixtureData } from "./DefaultFixture.js"

/** Field types of the describe API. */
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

export const PicklistValue = Schema.Struct({
  value: Schema.String,
  label: Schema.optional(Schema.String),
  active: Schema.optional(Schema.Boolean),
  defaultValue: Schema.optional(Schema.Boolean)
})

export const FieldFixture = Schema.Struct({
  name: Schema.String,
  label: Schema.optional(Schema.String),
  type: FieldType,
  length: Schema.optional(Schema.Number),
  precision: Schema.optional(Schema.Number),
  scale: Schema.optional(Schema.Number),
  nillable: Schema.optional(Schema.Boolean),
  createable: Schema.optional(Schema.Boolean),
  updateable: Schema.optional(Schema.Boolean),
  defaultedOnCreate: Schema.optional(Schema.Boolean),
  externalId: Schema.optional(Schema.Boolean),
  idLookup: Schema.optional(Schema.Boolean),
  unique: Schema.optional(Schema.Boolean),
  caseSensitive: Schema.optional(Schema.Boolean),
  picklistValues: Schema.optional(Schema.Array(Schema.Union(Schema.String, PicklistValue))),
  restrictedPicklist: Schema.optional(Schema.Boolean),
  referenceTo: Schema.optional(Schema.Array(Schema.String)),
  relationshipName: Schema.optional(Schema.NullOr(Schema.String)),
  calculated: Schema.optional(Schema.Boolean),
  autoNumber: Schema.optional(Schema.Boolean),
  /** Display format of an autoNumber field, e.g. `PU-{000000}`. */
  displayFormat: Schema.optional(Schema.String),
  /** Value given on insert when the row leaves the field empty. */
  defaultValue: Schema.optional(Schema.Union(Schema.String, Schema.Number, Schema.Boolean))
})
export type FieldFixture = typeof FieldFixture.Type

export const SeedValue = Schema.Union(Schema.String, Schema.Number, Schema.Boolean, Schema.Null)
export type SeedValue = typeof SeedValue.Type

/** A validation rule: a written value that breaks it fails the row with FIELD_CUSTOM_VALIDATION_EXCEPTION. */
export const ValidationRule = Schema.Struct({
  name: Schema.String,
  field: Schema.String,
  /** A regular expression a non-null value must match. */
  mustMatch: Schema.optional(Schema.String),
  minValue: Schema.optional(Schema.Number),
  maxValue: Schema.optional(Schema.Number),
  message: Schema.String
})
export type ValidationRule = typeof ValidationRule.Type

/** A blocking duplicate rule: a row whose `fields` all equal another record's fails with DUPLICATES_DETECTED. */
export const DuplicateRule = Schema.Struct({
  name: Schema.String,
  fields: Schema.NonEmptyArray(Schema.String)
})
export type DuplicateRule = typeof DuplicateRule.Type

export const SObjectFixture = Schema.Struct({
  name: Schema.String,
  label: Schema.optional(Schema.String),
  labelPlural: Schema.optional(Schema.String),
  /** The first three characters of the object's record Ids. */
  keyPrefix: Schema.String.pipe(Schema.pattern(/^[0-9A-Za-z]{3}$/, { message: () => "a key prefix is 3 letters or digits" })),
  custom: Schema.optional(Schema.Boolean),
  createable: Schema.optional(Schema.Boolean),
  updateable: Schema.optional(Schema.Boolean),
  deletable: Schema.optional(Schema.Boolean),
  queryable: Schema.optional(Schema.Boolean),
  fields: Schema.Array(FieldFixture),
  validationRules: Schema.optional(Schema.Array(ValidationRule)),
  duplicateRules: Schema.optional(Schema.Array(DuplicateRule)),
  records: Schema.optional(Schema.Array(Schema.Record({ key: Schema.String, value: SeedValue })))
})
export type SObjectFixture = typeof SObjectFixture.Type

export const Credentials = Schema.Struct({
  clientId: Schema.String,
  clientSecret: Schema.String,
  refreshToken: Schema.String,
  username: Schema.String
})
export type Credentials = typeof Credentials.Type

export const OrgFixture = Schema.Struct({
  organizationId: Schema.optional(Schema.String),
  /** When the org's metadata last changed (ISO 8601); describe answers 304 to later `If-Modified-Since`. */
  lastModified: Schema.optional(Schema.String),
  credentials: Schema.optional(Schema.partial(Credentials)),
  /** PEM public key that JWT bearer assertions must be signed with (RS256); unchecked when absent. */
  jwtPublicKey: Schema.optional(Schema.String),
  permissions: Schema.optional(Schema.Struct({ hardDelete: Schema.optional(Schema.Boolean) })),
  /** HTTP status of `INVALIDJOBSTATE` errors (the contract is unsure: 400 or 409). Default 409. */
  invalidJobStateStatus: Schema.optional(Schema.Literal(400, 409)),
  sobjects: Schema.Array(SObjectFixture)
})
export type OrgFixture = typeof OrgFixture.Type

/** A field with every describe flag settled. */
export interface FieldDescription {
  readonly name: string
  readonly label: string
  readonly type: FieldType
  readonly soapType: string
  readonly length: number
  readonly precision: number
  readonly scale: number
  readonly digits: number
  readonly nillable: boolean
  readonly createable: boolean
  readonly updateable: boolean
  readonly defaultedOnCreate: boolean
  readonly externalId: boolean
  readonly idLookup: boolean
  readonly unique: boolean
  readonly caseSensitive: boolean
  readonly calculated: boolean
  readonly autoNumber: boolean
  readonly displayFormat: string | undefined
  readonly picklistValues: ReadonlyArray<{ value: string; label: string; active: boolean; defaultValue: boolean }>
  readonly restrictedPicklist: boolean
  readonly referenceTo: ReadonlyArray<string>
  readonly relationshipName: string | null
  readonly defaultValue: string | number | boolean | undefined
}

/** An sObject with every describe flag settled; `fields` includes the system fields. */
export interface SObjectDescription {
  readonly name: string
  readonly label: string
  readonly labelPlural: string
  readonly keyPrefix: string
  readonly custom: boolean
  readonly createable: boolean
  readonly updateable: boolean
  readonly deletable: boolean
  readonly queryable: boolean
  readonly fields: ReadonlyArray<FieldDescription>
  readonly fieldsByName: ReadonlyMap<string, FieldDescription>
  readonly validationRules: ReadonlyArray<ValidationRule>
  readonly duplicateRules: ReadonlyArray<DuplicateRule>
  readonly records: ReadonlyArray<Readonly<Record<string, SeedValue>>>
}

const soapTypes: Record<FieldType, string> = {
  id: "tns:ID",
  string: "xsd:string",
  textarea: "xsd:string",
  email: "xsd:string",
  phone: "xsd:string",
  url: "xsd:string",
  picklist: "xsd:string",
  multipicklist: "xsd:string",
  combobox: "xsd:string",
  reference: "tns:ID",
  boolean: "xsd:boolean",
  int: "xsd:int",
  long: "xsd:long",
  double: "xsd:double",
  currency: "xsd:double",
  percent: "xsd:double",
  date: "xsd:date",
  datetime: "xsd:dateTime",
  time: "xsd:time",
  base64: "xsd:base64Binary",
  encryptedstring: "xsd:string",
  address: "urn:address",
  location: "urn:location",
  anyType: "xsd:anyType",
  complexvalue: "tns:ComplexValue",
  json: "xsd:string"
}

const defaultLengths: Partial<Record<FieldType, number>> = {
  id: 18,
  reference: 18,
  string: 255,
  textarea: 32768,
  email: 80,
  phone: 40,
  url: 255,
  picklist: 255,
  multipicklist: 4099,
  combobox: 255,
  encryptedstring: 175
}

const defaultPrecision: Partial<Record<FieldType, [number, number]>> = {
  currency: [18, 2],
  double: [18, 0],
  percent: [5, 2]
}

const humanLabel = (name: string): string =>
  name
    .replace(/__c$/, "")
    .replace(/Id$/, " ID")
    .replace(/_/g, " ")
    .replace(/([a-z])([A-Z])/g, "$1 $2")
    .trim()

const describeField = (field: FieldFixture): FieldDescription => {
  const readOnly = field.type === "id" || field.calculated === true || field.autoNumber === true
  const [precision, scale] = defaultPrecision[field.type] ?? [0, 0]
  const picklistValues = (field.picklistValues ?? []).map((entry) =>
    typeof entry === "string"
      ? { value: entry, label: entry, active: true, defaultValue: false }
      : {
          value: entry.value,
          label: entry.label ?? entry.value,
          active: entry.active ?? true,
          defaultValue: entry.defaultValue ?? false
        }
  )
  return {
    name: field.name,
    label: field.label ?? humanLabel(field.name),
    type: field.type,
    soapType: soapTypes[field.type],
    length: field.length ?? defaultLengths[field.type] ?? 0,
    precision: field.precision ?? precision,
    scale: field.scale ?? scale,
    digits: field.type === "int" ? 9 : field.type === "long" ? 18 : 0,
    nillable: field.nillable ?? (field.type !== "boolean" && field.type !== "id"),
    createable: field.createable ?? !readOnly,
    updateable: field.updateable ?? !readOnly,
    defaultedOnCreate: field.defaultedOnCreate ?? (field.type === "boolean" || field.type === "id" || field.autoNumber === true),
    externalId: field.externalId ?? false,
    idLookup: field.idLookup ?? (field.type === "id" || field.externalId === true || field.autoNumber === true),
    unique: field.unique ?? false,
    caseSensitive: field.caseSensitive ?? false,
    calculated: field.calculated ?? false,
    autoNumber: field.autoNumber ?? false,
    displayFormat: field.displayFormat,
    picklistValues,
    restrictedPicklist: field.restrictedPicklist ?? false,
    referenceTo: field.referenceTo ?? [],
    relationshipName:
      field.relationshipName ??
      (field.type === "reference"
        ? field.name.endsWith("__c")
          ? field.name.replace(/__c$/, "__r")
          : field.name.replace(/Id$/, "")
        : null),
    defaultValue:
      field.defaultValue ??
      (field.type === "boolean" ? false : picklistValues.find((entry) => entry.defaultValue)?.value)
  }
}

/** Fields every sObject has, added when the fixture leaves them out. */
const systemFields: ReadonlyArray<FieldFixture> = [
  { name: "Id", label: "Record ID", type: "id" },
  { name: "IsDeleted", label: "Deleted", type: "boolean", createable: false, updateable: false },
  { name: "CreatedDate", label: "Created Date", type: "datetime", nillable: false, createable: false, updateable: false, defaultedOnCreate: true },
  { name: "CreatedById", label: "Created By ID", type: "reference", referenceTo: ["User"], relationshipName: "CreatedBy", nillable: false, createable: false, updateable: false, defaultedOnCreate: true },
  { name: "LastModifiedDate", label: "Last Modified Date", type: "datetime", nillable: false, createable: false, updateable: false, defaultedOnCreate: true },
  { name: "LastModifiedById", label: "Last Modified By ID", type: "reference", referenceTo: ["User"], relationshipName: "LastModifiedBy", nillable: false, createable: false, updateable: false, defaultedOnCreate: true },
  { name: "SystemModstamp", label: "System Modstamp", type: "datetime", nillable: false, createable: false, updateable: false, defaultedOnCreate: true }
]

const describeSObject = (sobject: SObjectFixture): SObjectDescription => {
  const named = new Set(sobject.fields.map((field) => field.name))
  const fields = [
    ...systemFields.filter((field) => field.name === "Id" && !named.has("Id")),
    ...sobject.fields,
    ...systemFields.filter((field) => field.name !== "Id" && !named.has(field.name))
  ].map(describeField)
  const custom = sobject.custom ?? sobject.name.endsWith("__c")
  const label = sobject.label ?? humanLabel(sobject.name)
  return {
    name: sobject.name,
    label,
    labelPlural: sobject.labelPlural ?? `${label}s`,
    keyPrefix: sobject.keyPrefix,
    custom,
    createable: sobject.createable ?? true,
    updateable: sobject.updateable ?? true,
    deletable: sobject.deletable ?? true,
    queryable: sobject.queryable ?? true,
    fields,
    fieldsByName: new Map(fields.map((field) => [field.name.toLowerCase(), field])),
    validationRules: sobject.validationRules ?? [],
    duplicateRules: sobject.duplicateRules ?? [],
    records: sobject.records ?? []
  }
}

/** A fixture with every flag settled and the org-level defaults filled in. */
export interface OrgDescription {
  readonly organizationId: string
  readonly lastModified: Date
  readonly credentials: Credentials
  readonly jwtPublicKey: string | undefined
  readonly hardDeleteAllowed: boolean
  readonly invalidJobStateStatus: 400 | 409
  readonly sobjects: ReadonlyArray<SObjectDescription>
}

export const defaultCredentials: Credentials = {
  clientId: "emulator-client-id",
  clientSecret: "emulator-client-secret",
  refreshToken: "emulator-refresh-token",
  username: "integration@emulator.local"
}

/** Settles every flag of a decoded fixture. */
export const describe = (fixture: OrgFixture): OrgDescription => ({
  organizationId: fixture.organizationId ?? "00D5g000004emuL",
  lastModified: new Date(fixture.lastModified ?? "2024-06-01T00:00:00.000Z"),
  credentials: {
    clientId: fixture.credentials?.clientId ?? defaultCredentials.clientId,
    clientSecret: fixture.credentials?.clientSecret ?? defaultCredentials.clientSecret,
    refreshToken: fixture.credentials?.refreshToken ?? defaultCredentials.refreshToken,
    username: fixture.credentials?.username ?? defaultCredentials.username
  },
  jwtPublicKey: fixture.jwtPublicKey,
  hardDeleteAllowed: fixture.permissions?.hardDelete ?? false,
  invalidJobStateStatus: fixture.invalidJobStateStatus ?? 409,
  sobjects: fixture.sobjects.map(describeSObject)
})

/** Decodes a fixture from parsed JSON; the error is a readable description of what is wrong. */
export const decode = (input: unknown): Either.Either<OrgFixture, string> =>
  Schema.decodeUnknownEither(OrgFixture)(input).pipe(Either.mapLeft((error) => ParseResult.TreeFormatter.formatErrorSync(error)))

/** The default org: Account, Contact, Lead, Opportunity, Case, User and Product_Usage__c. */
export const defaultFixture: OrgFixture = defaultFixtureData
