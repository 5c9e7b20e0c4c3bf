import { describe, expect, it } from "@effect/vitest"
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import { AirbyteMessage, MessageWriter } from "../src/index.js"
import { configuredCatalogErrors, messageErrors, parseJson, readFixture } from "./officialSchema.js"

const fixtureLines = readFixture("messages.jsonl").split("\n").filter((line) => line !== "")

describe("AirbyteMessage", () => {
  it("fixtures follow the official schema", () => {
    for (const line of fixtureLines) expect(messageErrors(parseJson(line))).toEqual([])
  })

  it("covers every message type and every trace and state kind", () => {
    const parsed = fixtureLines.map((line) => parseJson(line) as { type: string; trace?: { type: string }; state?: { type: string } })
    expect(new Set(parsed.map((message) => message.type))).toEqual(
      new Set(["RECORD", "STATE", "LOG", "TRACE", "CONNECTION_STATUS", "SPEC", "CATALOG", "CONTROL", "DESTINATION_CATALOG"])
    )
    expect(new Set(parsed.flatMap((message) => (message.trace ? [message.trace.type] : [])))).toEqual(
      new Set(["ERROR", "ESTIMATE", "STREAM_STATUS", "ANALYTICS"])
    )
    expect(new Set(parsed.flatMap((message) => (message.state ? [message.state.type] : [])))).toEqual(
      new Set(["STREAM", "GLOBAL", "LEGACY"])
    )
  })

  it.each(fixtureLines.map((line) => [line.slice(9, line.indexOf('"', 9)), line]))("decodes and encodes %s unchanged", (_type, line) => {
    const input: unknown = parseJson(line)
    const decoded = AirbyteMessage.decodeMessage(input)
    expect(Either.isRight(decoded)).toBe(true)
    const message = Either.getOrThrow(decoded)
    const encoded: unknown = parseJson(MessageWriter.encode(message))
    expect(encoded).toEqual(input)
    expect(Schema.encodeSync(AirbyteMessage.AirbyteMessage)(message)).toEqual(input)
  })

  it("keeps fields the model does not name, at every level", () => {
    const input = {
      type: "RECORD",
      top: 1,
      record: { stream: "s", data: {}, emitted_at: 1, future_field: "x", meta: { changes: [], later: true } }
    }
    const message = Either.getOrThrow(AirbyteMessage.decodeMessage(input))
    expect(message).toEqual(input)
  })

  it("passes record data through by reference", () => {
    const data = { a: { deep: [1, 2, 3] } }
    const message = Schema.decodeUnknownSync(AirbyteMessage.RecordMessage)({
      type: "RECORD",
      record: { stream: "s", data, emitted_at: 1 }
    })
    expect(message.record.data).toBe(data)
  })

  it("refuses what the protocol refuses", () => {
    const invalid = [
      { type: "RECORD", record: { stream: "s", data: [], emitted_at: 1 } },
      { type: "RECORD", record: { stream: "s", data: {}, emitted_at: 1.5 } },
      { type: "LOG", log: { level: "LOUD", message: "x" } },
      { type: "TRACE", trace: { type: "ERROR", emitted_at: 1, error: { message: "m", failure_type: "oops" } } },
      { type: "CONNECTION_STATUS", connectionStatus: { status: "MAYBE" } },
      { type: "STATE", state: { type: "SOMETIMES" } },
      { type: "NOPE" }
    ]
    for (const value of invalid) {
      expect(Either.isLeft(AirbyteMessage.decodeMessage(value))).toBe(true)
      expect(messageErrors(value)).not.toEqual([])
    }
  })

  it("decodes a configured catalog with every destination field", () => {
    const input: unknown = parseJson(readFixture("configured_catalog.json"))
    expect(configuredCatalogErrors(input)).toEqual([])
    const catalog = Either.getOrThrow(AirbyteMessage.decodeConfiguredCatalog(input))
    const [contacts] = catalog.streams
    expect(contacts).toMatchObject({
      destination_sync_mode: "append_dedup",
      destination_object_name: "Contact",
      primary_key: [["External_Id__c"]],
      generation_id: 3,
      minimum_generation_id: 0,
      sync_id: 1042
    })
    expect(catalog.streams.map((stream) => stream.destination_sync_mode)).toEqual([
      "append_dedup",
      "overwrite",
      "update",
      "soft_delete",
      "append"
    ])
    expect(Either.isLeft(AirbyteMessage.decodeConfiguredCatalog({ streams: [{ stream: {}, sync_mode: "x" }] }))).toBe(true)
  })
})

describe("streamKey", () => {
  it("is the name for a stream without a namespace, and never shared by two streams", () => {
    expect(AirbyteMessage.streamKey({ name: "users" })).toBe("users")
    const descriptors = [{ name: "b", namespace: "a" }, { name: "a.b" }, { name: '["a","b"]' }, { name: "b", namespace: "" }, { name: "" }, { name: "[]" }]
    const keys = descriptors.map(AirbyteMessage.streamKey)
    expect(new Set(keys).size).toBe(descriptors.length)
  })
})
