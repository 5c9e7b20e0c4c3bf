/**
 * A Bulk API 2.0 CSV encoder driven by describe metadata and a column mapping. `make` checks the
 * mapping once (unknown fields, wrong operation, missing Id / external id…) and compiles one cell
 * encoder per column; `encode` then turns a record into a CSV line, or into a `LocalReject` with a
 * Salesforce status code, without any API call.
 */
import * as Data from "effect/Data"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as CsvValue from "./CsvValue.js"
import type { FieldMetadata, ObjectMetadata } from "./FieldMetadata.js"
import { isRequiredOnInsert } from "./FieldMetadata.js"

/** A Bulk API 2.0 ingest operation. */
export type Operation = "insert" | "update" | "upsert" | "delete" | "hardDelete"

/** `clear`: a null value writes `#N/A` (the field is set to null); `leave`: an empty cell (unchanged). */
export type NullPolicy = "clear" | "leave"

/** Where a column's value comes from: a key of the input record, or a constant. */
export type ColumnSource = { readonly key: string } | { readonly constant: unknown }

/** One CSV column. */
export interface Column {
  /** The header: a field API name, or a relationship column (`Account.External_Id__c`, `Owner:User.Email`). */
  readonly column: string
  readonly source: ColumnSource
  /** Overrides the encoder's null policy for this column. */
  readonly nullPolicy?: NullPolicy
}

/** Status codes of local rejects, as Salesforce reports the same failures. */
export type StatusCode =
  | "REQUIRED_FIELD_MISSING"
  | "STRING_TOO_LONG"
  | "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
  | "INVALID_TYPE_ON_FIELD_IN_RECORD"
  | "MALFORMED_ID"
  | "MISSING_ARGUMENT"
  | "INVALID_FIELD"
  | "RECORD_TOO_LARGE"

/** An encoded CSV line (with its `\n`) and its exact UTF-8 length. */
export interface EncodedRow {
  readonly _tag: "Row"
  readonly line: string
  readonly bytes: number
}

/** A record refused before any API call, in the shape of a Salesforce row error. */
export interface LocalReject {
  readonly _tag: "Rejected"
  readonly statusCode: StatusCode
  readonly message: string
  readonly fields: ReadonlyArray<string>
}

/** `STATUS_CODE:message:fields --`, the `sf__Error` form of a failed result row. */
export const formatError = (reject: LocalReject): string =>
  `${reject.statusCode}:${reject.message}:${reject.fields.join(",")} --`

/** Why a mapping cannot be encoded for this object and operation. */
export class CsvEncoderConfigError extends Data.TaggedError("CsvEncoderConfigError")<{
  readonly reason:
    | "NoColumns"
    | "DuplicateColumn"
    | "UnknownField"
    | "InvalidRelationship"
    | "FieldNotCreateable"
    | "FieldNotUpdateable"
    | "IdColumnMissing"
    | "DeleteTakesOnlyId"
    | "ExternalIdMissing"
    | "ExternalIdInvalid"
    | "RequiredFieldNotMapped"
    | "InvalidConstant"
    | "HeaderTooLong"
    | "TooManyColumns"
  readonly column: string | undefined
  readonly message: string
}> {}

export interface Options {
  readonly object: ObjectMetadata
  readonly operation: Operation
  readonly columns: ReadonlyArray<Column>
  /** Required for `upsert`: `Id` or a field with `externalId: true`, and it must be one of the columns. */
  readonly externalIdFieldName?: string
  /** Describe of parent objects, by name, to type and check relationship columns; absent parents mean text. */
  readonly parents?: Readonly<Record<string, ObjectMetadata>>
  /** Default `clear` for update / upsert, `leave` for insert. Missing keys always leave the field unchanged. */
  readonly nullPolicy?: NullPolicy
  /** Local validation (required, type, length, restricted picklist, id format). Default true. */
  readonly validate?: boolean
}

export interface CsvEncoder {
  /** The header line, with its `\n`. */
  readonly header: string
  /** UTF-8 length of `header`. */
  readonly headerBytes: number
  readonly columns: ReadonlyArray<string>
  readonly encode: (record: Readonly<Record<string, unknown>>) => EncodedRow | LocalReject
  /** `encode` without the row object: the line (with its `\n`), or a reject. */
  readonly encodeLine: (record: Readonly<Record<string, unknown>>) => string | LocalReject
}

