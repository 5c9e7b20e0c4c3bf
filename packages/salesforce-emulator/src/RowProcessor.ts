/**
 * Row processing as Salesforce does it: a job's CSV header is compiled once into a plan (field
 * converters, relationship columns, the upsert key), then each row is validated and applied to the
 * record store, its outcome written compactly into the job.
 */
import type { IngestJob, Operation } from "./IngestJob.js"
import type { FieldDescription } from "./OrgFixture.js"
import * as CellCheck from "./CellCheck.js"
import * as Csv from "./Csv.js"
import { type Audit, audit, created, type FieldValue, type ObjectStore, type RowSource, type StoredRecord } from "./RecordStore.js"
import * as SalesforceId from "./SalesforceId.js"

/** A row failure: the full `sf__Error` text, `STATUS_CODE:message:fields --`. */
export class RowError {
  constructor(readonly text: string) {}
}

export const rowError = (code: string, message: string, fields: ReadonlyArray<string> = []): RowError =>
  new RowError(`${code}:${message}:${fields.length > 0 ? `${fields.join(" ")} ` : ""}--`)

type Converter = (raw: string) => FieldValue | RowError

/** A field's converter, and the check that tells from a cell's bytes that the converter takes it as it is, where there is one. */
interface FieldReading {
  readonly convert: Converter
  readonly check?: CellCheck.CellCheck
}

interface FieldColumn extends FieldReading {
  readonly kind: "field"
  readonly position: number
  readonly field: FieldDescription
}

interface RelationshipColumn {
  readonly kind: "relationship"
  readonly position: number
  /** The reference field the resolved Id is written to. */
  readonly field: FieldDescription
  readonly target: ObjectStore
  readonly targetField: FieldDescription
}

type Column = FieldColumn | RelationshipColumn

/** A compiled header. */
export interface Plan {
  readonly columnCount: number
  readonly columns: ReadonlyArray<Column>
  /** Position of the `Id` column, if any. */
  readonly idPosition: number | undefined
  /** For upsert by external id: the key field and its column. */
  readonly keyField: FieldDescription | undefined
  readonly keyPosition: number | undefined
  readonly required: ReadonlyArray<FieldDescription>
  readonly defaulted: ReadonlyArray<FieldDescription>
  readonly uniqueFields: ReadonlyArray<FieldDescription>
  /** Every key an inserted record gets, all null: cloning it gives records one shape, sized once. */
  readonly insertTemplate: StoredRecord
  /**
   * Whether an inserted row can be kept as its CSV text: no relationship or reference columns (their
   * resolution belongs to the moment of insert), no defaulted field among the columns, no autoNumber.
   */
  readonly lazyInsert: boolean
  /** The object has validation or duplicate rules. */
  readonly hasRules: boolean
}

/** What a processor needs besides the job: the stores, the acting user, the clock and the lock fault. */
export interface Context {
  readonly store: ObjectStore
  readonly stores: ReadonlyMap<string, ObjectStore>
  readonly storesByPrefix: ReadonlyMap<string, ObjectStore>
  readonly userId: string
  readonly random: () => number
  readonly lockErrorRate: number
  /** Row texts that already had their first attempt hit by a lock error. */
  readonly lockAttempted: Set<string>
}

// ---------------------------------------------------------------------------------------------
// Converters

const emailPattern = /^[^\s@]+@[^\s@]+\.[^\s@]+$/
const numberPattern = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/
const dateTimePattern = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$/
const timePattern = /^(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,3})?)?(Z)?$/
const maxInt32 = 2_147_483_647

const tooLong = (field: FieldDescription, raw: string): RowError =>
  rowError("STRING_TOO_LONG", `${field.label}: data value too large: ${raw} (max length=${field.length})`, [field.name])

const notOfType = (field: FieldDescription, raw: string): RowError =>
  rowError("INVALID_TYPE_ON_FIELD_IN_RECORD", `${field.label}: value not of required type: ${raw}`, [field.name])

/** Dates and times that do not parse fail as Salesforce's CSV deserializer reports them. */
const notDeserializable = (field: FieldDescription, position: number, raw: string): RowError =>
  rowError("INVALID_FIELD", `Failed to deserialize field at col ${position}. Due to, '${raw}' is not a valid value for the type ${field.soapType}`)

/** The longest string a converter hands a `CellCheck` (a stored datetime), and room for it in UTF-8. */
const maxCheckedChars = 24
const checkedText = Buffer.alloc(maxCheckedChars * 4)

/**
 * Whether `check` takes a converter's string: its UTF-8 written into one reused buffer, so the
 * conversions of record reads and updates allocate nothing. Longer strings are no date or datetime.
 */
