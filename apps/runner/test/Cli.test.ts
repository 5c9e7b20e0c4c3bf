import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import * as JsonSchema from "../src/JsonSchema.js"
import { accountsSync, contactsUpsert, repoRoot, runCli, workspace } from "./support.js"

const shipped = Object.fromEntries(
  readdirSync(path.join(repoRoot, "configs/syncs")).map((name) => [name, readFileSync(path.join(repoRoot, "configs/syncs", name), "utf8")])
)


const Report = Schema.parseJson(
  Schema.Struct({
    command: Schema.String,
    syncs: Schema.Array(Schema.Struct({ name: Schema.String, status: Schema.String, recordsIn: Schema.Number, rejected: Schema.Number })),
    totals: Schema.Struct({ recordsIn: Schema.Number, rejected: Schema.Number })
  })
)
const LogLine = Schema.parseJson(Schema.Struct({ time: Schema.String, level: Schema.String, message: Schema.String }))
const readReport = (file: string) => Schema.decodeUnknownSync(Report)(readFileSync(file, "utf8"))
const Snapshot = Schema.parseJson(Schema.Struct({ orgs: Schema.Record({ key: Schema.String, value: Schema.Struct({ objects: Schema.Record({ key: Schema.String, value: Schema.Unknown }) }) }) }))

const files = (dir: string): Array<string> =>
  existsSync(dir) ? readdirSync(dir, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile()).map((entry) => path.join(entry.parentPath, entry.name)) : []

