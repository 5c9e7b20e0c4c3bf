/**
 * The stored records of one sObject, with the indexes Salesforce keeps: unique fields, external
 * ids and idLookup fields (case-insensitive unless the field is case-sensitive).
 */
import type { FieldDescription, SObjectDescription } from "./OrgFixture.js"
import * as SalesforceId from "./SalesforceId.js"

/** A stored field value; dates, datetimes and times are ISO strings. */
export type FieldValue = string | number | boolean | null

/** The audit fields of a record, shared by every record a batch writes (memory stays per record small). */
export interface Audit {
  readonly CreatedDate: string
  readonly CreatedById: string
  readonly LastModifiedDate: string
  readonly LastModifiedById: string
  readonly SystemModstamp: string
}

/** Where a stored record keeps its shared `Audit`. */
export const audit: unique symbol = Symbol("audit")

/** A stored record: `Id` plus field API name → value, and its audit fields. */
export interface StoredRecord {
  [field: string]: FieldValue
  [audit]?: Audit
}

/** An audit for records created at `stamp` by `userId`. */
export const created = (stamp: string, userId: string): Audit => ({
  CreatedDate: stamp,
  CreatedById: userId,
  LastModifiedDate: stamp,
  LastModifiedById: userId,
  SystemModstamp: stamp
})

/** A plain copy of a stored record: its fields, audit fields, and unset non-nillable booleans as `false`. */
export const flatten = (record: StoredRecord, sobject: SObjectDescription): Record<string, FieldValue> => {
  const plain: Record<string, FieldValue> = {}
  for (const key of Object.keys(record)) {
    const value = record[key]
    if (value !== undefined) plain[key] = value
  }
  const stamps = record[audit]
  if (stamps !== undefined) Object.assign(plain, stamps)
  for (const field of sobject.fields) {
    if (field.type === "boolean" && plain[field.name] === undefined) plain[field.name] = field.defaultValue === true
  }
  return plain
}

/**
 * A hash table from strings to values, for indexes of millions of keys: FNV-1a hashes, open
 * addressing over typed arrays. An insert after a lookup that missed reuses the free slot it found.
 * A deleted key leaves its entry as a tombstone until the table is next rebuilt. A `Map` of a
 * million keys is one large object that each growth copies and the garbage collector reads again
 * and again: this table makes a million inserts with a unique external id a tenth faster or more.
 */
export class KeyTable<V> {
  private keys: Array<string | undefined> = []
  private values: Array<V | undefined> = []
  private hashes = new Int32Array(initialKeyTableSize)
  /** Entry index + 1 for each slot; 0 is a free slot. */
  private slots = new Int32Array(initialKeyTableSize * 2)
  private live = 0

  get size(): number {
    return this.live
  }

  private static hash(key: string): number {
    let hash = 0x811c9dc5
    for (let index = 0; index < key.length; index++) hash = Math.imul(hash ^ key.charCodeAt(index), 0x01000193)
    return hash | 0
  }

  /** The key the last `find` did not find, its hash, and the free slot it ended on. */
  private missedKey: string | undefined
  private missedHash = 0
  private missedSlot = 0