/** Salesforce's header and column limits. */
export const maxHeaderChars = 32_000
export const maxColumns = 5_000
/** Salesforce's limits on the characters of one record (its CSV line) and of one field value. */
export const maxRecordChars = 400_000
export const maxFieldChars = 131_072

/** How much of a bad value a reject message quotes. */
const messageValueChars = 100

type CellResult = string | LocalReject

interface CompiledColumn {
  readonly header: string
  /** The record key, or undefined for a constant column. */
  readonly key: string | undefined
  readonly constantCell: string
  /** Cell for an explicit null (or empty string), or a reject. */
  readonly nullResult: CellResult
  /** Cell for a missing key, or a reject. */
  readonly missingResult: CellResult
  readonly encode: (value: unknown) => CellResult
  /** The key is also a property every object inherits (`constructor`, `toString`…): read only when the record's own. */
  readonly inherited: boolean
}

const reject = (statusCode: StatusCode, message: string, field: string): LocalReject => ({
  _tag: "Rejected",
  statusCode,
  message,
  fields: [field]
})

const describeValue = (value: unknown): string => {
  const shown = CsvValue.text(value) ?? (typeof value === "number" ? String(value) : typeof value)
  return shown.length > messageValueChars ? `${shown.slice(0, messageValueChars)}...` : shown
}

/** Checked whatever `validate` says: Salesforce's limit, not a field's. */
const recordTooLarge = (chars: number): LocalReject => ({
  _tag: "Rejected",
  statusCode: "RECORD_TOO_LARGE",
  message: `the record has ${chars} characters; Salesforce takes at most ${maxRecordChars} characters per record`,
  fields: []
})

const requiredMissing = (field: string): LocalReject =>
  reject("REQUIRED_FIELD_MISSING", `Required fields are missing: [${field}]`, field)

/** How a field's values are written in the CSV. */
export type Format = "text" | "picklist" | "multipicklist" | "id" | "boolean" | "integer" | "decimal" | "date" | "dateTime" | "time"

/** The CSV format of a field, from its describe type. */
export const formatOf = (field: FieldMetadata): Format => {
  switch (field.type) {
    case "id":
    case "reference":
      return "id"
    case "picklist":
      return "picklist"
    case "multipicklist":
      return "multipicklist"
    case "boolean":
      return "boolean"
    case "int":
    case "long":
      return "integer"
    case "double":
    case "currency":
    case "percent":
      return "decimal"
    case "date":
      return "date"
    case "datetime":
      return "dateTime"
    case "time":
      return "time"
    case "string":
    case "textarea":
    case "email":
    case "phone":
    case "url":
    case "combobox":
    case "base64":
    case "encryptedstring":
    case "address":
    case "location":
    case "anyType":
    case "complexvalue":
    case "json":
      return "text"
  }
}

const typedFormatter = (format: Format): ((value: unknown) => string | undefined) => {
  switch (format) {
    case "boolean":
      return CsvValue.boolean
    case "integer":
      return CsvValue.integer
    case "decimal":
      return CsvValue.decimal
    case "date":
      return CsvValue.date
    case "dateTime":
      return CsvValue.dateTime
    case "time":
      return CsvValue.time
    case "multipicklist":
      return CsvValue.multipicklist
    case "text":
    case "picklist":
    case "id":
      return CsvValue.text
  }
}

/** A restricted picklist's active values: by their spelling, and by their lowercase. */
interface PicklistValues {
  readonly exact: ReadonlySet<string>
  readonly folded: ReadonlyMap<string, string>
}

const picklistValues = (field: FieldMetadata): PicklistValues => {
  const exact = new Set<string>()
  const folded = new Map<string, string>()
  for (const entry of field.picklistValues) {
    if (!entry.active) continue
    exact.add(entry.value)
    const lower = entry.value.toLowerCase()
    if (!folded.has(lower)) folded.set(lower, entry.value)
  }
  return { exact, folded }
}

/**
 * Compiles the cell encoder of one column whose values are typed by `field` (`name` is used in
 * messages). A value whose text is empty (an empty multipicklist array) gives `nullResult`.
 */