const checksText = (check: CellCheck.CellCheck, raw: string): boolean =>
  raw.length <= maxCheckedChars && check(checkedText, 0, checkedText.write(raw, 0, "utf8"))

const text = (field: FieldDescription): Converter => {
  const length = field.length
  return (raw) => (length > 0 && raw.length > length ? tooLong(field, raw) : raw)
}

const email = (field: FieldDescription): Converter => (raw) => {
  if (raw.length > field.length) return tooLong(field, raw)
  return emailPattern.test(raw) ? raw : rowError("INVALID_EMAIL_ADDRESS", `${field.label}: invalid email address: ${raw}`, [field.name])
}

const badPicklist = (field: FieldDescription, raw: string): RowError =>
  rowError("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", `${field.label}: bad value for restricted picklist field: ${raw}`, [field.name])

const picklist = (field: FieldDescription): Converter => {
  if (!field.restrictedPicklist) return text(field)
  const allowed = new Map(field.picklistValues.filter((entry) => entry.active).map((entry) => [entry.value.toLowerCase(), entry.value]))
  return (raw) => {
    if (raw.length > field.length) return tooLong(field, raw)
    return allowed.get(raw.toLowerCase()) ?? badPicklist(field, raw)
  }
}

const multipicklist = (field: FieldDescription): Converter => {
  const allowed = new Map(field.picklistValues.filter((entry) => entry.active).map((entry) => [entry.value.toLowerCase(), entry.value]))
  return (raw) => {
    if (raw.length > field.length) return tooLong(field, raw)
    if (!field.restrictedPicklist) return raw
    const values: Array<string> = []
    for (const part of raw.split(";")) {
      const value = allowed.get(part.trim().toLowerCase())
      if (value === undefined) return badPicklist(field, part)
      values.push(value)
    }
    return values.join(";")
  }
}

const boolean = (field: FieldDescription): Converter => (raw) => {
  if (raw === "true") return true
  if (raw === "false") return false
  switch (raw.toLowerCase()) {
    case "true":
    case "1":
      return true
    case "false":
    case "0":
      return false
    default:
      return notOfType(field, raw)
  }
}

const numeric = (field: FieldDescription): Converter => {
  const integerDigits = field.precision > 0 ? field.precision - field.scale : 0
  const integral = field.type === "int" || field.type === "long"
  return (raw) => {
    if (!numberPattern.test(raw)) return notOfType(field, raw)
    const value = Number(raw)
    if (!Number.isFinite(value)) return notOfType(field, raw)
    if (integral) {
      if (!Number.isInteger(value)) return notOfType(field, raw)
      if (field.type === "int" && (value > maxInt32 || value < -maxInt32 - 1)) {
        return rowError("NUMBER_OUTSIDE_VALID_RANGE", `${field.label}: value outside of valid range on numeric field: ${raw}`, [field.name])
      }
      return value
    }
    if (integerDigits > 0 && Math.abs(value) >= 10 ** integerDigits) {
      return rowError("NUMBER_OUTSIDE_VALID_RANGE", `${field.label}: value outside of valid range on numeric field: ${raw}`, [field.name])
    }
    return value
  }
}

const date = (field: FieldDescription, position: number): Converter => (raw) => {
  return checksText(CellCheck.isDate, raw) ? raw : notDeserializable(field, position, raw)
}

const dateTime = (field: FieldDescription, position: number): Converter => (raw) => {
  if (checksText(CellCheck.isCanonicalDateTime, raw)) return raw
  const match = dateTimePattern.exec(raw)
  if (match === null) return notDeserializable(field, position, raw)
  const [, year, month, day, hour, minute, second, fraction, zone] = match
  if (!CellCheck.validDate(Number(year), Number(month), Number(day)) || Number(hour) > 23 || Number(minute) > 59 || Number(second ?? 0) > 59) {
    return notDeserializable(field, position, raw)
  }
  let offsetMinutes = 0
  if (zone !== undefined && zone !== "Z") {
    const digits = zone.replace(":", "")
    const sign = digits.startsWith("-") ? -1 : 1
    offsetMinutes = sign * (Number(digits.slice(1, 3)) * 60 + Number(digits.slice(3, 5)))
  }
  const millis = fraction === undefined ? 0 : Math.floor(Number(fraction) * 1000)
  const utc = Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second ?? 0), millis)
  return new Date(utc - offsetMinutes * 60_000).toISOString()
}

const time = (field: FieldDescription, position: number): Converter => (raw) => {
  const match = timePattern.exec(raw)
  if (match === null || Number(match[1]) > 23 || Number(match[2]) > 59 || Number(match[3] ?? 0) > 59) {
    return notDeserializable(field, position, raw)
  }
  const fraction = (match[4] ?? ".000").padEnd(4, "0")
  return `${match[1]}:${match[2]}:${match[3] ?? "00"}${fraction}Z`
}