  /** The entry of `key`, or -1. */
  private find(key: string, hash: number): number {
    const slots = this.slots
    const mask = slots.length - 1
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const entry = (slots[slot] ?? 0) - 1
      if (entry < 0) {
        this.missedKey = key
        this.missedHash = hash
        this.missedSlot = slot
        return -1
      }
      if (this.hashes[entry] === hash && this.keys[entry] === key) return entry
    }
  }

  get(key: string): V | undefined {
    const entry = this.find(key, KeyTable.hash(key))
    return entry < 0 ? undefined : this.values[entry]
  }

  set(key: string, value: V): void {
    // an insert looks its key up first: the free slot that lookup ended on is where the key goes
    // (`find` leaves it and the hash in `missedSlot` and `missedHash` whenever it finds nothing)
    const missed = key === this.missedKey
    const hash = missed ? this.missedHash : KeyTable.hash(key)
    const entry = missed ? -1 : this.find(key, hash)
    this.missedKey = undefined
    if (entry >= 0) {
      this.values[entry] = value
      return
    }
    const added = this.keys.length
    if ((added + 1) * 2 > this.slots.length) {
      this.rebuild()
      this.set(key, value)
      return
    }
    if (added === this.hashes.length) {
      const hashes = new Int32Array(this.hashes.length * 2)
      hashes.set(this.hashes)
      this.hashes = hashes
    }
    this.keys.push(key)
    this.values.push(value)
    this.hashes[added] = hash
    this.slots[this.missedSlot] = added + 1
    this.live++
  }

  delete(key: string): void {
    const entry = this.find(key, KeyTable.hash(key))
    this.missedKey = undefined
    if (entry < 0) return
    this.keys[entry] = undefined
    this.values[entry] = undefined
    this.live--
  }

  /** Sizes the slots for four times the live keys, dropping tombstones when there are any. */
  private rebuild(): void {
    this.missedKey = undefined
    if (this.live < this.keys.length) {
      const keys: Array<string | undefined> = []
      const values: Array<V | undefined> = []
      for (let entry = 0; entry < this.keys.length; entry++) {
        const key = this.keys[entry]
        if (key === undefined) continue
        this.hashes[keys.length] = this.hashes[entry] ?? 0
        keys.push(key)
        values.push(this.values[entry])
      }
      this.keys = keys
      this.values = values
    }
    let size = initialKeyTableSize * 2
    while (size < this.live * 4) size *= 2
    const slots = new Int32Array(size)
    const mask = size - 1
    for (let entry = 0; entry < this.keys.length; entry++) {
      let slot = (this.hashes[entry] ?? 0) & mask
      while ((slots[slot] ?? 0) !== 0) slot = (slot + 1) & mask
      slots[slot] = entry + 1
    }
    this.slots = slots
  }
}

const initialKeyTableSize = 64

/**
 * A record's Id as an index keeps it: the sequence number of an Id this object's `nextId` made (no
 * string per record at millions of rows), any other Id as its text.
 */
type IdRef = string | number

/** An index of one field: normalised value → the Id holding it, or every Id when several do. */
class FieldIndex {
  private readonly entries = new KeyTable<IdRef | Array<IdRef>>()
  constructor(
    readonly field: FieldDescription,
    private readonly keyPrefix: string
  ) {}

  /** The last value looked up, its key, and whether no record held it: an insert looks a value up, then adds it. */
  private lastValue: string | undefined
  private lastKey = ""
  private lastMissed = false

  key(value: FieldValue): string | undefined {
    if (value === null) return undefined
    const text = String(value)
    if (text === this.lastValue) return this.lastKey
    return this.field.caseSensitive ? text : text.toLowerCase()
  }

  /** How `id` is kept: its sequence number when `nextId` made it. */
  private refOf(id: IdRef): IdRef {
    if (typeof id === "number") return id
    const sequence = SalesforceId.sequenceMadeBy(id, this.keyPrefix)
    return sequence < 0 ? id : sequence
  }

  private idOf(ref: IdRef): string {
    return typeof ref === "number" ? SalesforceId.make(this.keyPrefix, ref) : ref
  }

  /** Adds the record `id` (an Id, or the sequence number of one `nextId` made) as holding `value`. */
  add(value: FieldValue, id: IdRef): void {
    const key = this.key(value)
    if (key === undefined) return
    const ref = this.refOf(id)
    const missed = this.lastMissed && key === this.lastKey
    this.lastMissed = false
    // a key just looked up and not found needs no second lookup (one hash probe fewer per inserted row)
    const existing = missed ? undefined : this.entries.get(key)
    if (existing === undefined) this.entries.set(key, ref)
    else if (Array.isArray(existing)) existing.push(ref)
    else this.entries.set(key, [existing, ref])
  }

  remove(value: FieldValue, id: string): void {
    this.lastMissed = false
    const key = this.key(value)
    if (key === undefined) return
    const existing = this.entries.get(key)
    if (existing === undefined) return
    const ref = this.refOf(id)
    if (!Array.isArray(existing)) {
      if (existing === ref) this.entries.delete(key)
      return
    }
    const rest = existing.filter((other) => other !== ref)
    if (rest.length === 0) this.entries.delete(key)
    else this.entries.set(key, rest.length === 1 && rest[0] !== undefined ? rest[0] : rest)
  }