const cellEncoder = (
  field: FieldMetadata | undefined,
  name: string,
  validate: boolean,
  nullResult: CellResult
): ((value: unknown) => CellResult) => {
  const format: Format = field === undefined ? "text" : formatOf(field)
  const formatter = typedFormatter(format)
  const nullMarker = (): LocalReject =>
    reject("INVALID_FIELD", `${name}: the text #N/A is the Bulk API's null marker and cannot be loaded as a value`, name)
  const typeMismatch = (value: unknown): CellResult => {
    if (validate) return reject("INVALID_TYPE_ON_FIELD_IN_RECORD", `${name}: value not of required type: ${describeValue(value)}`, name)
    const text = CsvValue.looseText(value)
    // sent as is, Salesforce would read it as "set the field to null", whatever the field's type
    return text === CsvValue.clearCell ? nullMarker() : CsvValue.quote(text)
  }
  if (format !== "text" && format !== "picklist" && format !== "multipicklist" && format !== "id") {
    // numbers, booleans and dates never hold a character that needs quoting
    return (value) => formatter(value) ?? typeMismatch(value)
  }
  // describe gives length 0 for fields without one: Salesforce still caps a value at maxFieldChars
  const maxLength = !validate ? 0 : field !== undefined && field.length > 0 ? field.length : maxFieldChars
  const restricted =
    validate && field !== undefined && field.restrictedPicklist && (format === "picklist" || format === "multipicklist")
      ? picklistValues(field)
      : undefined
  const multi = format === "multipicklist"
  const checkId = validate && format === "id"
  const tooLong = (text: string): LocalReject =>
    reject("STRING_TOO_LONG", `${name}: data value too large: ${describeValue(text)} (max length=${maxLength})`, name)
  const badPicklistValue = (item: string): LocalReject =>
    reject("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", `${name}: bad value for restricted picklist field: ${describeValue(item)}`, name)
  /**
   * The restricted value as Salesforce stores it: each value matched case-insensitively (a
   * multipicklist's parts trimmed) and written in its defined spelling, or the first bad value.
   */
  const definedSpelling = (values: PicklistValues, text: string): string | LocalReject => {
    if (values.exact.has(text)) return text
    if (!multi) return values.folded.get(text.toLowerCase()) ?? badPicklistValue(text)
    const parts = text.split(CsvValue.multipicklistSeparator)
    for (let index = 0; index < parts.length; index++) {
      const part = parts[index] ?? ""
      if (values.exact.has(part)) continue
      const defined = values.folded.get(part.trim().toLowerCase())
      if (defined === undefined) return badPicklistValue(part)
      parts[index] = defined
    }
    return parts.join(CsvValue.multipicklistSeparator)
  }
  return (value) => {
    let cellText = formatter(value)
    if (cellText === undefined) return typeMismatch(value)
    if (cellText.length === 0) return nullResult
    // The Bulk API reads this text as "set the field to null": it cannot be loaded as a value,
    // and Salesforce cannot tell, so it is refused even with validation off.
    if (cellText === CsvValue.clearCell) return nullMarker()
    if (restricted !== undefined) {
      const defined = definedSpelling(restricted, cellText)
      // Salesforce checks the length of what it is sent before the values
      if (typeof defined !== "string") return maxLength > 0 && cellText.length > maxLength ? tooLong(cellText) : defined
      cellText = defined
    }
    if (maxLength > 0 && cellText.length > maxLength) return tooLong(cellText)
    if (checkId && !CsvValue.isSalesforceId(cellText)) {
      return reject("MALFORMED_ID", `${name}: id value of incorrect type: ${describeValue(cellText)}`, name)
    }
    return CsvValue.quote(cellText)
  }
}

const configError = (
  reason: CsvEncoderConfigError["reason"],
  column: string | undefined,
  message: string
): Either.Either<never, CsvEncoderConfigError> => Either.left(new CsvEncoderConfigError({ reason, column, message }))

/** A resolved header: the object field it writes, and the field that types its values. */
interface ResolvedColumn {
  /** The header in describe's spelling (names are case-insensitive; what is not described stays as given). */
  readonly header: string
  readonly field: FieldMetadata
  /** The parent field of a relationship column, when the parent's describe is known. */
  readonly valueField: FieldMetadata | undefined
  readonly relationship: boolean
}