describe("runner", () => {
  it.live("runs the shipped examples: rejects with reasons in .rejects, a report, a GitHub summary", () =>
    Effect.gen(function* () {
      const root = yield* workspace(shipped)
      const summary = path.join(root, "summary.md")
      const result = yield* runCli(["sync", "--report", "out/report.json"], { cwd: root, env: { GITHUB_STEP_SUMMARY: summary } })
      expect(result.code).toBe(0)
      expect(result.stdout).toMatch(/accounts\s+ok\s+→ Account upsert \(local\): 60 read, 57 created, 0 updated, 3 rejected/)
      expect(result.stdout).toContain("REQUIRED_FIELD_MISSING: Required fields are missing: [Name]")
      expect(result.stdout).toContain("INVALID_FIELD: Foreign key external ID: ACC-9999 not found")
      // the hint runs as written on a machine with only Node and npm
      expect(result.stdout).toMatch(/After a fix, resubmit them with:\n {2}npx nx run runner:replay -- --from \.rejects\/run-\d{8}-\d{6}-[0-9a-f]{4}\n/)
      const report = readReport(path.join(root, "out/report.json"))
      expect(report.syncs.map((sync) => `${sync.name}:${sync.status}`)).toEqual(["accounts:succeeded", "contacts:succeeded", "product-usage:succeeded"])
      expect(report.totals).toMatchObject({ recordsIn: 410, rejected: 23 })
      const rejectFiles = files(path.join(root, ".rejects"))
      expect(rejectFiles.map((file) => path.basename(path.dirname(file))).sort()).toEqual(["accounts", "contacts", "product-usage"])
      const contactsRejects = readFileSync(rejectFiles.find((file) => file.includes("/contacts/")) ?? "", "utf8")
      expect(contactsRejects).toContain("Foreign key external ID: ACC-9999 not found")
      expect(readFileSync(summary, "utf8")).toContain("| contacts | ok | Contact upsert | 150 | 141 | 0 | 0 | 9 | 2 |")
    })
  )

  it.live("the replay hint names a --config-dir other than the default, and runs as printed", () =>
    Effect.gen(function* () {
      const definition = accountsSync({ extra: "rejects:\n  type: local\n  directory: kept rejects\n" })
      const root = yield* workspace({}, { "ops/syncs/a.yaml": definition })
      const result = yield* runCli(["sync", "--config-dir", "ops/syncs"], { cwd: root })
      const hint = /npx nx run runner:replay -- (.*)\n/.exec(result.stdout)?.[1] ?? ""
      expect(hint).toMatch(/^--config-dir ops\/syncs --from 'kept rejects\/run-\d{8}-\d{6}-[0-9a-f]{4}'$/)
      const replayed = yield* runCli(["replay", "--config-dir", "ops/syncs", "--from", hint.replace(/^.*--from '(.*)'$/, "$1")], { cwd: root })
      expect(replayed.stdout).toContain("REQUIRED_FIELD_MISSING")
    })
  )

  it.live("replays a run's rejects after a fix and reports what still fails", () =>
    Effect.gen(function* () {
      const root = yield* workspace({ "a.yaml": accountsSync() })
      yield* runCli(["sync"], { cwd: root })
      const runDir = readdirSync(path.join(root, ".rejects"))[0] ?? ""
      const replayed = yield* runCli(["replay", "--from", `.rejects/${runDir}`, "--report", "replay.json"], { cwd: root })
      const report = readReport(path.join(root, "replay.json"))
      expect(report.command).toBe("replay")
      expect(report.syncs[0]).toMatchObject({ name: "accounts", recordsIn: 2, rejected: 2 })
      expect(replayed.stdout).toContain("REQUIRED_FIELD_MISSING")
    })
  )

  it.effect("exit code 2 for a configuration error, naming file and position", () =>
    Effect.gen(function* () {
      const root = yield* workspace({ "a.yaml": accountsSync({ extra: "batchSize: lots\n" }) })
      const result = yield* runCli(["sync"], { cwd: root })
      expect(result.code).toBe(2)
      expect(result.stderr).toContain("configs/syncs/a.yaml:12:12: batchSize: expected")
    })
  )

  it.live("refuses a run in which two syncs read standard input, naming both; --sync runs one of them", () =>
    Effect.gen(function* () {
      const fromStdin = (name: string, stream: string) =>
        contactsUpsert({ org: "local", name, source: `  type: airbyte\n  stdin: true\n  stream: ${stream}` })
      const root = yield* workspace({ "a.yaml": fromStdin("people", "users"), "b.yaml": fromStdin("leads", "prospects") })
      const record = (stream: string, key: string) => JSON.stringify({ type: "RECORD", record: { stream, data: { key, last: `L${key}` }, emitted_at: 1 } })
      const stdin = `${[record("users", "u1"), record("prospects", "p1"), record("users", "u2")].join("\n")}\n`
      const both = yield* runCli(["sync", "--report", "both.json"], { cwd: root, stdin })
      expect(both.code).toBe(2)
      expect(both.stderr).toContain(
        "configs/syncs/a.yaml:5:3: source.stdin: standard input feeds one sync per run, and leads (configs/syncs/b.yaml) reads it too: run them one at a time with --sync NAME"
      )
      expect(existsSync(path.join(root, "both.json"))).toBe(false)
      const one = yield* runCli(["sync", "--sync", "people", "--report", "one.json"], { cwd: root, stdin })
      expect(one.code).toBe(0)
      expect(readReport(path.join(root, "one.json")).syncs).toEqual([expect.objectContaining({ name: "people", status: "succeeded", recordsIn: 2 })])
    })
  )

  it.effect("with --log-format json, a configuration error is a JSON line too", () =>
    Effect.gen(function* () {
      const root = yield* workspace({ "a.yaml": accountsSync({ extra: "batchSize: lots\n" }) })
      const result = yield* runCli(["sync", "--log-format", "json"], { cwd: root })
      expect(result.code).toBe(2)
      const lines = result.stderr.trimEnd().split("\n").map((line) => Schema.decodeUnknownSync(LogLine)(line))
      expect(lines).toHaveLength(1)
      expect(lines[0]?.level).toBe("ERROR")
      expect(lines[0]?.message).toContain("configuration error: configs/syncs/a.yaml:12:12: batchSize: expected")
    })
  )

  it.live("--report: an earlier run's report is not left to be read as this run's, and one that cannot be written fails the run", () =>
    Effect.gen(function* () {
      const root = yield* workspace({ "a.yaml": accountsSync({ extra: "batchSize: lots\n" }) }, { "r.json": '{"exitCode":0}', "blocker": "a file, not a folder" })
      const broken = yield* runCli(["sync", "--report", "r.json"], { cwd: root })
      expect(broken.code).toBe(2)
      expect(existsSync(path.join(root, "r.json"))).toBe(false)
      writeFileSync(path.join(root, "configs/syncs/a.yaml"), accountsSync())
      const unwritable = yield* runCli(["sync", "--report", "blocker/r.json"], { cwd: root })
      expect(unwritable.stdout).toContain("accounts  ok")
      expect(unwritable.stderr).toContain("cannot write the run report to blocker/r.json: EEXIST")
      expect(unwritable.stderr).not.toContain("cannot remove the earlier run report")
      expect(unwritable.code).toBe(1)
    })
  )

  it.live("exit code 3 when a failure threshold is crossed, and dependents are skipped", () =>
    Effect.gen(function* () {
      const contacts = shipped["02-contacts.yaml"] ?? ""
      const root = yield* workspace({ "a.yaml": accountsSync({ extra: "failWhen:\n  rejectedMoreThan: 1\n" }), "b.yaml": contacts })
      const result = yield* runCli(["sync"], { cwd: root })
      expect(result.stdout).toContain("2 records rejected, more than failWhen.rejectedMoreThan (1)")
      expect(result.stdout).toMatch(/contacts\s+SKIPPED/)
      expect(result.code).toBe(1)
      const alone = yield* runCli(["sync", "--sync", "accounts"], { cwd: root })
      expect(alone.code).toBe(3)
    })
  )

  it.live("warns that org: local writes nothing to Salesforce when run in CI or with Salesforce credentials set", () =>
    Effect.gen(function* () {
      const root = yield* workspace({ "a.yaml": accountsSync() })
      const warning = "org: local is the embedded emulator, created empty for this run and then dropped: nothing is written to Salesforce"
      for (const env of [{}, { CI: "false" }, { CI: "" }]) {
        const quiet = yield* runCli(["sync"], { cwd: root, env })
        expect(quiet.code).toBe(0)
        expect(quiet.stderr).not.toContain(warning)
      }
      for (const env of [{ CI: "true" }, { SALESFORCE_CLIENT_ID: "app" }]) {
        const warned = yield* runCli(["sync"], { cwd: root, env })
        expect(warned.code).toBe(0)
        expect(warned.stderr).toContain(warning)
      }
    })
  )

  it.live("exit code 1 when a sync fails, and secrets never appear", () =>
    Effect.gen(function* () {
      const root = yield* workspace({
        "a.yaml": accountsSync({ source: "  type: postgres\n  url: postgres://loader:${PG_PASSWORD}@127.0.0.1:1/warehouse\n  query: SELECT 1" })
      })
      const result = yield* runCli(["sync", "--log-format", "json", "--report", "r.json"], { cwd: root, env: { PG_PASSWORD: "hunter2-very-secret" } })
      expect(result.code).toBe(1)
      const everything = result.stdout + result.stderr + readFileSync(path.join(root, "r.json"), "utf8")
      expect(everything).toContain("postgres source: reading rows failed")
      expect(everything).not.toContain("hunter2-very-secret")
      expect(JSON.parse(result.stderr.split("\n").find((line) => line.includes("failed")) ?? "{}")).toMatchObject({ level: "ERROR", sync: "accounts" })
    })
  )

  it.live("a postgres URL that cannot be parsed fails sync and plan naming source.url, never the password", () =>
    Effect.gen(function* () {
      const root = yield* workspace({
        "a.yaml": accountsSync({ source: "  type: postgres\n  url: ${DATABASE_URL}\n  query: SELECT 1" })
      })
      const env = { DATABASE_URL: "postgres://loader:50%off-pass@db.internal:54x2/warehouse" }
      const sync = yield* runCli(["sync"], { cwd: root, env })
      expect(sync.code).toBe(1)
      expect(sync.stdout).toContain("postgres source: source.url is not a valid PostgreSQL URL")
      const plan = yield* runCli(["plan"], { cwd: root, env })
      expect(plan.stderr).not.toContain("unexpected failure")
      expect(plan.stdout).toContain("SourceFailed")
      expect(plan.stdout).toContain("source.url is not a valid PostgreSQL URL")
      expect(`${sync.stdout}${sync.stderr}${plan.stdout}${plan.stderr}`).not.toContain("off-pass")
    })
  )

  it.live("sync refuses a mapping that reads a column the source does not have, naming where it is written", () =>
    Effect.gen(function* () {
      const root = yield* workspace({ "a.yaml": accountsSync({ mappings: "  External_Id__c: account_key\n  Name: nmae\n" }) })
      const result = yield* runCli(["sync"], { cwd: root })
      expect(result.code).toBe(2)
      expect(result.stdout).toMatch(/configs\/syncs\/a\.yaml:11:3: SourceColumnMissing: Name: the source has no column nmae/)
    })
  )

  it.live("sync of an empty CSV export (no header, no rows) sends nothing and succeeds, saying so; plan agrees", () =>
    Effect.gen(function* () {
      const csv = accountsSync({ source: "  type: file\n  path: data/empty.csv\n  format: csv" })
      const root = yield* workspace({ "a.yaml": csv }, { "data/empty.csv": "" })
      const result = yield* runCli(["sync"], { cwd: root })
      expect(result.code).toBe(0)
      expect(result.stderr).toContain("the source file is empty (not even a header row): no rows to read")
      const plan = yield* runCli(["plan"], { cwd: root })
      expect(plan.code).toBe(0)
      expect(plan.stdout).toContain("SourceEmpty: the source file is empty (not even a header row): the sync would read no rows")
      expect(plan.stdout).not.toContain("SourceColumnMissing")
    })
  )

  it.live("plan warns, without failing, about an upsert that does not map what creating a record needs", () =>
    Effect.gen(function* () {
      const root = yield* workspace({ "a.yaml": accountsSync({ mappings: "  External_Id__c: account_key\n  Industry: industry\n" }) })
      const result = yield* runCli(["plan"], { cwd: root })
      expect(result.stdout).toContain("warning: RequiredFieldNotMapped: Name is required when the upsert creates a record")
      expect(result.stdout).toContain("1 sync planned, no problems, 1 warning")
      expect(result.code).toBe(0)
    })
  )

  it.live("plan takes a DuckDB list of any element type as a list, and sync points an upsert's wrong key at externalIdField", () =>
    Effect.gen(function* () {
      const contacts = (externalIdField: string, query: string, mappings: string) =>
        `name: contacts\norg: local\nsource:\n  type: duckdb\n  query: ${query}\nobject: Contact\noperation: upsert\nexternalIdField: ${externalIdField}\nmappings:\n  External_Id__c: id\n  LastName: last\n${mappings}`
      const lists = yield* workspace({
        "a.yaml": contacts("External_Id__c", `"SELECT 'x' AS id, 'n' AS last, [1.5::DECIMAL(4,1)] AS scores, [TIMESTAMP '2024-01-02 03:04:05'] AS seen"`, "  Interests__c: scores\n  Last_Engaged_At__c: seen\n")
      })
      const plan = yield* runCli(["plan"], { cwd: lists })
      expect(plan.stdout).not.toContain("Interests__c: source column scores")
      expect(plan.stdout).toMatch(/a\.yaml:13:3: IncompatibleType: Last_Engaged_At__c: source column seen is list/)
      const wrongKey = yield* workspace({ "a.yaml": contacts("LastName", `"SELECT 'x' AS id, 'n' AS last"`, "") })
      const sync = yield* runCli(["sync"], { cwd: wrongKey })
      expect(sync.code).toBe(2)
      expect(sync.stdout).toContain("configs/syncs/a.yaml:8:1: InvalidMapping (stream contacts): LastName is not an external id field of Contact")
    })
  )

  it.live("plan says which syncs it could not check, and why", () =>
    Effect.gen(function* () {
      const root = yield* workspace({ "a.yaml": accountsSync({ org: "http://acme.example.com" }) })
      const result = yield* runCli(["plan"], { cwd: root, env: { SALESFORCE_CLIENT_ID: "id", SALESFORCE_CLIENT_SECRET: "secret" } })
      expect(result.code).toBe(2)
      expect(result.stdout).toContain("ERR accounts: cannot use org http://acme.example.com:")
      expect(result.stdout).toContain("0 syncs planned, 1 sync not checked (org configured wrong)")
    })
  )

  it.live("plan catches each kind of mapping error, with positions", () =>
    Effect.gen(function* () {
      const root = yield* workspace({
        "a.yaml": `name: usage
org: local
source:
  type: duckdb
  query: SELECT usage_key, account_key, feature, TRUE AS flag, 5 AS n FROM read_csv('configs/warehouse/product_usage.csv')
object: Product_Usage__c
operation: insert
mappings:
  Usage_Key__c: usage_key
  Nope__c: feature
  Name: feature
  Usage_Date__c: flag
  Feature__c: { constant: Teleport }
  Notes__c: missing_column
`,
        "b.yaml": `name: contacts
org: local
source:
  type: duckdb
  query: SELECT 'x' AS id, 'y' AS first
object: Contact
operation: upsert
externalIdField: External_Id__c
mappings:
  External_Id__c: id
  Account.Bogus__c: first
`,
        "c.yaml": `name: leads
org: local
source:
  type: duckdb
  query: SELECT 'x' AS id
object: Lead
operation: upsert
externalIdField: Email
mappings:
  Email: id
`,
        "d.yaml": `name: new-leads
org: local
source:
  type: duckdb
  query: SELECT 'x' AS id
object: Lead
operation: insert
mappings:
  Email: id
`,
        "e.yaml": `name: contacts-lowercase
org: local
source:
  type: duckdb
  query: SELECT 'x' AS last, TRUE AS flag
object: Contact
operation: insert
mappings:
  lastname: last
  birthdate: flag
`,
        "f.yaml": `name: upserted-contacts
org: local
source:
  type: duckdb
  query: SELECT 'x' AS id, 'y' AS account
object: Contact
operation: upsert
externalIdField: External_Id__c
mappings:
  External_Id__c: id
  Account.External_Id__c: account
`,
        "g.yaml": `name: upserted-accounts
org: local
source:
  type: duckdb
  query: SELECT 'x' AS id, 'n' AS name
object: Account
operation: upsert
externalIdField: External_Id__c
mappings:
  External_Id__c: id
  name: name
`
      })
      const result = yield* runCli(["plan"], { cwd: root })
      expect(result.code).toBe(2)
      const out = result.stdout
      expect(out).toMatch(/configs\/syncs\/a\.yaml:10:3: UnknownField: /)
      expect(out).toMatch(/a\.yaml:11:3: FieldNotCreateable: /)
      expect(out).toMatch(/a\.yaml:12:3: IncompatibleType: Usage_Date__c: source column flag is boolean, field Usage_Date__c is date/)
      expect(out).toMatch(/a\.yaml:13:3: (InvalidConstant|InvalidPicklistConstant): /)
      expect(out).toMatch(/a\.yaml:14:3: SourceColumnMissing: Notes__c: the source has no column missing_column/)
      expect(out).toMatch(/b\.yaml:11:3: (UnknownField|InvalidRelationship): /)
      expect(out).toMatch(/c\.yaml:10:3: ExternalIdInvalid: Email is not an external id field of Lead/)
      expect(out).toMatch(/d\.yaml:\d+:\d+: RequiredFieldNotMapped: \w+ is required on insert/)
      // field names in another case are Salesforce's fields all the same, and checked as such
      expect(out).toMatch(/e\.yaml:10:3: IncompatibleType: birthdate: source column flag is boolean, field Birthdate is date/)
      expect(out).not.toMatch(/e\.yaml:9:3/)
      // an upsert creates the records it does not find: what insert requires, it requires
      expect(out).toMatch(/f\.yaml:9:1: warning: RequiredFieldNotMapped: LastName is required when the upsert creates a record, and is not mapped/)
      expect(out).toContain("ok  upserted-contacts")
      expect(out).toContain("ok  upserted-accounts")
    })
  )

  it.live("snapshot, then plan --offline without an org; prints rows, jobs and API calls", () =>
    Effect.gen(function* () {
      const root = yield* workspace(shipped)
      expect((yield* runCli(["snapshot"], { cwd: root })).code).toBe(0)
      const snapshot = Schema.decodeUnknownSync(Snapshot)(readFileSync(path.join(root, "configs/org-snapshot.json"), "utf8"))
      expect(Object.keys(snapshot.orgs["local"]?.objects ?? {})).toEqual(["Account", "Contact", "Product_Usage__c"])
      const plan = yield* runCli(["plan", "--offline"], { cwd: root })
      expect(plan.code).toBe(0)
      expect(plan.stdout).toContain("contacts: duckdb → Contact upsert on External_Id__c (local): 150 rows → 2 jobs, 2 Bulk API batches, ~20 API calls")
      const live = yield* runCli(["plan"], { cwd: root })
      expect(live.stdout).toMatch(/org local: ~42 API calls of [\d,]+ remaining today/)
      // a sync of an object the snapshot was not taken with: the snapshot is out of date, not the org
      writeFileSync(path.join(root, "configs/syncs/leads.yaml"), accountsSync().replace("name: accounts", "name: leads").replace("object: Account", "object: Lead"))
      const outdated = yield* runCli(["plan", "--offline"], { cwd: root })
      expect(outdated.code).toBe(2)
      expect(outdated.stdout).toContain("object Lead is not in the snapshot configs/org-snapshot.json: run snapshot to take it in")
    })
  )

  it("the committed JSON Schema is generated from the sync schema (run nx run runner:json-schema)", () => {
    expect(readFileSync(path.join(repoRoot, JsonSchema.defaultPath), "utf8")).toBe(JsonSchema.text())
  })
})
