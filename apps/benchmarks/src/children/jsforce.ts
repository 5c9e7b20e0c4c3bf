/**
 * jsforce 3.10.16 as its users load: the rows become one CSV string in memory, sent as one Bulk
 * API 2.0 job by `bulk2.loadAndWaitForResults` (stock poll interval). Reads the same RECORD lines.
 * `node jsforce.mjs records.jsonl`; the emulator's URL and credentials come from BENCH_* variables.
 */
import jsforce from "jsforce"
import { csvLine } from "../Csv.js"
import { fields } from "../Data.js"
import { lines, recordData } from "../Lines.js"

const [input = ""] = process.argv.slice(2)
const env = (name: string): string => process.env[name] ?? ""

const csv: Array<string> = [csvLine(fields)]
for await (const chunk of lines(input)) {
  for (const line of chunk) {
    const data = recordData(line)
    if (data !== undefined) csv.push(csvLine(fields.map((field) => data[field])))
  }
}
csv.push("")

const loginUrl = env("BENCH_URL")
const oauth2 = new jsforce.OAuth2({ loginUrl, clientId: env("BENCH_CLIENT_ID"), clientSecret: env("BENCH_CLIENT_SECRET"), redirectUri: `${loginUrl}/callback` })
const token = await oauth2.refreshToken(env("BENCH_REFRESH_TOKEN"))
const connection = new jsforce.Connection({ instanceUrl: token.instance_url, accessToken: token.access_token, version: "62.0" })
const results = await connection.bulk2.loadAndWaitForResults({
  object: "Contact",
  operation: "insert",
  input: csv.join("\n"),
  pollTimeout: 30 * 60 * 1000
})
process.stdout.write(
  `${JSON.stringify({ successful: results.successfulResults.length, failed: results.failedResults.length, unprocessed: results.unprocessedRecords.length })}\n`
)
