import { describe, expect, it } from "@effect/vitest"
import { type Org, OrgFixture } from "@sfdc-activation/salesforce-emulator"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Schema from "effect/Schema"
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import * as net from "node:net"
import * as path from "node:path"
import { contactsUpsert, loopbackOrg, runCli, workspace } from "./support.js"

const { org, url, env } = loopbackOrg({ faults: { processingDelayMs: 0 } })

const SavedStates = Schema.parseJson(
  Schema.Array(Schema.Struct({ stream: Schema.Struct({ stream_descriptor: Schema.Struct({ name: Schema.String }), stream_state: Schema.Struct({ cursor: Schema.Number }) }) }))
)

const sync = (name: string, object: string, file: string, mappings: string, extra = "") => `name: ${name}
org: ${url()}
source:
  type: file
  path: ${file}
  format: jsonl
object: ${object}
operation: upsert
externalIdField: External_Id__c
mappings:
${mappings}rejects:
  type: local
  directory: .rejects
${extra}`

describe("replay", () => {
  it.live("resubmits rows Salesforce refused, as they were sent, once the org is fixed", () =>
    Effect.gen(function* () {
      const root = yield* workspace(
        {
          "accounts.yaml": sync("accounts", "Account", "accounts.jsonl", "  External_Id__c: key\n  Name: name\n"),
          "contacts.yaml": sync("contacts", "Contact", "contacts.jsonl", "  External_Id__c: key\n  LastName: last\n  Account.External_Id__c: account\n")
        },
        {
          "accounts.jsonl": "",
          "contacts.jsonl": '{"key":"RP-1","last":"Early","account":"ACC-LATE"}\n{"key":"RP-2","last":"Fine","account":null}\n'
        }
      )
      const first = yield* runCli(["sync", "--sync", "contacts"], { cwd: root, env: env() })
      expect(first.stdout).toContain("INVALID_FIELD")
      const runDir = readdirSync(path.join(root, ".rejects"))[0] ?? ""
      expect(org.storedRecords("Contact").filter((contact) => contact["External_Id__c"] === "RP-1")).toHaveLength(0)

      // The fix: the missing parent arrives.
      writeFileSync(path.join(root, "accounts.jsonl"), '{"key":"ACC-LATE","name":"Late Industries"}\n')
      const accounts = yield* runCli(["sync", "--sync", "accounts"], { cwd: root, env: env() })
      expect(accounts.code).toBe(0)

      const replayed = yield* runCli(["replay", "--from", `.rejects/${runDir}`], { cwd: root, env: env() })
      expect(replayed.code).toBe(0)
      const late = org.storedRecords("Account").find((account) => account["External_Id__c"] === "ACC-LATE")
      const contact = org.storedRecords("Contact").find((record) => record["External_Id__c"] === "RP-1")
      expect(contact).toMatchObject({ LastName: "Early", AccountId: late?.["Id"] })
      expect(org.storedRecords("Contact").filter((record) => record["External_Id__c"] === "RP-1")).toHaveLength(1)
    })
  )
})

describe("replaying a location twice", () => {
  const insertContacts = () =>
    sync("contacts", "Contact", "contacts.jsonl", "  LastName: last\n  Account.External_Id__c: account\n").replace(
    "operation: upsert\nexternalIdField: External_Id__c\n",
    "operation: insert\n"
  )
  const inserted = () => org.storedRecords("Contact").filter((contact) => contact["LastName"] === "Replayed Once")
  const marks = (dir: string) => readdirSync(dir, { recursive: true }).map(String).filter((name) => name.endsWith(".replayed.json"))

  it.live("is refused once a replay sent its records (an insert would be made twice), unless --again; a failed replay leaves it to replay", () =>
    Effect.gen(function* () {
      const root = yield* workspace(
        { "accounts.yaml": sync("accounts", "Account", "accounts.jsonl", "  External_Id__c: key\n  Name: name\n"), "contacts.yaml": insertContacts() },
        { "accounts.jsonl": "", "contacts.jsonl": '{"last":"Replayed Once","account":"ACC-TWICE"}\n' }
      )
      const refused = yield* runCli(["sync", "--sync", "contacts"], { cwd: root, env: env() })
      expect(refused.stdout).toContain("INVALID_FIELD")
      const from = `.rejects/${readdirSync(path.join(root, ".rejects"))[0] ?? ""}`
      writeFileSync(path.join(root, "accounts.jsonl"), '{"key":"ACC-TWICE","name":"Twice Ltd"}\n')
      expect((yield* runCli(["sync", "--sync", "accounts"], { cwd: root, env: env() })).code).toBe(0)

      // a replay that fails (the org refuses the login) marks nothing
      const failed = yield* runCli(["replay", "--from", from], { cwd: root, env: { ...env(), SALESFORCE_CLIENT_SECRET: "wrong" } })
      expect(failed.code).not.toBe(0)
      expect(marks(path.join(root, from))).toEqual([])

      const first = yield* runCli(["replay", "--from", from], { cwd: root, env: env() })
      expect(first.code).toBe(0)
      expect(inserted()).toHaveLength(1)
      expect(marks(path.join(root, from))).toHaveLength(1)

      const second = yield* runCli(["replay", "--from", from], { cwd: root, env: env() })
      expect(second.code).toBe(2)
      expect(second.stderr).toMatch(new RegExp(`--from ${from} was already replayed \\(replay-[\\w-]+ at \\d{4}-\\d{2}-\\d{2}T[^)]+\\): its records were sent again then`))
      expect(second.stderr).toContain("pass --again to send these again")
      expect(inserted()).toHaveLength(1)

      const again = yield* runCli(["replay", "--from", from, "--again"], { cwd: root, env: env() })
      expect(again.code).toBe(0)
      expect(inserted()).toHaveLength(2)
    })
  )
})