/** Describe looked up by lowercase name, as Salesforce matches field, relationship and object names. */
interface Names {
  readonly fields: ReadonlyMap<string, FieldMetadata>
  /** Reference fields by lowercase relationshipName. */
  readonly relationships: ReadonlyMap<string, FieldMetadata>
  readonly parents: ReadonlyMap<string, ObjectMetadata>
}

const byLowercaseName = <A>(entries: Iterable<readonly [string, A]>): Map<string, A> => {
  const map = new Map<string, A>()
  for (const [name, value] of entries) {
    const lower = name.toLowerCase()
    if (!map.has(lower)) map.set(lower, value)
  }
  return map
}

const namesOf = (options: Options): Names => {
  const relationships: Array<readonly [string, FieldMetadata]> = []
  for (const field of options.object.fields) {
    const relationshipName = Option.getOrUndefined(field.relationshipName)
    if (field.type === "reference" && relationshipName !== undefined) relationships.push([relationshipName, field])
  }
  return {
    fields: byLowercaseName(options.object.fields.map((field) => [field.name, field] as const)),
    relationships: byLowercaseName(relationships),
    parents: byLowercaseName(Object.entries(options.parents ?? {}))
  }
}

/** The spelling in `field.referenceTo` of object `name`, any case. */
const referencedObject = (field: FieldMetadata, name: string): string | undefined => {
  const lower = name.toLowerCase()
  return field.referenceTo.find((candidate) => candidate.toLowerCase() === lower)
}

const resolveRelationship = (
  options: Options,
  header: string,
  names: Names
): Either.Either<ResolvedColumn, CsvEncoderConfigError> => {
  const dot = header.indexOf(".")
  const path = header.slice(0, dot)
  const parentFieldName = header.slice(dot + 1)
  if (parentFieldName.length === 0 || parentFieldName.includes(".") || path.length === 0) {
    return configError("InvalidRelationship", header, `${header}: a relationship column is Relationship.Field, one level only`)
  }
  const byRelationship = (name: string): FieldMetadata | undefined => names.relationships.get(name.toLowerCase())
  const relationshipOf = (field: FieldMetadata): string => Option.getOrElse(field.relationshipName, () => "")
  let field: FieldMetadata | undefined
  let parentObject: string | undefined
  let canonicalPath = path
  const colon = path.indexOf(":")
  if (colon < 0) {
    field = byRelationship(path)
    if (field !== undefined && field.referenceTo.length > 1) {
      return configError(
        "InvalidRelationship",
        header,
        `${header}: ${path} is polymorphic (${field.referenceTo.join(", ")}); name the parent type, e.g. ${field.referenceTo[0] ?? "Type"}:${path}.${parentFieldName}`
      )
    }
    parentObject = field?.referenceTo[0]
    if (field !== undefined) canonicalPath = relationshipOf(field)
  } else {
    // A mapping may name the parent type before or after the relationship (`User:Owner`,
    // `Owner:User`); the header is written as Salesforce reads it: `ObjectType:Relationship` for
    // a polymorphic field, and the relationship alone for another (a type there fails the job).
    const first = path.slice(0, colon)
    const second = path.slice(colon + 1)
    for (const [typeName, relationshipName] of [
      [first, second],
      [second, first]
    ] as const) {
      const candidate = byRelationship(relationshipName)
      const candidateObject = candidate === undefined ? undefined : referencedObject(candidate, typeName)
      if (candidate === undefined || candidateObject === undefined) continue
      field = candidate
      parentObject = candidateObject
      canonicalPath = candidate.referenceTo.length > 1 ? `${candidateObject}:${relationshipOf(candidate)}` : relationshipOf(candidate)
      break
    }
  }
  if (field === undefined || parentObject === undefined) {
    return configError("InvalidRelationship", header, `${header}: no relationship ${path} on ${options.object.name}`)
  }
  const parent = names.parents.get(parentObject.toLowerCase())
  if (parent === undefined) {
    return Either.right({ header: `${canonicalPath}.${parentFieldName}`, field, valueField: undefined, relationship: true })
  }
  const parentFieldLower = parentFieldName.toLowerCase()
  const valueField = parent.fields.find((candidate) => candidate.name.toLowerCase() === parentFieldLower)
  if (valueField === undefined) {
    return configError("UnknownField", header, `${header}: no field ${parentFieldName} on ${parentObject}`)
  }
  if (!valueField.externalId && !valueField.idLookup) {
    return configError(
      "InvalidRelationship",
      header,
      `${header}: ${parentObject}.${valueField.name} is neither an external id nor an idLookup field`
    )
  }
  return Either.right({ header: `${canonicalPath}.${valueField.name}`, field, valueField, relationship: true })
}

