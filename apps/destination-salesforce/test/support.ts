/** The emulated org behind MSW, s3rver on loopback, and a way to run connector commands in-process. */
import { afterAll, afterEach, beforeAll } from "@effect/vitest"
import { handlers, Org } from "@sfdc-activation/salesforce-emulator"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { setupServer } from "msw/node"
import * as fs from "node:fs"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import S3rver from "s3rver"
import { Ajv } from "ajv"
import { parse } from "yaml"
import * as Cli from "../src/Cli.js"

export const baseUrl = "https://emulator.my.salesforce.com"

/** A connector config logging in to `org` at the MSW base URL. */
export const connectorConfig = (org: Org.Org, overrides: Record<string, unknown> = {}) => ({
  client_id: org.credentials.clientId,
  client_secret: org.credentials.clientSecret,
  refresh_token: org.credentials.refreshToken,
  is_sandbox: false,
  auth_type: "Client",
  login_url: baseUrl,
  ...overrides
})

export const emulatedOrg = () => {
  const org = Org.make()
  const server = setupServer(...handlers(org, baseUrl))
  return { org, server }
}

export const tempDirectory = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), prefix))

export const bucket = "rejects"

/** s3rver on a free loopback port with one bucket; `close` stops it. */
export const startS3 = async () => {
  const directory = tempDirectory("connector-s3-")
  const s3rver = new S3rver({ directory, silent: true, configureBuckets: [{ name: bucket }] })
  await s3rver.configureBuckets()
  const server = http.createServer(s3rver.callback())
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const address: AddressInfo | string | null = server.address()
  const port = typeof address === "object" && address !== null ? address.port : 0
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve()))
  }
}

/** Writes a JSON file in a temp directory and returns its path. */
export const jsonFile = (value: unknown): string => {
  const file = path.join(tempDirectory("connector-config-"), "file.json")
  fs.writeFileSync(file, JSON.stringify(value))
  return file
}

/** Runs a connector command in-process with `stdin` lines; returns the exit code and stdout lines. */
export const runConnector = (args: ReadonlyArray<string>, stdinLines: ReadonlyArray<string> = []) =>
  Effect.gen(function* () {
    const lines: Array<string> = []
    const io: Cli.Io = {
      stdin: Stream.make(new TextEncoder().encode(stdinLines.map((line) => `${line}\n`).join(""))),
      stdout: {
        write: (text, callback) => {
          lines.push(...text.split("\n").filter((line) => line !== ""))
          callback(null)
          return true
        }
      }
    }
    const code = yield* Cli.main(args, io)
    return { code, lines, messages: lines.map((line): unknown => JSON.parse(line)) }
  })

const protocol: unknown = parse(fs.readFileSync(path.join(import.meta.dirname, "fixtures", "airbyte_protocol.v0.18.0.yaml"), "utf8"))
const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true })
ajv.addSchema(protocol as object, "protocol")

/** Errors of a message against the official AirbyteMessage schema; empty when valid. */
export const protocolErrors = (message: unknown): Array<string> => {
  const validate = ajv.getSchema("protocol#/definitions/AirbyteMessage")
  if (validate === undefined) return ["no schema"]
  return validate(message) ? [] : (validate.errors ?? []).map((error) => `${error.instancePath} ${error.message ?? ""}`)
}

/** Whether `schema` compiles as a JSON Schema. */
export const compiles = (schema: object): boolean => {
  try {
    new Ajv({ strict: false, validateFormats: false }).compile(schema)
    return true
  } catch {
    return false
  }
}

/**
 * Registers a test file's hooks: the org served through MSW and s3rver started before the
 * tests, the org reset after each, both closed at the end. `s3Endpoint()` is s3rver's URL.
 */
export const connectorSuite = () => {
  const { org, server } = emulatedOrg()
  let s3: Awaited<ReturnType<typeof startS3>> | undefined
  beforeAll(async () => {
    server.listen({ onUnhandledRequest: "bypass" })
    s3 = await startS3()
  })
  afterEach(() => org.reset())
  afterAll(async () => {
    server.close()
    await s3?.close()
  })
  return { org, s3Endpoint: (): string => s3?.endpoint ?? "" }
}
