import { describe, expect, it } from "@effect/vitest"
import * as CellCheck from "../src/CellCheck.js"

/** A deterministic stream of numbers in [0, 1). */
const seeded = (seed: number) => () => {
  seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0
  return seed / 2 ** 32
}

/** `count` strings of up to `maxLength` characters drawn from `alphabet`, plus every given sample. */
const strings = (alphabet: string, maxLength: number, count: number, samples: ReadonlyArray<string>): Array<string> => {
  const random = seeded(alphabet.length * 7919 + maxLength)
  const drawn: Array<string> = [...samples]
  for (let index = 0; index < count; index++) {
    let text = ""
    const length = Math.floor(random() * (maxLength + 1))
    for (let position = 0; position < length; position++) text += alphabet[Math.floor(random() * alphabet.length)]
    drawn.push(text)
  }
  return drawn
}

/** `check`, run on the bytes of `text` placed inside a larger buffer (offsets matter). */
const checkOf = (check: CellCheck.CellCheck) => (text: string) => {
  const bytes = Buffer.from(`xx,${text},yy`, "latin1")
  return check(bytes, 3, 3 + text.length)
}

describe("cell checks on bytes", () => {
  it("take an email exactly when the email pattern does", () => {
    const pattern = /^[^\s@]+@[^\s@]+\.[^\s@]+$/
    const check = checkOf(CellCheck.email(80))
    const samples = ["a@b.c", "a@b.c.", "a@b..c", "@b.c", "a@.c", "a@b.", "a b@c.d", "a@b@c.d", "a@bc", "a.b@c.d", "a\t@b.c", "a@b.c\u000b", "ada.1@example.com"]
    const cells = strings("ab.@ \t", 7, 10_000, samples).concat(strings("ab.@", 7, 10_000, []))
    const mismatches = cells.filter((cell) => check(cell) !== pattern.test(cell))
    expect(mismatches).toEqual([])
    expect(cells.filter((cell) => check(cell)).length).toBeGreaterThan(100)
  })

  it("refuse an email longer than the field, and leave one with any non-ASCII byte to the pattern", () => {
    const check = checkOf(CellCheck.email(12))
    expect(check("ada@lace.org")).toBe(true)
    expect(check("ada@lace.org1")).toBe(false)
    const utf8 = (text: string) => {
      const bytes = Buffer.from(text, "utf8")
      return CellCheck.email(80)(bytes, 0, bytes.length)
    }
    expect([utf8("zoë@example.com"), utf8("a\u00a0b@c.de"), utf8("ada@example.com")]).toEqual([false, false, true])
  })

  it("take a date exactly when it is yyyy-MM-dd and a real day", () => {
    const check = checkOf(CellCheck.isDate)
    const realDay = (cell: string) => {
      const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(cell)
      if (match === null) return false
      const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])]
      const date = new Date(Date.UTC(2000, month - 1, day))
      date.setUTCFullYear(year)
      return month >= 1 && month <= 12 && date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day
    }
    const samples = ["2000-02-29", "2001-02-29", "1900-02-29", "2400-02-29", "2024-04-31", "2024-12-31", "2024-13-01", "2024-00-10", "2024-01-00", "0000-01-01", "2024-1-01", "2024/01/01", "20240-01-1"]
    const cells = strings("0123-", 10, 20_000, samples).concat(strings("0129-", 10, 20_000, []).filter((cell) => cell.length === 10))
    for (let day = 0; day < 3 * 366; day++) cells.push(new Date(Date.UTC(2023, 0, 1 + day)).toISOString().slice(0, 10))
    const mismatches = cells.filter((cell) => check(cell) !== realDay(cell))
    expect(mismatches).toEqual([])
    expect(cells.filter((cell) => check(cell)).length).toBeGreaterThan(3 * 366)
  })

  it("take a datetime only in the stored form, yyyy-MM-ddTHH:mm:ss.SSSZ of a real instant", () => {
    const check = checkOf(CellCheck.isCanonicalDateTime)
    const stored = (cell: string) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(cell) && !Number.isNaN(Date.parse(cell)) && new Date(cell).toISOString() === cell
    const samples = [
      "2024-11-27T10:15:00.000Z",
      "2024-02-29T23:59:59.999Z",
      "2023-02-29T00:00:00.000Z",
      "2024-01-02T24:00:00.000Z",
      "2024-01-02T23:60:00.000Z",
      "2024-01-02T23:00:60.000Z",
      "2024-01-02T03:04:05Z",
      "2024-01-02T03:04:05.000+02:00",
      "2024-01-02 03:04:05.000Z",
      "2024-01-02T03:04:05.0000"
    ]
    const cells = samples.concat(strings("0123459", 20, 5_000, []).map((digits) => `20${digits.padEnd(20, "0").slice(0, 2)}-${digits.slice(2, 4).padEnd(2, "0")}-${digits.slice(4, 6).padEnd(2, "1")}T${digits.slice(6, 8).padEnd(2, "0")}:${digits.slice(8, 10).padEnd(2, "0")}:${digits.slice(10, 12).padEnd(2, "0")}.${digits.slice(12, 15).padEnd(3, "0")}Z`))
    const mismatches = cells.filter((cell) => check(cell) !== stored(cell))
    expect(mismatches).toEqual([])
    expect(cells.filter((cell) => check(cell)).length).toBeGreaterThan(50)
  })

  it("take text up to the field's length in bytes, checkboxes as true or false, and say #N/A", () => {
    const firstName = checkOf(CellCheck.text(40))
    expect(firstName("a".repeat(40))).toBe(true)
    expect(firstName("a".repeat(41))).toBe(false)
    // a character takes one byte or more: 40 bytes are at most 40 characters, 41 may be fewer
    const name = (text: string) => {
      const bytes = Buffer.from(text, "utf8")
      return CellCheck.text(40)(bytes, 0, bytes.length)
    }
    expect([name("é".repeat(20)), name("é".repeat(21))]).toEqual([true, false])
    const doNotCall = checkOf(CellCheck.checkbox)
    expect(["true", "false", "TRUE", "1", "0", "tru", "falsey"].filter((cell) => doNotCall(cell))).toEqual(["true", "false"])
    const bytes = Buffer.from("x,#N/A,#N/B", "latin1")
    expect([CellCheck.isNotApplicable(bytes, 2, 6), CellCheck.isNotApplicable(bytes, 7, 11), CellCheck.isNotApplicable(bytes, 0, 1)]).toEqual([true, false, false])
  })
})
