/**
 * Describe bodies: the global list of sObjects and one object's fields, in the describe API's
 * JSON shape.
 */
import type { FieldDescription, SObjectDescription } from "./OrgFixture.js"

const urls = (version: string, name: string): Record<string, string> => ({
  sobject: `/services/data/v${version}/sobjects/${name}`,
  describe: `/services/data/v${version}/sobjects/${name}/describe`,
  rowTemplate: `/services/data/v${version}/sobjects/${name}/{ID}`
})

const objectFlags = (sobject: SObjectDescription, version: string): Record<string, unknown> => ({
  name: sobject.name,
  label: sobject.label,
  labelPlural: sobject.labelPlural,
  keyPrefix: sobject.keyPrefix,
  custom: sobject.custom,
  customSetting: false,
  createable: sobject.createable,
  updateable: sobject.updateable,
  deletable: sobject.deletable,
  undeletable: sobject.deletable,
  queryable: sobject.queryable,
  retrieveable: true,
  searchable: true,
  layoutable: true,
  replicateable: true,
  triggerable: true,
  mergeable: false,
  feedEnabled: false,
  activateable: false,
  deprecatedAndHidden: false,
  urls: urls(version, sobject.name)
})

const describeField = (field: FieldDescription): Record<string, unknown> => ({
  name: field.name,
  label: field.label,
  type: field.type,
  soapType: field.soapType,
  length: field.length,
  byteLength: field.length * 3,
  precision: field.precision,
  scale: field.scale,
  digits: field.digits,
  nillable: field.nillable,
  createable: field.createable,
  updateable: field.updateable,
  defaultedOnCreate: field.defaultedOnCreate,
  externalId: field.externalId,
  idLookup: field.idLookup,
  unique: field.unique,
  caseSensitive: field.caseSensitive,
  calculated: field.calculated,
  calculatedFormula: null,
  autoNumber: field.autoNumber,
  custom: field.name.endsWith("__c"),
  nameField: field.name === "Name",
  filterable: field.type !== "textarea",
  sortable: field.type !== "textarea" && field.type !== "multipicklist",
  groupable: field.type !== "textarea" && field.type !== "multipicklist" && field.type !== "double",
  htmlFormatted: false,
  picklistValues: field.picklistValues.map((entry) => ({
    value: entry.value,
    label: entry.label,
    active: entry.active,
    defaultValue: entry.defaultValue,
    validFor: null
  })),
  restrictedPicklist: field.restrictedPicklist,
  dependentPicklist: false,
  referenceTo: field.referenceTo,
  relationshipName: field.relationshipName,
  relationshipOrder: null,
  polymorphicForeignKey: field.referenceTo.length > 1,
  cascadeDelete: false,
  defaultValue: field.type === "boolean" ? (field.defaultValue ?? false) : null,
  defaultValueFormula: null,
  inlineHelpText: null,
  deprecatedAndHidden: false,
  extraTypeInfo: field.type === "textarea" ? (field.length > 255 ? "plaintextarea" : null) : null
})

/** `GET /sobjects/`. */
export const global = (sobjects: ReadonlyArray<SObjectDescription>, version: string): Record<string, unknown> => ({
  encoding: "UTF-8",
  maxBatchSize: 200,
  sobjects: sobjects.map((sobject) => objectFlags(sobject, version))
})

/** `GET /sobjects/{Name}/describe/`. */
export const sobject = (description: SObjectDescription, version: string): Record<string, unknown> => ({
  ...objectFlags(description, version),
  fields: description.fields.map(describeField),
  childRelationships: [],
  recordTypeInfos: [],
  supportedScopes: [{ label: "All", name: "everything" }],
  namedLayoutInfos: [],
  actionOverrides: []
})

/** `GET /sobjects/{Name}/`. */
export const basicInfo = (description: SObjectDescription, version: string): Record<string, unknown> => ({
  objectDescribe: objectFlags(description, version),
  recentItems: []
})