const fieldReading = (field: FieldDescription, position: number, context: Context): FieldReading => {
  switch (field.type) {
    case "email":
      return { convert: email(field), check: CellCheck.email(field.length) }
    case "picklist":
      return { convert: picklist(field) }
    case "multipicklist":
      return { convert: multipicklist(field) }
    case "boolean":
      return { convert: boolean(field), check: CellCheck.checkbox }
    case "int":
    case "long":
    case "double":
    case "currency":
    case "percent":
      return { convert: numeric(field) }
    case "date":
      return { convert: date(field, position), check: CellCheck.isDate }
    case "datetime":
      return { convert: dateTime(field, position), check: CellCheck.isCanonicalDateTime }
    case "time":
      return { convert: time(field, position) }
    case "reference":
    case "id":
      return { convert: reference(field, context) }
    case "string":
    case "textarea":
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
      return { convert: text(field), check: CellCheck.text(field.length) }
  }
}

/** An Id written into a reference field: well formed, of a referenced object, and existing. */
const reference = (field: FieldDescription, context: Context): Converter => {
  const targets = new Set(field.referenceTo.map((name) => name.toLowerCase()))
  return (raw) => {
    const id = SalesforceId.normalize(raw)
    if (id === undefined) return rowError("MALFORMED_ID", `${field.label}: id value of incorrect type: ${raw}`, [field.name])
    const target = context.storesByPrefix.get(SalesforceId.keyPrefix(id))
    if (target === undefined) return id
    if (!targets.has(target.sobject.name.toLowerCase())) {
      return rowError("FIELD_INTEGRITY_EXCEPTION", `${field.label}: id value of incorrect type: ${raw}`, [field.name])
    }
    if (target.records.has(id)) return id
    if (target.deleted.has(id)) return rowError("ENTITY_IS_DELETED", "entity is deleted")
    return rowError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id")
  }
}

// ---------------------------------------------------------------------------------------------
// Header

/**
 * The reference field and parent store of a relationship column's prefix: `Account`, or a
 * polymorphic `Lead:Who` (Salesforce's documented `ObjectType:Relationship`) — the reverse
 * `Owner:User` order is accepted too, as the project contract writes it.
 */
const resolveRelationshipHeader = (
  relationship: string,
  fields: ReadonlyArray<FieldDescription>,
  context: Context
): { field: FieldDescription; target: ObjectStore } | undefined => {
  const colon = relationship.indexOf(":")
  const readings: ReadonlyArray<[string | undefined, string]> =
    colon === -1
      ? [[undefined, relationship]]
      : [
          [relationship.slice(0, colon), relationship.slice(colon + 1)],
          [relationship.slice(colon + 1), relationship.slice(0, colon)]
        ]
  for (const [objectType, relationshipName] of readings) {
    const field = fields.find(
      (candidate) => candidate.type === "reference" && candidate.relationshipName?.toLowerCase() === relationshipName.toLowerCase()
    )
    if (field === undefined) continue
    const targetName = field.referenceTo.find(
      (candidate) => (objectType === undefined || candidate.toLowerCase() === objectType.toLowerCase()) && context.stores.has(candidate.toLowerCase())
    )
    const target = targetName === undefined ? undefined : context.stores.get(targetName.toLowerCase())
    if (target !== undefined) return { field, target }
  }
  return undefined
}

const maxHeaderChars = 32_000
const maxFields = 5_000