describe("replay marks, sync by sync", () => {
  /** An insert of contacts from `file` under the sync name `name`, their accounts looked up by external id. */
  const insertSync = (name: string, file: string, orgUrl: string, rejects = "rejects:\n  type: local\n  directory: .rejects\n") => `name: ${name}
org: ${orgUrl}
source:
  type: file
  path: ${file}
  format: jsonl
object: Contact
operation: insert
mappings:
  LastName: last
  Account.External_Id__c: account
${rejects}`
  const named = (last: string) => org.storedRecords("Contact").filter((contact) => contact["LastName"] === last)
  const marks = (dir: string) => readdirSync(dir, { recursive: true }).map(String).filter((name) => name.endsWith(".replayed.json"))

  it.live("a sync's rejects are marked as soon as it settles, so a replay stopped during a later sync does not send them twice", () =>
    Effect.gen(function* () {
      // an org that takes connections and never answers: the second sync hangs until the replay is stopped
      const sockets = new Set<net.Socket>()
      const silent = net.createServer((socket) => void sockets.add(socket))
      yield* Effect.promise(() => new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve)))
      const silentUrl = `http://127.0.0.1:${(silent.address() as net.AddressInfo).port}`
      const root = yield* workspace(
        {
          "a.yaml": insertSync("a", "a.jsonl", url()),
          "b.yaml": insertSync("b", "b.jsonl", url()),
          "accounts.yaml": sync("accounts", "Account", "accounts.jsonl", "  External_Id__c: key\n  Name: name\n")
        },
        { "a.jsonl": '{"last":"Marked Early","account":"ACC-MARK"}\n', "b.jsonl": '{"last":"Marked Late","account":"ACC-MARK"}\n', "accounts.jsonl": "" }
      )
      expect((yield* runCli(["sync"], { cwd: root, env: env() })).stdout).toContain("INVALID_FIELD")
      const from = `.rejects/${readdirSync(path.join(root, ".rejects"))[0] ?? ""}`
      writeFileSync(path.join(root, "accounts.jsonl"), '{"key":"ACC-MARK","name":"Mark Ltd"}\n')
      expect((yield* runCli(["sync", "--sync", "accounts"], { cwd: root, env: env() })).code).toBe(0)
      writeFileSync(path.join(root, "configs/syncs/b.yaml"), insertSync("b", "b.jsonl", silentUrl))
      const stopped = yield* Effect.fork(runCli(["replay", "--from", from], { cwd: root, env: env() }))
      for (let waited = 0; marks(path.join(root, from)).length === 0 && waited < 100; waited++) yield* Effect.sleep("100 millis")
      yield* Fiber.interrupt(stopped)
      yield* Effect.promise(() =>
        new Promise<void>((resolve) => {
          silent.close(() => resolve())
          for (const socket of sockets) socket.destroy()
        })
      )
      expect(named("Marked Early")).toHaveLength(1)
      expect(marks(path.join(root, from))).toHaveLength(1)
      // replayed again with the org back: only b's records go
      writeFileSync(path.join(root, "configs/syncs/b.yaml"), insertSync("b", "b.jsonl", url()))
      expect((yield* runCli(["replay", "--from", from], { cwd: root, env: env() })).code).toBe(0)
      expect(named("Marked Early")).toHaveLength(1)
      expect(named("Marked Late")).toHaveLength(1)
    })
  )

  /** 2,500 contact inserts (jobs of 300) rejected for want of their account, which is then made: their rejects are ready to replay. */
  const rejectedInserts = (last: string, account: string) =>
    Effect.gen(function* () {
      const tail = "rejects:\n  type: local\n  directory: .rejects\nbatchSize: 300\nconcurrency: 1\n"
      const rows = Array.from({ length: 2500 }, () => JSON.stringify({ last, account })).join("\n")
      const root = yield* workspace(
        { "c.yaml": insertSync("c", "c.jsonl", url(), tail), "accounts.yaml": sync("accounts", "Account", "accounts.jsonl", "  External_Id__c: key\n  Name: name\n") },
        { "c.jsonl": `${rows}\n`, "accounts.jsonl": "" }
      )
      expect((yield* runCli(["sync", "--sync", "c"], { cwd: root, env: env() })).stdout).toContain("INVALID_FIELD ×2500")
      const from = `.rejects/${readdirSync(path.join(root, ".rejects"))[0] ?? ""}`
      writeFileSync(path.join(root, "accounts.jsonl"), `${JSON.stringify({ key: account, name: `${last} Ltd` })}\n`)
      expect((yield* runCli(["sync", "--sync", "accounts"], { cwd: root, env: env() })).code).toBe(0)
      return { root, from }
    })

  it.live("a replay that fails part way is resumed past the records it settled, so an insert is not made twice", () =>
    Effect.gen(function* () {
      const { root, from } = yield* rejectedInserts("Resumed", "ACC-RESUME")

      // the fourth job is refused for good: the replay fails after its first 900 records are in (jobs of 300)
      org.setFaults({ processingDelayMs: 0, httpErrors: [{ call: "create", status: 400, errorCode: "INVALIDJOB", message: "refused", every: 4, times: 1 }] })
      const failed = yield* runCli(["replay", "--from", from], { cwd: root, env: env() })
      org.setFaults({ processingDelayMs: 0 })
      expect(failed.code).toBe(1)
      expect(named("Resumed")).toHaveLength(900)
      const [mark = ""] = marks(path.join(root, from))
      expect(JSON.parse(readFileSync(path.join(root, from, mark), "utf8"))).toMatchObject({ settled: { c: { records: 900 } } })

      // a record edited where the failed replay had settled: skipping 900 would skip others than those
      const file = path.join(root, from, mark.replace(/\.replayed\.json$/, ""))
      const text = readFileSync(file, "utf8")
      writeFileSync(file, text.replace("Resumed", "Edited"))
      const edited = yield* runCli(["replay", "--from", from], { cwd: root, env: env() })
      expect(edited.code).toBe(2)
      expect(edited.stderr).toMatch(/its records were edited since replay replay-[\w-]+, which did not finish, settled its first 900 records of c: a replay would skip other records than those/)
      expect(named("Resumed")).toHaveLength(900)
      writeFileSync(file, text)

      const resumed = yield* runCli(["replay", "--from", from], { cwd: root, env: env() })
      expect(resumed.code).toBe(0)
      expect(resumed.stderr).toContain(`900 records at ${from} were settled by a replay that did not finish: not sent again`)
      expect(named("Resumed")).toHaveLength(2500)
      expect(JSON.parse(readFileSync(path.join(root, from, mark), "utf8"))).not.toHaveProperty("settled")
      expect((yield* runCli(["replay", "--from", from], { cwd: root, env: env() })).code).toBe(2)
    })
  )

  it.live("a replay interrupted at once leaves in its mark every record it had settled, however recently", () =>
    Effect.gen(function* () {
      const { root, from } = yield* rejectedInserts("Interrupted", "ACC-INT")

      // the fourth job's creation hangs: the replay settles 900 records (3 jobs of 300), then waits
      org.setFaults({ processingDelayMs: 0, slowResponses: [{ call: "create", every: 4, times: 1, delayMs: 20_000 }] })
      const pollsBefore = org.stats().calls.poll
      const replay = yield* Effect.fork(runCli(["replay", "--from", from], { cwd: root, env: env() }))
      // each job is done at its close and found so by its one poll, 250 ms later
      for (let waited = 0; (named("Interrupted").length < 900 || org.stats().calls.poll - pollsBefore < 3) && waited < 500; waited++) yield* Effect.sleep("20 millis")
      // the third job's records are settled within a moment of its poll: well inside the mark's once-a-second
      yield* Effect.sleep("250 millis")
      yield* Fiber.interrupt(replay)
      org.setFaults({ processingDelayMs: 0 })
      expect(named("Interrupted")).toHaveLength(900)
      const [mark = ""] = marks(path.join(root, from))
      expect(JSON.parse(readFileSync(path.join(root, from, mark), "utf8"))).toMatchObject({ settled: { c: { records: 900 } } })
      expect((yield* runCli(["replay", "--from", from], { cwd: root, env: env() })).code).toBe(0)
      expect(named("Interrupted")).toHaveLength(2500)
    })
  )

  it.live("records rejected again and stored nowhere (rejects: none) leave their file unmarked, to be replayed", () =>
    Effect.gen(function* () {
      const root = yield* workspace({ "c.yaml": insertSync("c", "c.jsonl", url()) }, { "c.jsonl": '{"last":"Kept Unmarked","account":"ACC-NEVER"}\n' })
      expect((yield* runCli(["sync"], { cwd: root, env: env() })).stdout).toContain("INVALID_FIELD")
      const from = `.rejects/${readdirSync(path.join(root, ".rejects"))[0] ?? ""}`
      writeFileSync(path.join(root, "configs/syncs/c.yaml"), insertSync("c", "c.jsonl", url(), "rejects: none\n"))
      const replayed = yield* runCli(["replay", "--from", from], { cwd: root, env: env() })
      expect(replayed.stdout).toContain("INVALID_FIELD ×1 (not stored: rejects: none)")
      expect(replayed.stderr).toContain(`c: not marked replayed, as the records rejected again were stored nowhere; replaying ${from} again sends all its records again`)
      expect(marks(path.join(root, from))).toEqual([])
    })
  )
})

