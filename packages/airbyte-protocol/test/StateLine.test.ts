import { describe, expect, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { MessageReader, StateLine } from "../src/index.js"
import { parseJson } from "./officialSchema.js"

describe("StateLine", () => {
  it.effect("echoes a state with big numbers and key order intact", () =>
    Effect.gen(function* () {
      const line =
        '{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"contacts"},' +
        '"stream_state":{"cursor":12345678901234567890,"b":1,"a":2,"10":3,"2":4,"pi":3.14159265358979323846}}}}'
      const [inbound] = yield* Stream.make(new TextEncoder().encode(`${line}\n`)).pipe(
        MessageReader.decodeMessages(),
        Stream.runCollect,
        Effect.map(Chunk.toArray)
      )
      expect(inbound?.stateLine).toBe(line)
      const echoed = StateLine.withDestinationStats(inbound?.stateLine ?? "", { recordCount: 2 })
      expect(echoed).toBe(
        '{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"contacts"},' +
          '"stream_state":{"cursor":12345678901234567890,"b":1,"a":2,"10":3,"2":4,"pi":3.14159265358979323846}},' +
          '"destinationStats":{"recordCount":2.0}}}'
      )
      expect(echoed).toContain("12345678901234567890")
    }))

  it("replaces existing destination stats and keeps everything else", () => {
    const line =
      '{ "type" : "STATE", "state" : { "type":"GLOBAL", "destinationStats" : {"recordCount": 99}, ' +
      '"global": {"shared_state": {"s": "}{\\"destinationStats\\""}, "stream_states": []}, "sourceStats": {"recordCount": 5.0} } }'
    const echoed = StateLine.withDestinationStats(line, { recordCount: 4, rejectedRecordCount: 1 })
    expect(parseJson(echoed)).toEqual({
      type: "STATE",
      state: {
        type: "GLOBAL",
        destinationStats: { recordCount: 4, rejectedRecordCount: 1 },
        global: { shared_state: { s: '}{"destinationStats"' }, stream_states: [] },
        sourceStats: { recordCount: 5 }
      }
    })
    expect(echoed).toContain('"sourceStats": {"recordCount": 5.0}')
    expect(echoed).toContain('"destinationStats":{"recordCount":4.0,"rejectedRecordCount":1.0}')
  })

  it("writes the stats with a decimal point, as the spec asks, and the same numbers", () => {
    const echoed = StateLine.withDestinationStats('{"type":"STATE","state":{}}', { recordCount: 12_345_678_901, rejectedRecordCount: 2.5 })
    expect(echoed).toBe('{"type":"STATE","state":{"destinationStats":{"recordCount":12345678901.0,"rejectedRecordCount":2.5}}}')
    expect(parseJson(echoed)).toEqual({ type: "STATE", state: { destinationStats: { recordCount: 12_345_678_901, rejectedRecordCount: 2.5 } } })
  })

  it("adds stats to an empty state object", () => {
    expect(StateLine.withDestinationStats('{"type":"STATE","state":{}}', { recordCount: 0 })).toBe(
      '{"type":"STATE","state":{"destinationStats":{"recordCount":0.0}}}'
    )
  })

  it("gives the state object's exact text", () => {
    const line = '{"type":"STATE", "state": {"type":"GLOBAL","global":{"shared_state":{"lsn":98765432109876543210},"stream_states":[]}} }'
    expect(StateLine.stateText(line)).toBe('{"type":"GLOBAL","global":{"shared_state":{"lsn":98765432109876543210},"stream_states":[]}}')
    expect(StateLine.stateText('{"type":"STATE"}')).toBeUndefined()
  })

  it("gives each element of an array as its exact text", () => {
    const text = ` [ {"type":"STREAM","n":12345678901234567890, "s":"a,]\\"}"} ,{"2":1,"1":2},[1,[2]], "x" , 3.50 ] `
    expect(StateLine.arrayElementTexts(text)).toEqual([
      `{"type":"STREAM","n":12345678901234567890, "s":"a,]\\"}"}`,
      `{"2":1,"1":2}`,
      "[1,[2]]",
      '"x"',
      "3.50"
    ])
    expect(StateLine.arrayElementTexts("[]")).toEqual([])
  })
})
