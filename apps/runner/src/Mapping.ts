/**
 * A sync's `mappings` as the batcher's CSV columns: `Field: column` reads a source column,
 * `{ from, nulls }` also sets that field's null policy, `{ constant }` writes the same value
 * on every row. Relationship fields (`Account.External_Id__c`) pass through as headers.
 */
import type { CsvEncoder } from "@sfdc-activation/batcher"
import type * as SyncDefinition from "./SyncDefinition.js"

/** The CSV columns of a sync, in mapping order. */
export const columns = (definition: SyncDefinition.SyncDefinition): Array<CsvEncoder.Column> =>
  Object.entries(definition.mappings).map(([field, mapping]): CsvEncoder.Column => {
    if (typeof mapping === "string") return { column: field, source: { key: mapping } }
    if ("from" in mapping) {
      return mapping.nulls === undefined ? { column: field, source: { key: mapping.from } } : { column: field, source: { key: mapping.from }, nullPolicy: mapping.nulls }
    }
    return { column: field, source: { constant: mapping.constant } }
  })

/** The source columns a sync reads. */
export const sourceColumns = (definition: SyncDefinition.SyncDefinition): Array<string> =>
  columns(definition).flatMap((column) => ("key" in column.source ? [column.source.key] : []))