const resolveColumn = (
  options: Options,
  header: string,
  names: Names
): Either.Either<ResolvedColumn, CsvEncoderConfigError> => {
  if (header.includes(".")) return resolveRelationship(options, header, names)
  const field = names.fields.get(header.toLowerCase())
  if (field === undefined) {
    return configError("UnknownField", header, `INVALID_FIELD: No such column '${header}' on entity '${options.object.name}'`)
  }
  return Either.right({ header: field.name, field, valueField: field, relationship: false })
}

/** `isId`: the column is the object's Id; `isKey`: it is the operation's matching key (Id or upsert's external id). */
const checkWritable = (
  operation: Operation,
  header: string,
  field: FieldMetadata,
  isId: boolean,
  isKey: boolean
): Either.Either<void, CsvEncoderConfigError> => {
  switch (operation) {
    case "insert":
      return field.createable
        ? Either.void
        : configError("FieldNotCreateable", header, `${header} is not createable on insert`)
    case "update":
      return isKey || field.updateable
        ? Either.void
        : configError("FieldNotUpdateable", header, `${header} is not updateable`)
    case "upsert":
      return isId || isKey || field.createable || field.updateable
        ? Either.void
        : configError("FieldNotUpdateable", header, `${header} is neither createable nor updateable`)
    case "delete":
    case "hardDelete":
      return isId ? Either.void : configError("DeleteTakesOnlyId", header, `${operation} CSVs hold only Id`)
  }
}

const utf8Bytes = (text: string): number => Buffer.byteLength(text, "utf8")

