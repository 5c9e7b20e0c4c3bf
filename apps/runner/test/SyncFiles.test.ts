import { describe, expect, it } from "@effect/vitest"
import * as Either from "effect/Either"
import * as SyncFiles from "../src/SyncFiles.js"

const valid = `name: accounts
org: local
source:
  type: duckdb
  query: SELECT 1
object: Account
operation: upsert
externalIdField: External_Id__c
mappings:
  External_Id__c: id
  Name: { from: name, nulls: leave }
  Type: { constant: Prospect }
`

const errorOf = (text: string, env: SyncFiles.Environment = {}) => {
  const result = SyncFiles.parseSync("configs/syncs/a.yaml", text, env)
  if (Either.isRight(result)) throw new Error("expected a configuration error")
  return result.left
}

describe("SyncFiles", () => {
  it("decodes a definition", () => {
    const result = SyncFiles.parseSync("a.yaml", valid, {})
    expect(Either.isRight(result) && result.right.definition.mappings).toEqual({
      External_Id__c: "id",
      Name: { from: "name", nulls: "leave" },
      Type: { constant: "Prospect" }
    })
  })

  it("names file, line and column of a wrong value and what was expected", () => {
    const error = errorOf(valid.replace("operation: upsert", "operation: upsrt"))
    expect(error.message).toMatch(/^configs\/syncs\/a\.yaml:7:12: operation: expected "insert" or "update" or "upsert" or "delete" or "hardDelete", got "upsrt"/)
  })

  it("names the range of an out-of-range number, with its position", () => {
    expect(errorOf(`${valid}batchSize: 0\n`).message).toBe("configs/syncs/a.yaml:13:12: batchSize: expected a positive integer, actual 0")
    expect(errorOf(`${valid}concurrency: 30\n`).message).toBe("configs/syncs/a.yaml:13:14: concurrency: expected at most 25, actual 30")
    expect(errorOf(`${valid}failWhen:\n  rejectedPercentAbove: 150\n`).message).toBe(
      "configs/syncs/a.yaml:14:25: failWhen.rejectedPercentAbove: expected a number between 0 and 100, actual 150"
    )
    expect(errorOf(valid.replace("  query: SELECT 1", "  query: SELECT 1\n  type: postgres\n  url: postgres://db/w\n  fetchRows: 0").replace("  type: duckdb\n", "")).message).toContain(
      "source.fetchRows: expected a positive integer, actual 0"
    )
  })

  it("points at an unknown key and at the parent of a missing one", () => {
    expect(errorOf(valid.replace("  query: SELECT 1", "  qurey: SELECT 1")).message).toContain("configs/syncs/a.yaml:5:3: source.qurey: is unexpected")
    expect(errorOf(valid.replace("object: Account\n", "")).message).toMatch(/^configs\/syncs\/a\.yaml:1:1: object: is missing/)
    expect(errorOf(valid.replace("Name: { from: name, nulls: leave }", "Name: { from: name, nulls: keep }")).message).toContain(`:11:30: mappings.Name.nulls: expected "clear" or "leave", got "keep"`)
  })

  it("reports YAML syntax errors with their position", () => {
    const error = errorOf("name: [unclosed\norg: local\n")
    expect(error.file).toBe("configs/syncs/a.yaml")
    expect(error.line).toBeGreaterThanOrEqual(1)
    expect(error.message).toContain("invalid YAML")
  })

  it("interpolates environment variables and names a missing one", () => {
    const withSecret = valid.replace("org: local", "org:\n  login: production\n  credentials:\n    type: refreshToken\n    clientId: app\n    clientSecret: ${SF_SECRET}\n    refreshToken: ${SF_TOKEN}")
    const secrets = new Set<string>()
    const ok = SyncFiles.parseSync("a.yaml", withSecret, { SF_SECRET: "s3cret-value", SF_TOKEN: "token-value" }, secrets)
    expect(Either.isRight(ok)).toBe(true)
    expect([...secrets]).toEqual(["s3cret-value", "token-value"])
    const error = errorOf(withSecret, { SF_SECRET: "x" })
    expect(error.message).toBe("configs/syncs/a.yaml:8:19: environment variable SF_TOKEN is not set (referenced as ${SF_TOKEN})")
  })

  it("refuses a shell-style expansion instead of sending it as text", () => {
    const withDefault = valid.replace("org: local", "org: local\ndescription: \"${ACCOUNT_NAME:-Acme}\"")
    expect(errorOf(withDefault, {}).message).toBe(
      "configs/syncs/a.yaml:3:14: ${ACCOUNT_NAME:-Acme} is not supported: only ${NAME} is replaced (no default or other shell expansion); set ACCOUNT_NAME or write the value"
    )
  })

  it("checks the matching key against the operation", () => {
    expect(errorOf(valid.replace("externalIdField: External_Id__c\n", "")).message).toContain("a.yaml:7:1: operation upsert needs externalIdField")
    expect(errorOf(valid.replace("operation: upsert", "operation: delete").replace("externalIdField: External_Id__c\n", "")).message).toContain("needs an Id mapping")
    // Field names match in any case, as in Salesforce.
    const deleteById = `name: gone\norg: local\nsource:\n  type: duckdb\n  query: SELECT 1\nobject: Contact\noperation: delete\nmappings:\n  id: contact_id\n`
    expect(Either.isRight(SyncFiles.parseSync("a.yaml", deleteById, {}))).toBe(true)
    expect(Either.isRight(SyncFiles.parseSync("a.yaml", valid.replace("externalIdField: External_Id__c", "externalIdField: external_id__c"), {}))).toBe(true)
  })

  it("refuses an airbyte source's namespace without its stream", () => {
    const airbyte = valid.replace("  type: duckdb\n  query: SELECT 1\n", "  type: airbyte\n  file: m.jsonl\n  namespace: public\n")
    expect(errorOf(airbyte).message).toBe("configs/syncs/a.yaml:6:3: namespace chooses the namespace of the stream: name the stream too (stream:)")
    expect(Either.isRight(SyncFiles.parseSync("a.yaml", airbyte.replace("  namespace: public\n", "  stream: users\n  namespace: public\n"), {}))).toBe(true)
  })

  it("names a mapping's misspelt key once, with every key a mapping takes, and a key written null as null", () => {
    const mapping = (text: string) => errorOf(valid.replace("  Name: { from: name, nulls: leave }", `  Name: ${text}`)).message
    expect(mapping("{ from: name, nul: leave }")).toBe('configs/syncs/a.yaml:11:23: mappings.Name.nul: is unexpected, expected: "from" | "nulls" | "constant"')
    expect(mapping("{ from: name, null: leave }")).toBe('configs/syncs/a.yaml:11:23: mappings.Name.null: is unexpected, expected: "from" | "nulls" | "constant"')
  })

  it("refuses a file source whose format neither its extension nor format: tells", () => {
    const file = (extra: string) => valid.replace("  type: duckdb\n  query: SELECT 1\n", `  type: file\n  path: export.txt\n${extra}`)
    expect(errorOf(file("")).message).toBe("configs/syncs/a.yaml:5:3: export.txt: cannot tell the format from the extension; set format: jsonl or csv")
    expect(Either.isRight(SyncFiles.parseSync("a.yaml", file("  format: csv\n"), {}))).toBe(true)
  })

  it("orders syncs by after: and refuses unknown names and cycles", () => {
    const parse = (name: string, after: string) => {
      const result = SyncFiles.parseSync(`${name}.yaml`, valid.replace("name: accounts", `name: ${name}\nafter: [${after}]`), {})
      if (Either.isLeft(result)) throw result.left
      return result.right
    }
    const ordered = SyncFiles.order([parse("contacts", "accounts"), parse("accounts", ""), parse("usage", "accounts")])
    expect(Either.getOrThrow(ordered).map((sync) => sync.definition.name)).toEqual(["accounts", "contacts", "usage"])
    const unknown = SyncFiles.order([parse("contacts", "acounts")])
    expect(Either.isLeft(unknown) && unknown.left.message).toBe("contacts.yaml:2:9: after: no sync is named acounts (known: contacts)")
    const cycle = SyncFiles.order([parse("a", "b"), parse("b", "a")])
    expect(Either.isLeft(cycle) && cycle.left.message).toContain("dependency cycle a → b → a")
  })
})
