/**
 * The services a connector command runs on, built from its config: the Salesforce session,
 * the Bulk API client and the reject sink.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { type AuthError, Credentials, SalesforceSession } from "@sfdc-activation/auth"
import { BulkClient } from "@sfdc-activation/bulk-client"
import { RejectSink, type RejectSinkError } from "@sfdc-activation/rejects-s3"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import type { ConnectorConfig, S3Storage } from "./ConnectorConfig.js"

export const sessionLayer = (
  config: ConnectorConfig
): Layer.Layer<SalesforceSession.SalesforceSession, AuthError.AuthError> =>
  SalesforceSession.layer({
    credentials: Credentials.refreshToken({
      clientId: config.client_id,
      clientSecret: config.client_secret,
      refreshToken: config.refresh_token
    }),
    login: { isSandbox: config.is_sandbox, loginUrl: config.login_url }
  }).pipe(Layer.provide(FetchHttpClient.layer))

export const bulkLayer = (
  config: ConnectorConfig
): Layer.Layer<BulkClient.BulkClient | SalesforceSession.SalesforceSession, AuthError.AuthError> =>
  BulkClient.layer({ apiVersion: config.api_version }).pipe(Layer.provideMerge(sessionLayer(config)))

/** Where rejected records go: S3 (or compatible) from the config, or nowhere (counted and logged). */
export const s3Connection = (storage: S3Storage) => ({
  bucket: storage.s3_bucket_name,
  region: storage.s3_bucket_region,
  ...(storage.s3_endpoint === undefined ? {} : { endpoint: storage.s3_endpoint, forcePathStyle: true }),
  // keys left out or empty: the default AWS credential chain, as the spec says
  credentials:
    storage.access_key_id === undefined ||
    storage.secret_access_key === undefined ||
    Redacted.value(storage.access_key_id) === "" ||
    Redacted.value(storage.secret_access_key) === ""
      ? ("default-chain" as const)
      : { accessKeyId: storage.access_key_id, secretAccessKey: storage.secret_access_key },
  ...(storage.role_arn === undefined ? {} : { roleArn: storage.role_arn })
})

export const rejectSinkLayer = (
  config: ConnectorConfig,
  syncId: string | undefined
): Layer.Layer<RejectSink.RejectSink, RejectSinkError.RejectSinkError> => {
  const storage = config.object_storage_config
  if (storage.storage_type === "None") return RejectSink.layerNone
  return RejectSink.layerS3({
    ...s3Connection(storage),
    bucketPath: storage.bucket_path,
    format: storage.format === "JSONL" ? "jsonl" : "csv",
    compression: storage.compression === "GZIP" ? "gzip" : "none",
    ...(syncId === undefined ? {} : { syncId })
  })
}