/** Checks the mapping against describe and compiles the encoder. */
export const make = (options: Options): Either.Either<CsvEncoder, CsvEncoderConfigError> => {
  const { operation } = options
  const validate = options.validate ?? true
  const defaultNullPolicy: NullPolicy = options.nullPolicy ?? (operation === "insert" ? "leave" : "clear")
  if (options.columns.length === 0) return configError("NoColumns", undefined, "the mapping has no columns")
  if (options.columns.length > maxColumns) {
    return configError("TooManyColumns", undefined, `${options.columns.length} columns; Salesforce takes at most ${maxColumns}`)
  }
  // Salesforce matches field, relationship and object names in any case: so does the mapping
  const names = namesOf(options)
  const seen = new Set<string>()
  for (const column of options.columns) {
    const header = column.column
    const lower = header.toLowerCase()
    if (seen.has(lower)) return configError("DuplicateColumn", header, `${header} is mapped twice`)
    seen.add(lower)
  }
  if ((operation === "update" || operation === "delete" || operation === "hardDelete") && !seen.has("id")) {
    return configError("IdColumnMissing", "Id", `${operation} needs an Id column`)
  }
  const externalIdFieldName = options.externalIdFieldName
  /** Lowercase name of the field that matches records: upsert's external id, or Id. */
  const keyFieldName = operation === "upsert" ? externalIdFieldName?.toLowerCase() : operation === "insert" ? undefined : "id"
  if (operation === "upsert") {
    if (externalIdFieldName === undefined || keyFieldName === undefined) {
      return configError("ExternalIdMissing", undefined, "upsert needs externalIdFieldName")
    }
    const externalField = names.fields.get(keyFieldName)
    if (keyFieldName !== "id" && (externalField === undefined || !externalField.externalId)) {
      return configError(
        "ExternalIdInvalid",
        externalIdFieldName,
        `${externalIdFieldName} is not an external id field of ${options.object.name}`
      )
    }
    if (!seen.has(keyFieldName)) {
      return configError("ExternalIdMissing", externalIdFieldName, `upsert needs a ${externalIdFieldName} column`)
    }
  }

  const compiled: Array<CompiledColumn> = []
  const headers: Array<string> = []
  const mappedFields = new Set<string>()
  for (const column of options.columns) {
    const resolved = resolveColumn(options, column.column, names)
    if (Either.isLeft(resolved)) return Either.left(resolved.left)
    const { field, header, relationship, valueField } = resolved.right
    const fieldName = relationship ? undefined : field.name.toLowerCase()
    const isKey = fieldName !== undefined && fieldName === keyFieldName
    const writable = checkWritable(operation, column.column, field, fieldName === "id", isKey)
    if (Either.isLeft(writable)) return Either.left(writable.left)
    mappedFields.add(field.name)
    headers.push(header)

    // `#N/A` through a relationship column is not a documented way to clear a lookup: only on request.
    const nullPolicy = column.nullPolicy ?? (relationship ? "leave" : defaultNullPolicy)
    const requiredHere = validate && operation === "insert" && isRequiredOnInsert(field)
    const keyMissing = reject("MISSING_ARGUMENT", `${header} not specified`, header)
    const emptyResult: CellResult = validate && isKey ? keyMissing : requiredHere ? requiredMissing(header) : ""
    // A null on insert in a field that cannot be null but has a default (a checkbox): the default.
    const defaultOnInsert = operation === "insert" && !field.nillable && !requiredHere
    // a checkbox is never null: clearing one unchecks it (a nullable boolean column must not cost the row)
    const clearedCheckbox = !relationship && field.type === "boolean"
    const nullResult: CellResult =
      validate && isKey
        ? keyMissing
        : requiredHere || (validate && nullPolicy === "clear" && !field.nillable && !relationship && !defaultOnInsert && !clearedCheckbox)
          ? requiredMissing(header)
          : nullPolicy === "clear" && !defaultOnInsert
            ? clearedCheckbox
              ? "false"
              : CsvValue.clearCell
            : ""
    const encode = cellEncoder(valueField, header, validate, nullResult)
    if ("constant" in column.source) {
      const constant = column.source.constant
      const constantResult =
        constant === null || constant === undefined || constant === "" ? nullResult : encode(constant)
      if (typeof constantResult !== "string") {
        return configError("InvalidConstant", column.column, `${column.column}: ${constantResult.message}`)
      }
      compiled.push({
        header,
        key: undefined,
        constantCell: constantResult,
        nullResult,
        missingResult: emptyResult,
        encode,
        inherited: false
      })
    } else {
      const key = column.source.key
      compiled.push({ header, key, constantCell: "", nullResult, missingResult: emptyResult, encode, inherited: key in Object.prototype })
    }
  }
  if (validate && operation === "insert") {
    for (const field of options.object.fields) {
      if (isRequiredOnInsert(field) && !mappedFields.has(field.name)) {
        return configError("RequiredFieldNotMapped", field.name, `${field.name} is required on insert and not mapped`)
      }
    }
  }
  const headerText = headers.map(CsvValue.quote).join(",")
  if (headerText.length > maxHeaderChars) {
    return configError("HeaderTooLong", undefined, `the header has ${headerText.length} characters; at most ${maxHeaderChars}`)
  }
  const header = `${headerText}\n`
  const columnCount = compiled.length

  /** One row's cells, reused: joined once, a line is one flat string (concatenation left a rope of ~20 parts per row). */
  const cells: Array<string> = new Array<string>(columnCount).fill("")
  const encodeLine = (record: Readonly<Record<string, unknown>>): string | LocalReject => {
    for (let index = 0; index < columnCount; index++) {
      const column = compiled[index]
      if (column === undefined) break
      let cell: CellResult
      if (column.key === undefined) {
        cell = column.constantCell
      } else {
        const value = column.inherited && !Object.hasOwn(record, column.key) ? undefined : record[column.key]
        cell =
          value === undefined
            ? column.missingResult
            : value === null || value === ""
              ? column.nullResult
              : column.encode(value)
        if (typeof cell !== "string") return cell
      }
      cells[index] = cell
    }
    const line = cells.join(",")
    if (line.length > maxRecordChars) return recordTooLarge(line.length)
    // a lone empty cell would be a blank line, which CSV readers skip: write it as ""
    return line.length === 0 ? '""\n' : `${line}\n`
  }

  const encode = (record: Readonly<Record<string, unknown>>): EncodedRow | LocalReject => {
    const line = encodeLine(record)
    return typeof line === "string" ? { _tag: "Row", line, bytes: utf8Bytes(line) } : line
  }

  return Either.right({ header, headerBytes: utf8Bytes(header), columns: headers, encode, encodeLine })
}
