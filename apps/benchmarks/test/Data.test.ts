import { describe, expect, it } from "@effect/vitest"
import { csvHeader, fields, recordLine, rowCsv, rows } from "../src/Data.js"
import { csvLine } from "../src/Csv.js"
import { recordData } from "../src/Lines.js"

describe("generated rows", () => {
  it("are deterministic: the same seed gives the same bytes", () => {
    const first = [...rows(500)].map(recordLine)
    const second = [...rows(500)].map(recordLine)
    expect(second).toEqual(first)
    expect(new Set(first).size).toBe(500)
  })

  it("are ~370-byte Airbyte RECORD lines of 10 Contact fields", () => {
    const lines = [...rows(2_000)].map(recordLine)
    const average = lines.reduce((sum, line) => sum + Buffer.byteLength(line) + 1, 0) / lines.length
    expect(average).toBeGreaterThan(350)
    expect(average).toBeLessThan(400)
    const data = recordData(lines[0] ?? "")
    expect(Object.keys(data ?? {})).toEqual([...fields])
  })

  it("encode to the same CSV from the row and from its RECORD line", () => {
    for (const row of rows(200)) {
      const data = recordData(recordLine(row)) ?? {}
      expect(csvLine(fields.map((field) => data[field]))).toBe(rowCsv(row))
    }
    expect(csvHeader).toBe(fields.join(","))
  })
})

describe("csvLine", () => {
  it("quotes only what needs quoting and empties nulls", () => {
    expect(csvLine(["a", "b,c", "say \"hi\"", null, true, 3])).toBe("a,\"b,c\",\"say \"\"hi\"\"\",,true,3")
  })
})
