import { describe, expect, it } from "@effect/vitest"
import { RowCounts, rowFingerprint } from "../src/RejectedRows.js"

describe("rowFingerprint", () => {
  it("is the same whatever the column order, and differs for a value in another column", () => {
    expect(rowFingerprint({ a: "1", b: "2" })).toBe(rowFingerprint({ b: "2", a: "1" }))
    expect(rowFingerprint({ a: "1", b: "2" })).not.toBe(rowFingerprint({ a: "2", b: "1" }))
    expect(rowFingerprint({ a: "12", b: "" })).not.toBe(rowFingerprint({ a: "1", b: "2" }))
  })

  it("keeps 65,536 rows apart that a base-31 string hash could not tell apart (Aa / BB)", () => {
    const seen = new Set<number>()
    for (let row = 0; row < 1 << 16; row++) {
      let name = ""
      for (let bit = 0; bit < 16; bit++) name += (row >> bit) & 1 ? "Aa" : "BB"
      seen.add(rowFingerprint({ LastName: name, Email: "a@example.com" }))
    }
    expect(seen.size).toBe(1 << 16)
  })

  it("counts rows: one taken out per one put in", () => {
    const counts = new RowCounts()
    counts.add({ a: "1" })
    counts.add({ a: "1" })
    expect([counts.remove({ a: "1" }), counts.remove({ a: "2" }), counts.remove({ a: "1" }), counts.remove({ a: "1" })]).toEqual([true, false, true, false])
  })
})
