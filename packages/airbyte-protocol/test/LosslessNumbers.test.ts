import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { LosslessNumbers, MessageReader } from "../src/index.js"

describe("LosslessNumbers", () => {
  it("quotes only number literals a double cannot hold, outside strings", () => {
    const line =
      '{"big":12345678901234567890,"neg":-98765432109876543210,"pi":3.14159265358979323846,"ms":1732665600000,' +
      '"exp":1.2345678901234567891e+25,"double":0.30000000000000004,"text":"id 12345678901234567890 \\" 99999999999999999","list":[1,2,12345678901234567891],"small":0.1}'
    expect(JSON.parse(LosslessNumbers.preserve(line))).toEqual({
      big: "12345678901234567890",
      neg: "-98765432109876543210",
      pi: "3.14159265358979323846",
      ms: 1732665600000,
      exp: "1.2345678901234567891e+25",
      double: 0.30000000000000004,
      text: 'id 12345678901234567890 " 99999999999999999',
      list: [1, 2, "12345678901234567891"],
      small: 0.1
    })
  })

  it("leaves lines without long digit runs untouched", () => {
    const line = '{"a":123456789012345,"b":"x"}'
    expect(LosslessNumbers.preserve(line)).toBe(line)
  })

  it("finds a long number wherever it sits in the line, and ignores runs of 15 digits", () => {
    for (let offset = 0; offset < 40; offset++) {
      const padding = "x".repeat(offset)
      const long = `{"pad":"${padding}","n":12345678901234567890}`
      expect(JSON.parse(LosslessNumbers.preserve(long))).toEqual({ pad: padding, n: "12345678901234567890" })
      const short = `{"pad":"${padding}","n":123456789012345,"m":-123456789012345}`
      expect(LosslessNumbers.preserve(short)).toBe(short)
    }
  })

  it("counts a number's digits across its point and exponent, wherever it sits", () => {
    for (let offset = 0; offset < 40; offset++) {
      const padding = "x".repeat(offset)
      const long = `{"pad":"${padding}","amount":123456789.123456789,"tiny":-1.23456789012345678e-7}`
      expect(JSON.parse(LosslessNumbers.preserve(long))).toEqual({ pad: padding, amount: "123456789.123456789", tiny: "-1.23456789012345678e-7" })
      // 15 digits, and text that only looks numeric, stay as they are
      const short = `{"pad":"${padding}","amount":1234567.12345678,"at":"2024-11-24T10:22:00.000+01:00","id":"123e4567-e89b-12d3"}`
      expect(LosslessNumbers.preserve(short)).toBe(short)
    }
  })

  it.effect("reaches record data through the reader", () =>
    Effect.sync(() => {
      const decoded = MessageReader.decodeLine('{"type":"RECORD","record":{"stream":"s","emitted_at":1,"data":{"AnnualRevenue":123456789012345678.25}}}', 1)
      const message = Either.getOrThrow(decoded)?.message
      expect(message?.type === "RECORD" ? message.record.data : undefined).toEqual({ AnnualRevenue: "123456789012345678.25" })
    }))
})

describe("LosslessNumbers.quoteNonFinite", () => {
  it("quotes bare NaN and infinities, never inside strings, and leaves JSON alone", () => {
    const written = '{"a":NaN,"b":[-Infinity,Infinity],"s":"NaN, \\"Infinity\\"","n":1}'
    expect(JSON.parse(LosslessNumbers.quoteNonFinite(written))).toEqual({ a: "NaN", b: ["-Infinity", "Infinity"], s: 'NaN, "Infinity"', n: 1 })
    const plain = '{"a":1,"s":"NaN"}'
    expect(LosslessNumbers.quoteNonFinite(plain)).toBe(plain)
  })
})
