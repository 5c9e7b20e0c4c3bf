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

  it("takes null in an optional field as absent, as Java- and Python-built messages send it", () => {
    const configured = {
      stream: { name: "people", namespace: null, json_schema: {}, supported_sync_modes: ["incremental"], source_defined_primary_key: null },
      sync_mode: "incremental",
      destination_sync_mode: "append",
      cursor_field: null,
      destination_object_name: null,
      primary_key: null,
      generation_id: null,
      minimum_generation_id: null,
      sync_id: null,
      future_field: null
    }
    const [stream] = Either.getOrThrow(AirbyteMessage.decodeConfiguredCatalog({ streams: [configured] })).streams
    expect(stream).toEqual({
      stream: { name: "people", json_schema: {}, supported_sync_modes: ["incremental"] },
      sync_mode: "incremental",
      destination_sync_mode: "append",
      future_field: null
    })
    for (const key of ["cursor_field", "destination_object_name", "primary_key", "generation_id", "minimum_generation_id", "sync_id"]) {
      expect(Object.hasOwn(stream ?? {}, key)).toBe(false)
    }
    const record = Either.getOrThrow(
      AirbyteMessage.decodeMessage({ type: "RECORD", record: { stream: "people", namespace: null, data: {}, emitted_at: 1, meta: null } })
    )
    expect(record).toEqual({ type: "RECORD", record: { stream: "people", data: {}, emitted_at: 1 } })
    const state = Either.getOrThrow(
      AirbyteMessage.decodeMessage({
        type: "STATE",
        state: { type: "STREAM", stream: { stream_descriptor: { name: "people", namespace: null }, stream_state: { cursor: 1 } }, sourceStats: null }
      })
    )
    expect(state).toEqual({ type: "STATE", state: { type: "STREAM", stream: { stream_descriptor: { name: "people" }, stream_state: { cursor: 1 } } } })
    expect(AirbyteMessage.streamKey(state.type === "STATE" && state.state.stream !== undefined ? state.state.stream.stream_descriptor : { name: "" })).toBe("people")
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
