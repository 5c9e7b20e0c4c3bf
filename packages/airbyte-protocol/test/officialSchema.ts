/** The official protocol schema (a copy in fixtures/), compiled with a JSON Schema validator. */
import { Ajv } from "ajv"
import * as fs from "node:fs"
import * as path from "node:path"
import { parse } from "yaml"

const fixtures = path.join(import.meta.dirname, "fixtures")

const protocol: unknown = parse(fs.readFileSync(path.join(fixtures, "airbyte_protocol.v0.18.0.yaml"), "utf8"))

const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true })
ajv.addSchema(protocol as object, "protocol")

const validator = (definition: string) => {
  const validate = ajv.getSchema(`protocol#/definitions/${definition}`)
  if (validate === undefined) throw new Error(`no definition ${definition}`)
  return (value: unknown): Array<string> =>
    validate(value) ? [] : (validate.errors ?? []).map((error) => `${error.instancePath} ${error.message ?? ""}`)
}

/** Errors of `value` against the official AirbyteMessage definition; empty when valid. */
export const messageErrors = validator("AirbyteMessage")
/** Errors of `value` against the official ConfiguredAirbyteCatalog definition. */
export const configuredCatalogErrors = validator("ConfiguredAirbyteCatalog")

export const readFixture = (name: string): string => fs.readFileSync(path.join(fixtures, name), "utf8")

/** `JSON.parse`, typed as what it is. */
export const parseJson = (text: string): unknown => JSON.parse(text)