/** Compiles a CSV header; a `string` is the job's `errorMessage` (the whole job fails). */
export const compile = (header: ReadonlyArray<string>, headerText: string, job: IngestJob, context: Context): Plan | string => {
  const sobject = context.store.sobject
  if (headerText.length > maxHeaderChars) return `InvalidBatch : The header exceeds ${maxHeaderChars} characters`
  if (header.length > maxFields) return `InvalidBatch : The number of fields exceeds ${maxFields}`
  const columns: Array<Column> = []
  const seen = new Set<string>()
  let idPosition: number | undefined
  const deleting = job.spec.operation === "delete" || job.spec.operation === "hardDelete"
  for (let position = 0; position < header.length; position++) {
    const name = header[position] ?? ""
    const lower = name.toLowerCase()
    if (seen.has(lower)) return `InvalidBatch : Duplicate field name: ${name}`
    seen.add(lower)
    const dot = name.indexOf(".")
    if (dot === -1) {
      const field = sobject.fieldsByName.get(lower)
      if (field === undefined) return `InvalidBatch : Field name not found : ${name}`
      if (field.type === "id") {
        idPosition = position
        continue
      }
      if (!deleting) columns.push({ kind: "field", position, field, ...fieldReading(field, position, context) })
      continue
    }
    const relationship = name.slice(0, dot)
    const targetFieldName = name.slice(dot + 1)
    const resolved = resolveRelationshipHeader(relationship, sobject.fields, context)
    if (resolved === undefined) return `InvalidBatch : Field name not found : ${name}`
    const { field, target } = resolved
    const targetField = target.sobject.fieldsByName.get(targetFieldName.toLowerCase())
    if (targetField === undefined) return `InvalidBatch : Field name not found : ${name}`
    if (targetField.type !== "id" && !targetField.idLookup && !targetField.externalId) {
      return `InvalidBatch : Field name provided, ${targetField.name} does not match an External ID, Salesforce Id, or indexed field for ${target.sobject.name}`
    }
    if (!deleting) columns.push({ kind: "relationship", position, field, target, targetField })
  }
  let keyField: FieldDescription | undefined
  let keyPosition: number | undefined
  const externalIdFieldName = job.spec.externalIdFieldName
  if (job.spec.operation === "upsert" && externalIdFieldName !== undefined && externalIdFieldName.toLowerCase() !== "id") {
    keyField = sobject.fieldsByName.get(externalIdFieldName.toLowerCase())
    keyPosition = columns.find((column) => column.kind === "field" && column.field === keyField)?.position
  }
  const unique = new Set(columns.filter((column) => column.kind === "field" && (column.field.unique || column.field.externalId)).map((column) => column.field))
  const defaulted = sobject.fields.filter((field) => (field.defaultValue !== undefined && field.type !== "boolean") || field.autoNumber || field.name === "OwnerId")
  const insertTemplate: StoredRecord = { Id: null }
  // a checkbox is never null: a row that leaves it empty gets the field's default
  for (const column of columns) insertTemplate[column.field.name] = column.field.type === "boolean" ? column.field.defaultValue === true : null
  for (const field of defaulted) insertTemplate[field.name] = null
  insertTemplate[audit] = created("", "")
  const columnFields = new Set(columns.map((column) => column.field))
  const lazyInsert =
    columns.every((column) => column.kind === "field" && column.field.type !== "reference") &&
    defaulted.every((field) => !field.autoNumber && !columnFields.has(field))
  return {
    insertTemplate,
    lazyInsert,
    hasRules: sobject.validationRules.length > 0 || sobject.duplicateRules.length > 0,
    columnCount: header.length,
    columns,
    idPosition,
    keyField,
    keyPosition,
    required: sobject.fields.filter((field) => field.createable && !field.nillable && !field.defaultedOnCreate),
    defaulted,
    uniqueFields: [...unique]
  }
}

// ---------------------------------------------------------------------------------------------
// Rows

type Mode = "insert" | "update"

const notWritable = (field: FieldDescription): RowError =>
  rowError(
    "INVALID_FIELD_FOR_INSERT_UPDATE",
    `Unable to create/update fields: ${field.name}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.`,
    [field.name]
  )

const resolveRelationship = (column: RelationshipColumn, raw: string): string | RowError => {
  const { target, targetField } = column
  if (targetField.type === "id") {
    const id = SalesforceId.normalize(raw)
    if (id !== undefined && target.records.has(id)) return id
  } else {
    const ids = target.findBy(targetField.name, raw)
    if (ids.length === 1 && ids[0] !== undefined) return ids[0]
    if (ids.length > 1) {
      return rowError("DUPLICATE_EXTERNAL_ID", `Foreign key external ID: ${raw} matched more than one record for field ${targetField.name} in entity ${target.sobject.name}`)
    }
  }
  return rowError("INVALID_FIELD", `Foreign key external ID: ${raw} not found for field ${targetField.name} in entity ${target.sobject.name}`)
}

/**
 * Reads a row's columns into field changes, or the first error. With `clearEmpty` an empty cell
 * writes the insert template's value, so a reused target keeps nothing of the row before.
 */
const readChanges = (plan: Plan, values: ReadonlyArray<string>, mode: Mode, changes: StoredRecord, clearEmpty = false): StoredRecord | RowError => {
  for (const column of plan.columns) {
    const raw = values[column.position]
    if (raw === undefined || raw === "") {
      if (clearEmpty) changes[column.field.name] = plan.insertTemplate[column.field.name] ?? null
      continue
    }
    const field = column.field
    if (mode === "insert" ? !field.createable : !field.updateable) {
      if (mode === "update" && column.kind === "field" && column.field === plan.keyField) continue
      return notWritable(field)
    }
    if (raw === "#N/A") {
      if (mode === "update" && !field.nillable) {
        return rowError("REQUIRED_FIELD_MISSING", `Required fields are missing: [${field.name}]`, [field.name])
      }
      changes[field.name] = field.type === "boolean" ? false : null
      continue
    }
    const value = column.kind === "field" ? column.convert(raw) : resolveRelationship(column, raw)
    if (value instanceof RowError) return value
    changes[field.name] = value
  }
  return changes
}

