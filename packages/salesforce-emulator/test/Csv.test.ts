import { describe, expect, it } from "@effect/vitest"
import * as Csv from "../src/Csv.js"

const rows = (text: string | Uint8Array, delimiter = ",") => {
  const reader = new Csv.Reader(text, delimiter)
  const out: Array<ReadonlyArray<string>> = []
  for (let row = reader.next(); row !== undefined; row = reader.next()) out.push(row.values)
  return out
}

describe("Csv.Reader", () => {
  it("reads a row as its cells' byte offsets, and a quoted or too wide one as values", () => {
    const text = 'a,bb,,ccc\r\n\nx,"y, z",w\n1,2,3,4,5\n,,\nlast,one'
    const reader = new Csv.Reader(text, ",", "CRLF")
    const bounds = new Int32Array(2 + 5)
    const read: Array<unknown> = []
    for (let count = reader.nextCells(bounds, 2, 4); count !== -1; count = reader.nextCells(bounds, 2, 4)) {
      if (count === 0) read.push({ values: reader.heldValues })
      else read.push(Array.from({ length: count }, (_, cell) => text.slice(bounds[2 + cell], (bounds[3 + cell] ?? 0) - 1)))
    }
    expect(read).toEqual([["a", "bb", "", "ccc"], { values: ["x", "y, z", "w"] }, { values: ["1", "2", "3", "4", "5"] }, ["", "", ""], ["last", "one"]])
    // the rows after the first end in LF, not the declared CRLF
    expect(reader.lineEndingInvalid).toBe(true)
  })

  it("reads quoted values wherever they sit, the last one of the text included", () => {
    // a stored row is read again from its own text, which has no line terminator
    expect(rows('A1,"x, y"')).toEqual([["A1", "x, y"]])
    expect(rows('"A3",zz')).toEqual([["A3", "zz"]])
    expect(rows('A4,"q ""x"""')).toEqual([["A4", 'q "x"']])
    expect(rows('A5,"multi\nline"')).toEqual([["A5", "multi\nline"]])
    expect(rows('A1,"x, y"\n"b",c\n')).toEqual([
      ["A1", "x, y"],
      ["b", "c"]
    ])
  })

  it("reads bytes: spans are byte offsets, and any UTF-8 is decoded whole, quoted or not", () => {
    const bytes = Buffer.from('Å,"b, 東京"\n🎨,"q ""é"""\r\nplain,x')
    const reader = new Csv.Reader(bytes, ",")
    const read: Array<{ readonly values: ReadonlyArray<string>; readonly text: string }> = []
    for (let row = reader.next(); row !== undefined; row = reader.next()) read.push({ values: row.values, text: bytes.toString("utf8", row.start, row.end) })
    expect(read).toEqual([
      { values: ["Å", "b, 東京"], text: 'Å,"b, 東京"' },
      { values: ["🎨", 'q "é"'], text: '🎨,"q ""é"""' },
      { values: ["plain", "x"], text: "plain,x" }
    ])
    // bytes that are not UTF-8 read as U+FFFD, as a decoder gives them
    expect(rows(Buffer.from([0x61, 0x2c, 0xff, 0x0a]))).toEqual([["a", "\ufffd"]])
  })

  it("takes LF or CRLF, skips blank lines, never trims, honours the delimiter", () => {
    expect(rows("a,b\r\n\r\n c ,d\n\n")).toEqual([
      ["a", "b"],
      [" c ", "d"]
    ])
    expect(rows('a|"b|c"|d', "|")).toEqual([["a", "b|c", "d"]])
  })
  it("flags a row ending unlike the declared lineEnding, outside quotes only", () => {
    const invalid = (text: string, lineEnding: "LF" | "CRLF") => {
      const reader = new Csv.Reader(text, ",", lineEnding)
      while (reader.nextValues() !== undefined) {
        // read every row
      }
      return reader.lineEndingInvalid
    }
    expect(invalid('a,"x\r\ny"\nb,c', "LF")).toBe(false)
    expect(invalid("a,b\nc,d\r\n", "LF")).toBe(true)
    expect(invalid('a,"q"\r\n', "LF")).toBe(true)
    expect(invalid('a,"x\ny"\r\nb,c', "CRLF")).toBe(false)
    expect(invalid("a,b\r\nc,d\n", "CRLF")).toBe(true)
    expect(invalid('a,"q"\n', "CRLF")).toBe(true)
    expect(invalid("a,b\r\nc,d\n", "LF") || invalid("a,b\r\nc,d\n", "CRLF")).toBe(true)
    expect(rows("a,b\r\nc,d\n")).toHaveLength(2)
  })
})
