import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { connectorConfig, compiles, connectorSuite, jsonFile, protocolErrors, runConnector, tempDirectory } from "./support.js"

const { org, s3Endpoint } = connectorSuite()

const config = (overrides: Record<string, unknown> = {}) => connectorConfig(org, overrides)

describe("spec", () => {
  it.effect("prints one SPEC message that follows the protocol, with the seed's parameters", () =>
    Effect.gen(function* () {
      const { code, messages } = yield* runConnector(["spec"])
      expect(code).toBe(0)
      expect(messages).toHaveLength(1)
      expect(protocolErrors(messages[0])).toEqual([])
      const spec = (messages[0] as { spec: { connectionSpecification: { required: Array<string>; properties: Record<string, { airbyte_secret?: boolean }> }; supported_destination_sync_modes: Array<string>; advanced_auth: { predicate_key: Array<string> } } }).spec
      expect(compiles(spec.connectionSpecification)).toBe(true)
      expect(spec.connectionSpecification.required).toEqual(["client_id", "client_secret", "refresh_token", "is_sandbox", "auth_type"])
      expect(spec.connectionSpecification.properties["client_secret"]?.airbyte_secret).toBe(true)
      expect(spec.connectionSpecification.properties["refresh_token"]?.airbyte_secret).toBe(true)
      expect(spec.supported_destination_sync_modes).toEqual(["append", "append_dedup", "update", "soft_delete"])
      expect(spec.advanced_auth.predicate_key).toEqual(["auth_type"])
    }))
})

describe("check", () => {
  it.effect("succeeds with working credentials and a reachable bucket", () =>
    Effect.gen(function* () {
      const storage = {
        storage_type: "S3",
        access_key_id: "S3RVER",
        secret_access_key: "S3RVER",
        s3_bucket_name: "rejects",
        s3_bucket_region: "us-east-1",
        s3_endpoint: s3Endpoint(),
        bucket_path: "salesforce"
      }
      const { code, messages } = yield* runConnector(["check", "--config", jsonFile(config({ object_storage_config: storage }))])
      expect(code).toBe(0)
      expect(messages).toEqual([{ type: "CONNECTION_STATUS", connectionStatus: { status: "SUCCEEDED" } }])
    }))

  it.effect("fails with a message a user can act on, and no secret in it", () =>
    Effect.gen(function* () {
      const { code, messages, lines } = yield* runConnector(["check", "--config", jsonFile(config({ client_secret: "wrong-secret-VALUE-9" }))])
      expect(code).toBe(0)
      expect(messages).toHaveLength(1)
      expect(messages[0]).toMatchObject({ type: "CONNECTION_STATUS", connectionStatus: { status: "FAILED" } })
      expect(lines.join("\n")).toContain("InvalidClient")
      expect(lines.join("\n")).not.toContain("wrong-secret-VALUE-9")
    }))

  it.effect("succeeds for a user who cannot see Contact: it checks the login and the API, not an object", () =>
    Effect.gen(function* () {
      org.setFaults({ httpErrors: [{ call: "describe", status: 404, errorCode: "NOT_FOUND", message: "The requested resource does not exist" }] })
      const { code, messages } = yield* runConnector(["check", "--config", jsonFile(config())])
      expect(code).toBe(0)
      expect(messages).toEqual([{ type: "CONNECTION_STATUS", connectionStatus: { status: "SUCCEEDED" } }])
      expect(org.stats().calls.limits).toBe(1)
    }))

  it.effect("fails, saying why, when the org refuses the API", () =>
    Effect.gen(function* () {
      org.setFaults({ httpErrors: [{ call: "limits", status: 403, errorCode: "API_DISABLED_FOR_ORG", message: "The REST API is not enabled for this Organization." }] })
      const { code, messages } = yield* runConnector(["check", "--config", jsonFile(config())])
      expect(code).toBe(0)
      expect(messages).toHaveLength(1)
      expect(messages[0]).toMatchObject({ type: "CONNECTION_STATUS", connectionStatus: { status: "FAILED" } })
      expect((messages[0] as { connectionStatus: { message: string } }).connectionStatus.message).toContain("API_DISABLED_FOR_ORG: The REST API is not enabled")
    }))

  it.effect("answers FAILED for an unreadable or invalid config, naming the field (exit 0, as for any check)", () =>
    Effect.gen(function* () {
      const missing = yield* runConnector(["check", "--config", "/nonexistent/config.json"])
      expect(missing.code).toBe(0)
      expect(missing.messages).toHaveLength(1)
      expect(missing.messages[0]).toMatchObject({ type: "CONNECTION_STATUS", connectionStatus: { status: "FAILED" } })
      expect(missing.lines[0]).toContain("/nonexistent/config.json")
      const invalid = yield* runConnector(["check", "--config", jsonFile({ ...config(), client_secret: 42, batch_size_mb: 500 })])
      expect(invalid.code).toBe(0)
      expect(invalid.messages[0]).toMatchObject({ type: "CONNECTION_STATUS", connectionStatus: { status: "FAILED" } })
      const text = invalid.lines.join("\n")
      expect(text).toContain("client_secret")
      expect(text).toContain("batch_size_mb")
      expect(text).not.toContain("42")
      // a config quoted whole in the message (not an object at all) hides secrets holding " or \ too
      const quoted = yield* runConnector(["check", "--config", jsonFile([{ client_secret: 'top"secret-123', refresh_token: "rt\\secret-456" }])])
      expect(quoted.messages[0]).toMatchObject({ type: "CONNECTION_STATUS", connectionStatus: { status: "FAILED" } })
      expect(quoted.lines.join("\n")).not.toMatch(/secret-123|secret-456/)
      // the other commands stop with a TRACE config error
      const discovered = yield* runConnector(["discover", "--config", "/nonexistent/config.json"])
      expect(discovered.code).toBe(1)
      expect(discovered.messages[0]).toMatchObject({ type: "TRACE", trace: { type: "ERROR", error: { failure_type: "config_error" } } })
    }))
})