  /** The Ids holding `value` (none, one or several). */
  find(value: string): ReadonlyArray<string> {
    const found = this.lookup(value)
    return found === undefined ? noIds : typeof found === "string" ? [found] : found
  }

  /** The Id or Ids holding `value`; a value no record holds allocates nothing. */
  lookup(value: string): string | ReadonlyArray<string> | undefined {
    const key = this.field.caseSensitive ? value : value.toLowerCase()
    this.lastValue = value
    this.lastKey = key
    const found = this.entries.get(key)
    this.lastMissed = found === undefined
    if (found === undefined) return undefined
    return Array.isArray(found) ? found.map((ref) => this.idOf(ref)) : this.idOf(found)
  }
}

const noIds: ReadonlyArray<string> = []

/** Turns a row kept as text (the bytes `start` to `end` of its upload) back into the record `id`. */
export interface RowSource {
  readonly materialize: (id: string, start: number, end: number) => StoredRecord
}

/**
 * Records one batch inserted from an uploaded CSV, kept as their rows' places in the upload until
 * something reads them: the `index`-th has the sequence number `firstSequence + index` (its Id is
 * made again from it). At millions of rows this is two numbers per record, instead of an object, an
 * Id string and a string per field. Reading a record materializes (and keeps) the plain record.
 */
export class LazyRows {
  private starts = new Uint32Array(initialLazyRows)
  private ends = new Uint32Array(initialLazyRows)
  count = 0

  constructor(
    readonly firstSequence: number,
    readonly source: RowSource
  ) {}

  /** Adds the next record: its row is the bytes `start` to `end` of the upload. */
  add(start: number, end: number): void {
    if (this.count === this.starts.length) {
      this.starts = grown(this.starts)
      this.ends = grown(this.ends)
    }
    this.starts[this.count] = start
    this.ends[this.count] = end
    this.count++
  }

  /** The record of sequence number `sequence`, whose Id is `id`. */
  materialize(id: string, sequence: number): StoredRecord {
    const index = sequence - this.firstSequence
    return this.source.materialize(id, this.starts[index] ?? 0, this.ends[index] ?? 0)
  }
}

const initialLazyRows = 1024

const grown = (array: Uint32Array): Uint32Array<ArrayBuffer> => {
  const larger = new Uint32Array(array.length * 2)
  larger.set(array)
  return larger
}

type Slot = StoredRecord | LazyRows

/** Empty slots a record kept as text may leave before it (a seed's Id moved the sequence on); past that, it is stored read. */
const maxSequenceGap = 65_536

/**
 * Records by Id. Ids this emulator made come in sequence and are kept in an array by their
 * sequence number (cheap at millions of rows); any other Id (fixture seeds) goes to a map. A slot
 * holding `LazyRows` is a record kept as text, whose Id is the one its sequence number makes.
 */
export class RecordTable {
  /** Sequence numbers start at 1: slot 0 stays empty. */
  private readonly bySequence: Array<Slot | undefined> = [undefined]
  private readonly others = new Map<string, StoredRecord>()
  private count = 0

  constructor(private readonly keyPrefix: string) {}

  get size(): number {
    return this.count
  }

  /** The sequence number of an Id this table keeps by sequence (one `nextId` made), or -1. */
  private sequence(id: string): number {
    return SalesforceId.sequenceMadeBy(id, this.keyPrefix)
  }

  /**
   * The sequence number whose slot holds the record `id`, or -1 (then it may be among the others).
   * A record kept as text has the Id its sequence number makes.
   */
  private heldAt(id: string): number {
    const sequence = this.sequence(id)
    const slot = sequence < 0 ? undefined : this.bySequence[sequence]
    return slot !== undefined && (slot instanceof LazyRows || slot["Id"] === id) ? sequence : -1
  }

  private materialize(slot: Slot, sequence: number, id?: string): StoredRecord {
    if (!(slot instanceof LazyRows)) return slot
    const record = slot.materialize(id ?? SalesforceId.make(this.keyPrefix, sequence), sequence)
    this.bySequence[sequence] = record
    return record
  }

