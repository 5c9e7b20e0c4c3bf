import { describe, expect, it } from "@effect/vitest"
import { CsvValue } from "../src/index.js"

describe("CsvValue", () => {
  it("quotes exactly the values holding a comma, a quote, CR or LF", () => {
    expect(CsvValue.quote("plain text")).toBe("plain text")
    expect(CsvValue.quote(" padded ")).toBe(" padded ")
    expect(CsvValue.quote("a,b")).toBe('"a,b"')
    expect(CsvValue.quote('say "hi"')).toBe('"say ""hi"""')
    expect(CsvValue.quote("line\nbreak")).toBe('"line\nbreak"')
    expect(CsvValue.quote("carriage\rreturn")).toBe('"carriage\rreturn"')
    expect(CsvValue.quote("Zoë 🚀 東京")).toBe("Zoë 🚀 東京")
  })

  it("normalises dateTimes to UTC milliseconds", () => {
    expect(CsvValue.dateTime("2024-11-27T10:15:00.000Z")).toBe("2024-11-27T10:15:00.000Z")
    expect(CsvValue.dateTime("2024-11-27T10:15:00+02:00")).toBe("2024-11-27T08:15:00.000Z")
    expect(CsvValue.dateTime("2024-11-27T23:30:00.5-0130")).toBe("2024-11-28T01:00:00.500Z")
    expect(CsvValue.dateTime("2024-11-27 10:15:00.123456")).toBe("2024-11-27T10:15:00.123Z")
    expect(CsvValue.dateTime("2024-11-27")).toBe("2024-11-27T00:00:00.000Z")
    expect(CsvValue.dateTime(Date.UTC(2024, 1, 29, 12))).toBe("2024-02-29T12:00:00.000Z")
    expect(CsvValue.dateTime(new Date(Date.UTC(2000, 0, 1)))).toBe("2000-01-01T00:00:00.000Z")
    for (const bad of ["2024-02-30T00:00:00Z", "2024-13-01", "yesterday", "2024-11-27T25:00:00Z", "", 1.5, Number.NaN, new Date(Number.NaN), {}]) {
      expect(CsvValue.dateTime(bad)).toBeUndefined()
    }
  })

  it("passes date-times already in Salesforce's form only when they exist", () => {
    for (const good of ["2024-02-29T23:59:59.999Z", "0100-01-01T00:00:00.000Z", "9999-12-31T23:59:59.999Z"]) {
      expect(CsvValue.dateTime(good)).toBe(good)
    }
    const bad = [
      "2023-02-29T00:00:00.000Z",
      "2024-04-31T00:00:00.000Z",
      "2024-00-10T00:00:00.000Z",
      "0099-12-31T00:00:00.000Z",
      "2024-11-27T24:00:00.000Z",
      "2024-11-27T10:60:00.000Z",
      "2024-11-27T10:15:60.000Z",
      "2024-11-27T10:15:00.0x0Z",
      "2024-1a-27T10:15:00.000Z",
      "2024-11-27X10:15:00.000Z"
    ]
    for (const text of bad) expect(CsvValue.dateTime(text)).toBeUndefined()
    expect(CsvValue.date("2024-04-31")).toBeUndefined()
    expect(CsvValue.date("2024-4-30")).toBeUndefined()
    expect(CsvValue.date("2024/04/30")).toBeUndefined()
  })

  it("formats dates, times and booleans", () => {
    expect(CsvValue.date("2024-02-29")).toBe("2024-02-29")
    expect(CsvValue.date("2024-02-29T23:00:00-05:00")).toBe("2024-02-29")
    expect(CsvValue.date(new Date(Date.UTC(2024, 0, 31, 23, 59)))).toBe("2024-01-31")
    expect(CsvValue.date(1_714_979_289_000)).toBe("2024-05-06")
    expect(CsvValue.dateTime(-8_000_000_000_000)).toBe("1716-06-28T09:46:40.000Z")
    // numbers that read as millis would land near 1970: epoch seconds, digits of a date
    for (const ambiguous of [0, 1_714_979_289, 20_240_506, -99_999_999_999]) {
      expect([CsvValue.date(ambiguous), CsvValue.dateTime(ambiguous)]).toEqual([undefined, undefined])
    }
    expect(CsvValue.date("2023-02-29")).toBeUndefined()
    // what follows the date is a time and an offset, or the value is refused rather than cut
    expect(CsvValue.date("1940-06-07Z")).toBe("1940-06-07")
    expect(CsvValue.date("2024-05-06 10:15")).toBe("2024-05-06")
    for (const printed of ["2024-05-06 10:00:00.000 -0700", "2024-05-06 10:00:00 UTC", "2024-05-06T10:00:00.1234567891Z", "2024-05-06T10:00+02:00[Europe/Paris]", "2024-05-06+02:00"]) {
      expect(CsvValue.date(printed)).toBe("2024-05-06")
    }
    for (const loose of ["2024-05-06 garbage", "2024-05-06T", "2024-05-06T25:00:00Z", "2024-05-06 1:00", "2024-05-06 / 2024-05-07", "2024-05-06Zulu"]) {
      expect(CsvValue.date(loose)).toBeUndefined()
    }
    expect(CsvValue.date("29/02/2024")).toBeUndefined()
    expect(CsvValue.time("09:05")).toBe("09:05:00.000Z")
    expect(CsvValue.time("23:59:59.9Z")).toBe("23:59:59.900Z")
    expect(CsvValue.time(new Date(Date.UTC(2024, 0, 1, 7, 8, 9, 10)))).toBe("07:08:09.010Z")
    expect(CsvValue.time("24:00")).toBeUndefined()
    expect([true, "true", "TRUE", 1, "1"].map(CsvValue.boolean)).toEqual(["true", "true", "true", "true", "true"])
    expect([false, "false", "False", 0, "0"].map(CsvValue.boolean)).toEqual(["false", "false", "false", "false", "false"])
    expect(["yes", 2, null, "tru"].map(CsvValue.boolean)).toEqual([undefined, undefined, undefined, undefined])
  })

  it("writes numbers as plain decimals and refuses NaN, Infinity and text", () => {
    expect(CsvValue.decimal(1234.5)).toBe("1234.5")
    expect(CsvValue.decimal(-0.25)).toBe("-0.25")
    expect(CsvValue.decimal("1.5e3")).toBe("1.5e3")
    expect(CsvValue.decimal(12345678901234567890n)).toBe("12345678901234567890")
    expect(CsvValue.integer(42)).toBe("42")
    expect(CsvValue.integer("-7")).toBe("-7")
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, "12abc", "", " 1", "1,000", true]) {
      expect(CsvValue.decimal(bad)).toBeUndefined()
    }
    expect(CsvValue.integer(1.5)).toBeUndefined()
    expect(CsvValue.integer("1.0")).toBeUndefined()
  })

  it("writes objects as JSON and multipicklists joined with ;", () => {
    expect(CsvValue.text({ a: [1, "x"] })).toBe('{"a":[1,"x"]}')
    expect(CsvValue.text([1, 2])).toBe("[1,2]")
    expect(CsvValue.text(new Uint8Array([104, 105]))).toBe("aGk=")
    const cyclic: Record<string, unknown> = {}
    cyclic["self"] = cyclic
    expect(CsvValue.text(cyclic)).toBeUndefined()
    expect(CsvValue.multipicklist(["Golf", "Tennis"])).toBe("Golf;Tennis")
    expect(CsvValue.multipicklist("Golf;Tennis")).toBe("Golf;Tennis")
    expect(CsvValue.multipicklist([{}])).toBeUndefined()
    expect(CsvValue.multipicklist(["Golf;Tennis", "Chess"])).toBeUndefined()
  })

  it("refuses NaN and ±Infinity in text and multipicklist fields, inside objects too", () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      expect(CsvValue.text(bad)).toBeUndefined()
      expect(CsvValue.text({ score: bad })).toBeUndefined()
      expect(CsvValue.text([1, [bad]])).toBeUndefined()
      expect(CsvValue.multipicklist(["Golf", bad])).toBeUndefined()
    }
    expect(CsvValue.text({ score: 1.5, nested: { list: [0, -2] } })).toBe('{"score":1.5,"nested":{"list":[0,-2]}}')
  })
})