describe("a config file that is not JSON", () => {
  const textFile = (text: string) => {
    const file = path.join(tempDirectory("connector-config-"), "config.json")
    fs.writeFileSync(file, text)
    return file
  }

  it.effect("is named with the place it breaks, never with the text there (a secret written without its quotes)", () =>
    Effect.gen(function* () {
      const unquoted = textFile(`{"client_id":"id","client_secret":S3CR3Tabcdef0123456789,"refresh_token":"rt"}`)
      const checked = yield* runConnector(["check", "--config", unquoted])
      expect(checked.messages[0]).toMatchObject({ type: "CONNECTION_STATUS", connectionStatus: { status: "FAILED" } })
      const said = checked.lines.join("\n")
      expect(said).toContain(`${unquoted} is not valid JSON`)
      expect(said).not.toMatch(/S3CR|t_secret|client_secret/)
      const written = yield* runConnector(["write", "--config", unquoted, "--catalog", unquoted])
      expect(written.code).toBe(1)
      expect(written.lines.join("\n")).not.toMatch(/S3CR|t_secret/)
      // where the parser gives a place, it is the line and column
      const trailingComma = yield* runConnector(["check", "--config", textFile(`{\n  "client_id": "id",\n}`)])
      expect(trailingComma.lines.join("\n")).toContain("is not valid JSON (line 3, column 1: Expected double-quoted property name)")
      const cut = yield* runConnector(["check", "--config", textFile(`{"client_id": "id"`)])
      expect(cut.lines.join("\n")).toContain("is not valid JSON (line 1, column 19")
    }))
})

