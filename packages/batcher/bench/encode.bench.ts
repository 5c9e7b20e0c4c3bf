/**
 * Encoding throughput: the same contact rows through `CsvEncoder` (typed, validated, with exact
 * UTF-8 byte counts) and through bare `csv-stringify` (untyped), side by side. Prints both rates
 * and their ratio; the target is ≥ 0.8.
 */
import * as Either from "effect/Either"
import { stringify } from "csv-stringify/sync"
import { CsvEncoder, FieldMetadata } from "../src/index.js"

const rowCount = Number(process.env["BENCH_ROWS"] ?? 300_000)
const rounds = 5

const describe = FieldMetadata.decodeObjectMetadata({
  name: "Contact",
  fields: [
    { name: "External_Id__c", type: "string", length: 40, externalId: true },
    { name: "FirstName", type: "string", length: 40 },
    { name: "LastName", type: "string", length: 80, nillable: false },
    { name: "Email", type: "email", length: 80 },
    { name: "Phone", type: "phone", length: 40 },
    { name: "Title", type: "string", length: 128 },
    { name: "Lead_Score__c", type: "double", precision: 18, scale: 0 },
    { name: "Annual_Revenue__c", type: "currency", precision: 18, scale: 2 },
    { name: "Opted_Out__c", type: "boolean", nillable: false, defaultedOnCreate: true },
    { name: "Last_Seen__c", type: "datetime" }
  ]
})
const keys = [
  "External_Id__c", "FirstName", "LastName", "Email", "Phone", "Title", "Lead_Score__c", "Annual_Revenue__c", "Opted_Out__c", "Last_Seen__c"
]

const records: Array<Record<string, unknown>> = []
for (let index = 0; index < rowCount; index++) {
  records.push({
    External_Id__c: `C-${index.toString().padStart(8, "0")}`,
    FirstName: index % 10 === 0 ? "Zoë" : "Ada",
    LastName: index % 7 === 0 ? `Lovelace, "Countess" ${index % 997}` : `Lovelace ${index % 997}`,
    Email: `ada.${index}@example.com`,
    Phone: "+44 20 7946 0958",
    Title: index % 3 === 0 ? null : "Analyst",
    Lead_Score__c: index % 100,
    Annual_Revenue__c: 1_250_000.5,
    Opted_Out__c: index % 2 === 0,
    Last_Seen__c: "2024-11-27T10:15:00.000Z"
  })
}

const time = (label: string, run: () => number): number => {
  let best = Number.POSITIVE_INFINITY
  let bytes = 0
  for (let round = 0; round < rounds; round++) {
    const started = process.hrtime.bigint()
    bytes = run()
    const seconds = Number(process.hrtime.bigint() - started) / 1e9
    best = Math.min(best, seconds)
  }
  const rate = rowCount / best
  console.log(`${label.padEnd(14)} ${Math.round(rate).toLocaleString("en")} rows/s  (${(bytes / 1024 / 1024).toFixed(1)} MiB, best of ${rounds})`)
  return rate
}

const main = () => {
  if (Either.isLeft(describe)) throw new Error(String(describe.left))
  const made = CsvEncoder.make({
    object: describe.right,
    operation: "upsert",
    externalIdFieldName: "External_Id__c",
    columns: keys.map((key) => ({ column: key, source: { key } }))
  })
  if (Either.isLeft(made)) throw new Error(made.left.message)
  const encoder = made.right

  const encoded = () => {
    let csv = encoder.header
    let bytes = encoder.headerBytes
    for (const record of records) {
      const result = encoder.encode(record)
      if (result._tag === "Row") {
        csv += result.line
        bytes += result.bytes
      }
    }
    return csv.length > 0 ? bytes : 0
  }
  const bare = () => Buffer.byteLength(stringify(records, { header: true, columns: keys }))

  console.log(`${rowCount.toLocaleString("en")} rows × ${keys.length} columns`)
  // the same rows, back to back, best of several rounds each
  const stringifyRate = time("csv-stringify", bare)
  const encoderRate = time("CsvEncoder", encoded)
  console.log(`ratio CsvEncoder / csv-stringify: ${(encoderRate / stringifyRate).toFixed(2)}`)
}

main()
