/**
 * Secrets never leak: fault scenarios run with recognisable secret values (client secret,
 * refresh token, the access tokens Salesforce issues, rotated refresh tokens, S3 keys), and
 * every byte the connector wrote — stdout (logs, traces, stack traces, states), the stored
 * reject objects — is scanned for them. The only place a secret may appear is the Airbyte
 * CONTROL message that hands the platform a rotated refresh token with the whole config, as
 * the protocol requires.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import {
  configuredStream,
  connectorConfig,
  jsonFile,
  type Message,
  reliabilitySuite,
  runConnector,
  scanForSecrets,
  secrets,
  storedObjectsText
} from "./harness.js"
import { runScenario, type Scenario } from "./scenario.js"

const env = reliabilitySuite()
const { org, accessTokens, s3 } = env

const scenarios: ReadonlyArray<Scenario> = [
  { name: "rotation", faults: { sessionTtlRequests: 4, rotateRefreshToken: true }, outcome: "succeeds" },
  { name: "5xx everywhere", faults: { httpErrors: [{ call: "any", status: 503, every: 7, times: 4 }] }, outcome: "succeeds" },
  { name: "lock errors and a failed job", faults: { lockErrorRate: 0.5, failJobAfterRows: 6 }, extraRejects: ["UNPROCESSED", "UNABLE_TO_LOCK_ROW"], outcome: "succeeds" },
  {
    name: "limit",
    faults: { httpErrors: [{ call: "create", status: 403, errorCode: "REQUEST_LIMIT_EXCEEDED", message: "TotalRequests Limit exceeded.", every: 3, times: 1 }] },
    outcome: { failsWith: ["REQUEST_LIMIT_EXCEEDED"] }
  },
  {
    name: "forbidden",
    faults: { httpErrors: [{ call: "upload", status: 403, every: 2, errorCode: "API_DISABLED_FOR_ORG", message: "no API" }] },
    outcome: { failsWith: ["API_DISABLED_FOR_ORG"] }
  },
  { name: "token refused mid-run", faults: { sessionTtlRequests: 5, httpErrors: [{ call: "token", status: 400, every: 2 }] }, outcome: { failsWith: ["authentication failed"] } }
]

const isControl = (line: string) => (JSON.parse(line) as Message).type === "CONTROL"

describe("no secret in any output", () => {
  it.live("the fault matrix with canary secrets: stdout, traces, stack traces and reject files are clean", () =>
    Effect.gen(function* () {
      const texts: Array<string> = []
      const rotated = new Set<string>()
      for (const scenario of scenarios) {
        const { output } = yield* runScenario(env, s3(), scenario)
        // Back to the configured refresh token after a rotation.
        org.reset()
        for (const line of output.lines) {
          if (isControl(line)) {
            const token = /"refresh_token":"([^"]+)"/.exec(line)?.[1]
            if (token !== undefined) rotated.add(token)
          } else texts.push(line)
        }
      }
      // A wrong secret, and an S3 failure, go through `check`.
      const wrong = yield* runConnector(["check", "--config", jsonFile(connectorConfig({ client_secret: `${secrets.clientSecret}-WRONG` }))], [])
      texts.push(...wrong.lines)
      yield* Effect.promise(() => s3().stop())
      const storage = {
        storage_type: "S3",
        access_key_id: secrets.s3AccessKey,
        secret_access_key: secrets.s3SecretKey,
        s3_bucket_name: "rejects",
        s3_endpoint: s3().endpoint,
        bucket_path: "x"
      }
      const s3Down = yield* runConnector(["check", "--config", jsonFile(connectorConfig({ object_storage_config: storage }))], [])
      expect(s3Down.lines.join("\n")).toContain("FAILED")
      texts.push(...s3Down.lines)
      const writeDown = yield* runConnector(
        ["write", "--config", jsonFile(connectorConfig({ object_storage_config: storage })), "--catalog", jsonFile({ streams: [configuredStream("people", "append", ["Title"])] })],
        ['{"type":"RECORD","record":{"stream":"people","data":{"Title":"no last name"},"emitted_at":1}}']
      )
      expect(writeDown.code).toBe(1)
      texts.push(...writeDown.lines)
      yield* Effect.promise(() => s3().start())
      texts.push(...storedObjectsText(s3()))

      expect(rotated.size).toBeGreaterThan(0)
      expect(accessTokens.size).toBeGreaterThan(3)
      const values = [secrets.clientSecret, secrets.refreshToken, secrets.s3AccessKey, secrets.s3SecretKey, ...accessTokens, ...rotated]
      expect(scanForSecrets(texts, values)).toEqual([])
      // The scan would have seen them: the canaries are in what was sent.
      expect(scanForSecrets([JSON.stringify(connectorConfig())], [secrets.clientSecret])).toHaveLength(1)
      expect(texts.some((text) => text.includes("stack_trace"))).toBe(true)
    }), 120_000)
})