describe("replaying rows edited by hand", () => {
  const accounts = () => sync("accounts", "Account", "accounts.jsonl", "  External_Id__c: key\n  Name: name\n  NumberOfEmployees: employees\n")
  const account = (key: string) => org.storedRecords("Account").find((record) => record["External_Id__c"] === key)
  /** The one rejects file of the first run, and its text. */
  const rejectsFile = (root: string) => {
    const run = path.join(root, ".rejects", readdirSync(path.join(root, ".rejects"))[0] ?? "")
    const file = readdirSync(run, { recursive: true }).map(String).find((name) => name.endsWith(".csv")) ?? ""
    return { run, file: path.join(run, file), text: readFileSync(path.join(run, file), "utf8") }
  }

  it.live("a value edited in a row refused before sending goes back as edited, the others as they were (a number stays a number)", () =>
    Effect.gen(function* () {
      const root = yield* workspace({ "a.yaml": accounts() }, { "accounts.jsonl": '{"key":"ED-1","name":"Edited Ltd","employees":12.7}\n' })
      expect((yield* runCli(["sync"], { cwd: root, env: env() })).stdout).toContain("INVALID_TYPE_ON_FIELD_IN_RECORD")
      const { run, file, text } = rejectsFile(root)
      expect(text).toContain('""employees"":""12.7""')
      writeFileSync(file, text.replace('""employees"":""12.7""', '""employees"":""13""'))
      const replayed = yield* runCli(["replay", "--from", path.relative(root, run)], { cwd: root, env: env() })
      expect(replayed.code).toBe(0)
      expect(account("ED-1")).toMatchObject({ Name: "Edited Ltd", NumberOfEmployees: 13 })
    })
  )

  it.live("a field added to a row as sent, which the sync does not map, stops the replay naming the record and the field", () =>
    Effect.gen(function* () {
      const root = yield* workspace(
        { "c.yaml": sync("contacts", "Contact", "contacts.jsonl", "  External_Id__c: key\n  LastName: last\n  Account.External_Id__c: account\n") },
        { "contacts.jsonl": '{"key":"ED-2","last":"Added","account":"ACC-NOT-YET"}\n' }
      )
      expect((yield* runCli(["sync"], { cwd: root, env: env() })).stdout).toContain("INVALID_FIELD")
      const { run, file, text } = rejectsFile(root)
      writeFileSync(file, text.replace('""LastName"":""Added""', '""LastName"":""Added"",""Titel"":""Boss""'))
      const replayed = yield* runCli(["replay", "--from", path.relative(root, run)], { cwd: root, env: env() })
      expect(replayed.code).toBe(2)
      expect(replayed.stderr).toContain(
        "record 2 (the header is record 1) holds Titel, which the sync contacts does not map: map it, or take it out of the row (a row as sent goes back through the mapping's fields alone)"
      )
      expect(replayed.stderr).toContain(path.relative(root, file))
    })
  )
})

