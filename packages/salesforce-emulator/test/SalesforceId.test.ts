import { describe, expect, it } from "@effect/vitest"
import { Csv, SalesforceId } from "../src/index.js"

describe("SalesforceId", () => {
  it("computes the case-safe suffix Salesforce gives", () => {
    expect(SalesforceId.checksum("0015000000Gv7qJ")).toBe("AAR")
    expect(SalesforceId.normalize("0015000000Gv7qJ")).toBe("0015000000Gv7qJAAR")
    expect(SalesforceId.normalize("0015000000Gv7qJaar")).toBe("0015000000Gv7qJAAR")
    expect(SalesforceId.normalize("0015000000Gv7qJAAA")).toBeUndefined()
    expect(SalesforceId.normalize("001-bad")).toBeUndefined()
  })

  it("makes distinct Ids with the key prefix", () => {
    const ids = new Set(Array.from({ length: 1000 }, (_, index) => SalesforceId.make("003", index + 1)))
    expect(ids.size).toBe(1000)
    for (const id of ids) expect(SalesforceId.normalize(id.slice(0, 15))).toBe(id)
    expect(SalesforceId.make("a0U", 62)).toMatch(/^a0U5g0000000010/)
  })

  it("spells the sequence in base 62 after the pod characters, with the case-safe suffix", () => {
    expect(SalesforceId.make("003", 1)).toBe("0035g0000000001AAA")
    expect(SalesforceId.make("a0U", 62 ** 3 - 1)).toBe("a0U5g0000000zzzEAA")
    expect(SalesforceId.make("Zz9", 999_999_999)).toBe("Zz95g000015ftgFBAQ")
    for (const sequence of [0, 1, 61, 62, 3843, 1_000_000, 62 ** 8]) expect(SalesforceId.sequenceOf(SalesforceId.make("003", sequence))).toBe(sequence)
  })
})

describe("Csv.Reader", () => {
  const rows = (text: string, delimiter = ",") => {
    const reader = new Csv.Reader(text, delimiter)
    const out: Array<Array<string>> = []
    for (let row = reader.next(); row !== undefined; row = reader.next()) out.push(row.values)
    return out
  }

  it("reads quoted values with delimiters, doubled quotes and line breaks; CRLF; no trimming", () => {
    expect(rows('a,b\r\n"x,1","say ""hi"""\n"multi\nline", spaced \n')).toEqual([
      ["a", "b"],
      ["x,1", 'say "hi"'],
      ["multi\nline", " spaced "]
    ])
    expect(rows("a;b\n1;2", ";")).toEqual([["a", "b"], ["1", "2"]])
    expect(rows('a\n""\n')).toEqual([["a"], [""]])
  })

  it("keeps each row's text span", () => {
    const text = 'h\n"q,1"\nplain\n'
    const reader = new Csv.Reader(text, ",")
    reader.next()
    const quoted = reader.next()
    expect(quoted && text.slice(quoted.start, quoted.end)).toBe('"q,1"')
    const plain = reader.next()
    expect(plain && text.slice(plain.start, plain.end)).toBe("plain")
  })

  it("quotes cells only when needed", () => {
    expect(Csv.cell("plain")).toBe("plain")
    expect(Csv.cell('a,"b"')).toBe('"a,""b"""')
  })
})
