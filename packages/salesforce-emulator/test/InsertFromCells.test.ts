import { describe, expect, it } from "@effect/vitest"
import * as RowProcessor from "../src/RowProcessor.js"
import { IngestJob, type JobSpec } from "../src/IngestJob.js"
import { OrgFixture, RecordStore } from "../src/index.js"
import { syncOrg } from "./support.js"

const header = "External_Id__c,FirstName,LastName,Email,Phone,Title,Birthdate,DoNotCall,Last_Engaged_At__c,Salutation,Interests__c"

/** Rows of every kind an insert meets: fine ones, and ones each cell check or row rule refuses. */
const rows = [
  "ok-1,Ada,Lovelace,ada@example.com,+44 20 7946 0001,Analyst,1990-01-15,true,2024-11-27T10:15:00.000Z,Ms.,Product",
  "ok-2,Bo,Lee,,,,,false,,,",
  "ok-3,Cy,Diaz,c.d@mail.example.org,,,2000-02-29,,2024-01-02T03:04:05Z,Mr.,Events;Webinars",
  "ok-4,Di,Eng,d@e.f.,,,,TRUE,2024-01-02T03:04:05+02:00,,",
  "ok-5,Ed,Fox,,,,,1,,Dr.,Gardening",
  "long-first," + "F".repeat(41) + ",Long,,,,,,,,",
  "no-last,Gi,,,,,,,,,",
  "na-last,Hu,#N/A,,,,,,,,",
  "na-title,Io,Jay,,,#N/A,,#N/A,,,",
  "bad-email-1,Ju,Kim,not-an-email,,,,,,,",
  "bad-email-2,Ka,Lin,a@b@c.de,,,,,,,",
  "bad-email-3,Lu,Mo,a@bc,,,,,,,",
  "bad-date-1,Mi,No,,,,2001-02-29,,,,",
  "bad-date-2,Ni,Oh,,,,2024-13-01,,,,",
  "bad-date-3,Ol,Pi,,,,2024-1-01,,,,",
  "bad-bool,Pa,Qu,,,,,maybe,,,",
  "bad-datetime-1,Qi,Ra,,,,,,2024-02-30T00:00:00.000Z,,",
  "bad-datetime-2,Ro,Su,,,,,,2024-01-02 03:04,,",
  "dup-1,Sa,Ta,,,,,,,,",
  "DUP-1,Su,Ua,,,,,,,,",
  "C-0001,Ty,Va,,,,,,,,",
  ",Ul,Wu,,,,,,,,",
  ",Vi,Xu,,,,,,,,",
  "short-row,Wo,Ya",
  "long-row,Xe,Za,,,,,,,,,",
  '"quoted-1","Yu, Jr.",Zed,,,,,,,,',
  "title-long,Za,Ab,,," + "T".repeat(129) + ",,,,,"
]

/** The job's outcomes and the stored records, with the given rows after the shared ones. */
const load = async (extraRows: ReadonlyArray<string>) => {
  const { client, org } = syncOrg({ clock: () => Date.parse("2026-01-05T09:00:00.000Z") })
  const csv = [header, ...rows, ...extraRows].join("\n") + "\n"
  const result = await client.run({ object: "Contact", operation: "insert" }, csv)
  const shared = (row: Record<string, string>) => !String(row["LastName"]).startsWith("Extra")
  const byKey = (left: Record<string, string>, right: Record<string, string>) => JSON.stringify(left).localeCompare(JSON.stringify(right))
  return {
    info: result.info,
    successful: result.successful.filter(shared).sort(byKey),
    failed: result.failed.filter(shared).sort(byKey),
    records: org.storedRecords("Contact").filter((record) => !String(record["LastName"]).startsWith("Extra"))
  }
}