describe("replay, row by row", () => {
  // The same org after an admin widened Contact.LastName to 255 characters.
  const widened = loopbackOrg({
    faults: { processingDelayMs: 0 },
    fixture: {
      ...OrgFixture.defaultFixture,
      sobjects: OrgFixture.defaultFixture.sobjects.map((object) =>
        object.name !== "Contact" ? object : { ...object, fields: object.fields.map((field) => (field.name === "LastName" ? { ...field, length: 255 } : field)) }
      )
    }
  })
  /** A contacts sync; `operation` holds its operation lines (an upsert by External_Id__c by default). */
  const contacts = (orgUrl: string, mappings: string, options: { readonly format?: string; readonly operation?: string } = {}) => `name: contacts
org: ${orgUrl}
source:
  type: file
  path: contacts.jsonl
  format: jsonl
object: Contact
${options.operation ?? "operation: upsert\nexternalIdField: External_Id__c\n"}mappings:
  External_Id__c: key
  LastName: last
${mappings}rejects:
  type: local
  directory: .rejects
  format: ${options.format ?? "jsonl"}
`
  const definition = (root: string) => path.join(root, "configs/syncs/c.yaml")
  /** The run folders under `.rejects`; the files under a folder. */
  const runDirs = (root: string) => readdirSync(path.join(root, ".rejects"))
  const files = (dir: string) =>
    readdirSync(dir, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile()).map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)))
  const contact = (target: Org.Org, key: string) => target.storedRecords("Contact").find((record) => record["External_Id__c"] === key)

  for (const format of ["csv", "jsonl"]) {
    it.live(`${format}: a row refused before sending goes back with its source values, arrays and epoch millis included`, () =>
      Effect.gen(function* () {
        const mappings = "  Interests__c: interests\n  Last_Engaged_At__c: engaged\n"
        const row = { key: `RV-LOCAL-${format}`, last: "L".repeat(100), interests: ["Product", "Events"], engaged: 1700000000000 }
        const root = yield* workspace({ "c.yaml": contacts(url(), mappings, { format }) }, { "contacts.jsonl": `${JSON.stringify(row)}\n` })
        expect((yield* runCli(["sync"], { cwd: root, env: env() })).stdout).toContain("STRING_TOO_LONG")
        // The admin widens LastName (here: the same sync against the widened org), then replays.
        writeFileSync(definition(root), contacts(widened.url(), mappings, { format }))
        const replayed = yield* runCli(["replay", "--from", `.rejects/${runDirs(root)[0]}`], { cwd: root, env: widened.env() })
        expect(replayed.code).toBe(0)
        expect(contact(widened.org, row.key)).toMatchObject({ LastName: row.last, Interests__c: "Product;Events", Last_Engaged_At__c: "2023-11-14T22:13:20.000Z" })
      })
    )
  }

  it.live("a row as sent, refused before sending during a replay, goes back as sent in the next replay", () =>
    Effect.gen(function* () {
      const row = { key: "RV-AGAIN-1", last: "M".repeat(100) }
      const root = yield* workspace({ "c.yaml": contacts(widened.url(), "") }, { "contacts.jsonl": `${JSON.stringify(row)}\n` })
      // The job fails with nothing processed: the row is stored as sent.
      widened.org.setFaults({ processingDelayMs: 0, failJobAfterRows: 0 })
      const first = yield* runCli(["sync"], { cwd: root, env: widened.env() })
      widened.org.setFaults({ processingDelayMs: 0 })
      expect(first.stdout).toContain("UNPROCESSED")
      const runDir = runDirs(root)[0] ?? ""
      // Replayed against an org where LastName is 80 long: refused before sending, stored again.
      writeFileSync(definition(root), contacts(url(), ""))
      expect((yield* runCli(["replay", "--from", `.rejects/${runDir}`], { cwd: root, env: env() })).stdout).toContain("STRING_TOO_LONG")
      const replayDir = runDirs(root).find((dir) => dir !== runDir) ?? ""
      // the whole folder holds the run and its replay: with --again (the run's own rows, marked
      // replayed, included), the row would go twice
      const both = yield* runCli(["replay", "--from", ".rejects", "--again"], { cwd: root, env: env() })
      expect(both.code).toBe(2)
      expect(both.stderr).toContain(`--from .rejects holds the rejects of 2 runs (${[runDir, replayDir].sort().join(", ")}): name one run's folder or prefix`)
      writeFileSync(definition(root), contacts(widened.url(), ""))
      const again = yield* runCli(["replay", "--from", `.rejects/${replayDir}`], { cwd: root, env: widened.env() })
      expect(again.code).toBe(0)
      expect(contact(widened.org, row.key)?.["LastName"]).toBe(row.last)
    })
  )

  it.live("a relationship column mapped with nulls: clear clears the lookup again, as it was sent", () =>
    Effect.gen(function* () {
      const mappings = "  Account.External_Id__c:\n    from: account\n    nulls: clear\n"
      const root = yield* workspace({ "c.yaml": contacts(url(), mappings) }, { "contacts.jsonl": `${JSON.stringify({ key: "RV-REL-1", last: "Rel", account: "ACME-001" })}\n` })
      expect((yield* runCli(["sync"], { cwd: root, env: env() })).code).toBe(0)
      expect(contact(org, "RV-REL-1")?.["AccountId"]).toBeTypeOf("string")
      // Detached from its account; the job fails with nothing processed: the row is stored as sent (#N/A).
      writeFileSync(path.join(root, "contacts.jsonl"), `${JSON.stringify({ key: "RV-REL-1", last: "Rel", account: null })}\n`)
      org.setFaults({ processingDelayMs: 0, failJobAfterRows: 0 })
      const failing = yield* runCli(["sync"], { cwd: root, env: env() })
      org.setFaults({ processingDelayMs: 0 })
      expect(failing.stdout).toContain("UNPROCESSED")
      const replayed = yield* runCli(["replay", "--from", `.rejects/${runDirs(root)[0]}`], { cwd: root, env: env() })
      expect(replayed.code).toBe(0)
      expect(contact(org, "RV-REL-1")?.["AccountId"]).toBeNull()
    })
  )

  it.live("field names mapped in another case than Salesforce's go back with their values", () =>
    Effect.gen(function* () {
      // `lastname`, `title`, `account.external_id__c`: stored under Salesforce's spelling.
      const sync = contacts(url(), "  title: title\n  account.external_id__c: account\n").replace("  LastName: last\n", "  lastname: last\n")
      const row = { key: "RV-CASE-1", last: "Cased", title: "Chief", account: "ACME-001" }
      const root = yield* workspace({ "c.yaml": sync }, { "contacts.jsonl": `${JSON.stringify(row)}\n` })
      org.setFaults({ processingDelayMs: 0, failJobAfterRows: 0 })
      const failing = yield* runCli(["sync"], { cwd: root, env: env() })
      org.setFaults({ processingDelayMs: 0 })
      expect(failing.stdout).toContain("UNPROCESSED")
      expect(contact(org, "RV-CASE-1")).toBeUndefined()
      const replayed = yield* runCli(["replay", "--from", `.rejects/${runDirs(root)[0]}`], { cwd: root, env: env() })
      expect(replayed.code).toBe(0)
      const acme = org.storedRecords("Account").find((account) => account["External_Id__c"] === "ACME-001")
      expect(contact(org, "RV-CASE-1")).toMatchObject({ LastName: "Cased", Title: "Chief", AccountId: acme?.["Id"] })
    })
  )

  it.live("a damaged reject file is named, with the line and what is wrong with it", () =>
    Effect.gen(function* () {
      const mappings = "  Account.External_Id__c: account\n"
      const root = yield* workspace({ "c.yaml": contacts(url(), mappings) }, { "contacts.jsonl": `${JSON.stringify({ key: "RV-CUT-1", last: "A", account: "NOPE" })}\n` })
      yield* runCli(["sync"], { cwd: root, env: env() })
      const runDir = runDirs(root)[0] ?? ""
      const text = readFileSync(path.join(root, ".rejects", runDir, files(path.join(root, ".rejects", runDir))[0] ?? ""), "utf8")
      writeFileSync(path.join(root, ".rejects", runDir, "contacts", "zz_cut.jsonl"), `${text}${text.slice(0, 40)}\n`)
      const replayed = yield* runCli(["replay", "--from", `.rejects/${runDir}`], { cwd: root, env: env() })
      expect(replayed.code).toBe(2)
      expect(replayed.stderr).toContain(
        `${path.join(".rejects", runDir, "contacts", "zz_cut.jsonl")}: Line 2 is not a rejected record: Unterminated string in JSON at position 40`
      )
    })
  )

  it.live("a sync that now loads another object or operation is not replayed", () =>
    Effect.gen(function* () {
      const mappings = "  Account.External_Id__c: account\n"
      const root = yield* workspace({ "c.yaml": contacts(url(), mappings) }, { "contacts.jsonl": `${JSON.stringify({ key: "RV-OP-1", last: "A", account: "NOPE" })}\n` })
      expect((yield* runCli(["sync"], { cwd: root, env: env() })).stdout).toContain("INVALID_FIELD")
      writeFileSync(definition(root), contacts(url(), mappings, { operation: "operation: insert\n" }))
      const replayed = yield* runCli(["replay", "--from", `.rejects/${runDirs(root)[0]}`], { cwd: root, env: env() })
      expect(replayed.code).toBe(2)
      expect(replayed.stdout).toContain("records of contacts were rejected under Contact upsert, but the sync now targets Contact insert: not replayed")
      expect(contact(org, "RV-OP-1")).toBeUndefined()
    })
  )
})