/** The first validation or duplicate rule the record's state after the write breaks. */
const ruleViolation = (store: ObjectStore, after: StoredRecord, self: string | undefined): RowError | undefined => {
  const sobject = store.sobject
  for (const rule of sobject.validationRules) {
    const value = after[rule.field]
    if (value === undefined || value === null) continue
    const broken =
      (rule.mustMatch !== undefined && !new RegExp(rule.mustMatch).test(String(value))) ||
      (rule.minValue !== undefined && typeof value === "number" && value < rule.minValue) ||
      (rule.maxValue !== undefined && typeof value === "number" && value > rule.maxValue)
    if (broken) return rowError("FIELD_CUSTOM_VALIDATION_EXCEPTION", rule.message, [rule.field])
  }
  for (const rule of sobject.duplicateRules) {
    const [first, ...rest] = rule.fields
    const firstValue = after[first]
    if (firstValue === undefined || firstValue === null) continue
    const same = (left: FieldValue | undefined, right: FieldValue | undefined) =>
      left !== undefined && left !== null && right !== undefined && right !== null && String(left).toLowerCase() === String(right).toLowerCase()
    const match = store.findBy(first, String(firstValue)).find((id) => {
      if (id === self) return false
      const other = store.records.get(id)
      return other !== undefined && rest.every((field) => same(after[field], other[field]))
    })
    if (match !== undefined) return rowError("DUPLICATES_DETECTED", "Use one of these records?")
  }
  return undefined
}

const duplicateOf = (plan: Plan, store: ObjectStore, changes: StoredRecord, self: string | undefined): RowError | undefined => {
  for (const field of plan.uniqueFields) {
    const value = changes[field.name]
    if (value === undefined || value === null) continue
    const holders = store.holders(field.name, String(value))
    if (holders === undefined || holders === self) continue
    const other = typeof holders === "string" ? holders : holders.find((id) => id !== self)
    if (other !== undefined) {
      return rowError("DUPLICATE_VALUE", `duplicate value found: ${field.name} duplicates value on record with id: ${other}`, [field.name])
    }
  }
  return undefined
}

const lockError = (context: Context, job: IngestJob, row: number, id: string | undefined): RowError | undefined => {
  if (context.lockErrorRate <= 0) return undefined
  const key = `${job.spec.object}\u0000${job.rowText(row)}`
  if (context.lockAttempted.has(key)) return undefined
  if (context.random() >= context.lockErrorRate) return undefined
  context.lockAttempted.add(key)
  return rowError("UNABLE_TO_LOCK_ROW", `unable to obtain exclusive access to this record or 1 records: ${id ?? ""}`.trimEnd())
}

/** Rows of a batch read as cells: each row's `stride` offsets (`Csv.Reader.nextCells`) in `bounds`, over `bytes`. */
export interface CellRows {
  readonly bytes: Buffer
  /** How a cell's bytes become text: `latin1` (a copy) when every byte of the upload is ASCII. */
  readonly encoding: "latin1" | "utf8"
  readonly bounds: Int32Array
  readonly stride: number
}

interface CellColumn {
  readonly position: number
  readonly name: string
  readonly check: CellCheck.CellCheck | undefined
  readonly convert: Converter
  readonly required: boolean
  /** Its value is looked up and indexed: always read. */
  readonly unique: boolean
}

/** A plan's columns as cell checks, and the record an insert from cells hands the store's indexes. */
export interface CellPlan {
  readonly columns: ReadonlyArray<CellColumn>
  /** Reused: the row's unique values, and the defaulted fields' values as the usual insert sets them. */
  readonly record: StoredRecord
}

/** The values an insert kept as text gets for its defaulted fields (no autoNumber there): the owner, or the field's default. */
const defaultValues = (plan: Plan, context: Context): Array<[string, FieldValue]> =>
  plan.defaulted.flatMap((field): Array<[string, FieldValue]> => {
    if (field.name === "OwnerId") return [[field.name, context.userId]]
    return field.defaultValue === undefined ? [] : [[field.name, field.defaultValue]]
  })

