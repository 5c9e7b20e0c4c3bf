/**
 * The floor: Airbyte RECORD lines read, `JSON.parse`d and CSV-encoded to /dev/null — the work any
 * Node loader must do, with no HTTP, no batching and no bookkeeping. `node floor.mjs records.jsonl`
 */
import { createWriteStream } from "node:fs"
import { once } from "node:events"
import { csvLine } from "../Csv.js"
import { fields } from "../Data.js"
import { lines, recordData } from "../Lines.js"

const [input = ""] = process.argv.slice(2)
const out = createWriteStream("/dev/null")
let records = 0
if (!out.write(`${csvLine(fields)}\n`)) await once(out, "drain")
for await (const chunk of lines(input)) {
  let text = ""
  for (const line of chunk) {
    const data = recordData(line)
    if (data === undefined) continue
    text += `${csvLine(fields.map((field) => data[field]))}\n`
    records++
  }
  if (!out.write(text)) await once(out, "drain")
}
out.end()
await once(out, "finish")
process.stdout.write(`${JSON.stringify({ records })}\n`)