describe("airbyte source state", () => {
  const streamState = (name: string, cursor: number) =>
    JSON.stringify({ type: "STATE", state: { type: "STREAM", stream: { stream_descriptor: { name }, stream_state: { cursor } } } })
  const streamRecord = (stream: string, key: string) => JSON.stringify({ type: "RECORD", record: { stream, emitted_at: 1, data: { key, last: key } } })
  const airbyteSync = (name: string, input: string, stream?: string) =>
    contactsUpsert({ name, org: url(), source: `  type: airbyte\n${input}\n${stream === undefined ? "" : `  stream: ${stream}\n`}  stateFile: state.json` })
  const savedStreams = (root: string) =>
    Schema.decodeUnknownSync(SavedStates)(readFileSync(path.join(root, "state.json"), "utf8")).map((state) => state.stream.stream_descriptor.name)

  it.live("writes the source's merged STATE to stateFile once the records before it are settled", () =>
    Effect.gen(function* () {
      const state = (name: string, cursor: string) =>
        `{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"${name}"},"stream_state":{"cursor":${cursor}}}}}`
      const record = (key: string, last: string) => JSON.stringify({ type: "RECORD", record: { stream: "people", emitted_at: 1, data: { key, last } } })
      const messages = [record("ST-1", "One"), state("people", "1"), state("other", '"x"'), record("ST-2", "Two"), state("people", "12345678901234567890")]
      const root = yield* workspace(
        {
          "people.yaml": contactsUpsert({
            name: "people",
            org: url(),
            source: "  type: airbyte\n  file: messages.jsonl\n  stream: people\n  stateFile: state/people.json"
          })
        },
        { "messages.jsonl": `${messages.join("\n")}\n` }
      )
      const result = yield* runCli(["sync"], { cwd: root, env: env() })
      expect(result.code).toBe(0)
      const saved = readFileSync(path.join(root, "state/people.json"), "utf8")
      expect(saved).toContain('"cursor":12345678901234567890')
      // only the synced stream's state: the records of "other" were not sent
      expect(JSON.parse(saved.replace(/12345678901234567890/, "0"))).toEqual([
        { type: "STREAM", stream: { stream_descriptor: { name: "people" }, stream_state: { cursor: 0 } } }
      ])
      expect(org.storedRecords("Contact").filter((contact) => String(contact["External_Id__c"]).startsWith("ST-"))).toHaveLength(2)
    })
  )

  it.live("a sync of one stream does not checkpoint the streams whose records it dropped", () =>
    Effect.gen(function* () {
      // A connector resuming from state.json: each stream's records past its cursor, then its state.
      const connector = `
const fs = require("fs")
const cursors = {}
try { for (const s of JSON.parse(fs.readFileSync("state.json", "utf8"))) cursors[s.stream.stream_descriptor.name] = s.stream.stream_state.cursor } catch {}
for (const stream of ["users", "orders"]) {
  for (let i = (cursors[stream] ?? 0) + 1; i <= 2; i++) console.log(JSON.stringify({ type: "RECORD", record: { stream, emitted_at: 1, data: { key: "SF2-" + stream + "-" + i, last: "x" } } }))
  console.log(JSON.stringify({ type: "STATE", state: { type: "STREAM", stream: { stream_descriptor: { name: stream }, stream_state: { cursor: 2 } } } }))
}`
      const command = `  command: [${JSON.stringify(process.execPath)}, "-e", ${JSON.stringify(connector)}]`
      const root = yield* workspace({ "1-users.yaml": airbyteSync("users", command, "users"), "2-orders.yaml": airbyteSync("orders", command, "orders") })
      const result = yield* runCli(["sync"], { cwd: root, env: env() })
      expect(result.code).toBe(0)
      const stored = (prefix: string) => org.storedRecords("Contact").filter((contact) => String(contact["External_Id__c"]).startsWith(prefix))
      expect(stored("SF2-users-")).toHaveLength(2)
      expect(stored("SF2-orders-")).toHaveLength(2)
      expect(savedStreams(root)).toEqual(["users", "orders"])
    })
  )

  it.live("keeps the states an earlier run saved for streams a later run does not checkpoint", () =>
    Effect.gen(function* () {
      const root = yield* workspace(
        { "a.yaml": airbyteSync("a", "  file: m.jsonl") },
        { "m.jsonl": `${[streamRecord("users", "SF1-1"), streamState("users", 1), streamRecord("orders", "SF1-2"), streamState("orders", 7)].join("\n")}\n` }
      )
      expect((yield* runCli(["sync"], { cwd: root, env: env() })).code).toBe(0)
      expect(savedStreams(root)).toEqual(["users", "orders"])
      // The next run has news for users only, and fails before any orders state.
      writeFileSync(path.join(root, "m.jsonl"), `${[streamRecord("users", "SF1-3"), streamState("users", 2), "{broken"].join("\n")}\n`)
      expect((yield* runCli(["sync"], { cwd: root, env: env() })).code).toBe(1)
      const saved = Schema.decodeUnknownSync(SavedStates)(readFileSync(path.join(root, "state.json"), "utf8"))
      expect(saved.map((state) => [state.stream.stream_descriptor.name, state.stream.stream_state.cursor])).toEqual([["users", 2], ["orders", 7]])
    })
  )

  it.live("rejects: none with a stateFile warns that the state moved past the rows it dropped", () =>
    Effect.gen(function* () {
      const unnamed = JSON.stringify({ type: "RECORD", record: { stream: "users", emitted_at: 1, data: { key: "RN-2" } } })
      const messages = [streamRecord("users", "RN-1"), unnamed, streamState("users", 3)]
      const sync = contactsUpsert({ name: "a", org: url(), source: "  type: airbyte\n  file: m.jsonl\n  stateFile: state.json", extra: "rejects: none\n" })
      const root = yield* workspace({ "a.yaml": sync }, { "m.jsonl": `${messages.join("\n")}\n` })
      const result = yield* runCli(["sync"], { cwd: root, env: env() })
      expect(result.code).toBe(0)
      expect(savedStreams(root)).toEqual(["users"])
      expect(result.stderr).toContain("1 rejected row was dropped (rejects: none) and state.json moved past it: the next run does not read it again; set rejects: to keep it for replay")
      writeFileSync(path.join(root, "configs/syncs/a.yaml"), sync.replace("rejects: none\n", ""))
      expect((yield* runCli(["sync"], { cwd: root, env: env() })).stderr).not.toContain("dropped")
    })
  )

  it.live("a sync whose state file another run is using stops before sending anything, and leaves no lock of its own", () =>
    Effect.gen(function* () {
      const messages = [streamRecord("users", "LK-1"), streamState("users", 5)]
      const root = yield* workspace({ "a.yaml": airbyteSync("a", "  file: m.jsonl") }, { "m.jsonl": `${messages.join("\n")}\n` })
      const lock = path.join(root, "state.json.lock")
      // a run on another machine sharing the folder, still going
      writeFileSync(lock, JSON.stringify({ pid: 4242, host: "scheduler-7", since: "2026-01-02T03:04:05.000Z" }))
      const refused = yield* runCli(["sync"], { cwd: root, env: env() })
      expect(refused.code).toBe(1)
      expect(refused.stdout).toContain(
        `cannot lock the state file ${path.join(root, "state.json")}: another run is using it (process 4242 on scheduler-7, since 2026-01-02T03:04:05.000Z)`
      )
      expect(org.storedRecords("Contact").filter((contact) => contact["External_Id__c"] === "LK-1")).toHaveLength(0)
      expect(existsSync(path.join(root, "state.json"))).toBe(false)
      expect(readFileSync(lock, "utf8")).toContain("scheduler-7")

      rmSync(lock)
      expect((yield* runCli(["sync"], { cwd: root, env: env() })).code).toBe(0)
      expect(savedStreams(root)).toEqual(["users"])
      expect(existsSync(lock)).toBe(false)
    })
  )

  it.live("a sync of one stream saves no global state once it has passed over another stream's records", () =>
    Effect.gen(function* () {
      const global = (lsn: number) => JSON.stringify({ type: "STATE", state: { type: "GLOBAL", global: { shared_state: { lsn }, stream_states: [] } } })
      const messages = [streamRecord("users", "GL-1"), global(1), streamRecord("orders", "GL-2"), streamRecord("users", "GL-3"), global(2), global(3)]
      const root = yield* workspace({ "a.yaml": airbyteSync("a", "  file: m.jsonl", "users") }, { "m.jsonl": `${messages.join("\n")}\n` })
      const result = yield* runCli(["sync"], { cwd: root, env: env() })
      expect(result.code).toBe(0)
      // the first global state came before any orders record: it is saved; the later ones cover GL-2, never loaded
      expect(JSON.parse(readFileSync(path.join(root, "state.json"), "utf8"))).toEqual([{ type: "GLOBAL", global: { shared_state: { lsn: 1 }, stream_states: [] } }])
      expect(result.stderr).toContain("m.jsonl: line 5: a GLOBAL state covers every stream, and this sync passed over records of orders (from line 3)")
      expect(result.stderr.match(/a GLOBAL state covers every stream/g)).toHaveLength(1)
      expect(org.storedRecords("Contact").filter((contact) => String(contact["External_Id__c"]).startsWith("GL-")).map((contact) => contact["External_Id__c"]).sort()).toEqual(["GL-1", "GL-3"])
    })
  )

  it.live("a stream named in two namespaces is refused unless the sync chooses one, and then only its records and states are taken", () =>
    Effect.gen(function* () {
      const record = (namespace: string, key: string) => JSON.stringify({ type: "RECORD", record: { stream: "users", namespace, emitted_at: 1, data: { key, last: key } } })
      const state = (namespace: string, cursor: number) =>
        JSON.stringify({ type: "STATE", state: { type: "STREAM", stream: { stream_descriptor: { name: "users", namespace }, stream_state: { cursor } } } })
      const messages = [record("public", "NS-1"), state("public", 1), record("archive", "NS-2"), state("archive", 9), record("public", "NS-3"), state("public", 2)]
      const extra = { "m.jsonl": `${messages.join("\n")}\n` }
      const loaded = () => org.storedRecords("Contact").filter((contact) => String(contact["External_Id__c"]).startsWith("NS-")).map((contact) => contact["External_Id__c"])

      const mixed = yield* workspace({ "a.yaml": airbyteSync("a", "  file: m.jsonl", "users") }, extra)
      const refused = yield* runCli(["sync"], { cwd: mixed, env: env() })
      expect(refused.code).toBe(1)
      expect(refused.stdout).toContain(`m.jsonl: line 3: records of stream users come in namespace "public" and in namespace "archive": set the source's namespace: to the one to load`)
      expect(loaded()).toEqual(["NS-1"])

      const chosen = yield* workspace({ "a.yaml": airbyteSync("a", "  file: m.jsonl\n  namespace: public", "users") }, extra)
      expect((yield* runCli(["sync"], { cwd: chosen, env: env() })).code).toBe(0)
      expect(loaded().sort()).toEqual(["NS-1", "NS-3"])
      expect(JSON.parse(readFileSync(path.join(chosen, "state.json"), "utf8"))).toEqual([
        { type: "STREAM", stream: { stream_descriptor: { name: "users", namespace: "public" }, stream_state: { cursor: 2 } } }
      ])
    })
  )

  it.live("a state file that stops taking writes part way stops the sync, which still counts what it loaded", () =>
    Effect.gen(function* () {
      // the source blocks the state file's temporary name once the sync has started
      const connector = `
const fs = require("fs")
console.log(${JSON.stringify(streamRecord("users", "SF5-1"))})
fs.mkdirSync("state.json.partial/blocked", { recursive: true })
console.log(${JSON.stringify(streamState("users", 1))})
console.log(${JSON.stringify(streamRecord("users", "SF5-2"))})
console.log(${JSON.stringify(streamState("users", 2))})`
      const command = `  command: [${JSON.stringify(process.execPath)}, "-e", ${JSON.stringify(connector)}]`
      const root = yield* workspace({ "a.yaml": airbyteSync("a", command, "users") })
      const result = yield* runCli(["sync", "--report", "r.json"], { cwd: root, env: env() })
      expect(result.code).toBe(1)
      expect(result.stdout).toContain(`cannot write the state file ${path.join(root, "state.json")}: EISDIR`)
      const loaded = org.storedRecords("Contact").filter((contact) => String(contact["External_Id__c"]).startsWith("SF5-")).length
      expect(loaded).toBeGreaterThan(0)
      const report = JSON.parse(readFileSync(path.join(root, "r.json"), "utf8")) as { syncs: Array<Record<string, unknown>> }
      expect(report.syncs[0]).toMatchObject({ status: "failed", recordsIn: 2, created: loaded })
    })
  )

  it.live("plan finds a state file the sync could not read, as sync does, and writes nothing", () =>
    Effect.gen(function* () {
      const root = yield* workspace({ "a.yaml": airbyteSync("a", "  file: m.jsonl") }, { "m.jsonl": `${streamRecord("users", "PL-1")}\n`, "state.json": "[{not json" })
      const planned = yield* runCli(["plan"], { cwd: root, env: env() })
      expect(planned.code).toBe(2)
      expect(planned.stdout).toContain(`configs/syncs/a.yaml:6:3: StateFileUnreadable: cannot read the state file ${path.join(root, "state.json")}: expected the JSON array`)
      expect(readFileSync(path.join(root, "state.json"), "utf8")).toBe("[{not json")
      const synced = yield* runCli(["sync"], { cwd: root, env: env() })
      expect(synced.code).toBe(1)
      expect(synced.stdout).toContain(`cannot read the state file ${path.join(root, "state.json")}`)
    })
  )

  it.live("a state file that cannot be written fails the sync naming it, before any record is sent", () =>
    Effect.gen(function* () {
      const root = yield* workspace(
        { "a.yaml": airbyteSync("a", "  file: m.jsonl") },
        { "m.jsonl": `${[streamRecord("users", "SF4-1"), streamState("users", 1)].join("\n")}\n`, "state.json.partial/blocked": "a folder where the temporary file goes" }
      )
      const result = yield* runCli(["sync"], { cwd: root, env: env() })
      expect(result.code).toBe(1)
      expect(result.stdout).toContain(`cannot write the state file ${path.join(root, "state.json")}: EISDIR`)
      expect(org.storedRecords("Contact").filter((contact) => contact["External_Id__c"] === "SF4-1")).toHaveLength(0)
    })
  )

  it.live("a malformed state file fails the sync naming the file, before any record is sent", () =>
    Effect.gen(function* () {
      for (const malformed of ["[{not json", '{"cursor": 7}\n']) {
        const root = yield* workspace(
          { "a.yaml": airbyteSync("a", "  file: m.jsonl") },
          { "m.jsonl": `${[streamRecord("users", "SF3-1"), streamState("users", 1)].join("\n")}\n`, "state.json": malformed }
        )
        const result = yield* runCli(["sync"], { cwd: root, env: env() })
        expect(result.code).toBe(1)
        expect(result.stdout).toContain(
          `cannot read the state file ${path.join(root, "state.json")}: expected the JSON array of Airbyte states an earlier run wrote; fix or remove the file`
        )
        expect(readFileSync(path.join(root, "state.json"), "utf8")).toBe(malformed)
        // found before the records were sent: a next run, once the file is fixed, sends them once
        expect(org.storedRecords("Contact").filter((contact) => contact["External_Id__c"] === "SF3-1")).toHaveLength(0)
      }
    })
  )
})