describe("discover", () => {
  it.effect("lists every operation per the catalog rules, as a valid DESTINATION_CATALOG", () =>
    Effect.gen(function* () {
      const { code, messages } = yield* runConnector(["discover", "--config", jsonFile(config())])
      expect(code).toBe(0)
      expect(messages).toHaveLength(1)
      expect(protocolErrors(messages[0])).toEqual([])
      const operations = (messages[0] as { destination_catalog: { operations: Array<{ object_name: string; sync_mode: string; matching_keys?: Array<Array<string>>; json_schema: { properties: Record<string, { type: unknown }>; required?: Array<string> } }> } }).destination_catalog.operations
      const contact = (mode: string) => operations.find((operation) => operation.object_name === "Contact" && operation.sync_mode === mode)
      expect(contact("append")?.json_schema.required).toContain("LastName")
      expect(contact("append")?.json_schema.properties["Id"]).toBeUndefined()
      expect(contact("update")?.matching_keys).toEqual([["Id"]])
      expect(contact("append_dedup")?.matching_keys).toEqual([["External_Id__c"]])
      expect(Object.keys(contact("soft_delete")?.json_schema.properties ?? {})).toEqual(["Id"])
      expect(contact("soft_delete")?.json_schema.properties["Id"]?.type).toBe("string")
      expect(contact("append")?.json_schema.properties["Birthdate"]).toMatchObject({ format: "date" })
      expect(contact("append")?.json_schema.properties["DoNotCall"]).toMatchObject({ type: "boolean" })
      for (const operation of operations) expect(compiles(operation.json_schema)).toBe(true)
      expect(new Set(operations.map((operation) => operation.object_name))).toEqual(
        new Set(["Account", "Contact", "Lead", "Opportunity", "Case", "Product_Usage__c", ...operations.map((operation) => operation.object_name)])
      )
    }))
})

describe("discover, when an object cannot be described", () => {
  type Catalog = { type: string; destination_catalog: { operations: Array<{ object_name: string }> } }
  const objectsOf = (messages: ReadonlyArray<unknown>) =>
    new Set((messages as Array<Catalog>).filter((message) => message.type === "DESTINATION_CATALOG").flatMap((message) => message.destination_catalog.operations.map((operation) => operation.object_name)))

  it.effect("leaves that object out with a WARN naming it, and lists the others", () =>
    Effect.gen(function* () {
      const everything = objectsOf((yield* runConnector(["discover", "--config", jsonFile(config())])).messages)
      // the third describe: the global one, then that of one object
      org.setFaults({ httpErrors: [{ call: "describe", status: 404, every: 3, times: 1 }] })
      const { code, messages } = yield* runConnector(["discover", "--config", jsonFile(config())])
      expect(code).toBe(0)
      for (const message of messages) expect(protocolErrors(message)).toEqual([])
      const warnings = (messages as Array<{ type: string; log?: { level: string; message: string } }>).flatMap((message) =>
        message.type === "LOG" && message.log?.level === "WARN" ? [message.log.message] : []
      )
      expect(warnings).toHaveLength(1)
      const skipped = /^(\S+) is left out of the catalog: Salesforce describe call failed/.exec(warnings[0] ?? "")?.[1] ?? ""
      expect(everything.has(skipped)).toBe(true)
      expect(warnings[0]).toContain("NotFound")
      expect(objectsOf(messages)).toEqual(new Set([...everything].filter((name) => name !== skipped)))
    }))

  it.effect("fails as a whole when the org's daily API limit is spent: no object is to blame", () =>
    Effect.gen(function* () {
      org.setFaults({ httpErrors: [{ call: "describe", status: 403, errorCode: "REQUEST_LIMIT_EXCEEDED", every: 2, times: 1 }] })
      const { code, messages } = yield* runConnector(["discover", "--config", jsonFile(config())])
      expect(code).toBe(1)
      expect(messages.at(-1)).toMatchObject({ type: "TRACE", trace: { type: "ERROR", error: { failure_type: "transient_error" } } })
    }))
})

