import { describe, expect, it } from "@effect/vitest"
import { RejectReader } from "@sfdc-activation/rejects-s3"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import { connectorConfig, bucket, connectorSuite, jsonFile, protocolErrors, runConnector } from "./support.js"

const { org, s3Endpoint } = connectorSuite()

let bucketPathCount = 0
const s3Storage = () => ({
  storage_type: "S3",
  access_key_id: "S3RVER",
  secret_access_key: "S3RVER",
  s3_bucket_name: bucket,
  s3_bucket_region: "us-east-1",
  s3_endpoint: s3Endpoint(),
  bucket_path: `salesforce-${++bucketPathCount}`,
  format: "JSONL"
})

const config = (overrides: Record<string, unknown> = {}) => connectorConfig(org, overrides)

const stream = (name: string, mode: string, properties: Array<string>, extra: Record<string, unknown> = {}) => ({
  stream: {
    name,
    json_schema: { type: "object", properties: Object.fromEntries(properties.map((property) => [property, { type: ["null", "string"] }])) },
    supported_sync_modes: ["full_refresh", "incremental"]
  },
  sync_mode: "incremental",
  destination_sync_mode: mode,
  sync_id: 77,
  generation_id: 1,
  minimum_generation_id: 0,
  ...extra
})

const record = (streamName: string, data: Record<string, unknown>) =>
  JSON.stringify({ type: "RECORD", record: { stream: streamName, data, emitted_at: 1_732_665_600_000 } })

/** A STREAM state whose cursor is `cursorJson`, verbatim (so numbers beyond 2^53 stay exact). */
const streamState = (streamName: string, cursorJson: string) =>
  `{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"${streamName}"},"stream_state":{"cursor":${cursorJson}}},"sourceStats":{"recordCount":1.0}}}`

const rejectsIn = (bucketPath: string) =>
  RejectReader.read({
    _tag: "S3",
    connection: {
      bucket,
      region: "us-east-1",
      endpoint: s3Endpoint(),
      forcePathStyle: true,
      credentials: { accessKeyId: Redacted.make("S3RVER"), secretAccessKey: Redacted.make("S3RVER") }
    },
    prefix: bucketPath
  }).pipe(Stream.runCollect, Effect.map(Chunk.toArray))

type Message = { type: string; state?: { destinationStats?: { recordCount: number; rejectedRecordCount?: number } }; trace?: { type: string; stream_status?: { status: string; stream_descriptor: { name: string } }; error?: { failure_type: string; message: string } } }

