/**
 * The built connector (dist/): the AWS SDK sits in a chunk of its own, read only when rejects go to
 * a bucket, and that chunk is found and works when they do.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { EmulatorServer, Org } from "@sfdc-activation/salesforce-emulator"
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { promisify } from "node:util"
import { bucket, connectorConfig, jsonFile, startS3 } from "./support.js"

const dist = path.resolve(import.meta.dirname, "../dist")
const org = Org.make()
let server: EmulatorServer.Running
let s3: Awaited<ReturnType<typeof startS3>>

beforeAll(async () => {
  server = await EmulatorServer.start(org, { port: 0 })
  s3 = await startS3()
})
afterAll(async () => {
  await server.close()
  await s3.close()
})

const sdkSource = "node_modules/.pnpm/@aws-sdk+client-s3@"

describe("the bundle", () => {
  it("keeps the AWS SDK out of main.js, in a chunk beside it", () => {
    const files = fs.readdirSync(dist).filter((name) => name.endsWith(".js"))
    expect(fs.readFileSync(path.join(dist, "main.js"), "utf8")).not.toContain(sdkSource)
    expect(files.filter((name) => fs.readFileSync(path.join(dist, name), "utf8").includes(sdkSource))).toHaveLength(1)
  })

  it("loads that chunk to check a bucket for rejects", async () => {
    const config = jsonFile(
      connectorConfig(org, {
        login_url: server.url,
        object_storage_config: {
          storage_type: "S3",
          s3_bucket_name: bucket,
          s3_bucket_region: "us-east-1",
          s3_endpoint: s3.endpoint,
          bucket_path: "bundle-check",
          access_key_id: "S3RVER",
          secret_access_key: "S3RVER"
        }
      })
    )
    const { stdout } = await promisify(execFile)(process.execPath, [path.join(dist, "main.js"), "check", "--config", config])
    const statuses = stdout
      .split("\n")
      .filter((line) => line.includes("CONNECTION_STATUS"))
      .map((line) => (JSON.parse(line) as { connectionStatus: { status: string; message?: string } }).connectionStatus)
    expect(statuses).toEqual([expect.objectContaining({ status: "SUCCEEDED" })])
  })
})