const compileCellPlan = (plan: Plan, job: IngestJob, context: Context): CellPlan | undefined => {
  const fieldColumns = plan.columns.flatMap((column) => (column.kind === "field" ? [column] : []))
  const columnFields = new Set(fieldColumns.map((column) => column.field))
  const usable =
    job.spec.operation === "insert" &&
    plan.lazyInsert &&
    !plan.hasRules &&
    context.lockErrorRate <= 0 &&
    plan.idPosition === undefined &&
    fieldColumns.length === plan.columns.length &&
    fieldColumns.every((column) => column.field.createable) &&
    plan.required.every((field) => columnFields.has(field))
  if (!usable) return undefined
  const required = new Set(plan.required)
  const unique = new Set(plan.uniqueFields)
  const record: StoredRecord = Object.fromEntries(defaultValues(plan, context))
  const columns = fieldColumns.map((column) => ({
    position: column.position,
    name: column.field.name,
    check: column.check,
    convert: column.convert,
    required: required.has(column.field),
    unique: unique.has(column.field)
  }))
  return { columns, record }
}

/** Applies one batch of rows (already parsed) to the store; outcomes go into the job. */
export class BatchProcessor {
  private createdAudit: Audit = created("", "")
  private readonly modifiedAudits = new Map<Audit | undefined, Audit>()

  constructor(
    private readonly plan: Plan,
    private readonly job: IngestJob,
    private readonly context: Context
  ) {
    this.cellPlan = compileCellPlan(plan, job, context)
  }

  /**
   * Processes rows `rows[i]` (values) of job row numbers `indexes[i]`. A row given as `undefined`
   * was read as cells: its offsets are in `cells.bounds` from `i * cells.stride` on.
   */
  run(indexes: ReadonlyArray<number>, rows: ReadonlyArray<ReadonlyArray<string> | undefined>, now: Date, cells?: CellRows): void {
    this.createdAudit = created(now.toISOString(), this.context.userId)
    this.batchSource = undefined
    this.modifiedAudits.clear()
    const duplicates = this.repeatedKeys
    for (let position = 0; position < rows.length; position++) {
      const index = indexes[position] ?? 0
      let values = rows[position]
      if (values === undefined) {
        if (cells === undefined || this.insertCells(index, cells, position * cells.stride)) continue
        values = this.job.rowText(index).split(this.job.spec.columnDelimiter)
      }
      if (values.length !== this.plan.columnCount) {
        this.job.fail(index, rowError("INVALID_FIELD", `Wrong number of columns in row: expected ${this.plan.columnCount}, found ${values.length}`).text)
        continue
      }
      const duplicate = duplicates === undefined ? undefined : this.keyOf(values)
      if (duplicate !== undefined && duplicates?.has(duplicate) === true) {
        const keyName = this.plan.keyField?.name ?? "Id"
        const message = keyName === "Id" ? `Duplicate id in list: ${values[this.plan.idPosition ?? 0] ?? ""}` : `Duplicate external id specified: ${values[this.plan.keyPosition ?? 0] ?? ""}`
        this.job.fail(index, rowError("DUPLICATE_VALUE", message, keyName === "Id" ? [] : [keyName]).text)
        continue
      }
      this.row(index, values)
    }
  }

  /**
   * How this job's rows can be inserted from their cells' bytes, when they can: an insert kept as
   * text, with no Id column, every column createable, every required field among them, no rules
   * and no lock faults. `undefined` otherwise: rows are read as values.
   */
  readonly cellPlan: CellPlan | undefined

  /**
   * Inserts a row from its cells (offsets from `bounds[offset]` on) when every cell passes its
   * check and no unique value is taken; `false`, with nothing done, otherwise: the row is then
   * read and goes the usual way, which says why it fails (or inserts it after all).
   */
  private insertCells(index: number, cells: CellRows, offset: number): boolean {
    const cellPlan = this.cellPlan
    if (cellPlan === undefined) return false
    const { bytes, bounds } = cells
    const record = cellPlan.record
    for (const column of cellPlan.columns) {
      const start = bounds[offset + column.position] ?? 0
      const end = (bounds[offset + column.position + 1] ?? 0) - 1
      if (start === end) {
        if (column.required) return false
        if (column.unique) record[column.name] = null
        continue
      }
      if (CellCheck.isNotApplicable(bytes, start, end)) return false
      if (!column.unique && column.check?.(bytes, start, end) === true) continue
      const value = column.convert(bytes.toString(cells.encoding, start, end))
      if (value instanceof RowError) return false
      if (column.unique) record[column.name] = value
    }
    const store = this.context.store
    if (duplicateOf(this.plan, store, record, undefined) !== undefined) return false
    const sequence = store.nextSequence()
    store.insertLazy(sequence, this.source(), this.job.spans[index * 2] ?? 0, this.job.spans[index * 2 + 1] ?? 0, record)
    this.job.succeed(index, sequence, true)
    return true
  }

  /** Keys (Id or external id) given more than once anywhere in the job: every such row fails. */
  private repeatedKeys: Set<string> | undefined