describe("a refresh token Salesforce rotates (it revokes the configured one)", () => {
  const controls = (messages: ReadonlyArray<unknown>) => messages.filter((message) => (message as { type: string }).type === "CONTROL")
  /** The CONTROL message handing back `configured` with the refresh token now in force. */
  const rotatedConfig = (configured: Record<string, unknown>) => ({
    type: "CONTROL",
    control: { type: "CONNECTOR_CONFIG", connectorConfig: { config: { ...configured, refresh_token: org.credentials.refreshToken } } }
  })

  it.effect("is handed back by check as one CONTROL message with the whole config", () =>
    Effect.gen(function* () {
      org.setFaults({ rotateRefreshToken: true })
      const configured = config()
      const { code, messages } = yield* runConnector(["check", "--config", jsonFile(configured)])
      expect(code).toBe(0)
      expect(org.credentials.refreshToken).not.toBe(configured.refresh_token)
      const [control, status, ...rest] = messages.filter((message) => (message as { type: string }).type !== "LOG")
      expect(control).toMatchObject(rotatedConfig(configured))
      expect(status).toEqual({ type: "CONNECTION_STATUS", connectionStatus: { status: "SUCCEEDED" } })
      expect(rest).toEqual([])
    }))

  it.effect("is handed back by discover as one CONTROL message with the whole config", () =>
    Effect.gen(function* () {
      org.setFaults({ rotateRefreshToken: true })
      const configured = config({ batch_size_mb: 50 })
      const { code, messages } = yield* runConnector(["discover", "--config", jsonFile(configured)])
      expect(code).toBe(0)
      expect(org.credentials.refreshToken).not.toBe(configured.refresh_token)
      expect(controls(messages)).toHaveLength(1)
      expect(controls(messages)[0]).toMatchObject(rotatedConfig(configured))
      expect(messages.filter((message) => (message as { type: string }).type === "DESTINATION_CATALOG")).toHaveLength(1)
      for (const message of messages) expect(protocolErrors(message)).toEqual([])
    }))

  const people = (destinationSyncMode: string) => ({
    streams: [
      {
        stream: { name: "people", json_schema: { type: "object", properties: { LastName: { type: ["null", "string"] } } }, supported_sync_modes: ["full_refresh", "incremental"] },
        sync_mode: "incremental",
        destination_sync_mode: destinationSyncMode,
        sync_id: 77,
        generation_id: 1,
        minimum_generation_id: 0,
        destination_object_name: "Contact"
      }
    ]
  })

  // Refused at once (overwrite) or failing on its first line: the session was granted all the same.
  for (const [name, destinationSyncMode, input] of [
    ["refused at once", "overwrite", []],
    ["failing on its first line", "append", ['{"type":"RECORD","record":{"stream":"people"']]
  ] as const) {
    it.effect(`is handed back once by a write ${name}, before its TRACE ERROR`, () =>
      Effect.gen(function* () {
        org.setFaults({ rotateRefreshToken: true })
        const configured = config()
        const { code, messages } = yield* runConnector(["write", "--config", jsonFile(configured), "--catalog", jsonFile(people(destinationSyncMode))], input)
        expect(code).toBe(1)
        expect(org.credentials.refreshToken).not.toBe(configured.refresh_token)
        expect(controls(messages)).toHaveLength(1)
        expect(controls(messages)[0]).toMatchObject(rotatedConfig(configured))
        expect(messages.at(-1)).toMatchObject({ type: "TRACE", trace: { type: "ERROR" } })
      }))
  }
})

describe("a write that cannot log in", () => {
  it.effect("marks every configured stream INCOMPLETE before its error, with no secret in it", () =>
    Effect.gen(function* () {
      const stream = (name: string) => ({
        stream: { name, json_schema: { type: "object", properties: { LastName: { type: ["null", "string"] } } }, supported_sync_modes: ["full_refresh", "incremental"] },
        sync_mode: "incremental",
        destination_sync_mode: "append",
        destination_object_name: "Contact"
      })
      const catalog = { streams: [stream("people"), stream("more_people")] }
      const { code, messages, lines } = yield* runConnector(
        ["write", "--config", jsonFile(config({ client_secret: "wrong-secret-VALUE-7" })), "--catalog", jsonFile(catalog)],
        ['{"type":"RECORD","record":{"stream":"people","data":{"LastName":"Lovelace"},"emitted_at":1}}']
      )
      expect(code).toBe(1)
      type Trace = { readonly type: string; readonly trace: { readonly type: string; readonly stream_status?: { readonly stream_descriptor: unknown; readonly status: string } } }
      const traces = messages.filter((message) => (message as { type: string }).type === "TRACE") as ReadonlyArray<Trace>
      const statuses = traces.slice(0, -1).map(({ trace }) => [trace.type, trace.stream_status?.stream_descriptor, trace.stream_status?.status])
      expect(statuses).toEqual([
        ["STREAM_STATUS", { name: "people" }, "INCOMPLETE"],
        ["STREAM_STATUS", { name: "more_people" }, "INCOMPLETE"]
      ])
      expect(messages.at(-1)).toMatchObject({ type: "TRACE", trace: { type: "ERROR", error: { failure_type: "config_error" } } })
      expect(lines.join("\n")).toContain("InvalidClient")
      expect(lines.join("\n")).not.toContain("wrong-secret-VALUE-7")
    }))
})
