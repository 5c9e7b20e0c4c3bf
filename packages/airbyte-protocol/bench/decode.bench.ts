/**
 * Decoding throughput: 1,000,000 RECORD lines of ~300 bytes through the reader, side by side
 * with bare per-line `JSON.parse` on the same bytes. Prints both rates and their ratio.
 */
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { MessageReader } from "../src/index.js"

const recordCount = Number(process.env["BENCH_RECORDS"] ?? 1_000_000)
const chunkBytes = 64 * 1024
const rounds = 3

const makeInput = (): Array<Buffer> => {
  const lines: Array<string> = []
  for (let index = 0; index < recordCount; index++) {
    lines.push(
      JSON.stringify({
        type: "RECORD",
        record: {
          stream: "contacts",
          emitted_at: 1_732_665_600_000 + index,
          data: {
            external_id: `C-${index.toString().padStart(8, "0")}`,
            first_name: "Ada",
            last_name: `Lovelace ${index % 997}`,
            email: `ada.${index}@example.com`,
            phone: "+44 20 7946 0958",
            title: "Analyst",
            lead_score: index % 100,
            annual_revenue: 1_250_000.5,
            opted_out: index % 2 === 0,
            updated_at: "2024-11-27T10:15:00.000Z"
          }
        }
      })
    )
  }
  const all = Buffer.from(`${lines.join("\n")}\n`)
  const chunks: Array<Buffer> = []
  for (let start = 0; start < all.length; start += chunkBytes) chunks.push(all.subarray(start, start + chunkBytes))
  return chunks
}

/** The floor: split on newlines and JSON.parse each line, nothing else. */
const bareJsonParse = (chunks: ReadonlyArray<Buffer>): number => {
  let count = 0
  let carry = ""
  for (const chunk of chunks) {
    const text = carry + chunk.toString("utf8")
    let start = 0
    for (let newline = text.indexOf("\n"); newline !== -1; newline = text.indexOf("\n", start)) {
      const parsed: unknown = JSON.parse(text.slice(start, newline))
      if (parsed !== null) count++
      start = newline + 1
    }
    carry = text.slice(start)
  }
  return count
}

const reader = (chunks: ReadonlyArray<Buffer>): number =>
  Effect.runSync(Stream.fromIterable(chunks).pipe(MessageReader.decodeMessages(), Stream.runCount))

const time = (run: () => number): { seconds: number; count: number } => {
  const start = process.hrtime.bigint()
  const count = run()
  return { seconds: Number(process.hrtime.bigint() - start) / 1e9, count }
}

const input = makeInput()
const bytes = input.reduce((sum, chunk) => sum + chunk.length, 0)
console.log(`airbyte-protocol decode: ${recordCount} RECORD lines, ${(bytes / recordCount).toFixed(0)} bytes each`)

let bestFloor = Infinity
let bestReader = Infinity
for (let round = 0; round < rounds; round++) {
  const floor = time(() => bareJsonParse(input))
  const ours = time(() => reader(input))
  if (floor.count !== recordCount || ours.count !== recordCount) throw new Error("record count mismatch")
  bestFloor = Math.min(bestFloor, floor.seconds)
  bestReader = Math.min(bestReader, ours.seconds)
}
const rate = (seconds: number) => Math.round(recordCount / seconds).toLocaleString("en-US")
console.log(`  bare JSON.parse: ${rate(bestFloor)} lines/s`)
console.log(`  MessageReader:   ${rate(bestReader)} lines/s`)
console.log(`  ratio (reader / bare): ${(bestFloor / bestReader).toFixed(2)} (target ≥ 0.80)`)