describe("write", () => {
  it.live("loads all four modes across streams, echoes states in order only when settled, and keeps every record", () =>
    Effect.gen(function* () {
      org.setFaults({ processingDelayMs: 0 })
      const seeded = org.storedRecords("Contact")[0]
      const seededId = String(seeded?.["Id"])
      const catalog = {
        streams: [
          stream("accounts", "append_dedup", ["Name", "External_Id__c", "Industry"], { primary_key: [["External_Id__c"]], destination_object_name: "Account" }),
          stream("contacts", "append", ["LastName", "Email", "Account.External_Id__c"], { destination_object_name: "Contact" }),
          stream("contact_updates", "update", ["Id", "Title", "Phone"], { destination_object_name: "Contact", primary_key: [["Id"]] }),
          stream("contact_deletes", "soft_delete", ["Id"], { destination_object_name: "Contact" })
        ]
      }
      const storage = s3Storage()
      const input = [
        record("accounts", { Name: "Globex", External_Id__c: "ACC-1", Industry: "Energy" }),
        record("accounts", { Name: "Initech", External_Id__c: "ACC-2", Industry: "Technology" }),
        streamState("accounts", "12345678901234567890"),
        record("contacts", { LastName: "Simpson", Email: "homer@example.com", "Account.External_Id__c": "ACC-1" }),
        record("contacts", { LastName: "Orphan", Email: "orphan@example.com", "Account.External_Id__c": "ACC-404" }),
        record("contacts", { Email: "nameless@example.com" }),
        streamState("contacts", '"c-1"'),
        record("contact_updates", { Id: seededId, Title: "Admiral", Phone: null }),
        streamState("contact_updates", '"u-1"'),
        record("accounts", { Name: "Globex Corporation", External_Id__c: "ACC-1", Industry: null }),
        streamState("accounts", "2")
      ]
      const { code, lines, messages } = yield* runConnector(
        ["write", "--config", jsonFile(config({ object_storage_config: storage, batch_size_mb: 0.0002 })), "--catalog", jsonFile(catalog)],
        input
      )
      expect(code).toBe(0)
      for (const message of messages) expect(protocolErrors(message)).toEqual([])
      const typed = messages as Array<Message>
      const states = lines.filter((line) => line.startsWith('{"type":"STATE"'))
      expect(states).toHaveLength(4)
      expect(states[0]).toContain('"cursor":12345678901234567890')
      // the spec's counts are doubles, written with a decimal point
      expect(states[1]).toContain('"destinationStats":{"recordCount":3.0,"rejectedRecordCount":2.0}')
      expect(states.map((line) => (JSON.parse(line) as Message).state?.destinationStats)).toEqual([
        { recordCount: 2 },
        { recordCount: 3, rejectedRecordCount: 2 },
        { recordCount: 1 },
        { recordCount: 1 }
      ])
      const statuses = typed.flatMap((message) => (message.trace?.type === "STREAM_STATUS" ? [`${message.trace.stream_status?.stream_descriptor.name}:${message.trace.stream_status?.status}`] : []))
      expect(statuses).toEqual(expect.arrayContaining(["accounts:STARTED", "accounts:RUNNING", "accounts:COMPLETE", "contact_deletes:COMPLETE"]))
      const accounts = org.storedRecords("Account").filter((account) => String(account["External_Id__c"]).startsWith("ACC-"))
      expect(accounts).toHaveLength(2)
      const globex = accounts.find((account) => account["External_Id__c"] === "ACC-1")
      expect(globex).toMatchObject({ Name: "Globex Corporation" })
      expect(globex?.["Industry"] ?? null).toBeNull()
      const homer = org.storedRecords("Contact").find((contact) => contact["LastName"] === "Simpson")
      expect(homer?.["AccountId"]).toBe(globex?.["Id"])
      const updated = org.storedRecords("Contact").find((contact) => contact["Id"] === seededId)
      expect(updated).toMatchObject({ Title: "Admiral" })
      expect(updated?.["Phone"] ?? null).toBeNull()
      const rejects = yield* rejectsIn(storage.bucket_path)
      expect(rejects.map((reject) => reject.statusCode)).toContain("REQUIRED_FIELD_MISSING")
      expect(rejects).toHaveLength(2)
      expect(rejects.every((reject) => reject.syncId === "77" && reject.stream.name === "contacts" && reject.object === "Contact")).toBe(true)
      expect(rejects.map((reject) => reject.row["Email"] ?? reject.row["email"]).sort()).toEqual(["nameless@example.com", "orphan@example.com"])
    }))

  it.live("echoes a state that comes before any record, and one that follows only refused records", () =>
    Effect.gen(function* () {
      org.setFaults({ processingDelayMs: 0 })
      const catalog = { streams: [stream("contacts", "append", ["LastName", "Email"], { destination_object_name: "Contact" })] }
      const input = [
        streamState("contacts", '"start"'),
        record("contacts", { Email: "nameless@example.com" }),
        streamState("contacts", '"refused"'),
        record("contacts", { LastName: "Simpson", Email: "homer@example.com" }),
        streamState("contacts", '"loaded"')
      ]
      const { code, lines } = yield* runConnector(["write", "--config", jsonFile(config()), "--catalog", jsonFile(catalog)], input)
      expect(code).toBe(0)
      const states = lines
        .filter((line) => line.startsWith('{"type":"STATE"'))
        .map((line) => JSON.parse(line) as { state: { stream: { stream_state: { cursor: string } }; destinationStats: unknown } })
      expect(states.map((message) => [message.state.stream.stream_state.cursor, message.state.destinationStats])).toEqual([
        ["start", { recordCount: 0 }],
        ["refused", { recordCount: 1, rejectedRecordCount: 1 }],
        ["loaded", { recordCount: 1 }]
      ])
    }))

  it.live("reports a row Salesforce refused in the state that covers it, when one job holds rows of several states", () =>
    Effect.gen(function* () {
      org.setFaults({ processingDelayMs: 0 })
      const catalog = { streams: [stream("contacts", "append", ["LastName", "Account.External_Id__c"], { destination_object_name: "Contact" })] }
      const input = [
        record("contacts", { LastName: "Orphan", "Account.External_Id__c": "ACC-404" }),
        streamState("contacts", '"c-1"'),
        record("contacts", { LastName: "Unlinked" }),
        streamState("contacts", '"c-2"')
      ]
      const { code, lines } = yield* runConnector(["write", "--config", jsonFile(config()), "--catalog", jsonFile(catalog)], input)
      expect(code).toBe(0)
      const stats = lines.filter((line) => line.startsWith('{"type":"STATE"')).map((line) => (JSON.parse(line) as Message).state?.destinationStats)
      expect(stats).toEqual([{ recordCount: 1, rejectedRecordCount: 1 }, { recordCount: 1 }])
    }))

  it.live("keeps namespace a, stream b apart from a stream named a.b", () =>
    Effect.gen(function* () {
      org.setFaults({ processingDelayMs: 0 })
      const namespaced = stream("b", "append", ["LastName"], { destination_object_name: "Contact" })
      const catalog = {
        streams: [
          { ...namespaced, stream: { ...namespaced.stream, namespace: "a" } },
          stream("a.b", "append", ["Name"], { destination_object_name: "Account" })
        ]
      }
      const input = [
        JSON.stringify({ type: "RECORD", record: { stream: "b", namespace: "a", data: { LastName: "Namespaced" }, emitted_at: 1_732_665_600_000 } }),
        record("a.b", { Name: "Dotted" })
      ]
      const { code, messages } = yield* runConnector(["write", "--config", jsonFile(config()), "--catalog", jsonFile(catalog)], input)
      expect(code).toBe(0)
      expect(org.storedRecords("Contact").filter((contact) => contact["LastName"] === "Namespaced")).toHaveLength(1)
      expect(org.storedRecords("Account").filter((account) => account["Name"] === "Dotted")).toHaveLength(1)
      const completed = (messages as Array<Message>).flatMap((message) =>
        message.trace?.stream_status?.status === "COMPLETE" ? [message.trace.stream_status.stream_descriptor.name] : []
      )
      expect(completed.sort()).toEqual(["a.b", "b"])
    }))

  // live clock: follow-up jobs wait a moment before they start
  it.live("deletes by Id, and resubmits what a failed job left unprocessed", () =>
    Effect.gen(function* () {
      org.setFaults({ processingDelayMs: 0, failJobAfterRows: 3 })
      const catalog = { streams: [stream("people", "append", ["LastName"], { destination_object_name: "Contact" })] }
      const people = Array.from({ length: 8 }, (_, index) => record("people", { LastName: `Person ${index}` }))
      const first = yield* runConnector(["write", "--config", jsonFile(config()), "--catalog", jsonFile(catalog)], [...people, streamState("people", "1")])
      expect(first.code).toBe(0)
      const created = org.storedRecords("Contact").filter((contact) => String(contact["LastName"]).startsWith("Person "))
      expect(created).toHaveLength(8)
      org.setFaults({ processingDelayMs: 0 })
      const deletes = { streams: [stream("gone", "soft_delete", ["Id"], { destination_object_name: "Contact" })] }
      const second = yield* runConnector(
        ["write", "--config", jsonFile(config()), "--catalog", jsonFile(deletes)],
        [...created.slice(0, 3).map((contact) => record("gone", { Id: contact["Id"] })), streamState("gone", "1")]
      )
      expect(second.code).toBe(0)
      expect(org.storedRecords("Contact").filter((contact) => String(contact["LastName"]).startsWith("Person "))).toHaveLength(5)
    }))

  it.live("soft_delete reads the Id from a property in any case (id), and refuses a schema with none", () =>
    Effect.gen(function* () {
      org.setFaults({ processingDelayMs: 0 })
      const catalog = { streams: [stream("people", "append", ["LastName"], { destination_object_name: "Contact" })] }
      yield* runConnector(["write", "--config", jsonFile(config()), "--catalog", jsonFile(catalog)], [1, 2].map((index) => record("people", { LastName: `Lower ${index}` })))
      const created = org.storedRecords("Contact").filter((contact) => String(contact["LastName"]).startsWith("Lower "))
      expect(created).toHaveLength(2)
      const deletes = { streams: [stream("gone", "soft_delete", ["id", "name"], { destination_object_name: "Contact", primary_key: [["id"]] })] }
      const removed = yield* runConnector(
        ["write", "--config", jsonFile(config()), "--catalog", jsonFile(deletes)],
        [...created.map((contact) => record("gone", { id: contact["Id"], name: "x" })), streamState("gone", "1")]
      )
      expect(removed.code).toBe(0)
      expect((removed.messages as Array<Message>).find((message) => message.type === "STATE")).toMatchObject({ state: { destinationStats: { recordCount: 2 } } })
      expect(JSON.stringify((removed.messages as Array<Message>).find((message) => message.type === "STATE"))).not.toContain("rejectedRecordCount")
      expect(org.storedRecords("Contact").filter((contact) => String(contact["LastName"]).startsWith("Lower "))).toHaveLength(0)

      const withoutId = { streams: [stream("gone", "soft_delete", ["contact_key"], { destination_object_name: "Contact" })] }
      const refused = yield* runConnector(["write", "--config", jsonFile(config()), "--catalog", jsonFile(withoutId)], [record("gone", { contact_key: "x" })])
      expect(refused.code).toBe(1)
      expect(refused.messages.at(-1)).toMatchObject({ type: "TRACE", trace: { type: "ERROR", error: { failure_type: "config_error" } } })
      expect((refused.messages.at(-1) as Message).trace?.error?.message).toContain("soft_delete deletes records by Id, and its json_schema has no Id property (it has contact_key)")
    }))

  it.live("with storage None, rows Salesforce never processed stop an upsert (transient, state held) and are sent by the next attempt; an insert logs them", () =>
    Effect.gen(function* () {
      // Every job ends Failed before its first row, follow-up jobs included (jobs that get some
      // rows through are followed up until none is left).
      org.setFaults({ processingDelayMs: 0, failJobAfterRows: 0 })
      const catalog = { streams: [stream("people", "append_dedup", ["LastName", "External_Id__c"], { destination_object_name: "Contact", primary_key: [["External_Id__c"]] })] }
      const people = Array.from({ length: 5 }, (_, index) => record("people", { LastName: `Unsettled ${index}`, External_Id__c: `UNS-${index}` }))
      const stopped = yield* runConnector(["write", "--config", jsonFile(config()), "--catalog", jsonFile(catalog)], [...people, streamState("people", "1")])
      expect(stopped.code).toBe(1)
      expect(stopped.messages.some((message) => (message as Message).type === "STATE")).toBe(false)
      const trace = (stopped.messages.at(-1) as Message).trace
      expect(trace?.error?.failure_type).toBe("transient_error")
      expect(trace?.error?.message).toContain("were not processed by Salesforce after every retry (UNPROCESSED")
      // The platform's next attempt, Salesforce healthy again: every row lands.
      org.setFaults({ processingDelayMs: 0 })
      const retried = yield* runConnector(["write", "--config", jsonFile(config()), "--catalog", jsonFile(catalog)], [...people, streamState("people", "1")])
      expect(retried.code).toBe(0)
      expect(org.storedRecords("Contact").filter((contact) => String(contact["External_Id__c"]).startsWith("UNS-"))).toHaveLength(5)

      // An insert sent again would duplicate the rows saved beside them: logged, the state goes out.
      org.setFaults({ processingDelayMs: 0, failJobAfterRows: 0 })
      const inserts = { streams: [stream("people", "append", ["LastName"], { destination_object_name: "Contact" })] }
      const logged = yield* runConnector(["write", "--config", jsonFile(config()), "--catalog", jsonFile(inserts)], [...people.slice(0, 5), streamState("people", "2")])
      expect(logged.code).toBe(0)
      expect((logged.messages as Array<Message>).find((message) => message.type === "STATE")?.state?.destinationStats?.rejectedRecordCount).toBeGreaterThan(0)
    }))

  it.live("refuses overwrite as a config error, before touching Salesforce", () =>
    Effect.gen(function* () {
      const catalog = { streams: [stream("people", "overwrite", ["LastName"], { destination_object_name: "Contact" })] }
      const { code, messages } = yield* runConnector(["write", "--config", jsonFile(config()), "--catalog", jsonFile(catalog)], [])
      expect(code).toBe(1)
      expect(messages.at(-1)).toMatchObject({ type: "TRACE", trace: { type: "ERROR", error: { failure_type: "config_error" } } })
      expect(org.stats().calls.create).toBe(0)
    }))

  it.live("refuses a refresh that removes data or a clear (minimum_generation_id set), naming the stream, before touching Salesforce", () =>
    Effect.gen(function* () {
      org.setFaults({ processingDelayMs: 0 })
      for (const generations of [{ generation_id: 4, minimum_generation_id: 4 }, { generation_id: 5, minimum_generation_id: 3 }]) {
        const catalog = { streams: [stream("people", "append", ["LastName"], { destination_object_name: "Contact", ...generations })] }
        const { code, messages } = yield* runConnector(["write", "--config", jsonFile(config()), "--catalog", jsonFile(catalog)], [record("people", { LastName: "X" })])
        expect(code).toBe(1)
        expect(messages.at(-1)).toMatchObject({ type: "TRACE", trace: { type: "ERROR", error: { failure_type: "config_error" } } })
        const message = (messages.at(-1) as Message).trace?.error?.message
        expect(message).toContain(`stream people: minimum_generation_id ${generations.minimum_generation_id}`)
        expect(message).toContain("Salesforce records are never truncated")
      }
      expect(org.stats().calls.describe).toBe(0)
      expect(org.stats().calls.create).toBe(0)
      // a sync that keeps earlier generations runs: minimum_generation_id 0, null or absent
      for (const generations of [{ minimum_generation_id: 0 }, { minimum_generation_id: null }, { generation_id: undefined, minimum_generation_id: undefined }]) {
        const catalog = { streams: [stream("people", "append", ["LastName"], { destination_object_name: "Contact", ...generations })] }
        const { code } = yield* runConnector(["write", "--config", jsonFile(config()), "--catalog", jsonFile(catalog)], [record("people", { LastName: "Kept" })])
        expect(code).toBe(0)
      }
      expect(org.storedRecords("Contact").filter((contact) => contact["LastName"] === "Kept")).toHaveLength(3)
    }))

  it.live("accepts null in the catalog's optional fields and in a record's or state's namespace, as Java- and Python-built messages send them", () =>
    Effect.gen(function* () {
      org.setFaults({ processingDelayMs: 0 })
      const contacts = stream("Contact", "append", ["LastName"], {
        cursor_field: null,
        destination_object_name: null,
        primary_key: null,
        generation_id: null,
        minimum_generation_id: null,
        sync_id: null
      })
      const catalog = { streams: [{ ...contacts, stream: { ...contacts.stream, namespace: null } }] }
      const state = '{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"Contact","namespace":null},"stream_state":{"cursor":1}}}}'
      const { code, lines } = yield* runConnector(
        ["write", "--config", jsonFile(config()), "--catalog", jsonFile(catalog)],
        [JSON.stringify({ type: "RECORD", record: { stream: "Contact", namespace: null, data: { LastName: "Null Namespace" }, emitted_at: 1_732_665_600_000 } }), state]
      )
      expect(code).toBe(0)
      expect(org.storedRecords("Contact").filter((contact) => contact["LastName"] === "Null Namespace")).toHaveLength(1)
      expect(lines.filter((line) => line.startsWith('{"type":"STATE"'))).toEqual([`${state.slice(0, -2)},"destinationStats":{"recordCount":1.0}}}`])
    }))

  it.live("skips a UTF-8 byte order mark before the first line, and echoes the state after it unchanged", () =>
    Effect.gen(function* () {
      org.setFaults({ processingDelayMs: 0 })
      const catalog = { streams: [stream("people", "append", ["LastName"], { destination_object_name: "Contact" })] }
      const state = streamState("people", '"after-bom"')
      const { code, lines } = yield* runConnector(
        ["write", "--config", jsonFile(config()), "--catalog", jsonFile(catalog)],
        [`\uFEFF${record("people", { LastName: "Byte Order Mark" })}`, state]
      )
      expect(code).toBe(0)
      expect(org.storedRecords("Contact").filter((contact) => contact["LastName"] === "Byte Order Mark")).toHaveLength(1)
      expect(lines.filter((line) => line.startsWith('{"type":"STATE"'))).toEqual([`${state.slice(0, -2)},"destinationStats":{"recordCount":1.0}}}`])
    }))

  it.live("names a destination_object_name the org does not have as a config error, every stream left INCOMPLETE", () =>
    Effect.gen(function* () {
      const catalog = {
        streams: [
          stream("people", "append", ["LastName"], { destination_object_name: "Contact" }),
          stream("typo", "append", ["LastName"], { destination_object_name: "Contactt" })
        ]
      }
      const { code, messages } = yield* runConnector(["write", "--config", jsonFile(config()), "--catalog", jsonFile(catalog)], [record("people", { LastName: "X" })])
      expect(code).toBe(1)
      expect(messages.at(-1)).toMatchObject({ type: "TRACE", trace: { type: "ERROR", error: { failure_type: "config_error" } } })
      expect((messages.at(-1) as Message).trace?.error?.message).toContain("the org has no object Contactt")
      const statuses = (messages as Array<Message>).flatMap((message) => {
        const status = message.trace?.stream_status
        return status === undefined ? [] : [`${status.stream_descriptor.name} ${status.status}`]
      })
      expect(statuses).toEqual(["people INCOMPLETE", "typo INCOMPLETE"])
      expect(org.stats().calls.create).toBe(0)
    }))

  it.live("inserts whatever the shape of the source's primary_key, leaving a null checkbox to its default", () =>
    Effect.gen(function* () {
      org.setFaults({ processingDelayMs: 0 })
      const catalog = { streams: [stream("people", "append", ["LastName", "DoNotCall"], { destination_object_name: "Contact", primary_key: [["payload", "id"], ["Email"]] })] }
      const { code, messages } = yield* runConnector(
        ["write", "--config", jsonFile(config({ null_handling: "CLEAR" })), "--catalog", jsonFile(catalog)],
        [record("people", { LastName: "Null Checkbox", DoNotCall: null }), streamState("people", "1")]
      )
      expect(code).toBe(0)
      expect(messages.filter((message) => (message as Message).type === "STATE").map((message) => (message as Message).state?.destinationStats)).toEqual([{ recordCount: 1 }])
      expect(org.storedRecords("Contact").filter((contact) => contact["LastName"] === "Null Checkbox").map((contact) => contact["DoNotCall"])).toEqual([false])
    }))

  it.live("emits the rotated refresh token as a CONTROL message with the whole config", () =>
    Effect.gen(function* () {
      org.setFaults({ processingDelayMs: 0, rotateRefreshToken: true })
      const catalog = { streams: [stream("people", "append", ["LastName"], { destination_object_name: "Contact" })] }
      const { code, messages } = yield* runConnector(
        ["write", "--config", jsonFile(config({ batch_size_mb: 50 })), "--catalog", jsonFile(catalog)],
        [record("people", { LastName: "Rotated" }), streamState("people", "1")]
      )
      expect(code).toBe(0)
      const control = messages.find((message) => (message as Message).type === "CONTROL")
      expect(control).toMatchObject({
        type: "CONTROL",
        control: { type: "CONNECTOR_CONFIG", connectorConfig: { config: { client_id: org.credentials.clientId, batch_size_mb: 50, refresh_token: org.credentials.refreshToken } } }
      })
    }))

  it.live("fails with a TRACE ERROR on malformed input, after echoing the states it settled", () =>
    Effect.gen(function* () {
      org.setFaults({ processingDelayMs: 0 })
      const catalog = { streams: [stream("people", "append", ["LastName"], { destination_object_name: "Contact" })] }
      const { code, messages, lines } = yield* runConnector(["write", "--config", jsonFile(config()), "--catalog", jsonFile(catalog)], [
        record("people", { LastName: "Before" }),
        streamState("people", "1"),
        '{"type":"RECORD","record":{"stream":"people","data":{"LastName":"Broken"'
      ])
      expect(code).toBe(1)
      const error = (messages.at(-1) as Message).trace?.error
      expect(error?.message).toContain("input line 3")
      expect(messages.at(-2)).toMatchObject({ type: "TRACE", trace: { type: "STREAM_STATUS", stream_status: { status: "INCOMPLETE", stream_descriptor: { name: "people" } } } })
      expect(lines.some((line) => line.startsWith('{"type":"STATE"'))).toBe(true)
      // What was settled before the failure is told, and no stream is said to be COMPLETE.
      expect(messages).toContainEqual({ type: "LOG", log: { level: "WARN", message: "sync stopped after 1 records in, 1 created, 0 updated, 0 deleted, 0 rejected, 1 jobs" } })
      expect(lines.some((line) => line.includes('"COMPLETE"'))).toBe(false)
    }))
})