  /**
   * Reads every row of the job (from `reader`, past the header) for keys given more than once,
   * before any batch runs, so a repeated key fails all its rows however far apart they are.
   * Insert has no key: nothing to read. Rows of the wrong width are left out (they fail anyway).
   */
  scanKeys(reader: Csv.Reader): void {
    if (this.job.spec.operation === "insert") return
    const position = this.plan.keyField === undefined ? this.plan.idPosition : this.plan.keyPosition
    if (position === undefined) return
    const columnCount = this.plan.columnCount
    const seen = new Set<string>()
    let repeated: Set<string> | undefined
    for (let values = reader.nextValues(); values !== undefined; values = reader.nextValues()) {
      if (values.length !== columnCount) continue
      const key = this.keyOf(values)
      if (key === undefined) continue
      if (seen.has(key)) (repeated ??= new Set()).add(key)
      else seen.add(key)
    }
    this.repeatedKeys = repeated
  }

  private keyOf(values: ReadonlyArray<string>): string | undefined {
    const position = this.plan.keyField === undefined ? this.plan.idPosition : this.plan.keyPosition
    const raw = position === undefined ? undefined : values[position]
    if (raw === undefined || raw === "") return undefined
    if (this.plan.keyField === undefined) return SalesforceId.normalize(raw) ?? raw
    return this.plan.keyField.caseSensitive ? raw : raw.toLowerCase()
  }

  /** The audit of a record modified in this batch, shared by records that had the same one. */
  private modifiedAudit(before: Audit | undefined): Audit {
    let after = this.modifiedAudits.get(before)
    if (after === undefined) {
      const now = this.createdAudit
      after = {
        CreatedDate: before?.CreatedDate ?? now.CreatedDate,
        CreatedById: before?.CreatedById ?? now.CreatedById,
        LastModifiedDate: now.LastModifiedDate,
        LastModifiedById: now.LastModifiedById,
        SystemModstamp: now.SystemModstamp
      }
      this.modifiedAudits.set(before, after)
    }
    return after
  }

  private row(index: number, values: ReadonlyArray<string>): void {
    const operation: Operation = this.job.spec.operation
    switch (operation) {
      case "insert": {
        // An insert names no record: a non-empty Id cell fails the row (upsert may insert past it).
        const id = this.plan.idPosition === undefined ? "" : values[this.plan.idPosition]
        if (id !== undefined && id !== "") {
          return this.job.fail(index, rowError("INVALID_FIELD_FOR_INSERT_UPDATE", "cannot specify Id in an insert call", ["Id"]).text)
        }
        return this.insert(index, values)
      }
      case "update":
        return this.update(index, values, true)
      case "upsert":
        return this.upsert(index, values)
      case "delete":
      case "hardDelete":
        return this.remove(index, values, operation === "delete")
    }
  }

  private insert(index: number, values: ReadonlyArray<string>): void {
    const { plan, job, context } = this
    const store = context.store
    const changes = readChanges(plan, values, "insert", this.insertTarget(), plan.lazyInsert)
    if (changes instanceof RowError) return job.fail(index, changes.text)
    let missing: Array<string> | undefined
    for (const field of plan.required) {
      const value = changes[field.name]
      if (value === undefined || value === null) (missing ??= []).push(field.name)
    }
    if (missing !== undefined) {
      return job.fail(index, rowError("REQUIRED_FIELD_MISSING", `Required fields are missing: [${missing.join(", ")}]`, missing).text)
    }
    const broken = plan.hasRules ? ruleViolation(store, changes, undefined) : undefined
    if (broken !== undefined) return job.fail(index, broken.text)
    const duplicate = duplicateOf(plan, store, changes, undefined)
    if (duplicate !== undefined) return job.fail(index, duplicate.text)
    const locked = lockError(context, job, index, undefined)
    if (locked !== undefined) return job.fail(index, locked.text)
    for (const field of plan.defaulted) {
      if (changes[field.name] !== undefined && changes[field.name] !== null) continue
      if (field.autoNumber) changes[field.name] = store.nextAutoNumber(field)
      else if (field.name === "OwnerId") changes[field.name] = context.userId
      else if (field.defaultValue !== undefined) changes[field.name] = field.defaultValue
    }
    if (plan.lazyInsert) {
      const sequence = store.nextSequence()
      store.insertLazy(sequence, this.source(), job.spans[index * 2] ?? 0, job.spans[index * 2 + 1] ?? 0, changes)
      return job.succeed(index, sequence, true)
    }
    const id = store.nextId()
    changes["Id"] = id
    changes[audit] = this.createdAudit
    store.insert(changes)
    job.succeed(index, id, true)
  }

  private batchSource: RowSource | undefined
  private scratch: StoredRecord | undefined