  get(id: string): StoredRecord | undefined {
    const sequence = this.heldAt(id)
    const slot = sequence < 0 ? undefined : this.bySequence[sequence]
    if (slot !== undefined) return this.materialize(slot, sequence, id)
    return this.others.size === 0 ? undefined : this.others.get(id)
  }

  has(id: string): boolean {
    return this.heldAt(id) >= 0 || (this.others.size > 0 && this.others.has(id))
  }

  /** Stores `record` under `id`; `sequence` is what `SalesforceId.sequenceMadeBy` reads in it, when the caller has read it. */
  set(id: string, record: StoredRecord, sequence: number = this.sequence(id)): void {
    if (sequence < 0 || sequence > this.bySequence.length || (this.others.size > 0 && this.others.has(id))) {
      if (!this.others.has(id)) this.count++
      this.others.set(id, record)
      return
    }
    if (sequence === this.bySequence.length) this.bySequence.push(undefined)
    if (this.bySequence[sequence] === undefined) this.count++
    this.bySequence[sequence] = record
  }

  /**
   * Stores the record `rows` is about to add under `sequence`, the sequence number `nextSequence`
   * just gave: past every slot in use, and not far past (a seed given an Id spelt like the org's
   * own moves the sequence on). `false` (nothing stored) otherwise.
   */
  setLazy(sequence: number, rows: LazyRows): boolean {
    if (sequence < this.bySequence.length || sequence - this.bySequence.length > maxSequenceGap) return false
    while (this.bySequence.length < sequence) this.bySequence.push(undefined)
    this.bySequence.push(rows)
    this.count++
    return true
  }

  delete(id: string): void {
    if (this.others.delete(id)) {
      this.count--
      return
    }
    const sequence = this.heldAt(id)
    if (sequence >= 0) {
      this.bySequence[sequence] = undefined
      this.count--
    }
  }

  *values(): Generator<StoredRecord> {
    for (const record of [...this.others.values()]) yield record
    for (let sequence = 0; sequence < this.bySequence.length; sequence++) {
      const slot = this.bySequence[sequence]
      if (slot !== undefined) yield this.materialize(slot, sequence)
    }
  }

  /** Every record, read without keeping the materialized copies (index builds over rows kept as text). */
  *scan(): Generator<StoredRecord> {
    for (const record of [...this.others.values()]) yield record
    for (let sequence = 0; sequence < this.bySequence.length; sequence++) {
      const slot = this.bySequence[sequence]
      if (slot === undefined) continue
      yield slot instanceof LazyRows ? slot.materialize(SalesforceId.make(this.keyPrefix, sequence), sequence) : slot
    }
  }

  *entries(): Generator<[string, StoredRecord]> {
    for (const record of this.values()) yield [String(record["Id"]), record]
  }
}

export class ObjectStore {
  readonly records: RecordTable
  /** idLookup-only fields (not unique, not external ids): indexed on first lookup, then kept. */
  private readonly lazyIndexes = new Map<string, FieldDescription>()
  /** Ids removed by `delete` (not `hardDelete`): a later reference finds ENTITY_IS_DELETED. */
  readonly deleted = new Set<string>()
  readonly indexes = new Map<string, FieldIndex>()
  private readonly indexList: Array<FieldIndex> = []
  private readonly autoNumbers = new Map<string, number>()
  private sequence = 0

  constructor(readonly sobject: SObjectDescription) {
    this.records = new RecordTable(sobject.keyPrefix)
    for (const field of sobject.fields) {
      if (field.type === "id") continue
      if (field.unique || field.externalId) this.addIndex(field)
      else if (field.idLookup || sobject.duplicateRules.some((rule) => rule.fields.includes(field.name))) this.lazyIndexes.set(field.name, field)
    }
  }

  /** A fresh 18-character Id with this object's key prefix. */
  nextId(): string {
    return SalesforceId.make(this.sobject.keyPrefix, this.nextSequence())
  }

