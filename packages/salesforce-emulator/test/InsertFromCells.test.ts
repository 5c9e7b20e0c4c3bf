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
  "title-long,Za,Ab,,," + "T".repeat(129) + ",,,,,",
  "utf8-1," + "é".repeat(40) + ",Zoë,zoë@exämple.com,,Ingénieure 🎨,,,,,",
  "utf8-2,Ana,Núñez,ana@example.com,,,,,,,",
  "utf8-long," + "é".repeat(41) + ",Long,,,,,,,,",
  "utf8-space,Bé,Cé,a\u00a0b@c.de,,,,,,,"
]

/** The job's outcomes (in a set order) and the stored records, in an org with `lockErrorRate`. */
const load = async (lockErrorRate?: number) => {
  const { client, org } = syncOrg({ clock: () => Date.parse("2026-01-05T09:00:00.000Z"), faults: { lockErrorRate } })
  const result = await client.run({ object: "Contact", operation: "insert" }, [header, ...rows].join("\n") + "\n")
  const byText = (left: Record<string, string>, right: Record<string, string>) => JSON.stringify(left).localeCompare(JSON.stringify(right))
  // processing times are measured, not computed
  const info = { ...result.info, totalProcessingTime: 0, apiActiveProcessingTime: 0 }
  return { info, successful: result.successful.sort(byText), failed: result.failed.sort(byText), records: org.storedRecords("Contact") }
}

describe("inserting rows from their cells' bytes", () => {
  it("gives every row the outcome, error and stored record the usual reading gives", async () => {
    // Lock faults make an org read every row as values; at this rate none ever fires.
    const fromCells = await load()
    const asValues = await load(1e-12)
    expect(fromCells).toEqual(asValues)
    expect(fromCells.info.numberRecordsProcessed).toBe(rows.length)
    expect(fromCells.successful.map((row) => row["External_Id__c"]).sort()).toEqual(["", "", "dup-1", "na-title", "ok-1", "ok-2", "ok-3", "ok-4", "ok-5", "quoted-1", "utf8-1", "utf8-2"])
    expect(fromCells.failed.map((row) => row["sf__Error"]?.split(":")[0]).sort()).toEqual([
      "DUPLICATE_VALUE",
      "DUPLICATE_VALUE",
      "INVALID_EMAIL_ADDRESS",
      "INVALID_EMAIL_ADDRESS",
      "INVALID_EMAIL_ADDRESS",
      "INVALID_EMAIL_ADDRESS",
      "INVALID_FIELD",
      "INVALID_FIELD",
      "INVALID_FIELD",
      "INVALID_FIELD",
      "INVALID_FIELD",
      "INVALID_FIELD",
      "INVALID_FIELD",
      "INVALID_TYPE_ON_FIELD_IN_RECORD",
      "REQUIRED_FIELD_MISSING",
      "REQUIRED_FIELD_MISSING",
      "STRING_TOO_LONG",
      "STRING_TOO_LONG",
      "STRING_TOO_LONG"
    ])
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
  const cellPlanOf = (columns: string, operation: JobSpec["operation"] = "insert", options: { lockErrorRate?: number; object?: string } = {}) => {
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
    return new RowProcessor.BatchProcessor(plan, job, context).cellPlan
  }

  it("reads plain inserts as cells, checking text, email, checkbox, date and datetime cells as bytes", () => {
    const columns = cellPlanOf(header)?.columns ?? []
    expect(columns.map((column) => column.name)).toEqual(header.split(","))
    expect(columns.filter((column) => column.check === undefined).map((column) => column.name)).toEqual(["Salutation", "Interests__c"])
    expect(columns.filter((column) => column.required || column.unique).map((column) => column.name)).toEqual(["External_Id__c", "LastName"])
  })

  it("reads everything else as values", () => {
    expect({
      upsert: cellPlanOf(header, "upsert"),
      idColumn: cellPlanOf(`Id,${header}`),
      notCreateable: cellPlanOf(`${header},Name`),
      requiredMissing: cellPlanOf("External_Id__c,FirstName"),
      reference: cellPlanOf(`${header},AccountId`),
      lockFaults: cellPlanOf(header, "insert", { lockErrorRate: 0.1 }),
      validationRules: cellPlanOf("Name,StageName,CloseDate", "insert", { object: "Opportunity" })
    }).toEqual({
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
