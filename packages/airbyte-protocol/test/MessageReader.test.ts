import { describe, expect, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as FastCheck from "effect/FastCheck"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { setFlagsFromString } from "node:v8"
import { runInNewContext } from "node:vm"
import { AirbyteMessage, MessageReader } from "../src/index.js"
import { parseJson, readFixture } from "./officialSchema.js"

const bytes = (text: string) => new TextEncoder().encode(text)

const read = (chunks: ReadonlyArray<Uint8Array>, options?: MessageReader.ReaderOptions) =>
  Stream.fromIterable(chunks).pipe(MessageReader.decodeMessages(options), Stream.runCollect, Effect.map(Chunk.toArray))

/** Everything emitted before the stream ended, and how it ended. */
const readAll = (chunks: ReadonlyArray<Uint8Array>, options?: MessageReader.ReaderOptions) =>
  Effect.gen(function* () {
    const seen: Array<MessageReader.InboundMessage> = []
    const outcome = yield* Stream.fromIterable(chunks).pipe(
      MessageReader.decodeMessages(options),
      Stream.runForEach((message) => Effect.sync(() => seen.push(message))),
      Effect.either
    )
    return { seen, outcome }
  })

const splitAt = (data: Uint8Array, cuts: ReadonlyArray<number>): Array<Uint8Array> => {
  const points = [...new Set(cuts.map((cut) => cut % (data.length + 1)))].sort((a, b) => a - b)
  const chunks: Array<Uint8Array> = []
  let start = 0
  for (const point of points) {
    chunks.push(data.subarray(start, point))
    start = point
  }
  chunks.push(data.subarray(start))
  return chunks
}

const record = (stream: string, data: Record<string, unknown>) =>
  JSON.stringify({ type: "RECORD", record: { stream, data, emitted_at: 1 } })

describe("MessageReader", () => {
  it.effect("reads every fixture message with its line number", () =>
    Effect.gen(function* () {
      const text = readFixture("messages.jsonl")
      const messages = yield* read([bytes(text)])
      const lines = text.split("\n").filter((line) => line !== "")
      expect(messages.map((inbound) => inbound.message)).toEqual(lines.map((line) => parseJson(line)))
      expect(messages.map((inbound) => inbound.lineNumber)).toEqual(lines.map((_, index) => index + 1))
      const states = messages.filter((inbound) => inbound.message.type === "STATE")
      expect(states.map((inbound) => inbound.stateLine)).toEqual(lines.filter((line) => line.includes('"type":"STATE"')))
      expect(messages.filter((inbound) => inbound.message.type !== "STATE").every((inbound) => inbound.stateLine === undefined)).toBe(true)
    }))

  it.effect("keeps a STATE line without the input chunk it came in (a waiting state would hold it all)", () =>
    Effect.gen(function* () {
      setFlagsFromString("--expose-gc")
      const collect: unknown = runInNewContext("gc")
      const gc = (): void => {
        if (typeof collect === "function") Reflect.apply(collect, undefined, [])
      }
      // 64 chunks of ~1 MiB of records, each with one STATE: only the STATE lines are kept
      const filler = Array.from({ length: 2_500 }, (_, index) => record("users", { id: index, name: "x".repeat(400) })).join("\n")
      const chunks = Array.from({ length: 64 }, (_, index) => bytes(`${filler}\n{"type":"STATE","state":{"data":{"n":${index}}}}\n`))
      gc()
      const before = process.memoryUsage().heapUsed
      const states: Array<string> = []
      yield* Stream.fromIterable(chunks).pipe(
        MessageReader.decodeMessages(),
        Stream.runForEach((inbound) => Effect.sync(() => void (inbound.stateLine === undefined ? undefined : states.push(inbound.stateLine))))
      )
      gc()
      const retained = process.memoryUsage().heapUsed - before
      expect(states).toHaveLength(64)
      expect(retained).toBeLessThan(16 * 1024 * 1024)
    }))

  it.effect("accepts CRLF, blank lines and a last line without newline", () =>
    Effect.gen(function* () {
      const text = `\r\n${record("a", { n: 1 })}\r\n   \r\n\n${record("b", { n: 2 })}`
      const messages = yield* read([bytes(text)])
      expect(messages.map((inbound) => [inbound.lineNumber, inbound.message])).toEqual([
        [2, parseJson(record("a", { n: 1 }))],
        [5, parseJson(record("b", { n: 2 }))]
      ])
    }))

  it.effect("reads a RECORD and a STATE whose namespace is null (Java- and Python-built), the STATE line unchanged", () =>
    Effect.gen(function* () {
      const recordLine = '{"type":"RECORD","record":{"stream":"people","namespace":null,"data":{"n":1},"emitted_at":1}}'
      const stateLine = '{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"people","namespace":null}}}}'
      const [record, state] = yield* read([bytes(`${recordLine}\n${stateLine}\n`)])
      expect(record?.message).toEqual({ type: "RECORD", record: { stream: "people", data: { n: 1 }, emitted_at: 1 } })
      expect(record?.message.type === "RECORD" ? record.message.record.namespace : "not a record").toBeUndefined()
      expect(state?.message).toEqual({ type: "STATE", state: { type: "STREAM", stream: { stream_descriptor: { name: "people" } } } })
      expect(state?.stateLine).toBe(stateLine)
    }))

  it("reads a STATE as the full Schema does, whatever its shape (per-stream states skip the Schema)", () => {
    const types = ["STREAM", "GLOBAL", "LEGACY", "OTHER", null, undefined]
    const names = ["people", 7, null, undefined]
    const namespaces = ["crm", null, undefined, 3]
    const streamStates = [{ cursor: 1 }, null, undefined, [1], "x"]
    const streams = ["object", null, undefined, "text"]
    const extras = [{}, { data: { n: 1 } }, { sourceStats: { recordCount: 2 } }, { destinationStats: null }, { note: "kept" }]
    let read = 0
    for (const type of types)
      for (const name of names)
        for (const namespace of namespaces)
          for (const streamState of streamStates)
            for (const streamShape of streams)
              for (const extra of extras) {
                const stream = streamShape === "object" ? { stream_descriptor: { name, namespace }, stream_state: streamState } : streamShape
                const line = JSON.stringify({ type: "STATE", state: { type, stream, ...extra } })
                const bySchema = Schema.decodeUnknownEither(AirbyteMessage.StateMessage)(JSON.parse(line))
                const decoded = MessageReader.decodeLine(line, 1)
                expect([line, Either.isRight(decoded)]).toEqual([line, Either.isRight(bySchema)])
                if (Either.isRight(decoded) && Either.isRight(bySchema)) {
                  read++
                  expect([line, decoded.right?.message]).toStrictEqual([line, bySchema.right])
                  expect(decoded.right?.stateLine).toBe(line)
                }
              }
    expect(read).toBeGreaterThan(100)
  })

  it.effect("skips a UTF-8 byte order mark at the start of the input, and only there", () =>
    Effect.gen(function* () {
      const stateLine = '{"type":"STATE","state":{"data":{"n":1}}}'
      const data = bytes(`\uFEFF${stateLine}\n${record("a", { n: 2 })}\n`)
      expect(Array.from(data.subarray(0, 3))).toEqual([0xef, 0xbb, 0xbf])
      for (const chunks of [[data], splitAt(data, [1, 2, 5])]) {
        const messages = yield* read(chunks)
        expect(messages.map((inbound) => inbound.lineNumber)).toEqual([1, 2])
        expect(messages[0]?.stateLine).toBe(stateLine)
      }
      const { seen, outcome } = yield* readAll([bytes(`${record("a", {})}\n\uFEFF${record("a", {})}\n`)])
      expect(seen).toHaveLength(1)
      expect(Either.flip(outcome).pipe(Either.getOrThrow)).toMatchObject({ reason: "MalformedJson", lineNumber: 2 })
    }))

  it.effect("names the line of malformed JSON, after emitting the lines before it", () =>
    Effect.gen(function* () {
      const text = `${record("a", {})}\n${record("a", {})}\n{"type":"RECORD","record":{"stream":\n${record("a", {})}\n`
      const { seen, outcome } = yield* readAll([bytes(text)])
      expect(seen.map((inbound) => inbound.lineNumber)).toEqual([1, 2])
      const error = Either.flip(outcome).pipe(Either.getOrThrow)
      expect(error).toBeInstanceOf(MessageReader.ProtocolError)
      expect(error).toMatchObject({ reason: "MalformedJson", lineNumber: 3 })
      expect(error.message).toContain("input line 3")
      expect(error.message).toContain('{"type":"RECORD","record":{"stream":')
    }))

  it.effect("refuses a line that is not UTF-8, naming it, after emitting the lines before it; a real U+FFFD passes", () =>
    Effect.gen(function* () {
      const bad = new Uint8Array([...bytes(`{"type":"RECORD","record":{"stream":"a","data":{"n":"x`), 0xff, 0xfe, ...bytes(`"},"emitted_at":1}}\n`)])
      const good = bytes(`${record("a", { n: "\uFFFD is fine" })}\n`)
      for (const chunks of [[good, good, bad, good], [new Uint8Array([...good, ...good, ...bad, ...good])]]) {
        const { seen, outcome } = yield* readAll(chunks)
        expect(seen.map((inbound) => inbound.lineNumber)).toEqual([1, 2])
        expect(Either.flip(outcome).pipe(Either.getOrThrow)).toMatchObject({ reason: "MalformedJson", lineNumber: 3, detail: "the line is not valid UTF-8" })
      }
    }))

  it.effect("refuses messages that are not objects, untyped or invalid, naming the field", () =>
    Effect.gen(function* () {
      const cases: Array<[string, string]> = [
        ["[1,2]", "must be a JSON object"],
        ['"text"', "must be a JSON object"],
        ['{"record":{}}', "no `type`"],
        ['{"type":"GOSSIP"}', 'unknown message type "GOSSIP"'],
        ['{"type":"RECORD","record":{"stream":"s","data":"x","emitted_at":1}}', "data"],
        ['{"type":"RECORD","record":{"stream":"s","data":{}}}', "emitted_at"],
        ['{"type":"LOG","log":{"level":"LOUD","message":"m"}}', "level"]
      ]
      for (const [line, expected] of cases) {
        const { outcome } = yield* readAll([bytes(`${line}\n`)])
        const error = Either.flip(outcome).pipe(Either.getOrThrow)
        expect(error.reason).toBe("InvalidMessage")
        expect(error.lineNumber).toBe(1)
        expect(error.message).toContain(expected)
      }
    }))

  it.effect("refuses a line past the configured maximum, in one chunk or many", () =>
    Effect.gen(function* () {
      const long = record("a", { text: "x".repeat(200) })
      const text = `${record("a", {})}\n${long}\n`
      for (const chunks of [[bytes(text)], splitAt(bytes(text), [10, 50, 90, 130])]) {
        const { seen, outcome } = yield* readAll(chunks, { maxLineBytes: 100 })
        expect(seen).toHaveLength(1)
        expect(Either.flip(outcome).pipe(Either.getOrThrow)).toMatchObject({ reason: "LineTooLong", lineNumber: 2 })
      }
      const fits = yield* read([bytes(text)], { maxLineBytes: long.length })
      expect(fits).toHaveLength(2)
    }))

  it.effect("passes upstream failures through", () =>
    Effect.gen(function* () {
      const outcome = yield* Stream.concat(Stream.make(bytes(`${record("a", {})}\n`)), Stream.fail("disk gone")).pipe(
        MessageReader.decodeMessages(),
        Stream.runCollect,
        Effect.flip
      )
      expect(outcome).toBe("disk gone")
    }))

  const hostileText = FastCheck.string({ unit: "binary", maxLength: 12 })
  const messageArbitrary = FastCheck.record({
    stream: FastCheck.constantFrom("contacts", "accounts", "ünïcødé 😀"),
    text: hostileText,
    n: FastCheck.oneof(FastCheck.integer(), FastCheck.double({ noNaN: true, noDefaultInfinity: true }))
  })

  it.effect.prop(
    "gives the same messages whatever the chunk boundaries",
    {
      messages: FastCheck.array(messageArbitrary, { minLength: 1, maxLength: 20 }),
      separator: FastCheck.constantFrom("\n", "\r\n", "\n\n"),
      trailingNewline: FastCheck.boolean(),
      cuts: FastCheck.array(FastCheck.nat(), { maxLength: 30 })
    },
    ({ messages, separator, trailingNewline, cuts }) =>
      Effect.gen(function* () {
        const lines = messages.map(({ stream, text, n }) => record(stream, { text, n }))
        const data = bytes(lines.join(separator) + (trailingNewline ? separator : ""))
        const decoded = yield* read(splitAt(data, cuts))
        expect(decoded.map((inbound) => inbound.message)).toEqual(lines.map((line) => parseJson(line)))
      }),
    { fastCheck: { numRuns: 200 } }
  )

  it.effect("splits inside a multi-byte character without damage", () =>
    Effect.gen(function* () {
      const line = record("s", { name: "Zoë 😀 עברית" })
      const data = bytes(`${line}\n`)
      for (let cut = 1; cut < data.length; cut++) {
        const [message] = yield* read([data.subarray(0, cut), data.subarray(cut)])
        expect(message?.message).toEqual(parseJson(line))
      }
    }))
})
