/**
 * `configs/sync.schema.json`: the JSON Schema of a sync definition, generated from the same
 * `SyncDefinition` schema that decodes the YAML, so editors complete and validate what the
 * runner accepts. A test fails when the committed file is stale (`nx run runner:json-schema`).
 */
import * as JSONSchema from "effect/JSONSchema"
import * as SyncDefinition from "./SyncDefinition.js"

export const defaultPath = "configs/sync.schema.json"

/** The schema document, as committed (2-space JSON and a final newline). */
export const text = (): string => {
  const schema = JSONSchema.make(SyncDefinition.SyncDefinition)
  return `${JSON.stringify({ ...schema, $id: "https://github.com/sfdc-activation/sync.schema.json" }, null, 2)}\n`
}
