/**
 * `check`: can this config reach the org (token, then the org's API limits: a call every API
 * user may make, whatever objects they can see) and, when configured, write to the rejects
 * bucket? Always a CONNECTION_STATUS; FAILED says what to fix. It runs on the session and client
 * in context (the caller builds them, and sees the refresh token rotate).
 */
import { MessageWriter } from "@sfdc-activation/airbyte-protocol"
import { BulkClient } from "@sfdc-activation/bulk-client"
import { RejectSink } from "@sfdc-activation/rejects-s3"
import * as Effect from "effect/Effect"
import type { ConnectorConfig } from "./ConnectorConfig.js"
import { s3Connection } from "./ConnectorLayers.js"

/** Retries of the S3 probe: few, so a wrong bucket answers quickly. */
const probeRetries = 2

export const check = (config: ConnectorConfig) =>
  Effect.gen(function* () {
    const bulk = yield* BulkClient.BulkClient
    yield* bulk.limits
    const storage = config.object_storage_config
    if (storage.storage_type === "S3") {
      yield* RejectSink.probe({ ...s3Connection(storage), bucketPath: storage.bucket_path, retry: { maxRetries: probeRetries } })
    }
    return MessageWriter.connectionStatus("SUCCEEDED")
  }).pipe(Effect.catchAll((error) => Effect.succeed(failed(error))))

/** The FAILED status of an error, such as credentials the session cannot be built with. */
export const failed = (error: Error) => MessageWriter.connectionStatus("FAILED", error.message)