  /** The sequence number of a fresh Id, which `SalesforceId.make` spells with this object's key prefix. */
  nextSequence(): number {
    return ++this.sequence
  }

  /** The next value of an autoNumber field, formatted by its display format (`PU-{000000}`). */
  nextAutoNumber(field: FieldDescription): string {
    const next = (this.autoNumbers.get(field.name) ?? 0) + 1
    this.autoNumbers.set(field.name, next)
    const format = field.displayFormat ?? "{0}"
    return format.replace(/\{(0+)\}/, (_match, zeros: string) => String(next).padStart(zeros.length, "0"))
  }

  private addIndex(field: FieldDescription): FieldIndex {
    const index = new FieldIndex(field, this.sobject.keyPrefix)
    this.indexes.set(field.name, index)
    this.indexList.push(index)
    return index
  }

  /** The Id or Ids holding `value` in a unique or external id field (a value no record holds allocates nothing). */
  holders(fieldName: string, value: string): string | ReadonlyArray<string> | undefined {
    return this.indexes.get(fieldName)?.lookup(value)
  }

  /** Ids holding `value` in an indexed field (unique, external id or idLookup). */
  findBy(fieldName: string, value: string): ReadonlyArray<string> {
    let index = this.indexes.get(fieldName)
    if (index === undefined) {
      const field = this.lazyIndexes.get(fieldName)
      if (field === undefined) return []
      this.lazyIndexes.delete(fieldName)
      index = this.addIndex(field)
      for (const record of this.records.scan()) {
        const stored = record[field.name]
        const id = record["Id"]
        if (stored !== undefined && stored !== null && typeof id === "string") index.add(stored, id)
      }
    }
    return index.find(value)
  }

  /** The rows kept as text the last lazy inserts went to. */
  private lazyRows: LazyRows | undefined

  /**
   * Stores a row kept as text: the record of the Id `nextSequence` just gave `sequence` for, whose
   * row `source` reads from the bytes `start` to `end` of its upload. `values` holds at least its
   * indexed fields' values. Any other sequence number is stored as the materialized record.
   */
  insertLazy(sequence: number, source: RowSource, start: number, end: number, values: StoredRecord): void {
    let rows = this.lazyRows
    if (rows === undefined || rows.source !== source || rows.firstSequence + rows.count !== sequence) rows = new LazyRows(sequence, source)
    if (sequence !== this.sequence || !this.records.setLazy(sequence, rows)) {
      this.insert(source.materialize(SalesforceId.make(this.sobject.keyPrefix, sequence), start, end))
      return
    }
    this.lazyRows = rows
    rows.add(start, end)
    for (const index of this.indexList) {
      const value = values[index.field.name]
      if (value !== undefined && value !== null) index.add(value, sequence)
    }
  }

  insert(record: StoredRecord): void {
    const id = record["Id"]
    if (typeof id !== "string") return
    // an Id given as `nextId` would spell one (a seed's) is never made again
    const sequence = SalesforceId.sequenceMadeBy(id, this.sobject.keyPrefix)
    if (sequence > this.sequence) this.sequence = sequence
    this.records.set(id, record, sequence)
    for (const index of this.indexList) {
      const value = record[index.field.name]
      if (value !== undefined && value !== null) index.add(value, id)
    }
  }

  /** Writes `changes` into the stored record `id`, keeping the indexes right. */
  update(id: string, changes: StoredRecord): void {
    const record = this.records.get(id)
    if (record === undefined) return
    for (const index of this.indexList) {
      const name = index.field.name
      if (!(name in changes)) continue
      const before = record[name]
      if (before !== undefined && before !== null) index.remove(before, id)
      const after = changes[name]
      if (after !== undefined && after !== null) index.add(after, id)
    }
    Object.assign(record, changes)
    const stamps = changes[audit]
    if (stamps !== undefined) record[audit] = stamps
  }

  remove(id: string, keepTombstone: boolean): void {
    const record = this.records.get(id)
    if (record === undefined) return
    for (const index of this.indexList) {
      const value = record[index.field.name]
      if (value !== undefined && value !== null) index.remove(value, id)
    }
    this.records.delete(id)
    if (keepTombstone) this.deleted.add(id)
  }
}
