import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { bucket, connectorConfig, connectorSuite, jsonFile, runConnector } from "./support.js"

const { org, s3Endpoint } = connectorSuite()

const storage = (fields: Record<string, string>) => ({
  storage_type: "S3",
  s3_bucket_name: bucket,
  s3_bucket_region: "us-east-1",
  s3_endpoint: s3Endpoint(),
  bucket_path: "s3-config",
  ...fields
})

/** The default AWS credential chain, through the environment, for the effect's duration. */
const withEnvironmentKeys = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.acquireUseRelease(
    Effect.sync(() => {
      const before = { id: process.env["AWS_ACCESS_KEY_ID"], secret: process.env["AWS_SECRET_ACCESS_KEY"] }
      process.env["AWS_ACCESS_KEY_ID"] = "S3RVER"
      process.env["AWS_SECRET_ACCESS_KEY"] = "S3RVER"
      return before
    }),
    () => effect,
    (before) =>
      Effect.sync(() => {
        for (const [name, value] of [["AWS_ACCESS_KEY_ID", before.id], ["AWS_SECRET_ACCESS_KEY", before.secret]] as const) {
          if (value === undefined) delete process.env[name]
          else process.env[name] = value
        }
      })
  )

describe("S3 storage configuration", () => {
  it.effect("a storage block with a mistake is refused naming the field, without echoing its keys", () =>
    Effect.gen(function* () {
      const broken = { ...storage({ access_key_id: "AKIA-CANARY-ACCESS-0042", secret_access_key: "S3-SECRET-canary-9b8a7c" }), bucket_path: undefined }
      const { code, lines, messages } = yield* runConnector(["check", "--config", jsonFile(connectorConfig(org, { object_storage_config: broken }))])
      expect(code).toBe(0)
      expect(messages[0]).toMatchObject({ type: "CONNECTION_STATUS", connectionStatus: { status: "FAILED" } })
      const text = lines.join("\n")
      expect(text).toContain("bucket_path")
      expect(text).not.toContain("S3-SECRET-canary-9b8a7c")
      expect(text).not.toContain("AKIA-CANARY-ACCESS-0042")
    }))

  it.effect("empty access keys mean the default credential chain, like keys left out", () =>
    withEnvironmentKeys(
      Effect.gen(function* () {
        for (const keys of [{}, { access_key_id: "", secret_access_key: "" }]) {
          const { messages } = yield* runConnector(["check", "--config", jsonFile(connectorConfig(org, { object_storage_config: storage(keys) }))])
          expect(messages[0]).toMatchObject({ type: "CONNECTION_STATUS", connectionStatus: { status: "SUCCEEDED" } })
        }
      })
    ))

  it.effect("an empty region means the default one, like a region left out (the S3 client cannot use an empty one)", () =>
    Effect.gen(function* () {
      const { code, messages } = yield* runConnector([
        "check",
        "--config",
        jsonFile(connectorConfig(org, { object_storage_config: storage({ access_key_id: "S3RVER", secret_access_key: "S3RVER", s3_bucket_region: "" }) }))
      ])
      expect(code).toBe(0)
      expect(messages).toEqual([{ type: "CONNECTION_STATUS", connectionStatus: { status: "SUCCEEDED" } }])
    }))
})