describe("inserting rows from their cells' bytes", () => {
  it("gives every row the outcome, error and stored record the usual reading gives", async () => {
    // An ASCII upload is read as cells; one non-ASCII row makes the same rows go the usual way.
    const fromCells = await load([])
    const asValues = await load(["extra-1,Zoë,Extra,,,,,,,,"])
    expect(fromCells.failed).toEqual(asValues.failed)
    expect(fromCells.successful).toEqual(asValues.successful)
    expect(fromCells.records).toEqual(asValues.records)
    expect(fromCells.info.numberRecordsProcessed).toBe(rows.length)
    expect(asValues.info.numberRecordsProcessed).toBe(rows.length + 1)
    expect(fromCells.successful.map((row) => row["External_Id__c"]).sort()).toEqual(["", "", "dup-1", "na-title", "ok-1", "ok-2", "ok-3", "ok-4", "ok-5", "quoted-1"])
    expect(fromCells.failed.map((row) => row["sf__Error"].split(":")[0])).toContain("DUPLICATE_VALUE")
  })

  it("keeps the order of a batch: a key repeated later in the batch is the one that fails", async () => {
    const { client } = syncOrg()
    const { failed, successful } = await client.run({ object: "Contact", operation: "insert" }, `${header}\nrep-1,A,First,,,,,,,,\nrep-1,B,Second,,,,,,,,\n`)
    expect(successful.map((row) => row["LastName"])).toEqual(["First"])
    expect(failed.map((row) => row["LastName"])).toEqual(["Second"])
  })
})

describe("which inserts are read as cells", () => {
  const spec = (operation: JobSpec["operation"]): JobSpec => ({
    id: "7505g0000000001AAA",
    object: "Contact",
    operation,
    externalIdFieldName: operation === "upsert" ? "External_Id__c" : undefined,
    lineEnding: "LF",
    columnDelimiter: ",",
    apiVersion: "62.0",
    createdById: "005000000000001AAA",
    assignmentRuleId: undefined
  })
  const cellPlanOf = (columns: string, operation: JobSpec["operation"] = "insert", options: { ascii?: boolean; lockErrorRate?: number; object?: string } = {}) => {
    const stores = new Map(OrgFixture.describe(OrgFixture.defaultFixture).sobjects.map((sobject) => [sobject.name.toLowerCase(), new RecordStore.ObjectStore(sobject)]))
    const store = stores.get((options.object ?? "Contact").toLowerCase())
    if (store === undefined) throw new Error("no store")
    const context: RowProcessor.Context = {
      store,
      stores,
      storesByPrefix: new Map([...stores.values()].map((objectStore) => [objectStore.sobject.keyPrefix, objectStore])),
      userId: "005000000000001AAA",
      random: () => 0.5,
      lockErrorRate: options.lockErrorRate ?? 0,
      lockAttempted: new Set()
    }
    const job = new IngestJob({ ...spec(operation), object: options.object ?? "Contact" }, new Date(0))
    const plan = RowProcessor.compile(columns.split(","), columns, job, context)
    if (typeof plan === "string") throw new Error(plan)
    return new RowProcessor.BatchProcessor(plan, job, context, options.ascii ?? true).cellPlan
  }

  it("reads plain inserts of an ASCII upload as cells, checking text, email, checkbox, date and datetime cells as bytes", () => {
    const columns = cellPlanOf(header)?.columns ?? []
    expect(columns.map((column) => column.name)).toEqual(header.split(","))
    expect(columns.filter((column) => column.check === undefined).map((column) => column.name)).toEqual(["Salutation", "Interests__c"])
    expect(columns.filter((column) => column.required || column.unique).map((column) => column.name)).toEqual(["External_Id__c", "LastName"])
  })

  it("reads everything else as values", () => {
    expect({
      notAscii: cellPlanOf(header, "insert", { ascii: false }),
      upsert: cellPlanOf(header, "upsert"),
      idColumn: cellPlanOf(`Id,${header}`),
      notCreateable: cellPlanOf(`${header},Name`),
      requiredMissing: cellPlanOf("External_Id__c,FirstName"),
      reference: cellPlanOf(`${header},AccountId`),
      lockFaults: cellPlanOf(header, "insert", { lockErrorRate: 0.1 }),
      validationRules: cellPlanOf("Name,StageName,CloseDate", "insert", { object: "Opportunity" })
    }).toEqual({
      notAscii: undefined,
      upsert: undefined,
      idColumn: undefined,
      notCreateable: undefined,
      requiredMissing: undefined,
      reference: undefined,
      lockFaults: undefined,
      validationRules: undefined
    })
  })
})
