import { describe, expect, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Stream from "effect/Stream"
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import * as Sources from "../src/Sources/Sources.js"
import { contactsUpsert, loopbackOrg, runCli, workspace } from "./support.js"

const { org, url, env } = loopbackOrg({ faults: { processingDelayMs: 0 } })

const sync = (file: string) =>
  contactsUpsert({ org: url(), source: `  type: file\n  path: ${file}`, extra: "rejects:\n  type: local\n  directory: .rejects\n" })
const stored = (prefix: string) => org.storedRecords("Contact").filter((contact) => String(contact["External_Id__c"]).startsWith(prefix))

describe("a bad line in a file source, after good rows in the same chunk", () => {
  it.live("JSONL: the rows before it reach Salesforce, then the sync fails naming the file and the line", () =>
    Effect.gen(function* () {
      const good = Array.from({ length: 5 }, (_, i) => JSON.stringify({ key: `FJ-${i}`, last: `L${i}` }))
      const root = yield* workspace({ "c.yaml": sync("c.jsonl") }, { "c.jsonl": `${good.join("\n")}\n{oops\n${JSON.stringify({ key: "FJ-after", last: "A" })}\n` })
      const result = yield* runCli(["sync"], { cwd: root, env: env() })
      expect(result.code).toBe(1)
      expect(result.stdout).toContain(`${path.join(root, "c.jsonl")}: line 6 is not JSON`)
      expect(stored("FJ-").map((contact) => contact["External_Id__c"]).sort()).toEqual(["FJ-0", "FJ-1", "FJ-2", "FJ-3", "FJ-4"])
    })
  )

  it.live("CSV: the rows before it reach Salesforce, then the sync fails naming the file, the line and the record", () =>
    Effect.gen(function* () {
      const good = Array.from({ length: 5 }, (_, i) => `FC-${i},L${i}`)
      const root = yield* workspace({ "c.yaml": sync("c.csv") }, { "c.csv": `key,last\n${good.join("\n")}\nx,y,z\nFC-after,A\n` })
      const result = yield* runCli(["sync"], { cwd: root, env: env() })
      expect(result.code).toBe(1)
      expect(result.stdout).toContain(`${path.join(root, "c.csv")}: is not valid CSV: malformed CSV at line 7, record 7 (the header is record 1): 3 fields where the header has 2`)
      expect(stored("FC-").map((contact) => contact["External_Id__c"]).sort()).toEqual(["FC-0", "FC-1", "FC-2", "FC-3", "FC-4"])
    })
  )
})

describe("a sync that fails part way", () => {
  it.live("says how many records it read were neither confirmed in Salesforce nor rejected, in the summary and the report", () =>
    Effect.gen(function* () {
      // every third job Salesforce will not create: the sync fails after the jobs before it
      org.setFaults({ processingDelayMs: 0, httpErrors: [{ call: "create", status: 400, errorCode: "INVALID_FIELD", every: 3 }] })
      const rows = Array.from({ length: 100 }, (_, i) => JSON.stringify({ key: `UN-${i}`, last: `L${i}` }))
      const definition = sync("c.jsonl").replace("rejects:", "batchSize: 10\nconcurrency: 1\nrejects:")
      const root = yield* workspace({ "c.yaml": definition }, { "c.jsonl": `${rows.join("\n")}\n` })
      const result = yield* runCli(["sync", "--report", "report.json"], { cwd: root, env: env() }).pipe(
        Effect.ensuring(Effect.sync(() => org.setFaults({ processingDelayMs: 0 })))
      )
      expect(result.code).toBe(1)
      const loaded = stored("UN-").length
      expect(loaded).toBe(20)
      const report = JSON.parse(readFileSync(path.join(root, "report.json"), "utf8")) as { syncs: Array<Record<string, number>>; totals: Record<string, number> }
      const [result0] = report.syncs
      const unsettled = (result0?.["recordsIn"] ?? 0) - 20
      // read ahead of the failure: more than the 20 loaded, none of the others rejected
      expect(unsettled).toBeGreaterThan(0)
      expect(result0).toMatchObject({ created: 20, rejected: 0, unsettled })
      expect(report.totals).toMatchObject({ unsettled })
      expect(result.stdout).toContain(`20 created, 0 updated, 0 rejected, ${unsettled} unsettled (2 jobs)`)
      expect(result.stdout).toContain(`Unsettled records: ${unsettled}, neither confirmed in Salesforce nor stored as rejected`)
    })
  )
})

describe("the file source's items before a bad line", () => {
  const scratch = mkdtempSync(path.join(tmpdir(), "runner-file-errors-"))
  const context = { baseDir: scratch, stdin: Stream.empty }
  /** How many rows the source emits before it fails, and the failure. */
  const readUntilFailure = (file: string) =>
    Effect.map(Stream.runCollect(Stream.either(Sources.reader({ type: "file", path: file }, context).items)), (items) => {
      const all = Chunk.toArray(items)
      return { rows: all.filter(Either.isRight).length, failure: all.filter(Either.isLeft).map((left) => left.left.message) }
    })

  it.effect("are all emitted, whichever read chunk they are in, then the error", () =>
    Effect.gen(function* () {
      // more than one 1 MiB read: rows in earlier chunks and rows in the bad line's chunk
      const count = 20_000
      const padding = "x".repeat(60)
      writeFileSync(path.join(scratch, "big.jsonl"), `${Array.from({ length: count }, (_, i) => JSON.stringify({ key: i, padding })).join("\n")}\n[1]\n{"key":-1}\n`)
      expect(yield* readUntilFailure("big.jsonl")).toEqual({ rows: count, failure: [`file source: ${path.join(scratch, "big.jsonl")}: line ${count + 1} is not a JSON object`] })
      writeFileSync(path.join(scratch, "big.csv"), `key,padding\n${Array.from({ length: count }, (_, i) => `${i},${padding}`).join("\n")}\n"1"2,x\n3,y\n`)
      expect(yield* readUntilFailure("big.csv")).toEqual({
        rows: count,
        failure: [
          `file source: ${path.join(scratch, "big.csv")}: is not valid CSV: malformed CSV at line ${count + 2}, record ${count + 2} (the header is record 1): a closing quote is not followed by a comma or a line break`
        ]
      })
    })
  )

  it.effect("a CSV column named __proto__ is a column like any other, its empty cells null", () =>
    Effect.gen(function* () {
      const file = path.join(scratch, "proto.csv")
      writeFileSync(file, "key,__proto__\nQ1,Countess\nQ2,\n")
      const items = Chunk.toArray(yield* Stream.runCollect(Sources.reader({ type: "file", path: file }, context).items))
      const data = items.flatMap((item) => (item._tag === "Row" ? [item.data] : []))
      expect(data.map((row) => [Object.hasOwn(row, "__proto__"), row["__proto__"]])).toEqual([
        [true, "Countess"],
        [true, null]
      ])
    })
  )

  it.effect("a file that cannot be opened is said to be unreadable, not malformed", () =>
    Effect.gen(function* () {
      expect(yield* readUntilFailure("missing.csv")).toEqual({
        rows: 0,
        failure: [`file source: ${path.join(scratch, "missing.csv")}: cannot read: ENOENT: no such file or directory, open '${path.join(scratch, "missing.csv")}'`]
      })
    })
  )

  it.effect("a CSV header naming a column twice stops the reading at the header, named (each row kept only the last cell)", () =>
    Effect.gen(function* () {
      writeFileSync(path.join(scratch, "twice.csv"), "key,last,key\n1,A,2\n")
      expect(yield* readUntilFailure("twice.csv")).toEqual({
        rows: 0,
        failure: [`file source: ${path.join(scratch, "twice.csv")}: is not valid CSV: malformed CSV at line 1, record 1 (the header is record 1): the header names column "key" twice (columns 1 and 3)`]
      })
    })
  )

  it.effect("a line saved as Latin-1 (not UTF-8) stops the reading there, named, instead of loading U+FFFD", () =>
    Effect.gen(function* () {
      const count = 20_000
      const latin1 = (text: string) => Buffer.from(text, "latin1")
      const utf8 = (text: string) => Buffer.from(text, "utf8")
      const rows = Array.from({ length: count }, (_, i) => JSON.stringify({ key: i, name: "Zoë" })).join("\n")
      writeFileSync(path.join(scratch, "latin1.jsonl"), Buffer.concat([utf8(`${rows}\n`), latin1('{"key":-1,"name":"Renée"}\n'), utf8('{"key":-2}\n')]))
      expect(yield* readUntilFailure("latin1.jsonl")).toEqual({
        rows: count,
        failure: [`file source: ${path.join(scratch, "latin1.jsonl")}: cannot read: line ${count + 1}: its bytes are not UTF-8 text (a file saved as Latin-1 or Windows-1252? save it as UTF-8)`]
      })
      writeFileSync(path.join(scratch, "latin1.csv"), Buffer.concat([utf8(`key,name\n${Array.from({ length: count }, (_, i) => `${i},Zoë`).join("\n")}\n`), latin1("-1,Müller\n")]))
      expect(yield* readUntilFailure("latin1.csv")).toEqual({
        rows: count,
        failure: [
          `file source: ${path.join(scratch, "latin1.csv")}: is not valid CSV: malformed CSV at line ${count + 2}, record ${count + 2} (the header is record 1): its bytes are not UTF-8 text (a file saved as Latin-1 or Windows-1252? save it as UTF-8)`
        ]
      })
    })
  )
})

describe("the report of a sync that stops part way", () => {
  it.live("counts what was committed and rejected before the failure, and says where the rejects are", () =>
    Effect.gen(function* () {
      const lines = [{ key: "RP-1", last: "One" }, { key: "RP-2", last: "Two" }, { key: "RP-3", last: null }].map((data) => JSON.stringify(data))
      const root = yield* workspace({ "c.yaml": sync("c.jsonl") }, { "c.jsonl": `${lines.join("\n")}\n{oops\n` })
      const result = yield* runCli(["sync", "--report", "r.json"], { cwd: root, env: env() })
      expect(result.code).toBe(1)
      expect(stored("RP-")).toHaveLength(2)
      const report = JSON.parse(readFileSync(path.join(root, "r.json"), "utf8")) as { syncs: Array<Record<string, unknown>> }
      expect(report.syncs[0]).toMatchObject({ status: "failed", recordsIn: 3, created: 2, rejected: 1 })
      expect(String(report.syncs[0]?.["rejectsLocation"])).toContain(".rejects")
    })
  )

  it.live("when storing the rejects is what failed, points to no location and offers no replay", () =>
    Effect.gen(function* () {
      const lines = [{ key: "RS-1", last: "One" }, { key: "RS-2", last: null }].map((data) => JSON.stringify(data))
      // the rejects directory cannot be made: a file is in its way
      const root = yield* workspace({ "c.yaml": sync("c.jsonl") }, { "c.jsonl": `${lines.join("\n")}\n`, ".rejects": "not a directory" })
      const result = yield* runCli(["sync", "--report", "r.json"], { cwd: root, env: { ...env(), GITHUB_STEP_SUMMARY: path.join(root, "s.md") } })
      expect(result.code).toBe(1)
      expect(result.stdout).toContain("RejectSinkFailed")
      // the path and the system's reason
      expect(result.stdout).toMatch(new RegExp(`Could not create the file ${path.join(root, ".rejects")}/\\S+: ENOTDIR`))
      expect(result.stdout).toContain("REQUIRED_FIELD_MISSING ×1 (not all stored: the rejects store failed; the next run sends them again)")
      expect(result.stdout).not.toContain("resubmit")
      expect(result.stdout).not.toContain("replay")
      const report = JSON.parse(readFileSync(path.join(root, "r.json"), "utf8")) as { syncs: Array<Record<string, unknown>> }
      expect(report.syncs[0]).toMatchObject({ status: "failed", rejected: 1, rejectsStoreFailed: true })
      expect(report.syncs[0]?.["rejectsLocation"]).toBeUndefined()
      expect(readFileSync(path.join(root, "s.md"), "utf8")).toContain("not all stored: the rejects store failed")
    })
  )
})

describe("a mapped column no row holds", () => {
  it.live("is named in a warning (a key renamed upstream leaves its field unchanged in every record); one some rows hold is not", () =>
    Effect.gen(function* () {
      const definition = contactsUpsert({ org: url(), source: "  type: file\n  path: c.jsonl", extra: "  Description: desc\n  Title: title\n  Department: toString\n" })
      const rows = [{ key: "MC-1", last: "One", Desc: "renamed upstream", title: "Dr" }, { key: "MC-2", last: "Two", Desc: "renamed too" }]
      const root = yield* workspace({ "c.yaml": definition }, { "c.jsonl": `${rows.map((row) => JSON.stringify(row)).join("\n")}\n` })
      const result = yield* runCli(["sync"], { cwd: root, env: env() })
      expect(result.code).toBe(0)
      // a key every object inherits (toString) is held only when a row has it itself
      expect(result.stderr).toContain("no row held the mapped columns desc (Description), toString (Department): their fields were left unchanged in every record")
      expect(result.stderr).not.toContain("title (Title)")
      expect(stored("MC-")).toHaveLength(2)
    })
  )
})