  /**
   * Where an insert reads its row: one reused object when the row is kept as text (`readChanges`
   * then writes every column, clearing the empty ones), else a fresh record.
   */
  private insertTarget(): StoredRecord {
    const plan = this.plan
    if (!plan.lazyInsert) return { ...plan.insertTemplate }
    return (this.scratch ??= { ...plan.insertTemplate })
  }

  /** This batch's way back from a row's text to its record (same values as an eager insert). */
  private source(): RowSource {
    if (this.batchSource !== undefined) return this.batchSource
    const { plan, context } = this
    const content = this.job.content ?? Buffer.alloc(0)
    const delimiter = this.job.spec.columnDelimiter
    const stamps = this.createdAudit
    const defaults = defaultValues(plan, context)
    const source: RowSource = {
      materialize: (id, start, end) => {
        const values = new Csv.Reader(content.subarray(start, end), delimiter).next()?.values ?? []
        const record: StoredRecord = { ...plan.insertTemplate }
        for (const column of plan.columns) {
          const raw = values[column.position]
          if (column.kind !== "field" || raw === undefined || raw === "" || raw === "#N/A") continue
          const value = column.convert(raw)
          record[column.field.name] = value instanceof RowError ? null : value
        }
        for (const [name, value] of defaults) record[name] = value
        record["Id"] = id
        record[audit] = stamps
        return record
      }
    }
    this.batchSource = source
    return source
  }

  /** The stored record an `Id` cell names, or the row's error. */
  private existing(raw: string | undefined, operation: string): string | RowError {
    if (raw === undefined || raw === "") return rowError("MISSING_ARGUMENT", `Id not specified in an ${operation} call`)
    const id = SalesforceId.normalize(raw)
    const store = this.context.store
    if (id === undefined || SalesforceId.keyPrefix(id) !== store.sobject.keyPrefix) {
      return rowError("MALFORMED_ID", `${store.sobject.label} ID: id value of incorrect type: ${raw}`, ["Id"])
    }
    if (store.records.has(id)) return id
    if (store.deleted.has(id)) return rowError("ENTITY_IS_DELETED", "entity is deleted")
    return rowError("NOT_FOUND", "The requested resource does not exist")
  }

  private update(index: number, values: ReadonlyArray<string>, byId: boolean, knownId?: string): void {
    const { plan, job, context } = this
    let id = knownId
    if (byId) {
      const found = this.existing(plan.idPosition === undefined ? undefined : values[plan.idPosition], "update")
      if (found instanceof RowError) return job.fail(index, found.text)
      id = found
    }
    if (id === undefined) return
    const changes = readChanges(plan, values, "update", {})
    if (changes instanceof RowError) return job.fail(index, changes.text, id)
    const broken = plan.hasRules ? ruleViolation(context.store, { ...context.store.records.get(id), ...changes }, id) : undefined
    if (broken !== undefined) return job.fail(index, broken.text, id)
    const duplicate = duplicateOf(plan, context.store, changes, id)
    if (duplicate !== undefined) return job.fail(index, duplicate.text, id)
    const locked = lockError(context, job, index, id)
    if (locked !== undefined) return job.fail(index, locked.text, id)
    changes[audit] = this.modifiedAudit(context.store.records.get(id)?.[audit])
    context.store.update(id, changes)
    job.succeed(index, id, false)
  }

  private upsert(index: number, values: ReadonlyArray<string>): void {
    const { plan, job, context } = this
    const keyField = plan.keyField
    if (keyField === undefined) {
      const raw = plan.idPosition === undefined ? undefined : values[plan.idPosition]
      return raw === undefined || raw === "" ? this.insert(index, values) : this.update(index, values, true)
    }
    const raw = plan.keyPosition === undefined ? undefined : values[plan.keyPosition]
    if (raw === undefined || raw === "" || raw === "#N/A") {
      return job.fail(index, rowError("MISSING_ARGUMENT", `${keyField.name} not specified`).text)
    }
    const matches = context.store.findBy(keyField.name, raw)
    if (matches.length === 0) return this.insert(index, values)
    if (matches.length > 1) {
      return job.fail(index, rowError("DUPLICATE_EXTERNAL_ID", `${keyField.label}: more than one record found for external id field: [${matches.join(", ")}]`, [keyField.name]).text)
    }
    return this.update(index, values, false, matches[0])
  }

  private remove(index: number, values: ReadonlyArray<string>, keepTombstone: boolean): void {
    const { plan, job, context } = this
    const found = this.existing(plan.idPosition === undefined ? undefined : values[plan.idPosition], "delete")
    if (found instanceof RowError) return job.fail(index, found.text)
    const locked = lockError(context, job, index, found)
    if (locked !== undefined) return job.fail(index, locked.text, found)
    context.store.remove(found, keepTombstone)
    job.succeed(index, found, false)
  }
}
