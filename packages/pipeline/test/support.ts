/** The emulated org behind MSW, and the layers a pipeline runs on in tests. */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { afterAll, afterEach, beforeAll } from "@effect/vitest"
import { type AuthError, Credentials, SalesforceSession } from "@sfdc-activation/auth"
import { BulkClient } from "@sfdc-activation/bulk-client"
import { type RejectedRecord, RejectReader, RejectSink, type RejectSinkError } from "@sfdc-activation/rejects-s3"
import { handlers, Org } from "@sfdc-activation/salesforce-emulator"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import { setupServer } from "msw/node"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

export const baseUrl = "https://emulator.my.salesforce.com"

const emulatedOrg = () => {
  const org = Org.make()
  const server = setupServer(...handlers(org, baseUrl))
  return { org, server }
}

/** The emulated org behind MSW for a test file: served while it runs, reset (handlers and records) after each test. */
export const emulatedOrgSuite = () => {
  const emulated = emulatedOrg()
  beforeAll(() => emulated.server.listen({ onUnhandledRequest: "error" }))
  afterEach(() => {
    emulated.server.resetHandlers()
    emulated.org.reset()
  })
  afterAll(() => emulated.server.close())
  return emulated
}

/** Polls every 2 ms unless `poll` says otherwise (`{}`: the client's own cadence). */
export const bulkLayer = (
  org: Org.Org,
  loginUrl: string = baseUrl,
  poll: BulkClient.PollOptions = { schedule: Schedule.spaced("2 millis") }
): Layer.Layer<BulkClient.BulkClient | SalesforceSession.SalesforceSession, AuthError.AuthError> =>
  BulkClient.layer({ retry: Schedule.recurs(3), poll }).pipe(
    Layer.provideMerge(
      SalesforceSession.layer({
        credentials: Credentials.refreshToken({
          clientId: org.credentials.clientId,
          clientSecret: Redacted.make(org.credentials.clientSecret),
          refreshToken: Redacted.make(org.credentials.refreshToken)
        }),
        login: { loginUrl },
        tokenRetry: Schedule.recurs(3)
      })
    ),
    Layer.provide(FetchHttpClient.layer)
  )

export const tempDirectory = (prefix: string) => mkdtempSync(join(tmpdir(), prefix))

export const localRejects = (directory: string): Layer.Layer<RejectSink.RejectSink, RejectSinkError.RejectSinkError> =>
  RejectSink.layerLocal({ directory, bucketPath: "rejects", format: "jsonl", syncId: "test" })

export const readRejects = (
  directory: string
): Effect.Effect<Array<RejectedRecord.RejectedRecord>, RejectSinkError.RejectSinkError> =>
  RejectReader.read({ _tag: "Local", directory, prefix: "rejects" }).pipe(Stream.runCollect, Effect.map(Chunk.toArray))
