import { describe, expect, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Stream from "effect/Stream"
import * as Cli from "../src/Cli.js"
import { connectorConfig, connectorSuite, jsonFile, runConnector } from "./support.js"

const { org, s3Endpoint } = connectorSuite()

const catalog = {
  streams: [
    {
      stream: { name: "people", json_schema: { type: "object", properties: { LastName: { type: ["null", "string"] } } }, supported_sync_modes: ["incremental"] },
      sync_mode: "incremental",
      destination_sync_mode: "append",
      destination_object_name: "Contact"
    }
  ]
}

const record = (data: Record<string, unknown>) => JSON.stringify({ type: "RECORD", record: { stream: "people", data, emitted_at: 1_732_665_600_000 } })

describe("a write that stops", () => {
  it.effect("a rejects bucket that does not exist is the user's to fix: a config error, not a transient one", () =>
    Effect.gen(function* () {
      org.setFaults({ processingDelayMs: 0 })
      const storage = {
        storage_type: "S3",
        access_key_id: "S3RVER",
        secret_access_key: "S3RVER",
        s3_bucket_name: "no-such-bucket",
        s3_bucket_region: "us-east-1",
        s3_endpoint: s3Endpoint(),
        bucket_path: "stopping"
      }
      // a row without LastName is rejected, and its reject cannot be stored
      const { code, messages } = yield* runConnector(
        ["write", "--config", jsonFile(connectorConfig(org, { object_storage_config: storage })), "--catalog", jsonFile(catalog)],
        [record({ LastName: null })]
      )
      expect(code).toBe(1)
      expect(messages.at(-1)).toMatchObject({ type: "TRACE", trace: { type: "ERROR", error: { failure_type: "config_error" } } })
    }))

  it.effect("stopped by a signal, it marks every stream INCOMPLETE before its error", () =>
    Effect.gen(function* () {
      org.setFaults({ processingDelayMs: 0 })
      const lines: Array<string> = []
      const running = yield* Deferred.make<void>()
      const io: Cli.Io = {
        // one record, then input that never ends: the write runs until stopped
        stdin: Stream.concat(Stream.make(new TextEncoder().encode(`${record({ LastName: "Before" })}\n`)), Stream.never),
        stdout: {
          write: (text, callback) => {
            for (const line of text.split("\n")) {
              if (line === "") continue
              lines.push(line)
              if (line.includes('"RUNNING"')) Deferred.unsafeDone(running, Effect.void)
            }
            callback(null)
            return true
          }
        }
      }
      const fiber = yield* Effect.fork(Cli.main(["write", "--config", jsonFile(connectorConfig(org)), "--catalog", jsonFile(catalog)], io))
      yield* Deferred.await(running)
      yield* Fiber.interrupt(fiber)
      const statuses = lines.flatMap((line) => {
        const message = JSON.parse(line) as { trace?: { type: string; stream_status?: { status: string } } }
        return message.trace?.type === "STREAM_STATUS" ? [message.trace.stream_status?.status] : []
      })
      expect(statuses).toEqual(["STARTED", "RUNNING", "INCOMPLETE"])
    }))
})
