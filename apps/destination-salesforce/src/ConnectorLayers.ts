/**
 * The services a connector command runs on, built from its config: the Salesforce session,
 * the Bulk API client and the reject sink.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { type AuthError, Credentials, SalesforceSession } from "@sfdc-activation/auth"
import { BulkClient } from "@sfdc-activation/bulk-client"
import { IngestBatch } from "@sfdc-activation/pipeline"
import { RejectSink, RejectSinkError } from "@sfdc-activation/rejects-s3"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { type ConnectorConfig, defaultS3Region, type S3Storage } from "./ConnectorConfig.js"

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
  // a region or endpoint left empty (a form field cleared) is one left out
  region: storage.s3_bucket_region === "" ? defaultS3Region : storage.s3_bucket_region,
  ...(storage.s3_endpoint === undefined || storage.s3_endpoint === "" ? {} : { endpoint: storage.s3_endpoint, forcePathStyle: true }),
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

/** Outcomes of rows Salesforce did not settle after every retry: a later attempt may succeed. */
const unsettledStatusCodes: ReadonlySet<string> = new Set([...IngestBatch.transientStatusCodes, "UNPROCESSED", "RESULT_MISSING"])

/**
 * Storage `None` keeps no rejected row: those Salesforce refused are counted and logged, and
 * their state goes out. Rows it did not process after every retry (`UNPROCESSED`,
 * `UNABLE_TO_LOCK_ROW`, `RESULT_MISSING`) would be lost the same way; for an operation that may
 * be sent twice without harm (upsert, update, delete) the sync stops instead, with a transient
 * error, so the platform's next attempt sends them again from the last state. An insert sent
 * again would duplicate the rows committed beside them: those are counted and logged.
 */
export const layerNoneKeepingUnsettled: Layer.Layer<RejectSink.RejectSink> = Layer.effect(
  RejectSink.RejectSink,
  Effect.map(RejectSink.makeNone, (sink) => ({
    ...sink,
    write: (records) => {
      const unsettled = records.filter((record) => record.operation !== "insert" && unsettledStatusCodes.has(record.statusCode))
      const first = unsettled[0]
      if (first === undefined) return sink.write(records)
      const codes = [...new Set(unsettled.map((record) => record.statusCode))].join(", ")
      return Effect.fail(
        new RejectSinkError.RejectSinkError({
          reason: "Unavailable",
          message: `${unsettled.length} rows of ${first.object} (${first.operation}) were not processed by Salesforce after every retry (${codes}; job ${first.jobId ?? "?"}); with object_storage_config None they cannot be kept, so the sync stops for the next attempt to send them again`
        })
      )
    }
  }))
)

export const rejectSinkLayer = (
  config: ConnectorConfig,
  syncId: string | undefined
): Layer.Layer<RejectSink.RejectSink, RejectSinkError.RejectSinkError> => {
  const storage = config.object_storage_config
  if (storage.storage_type === "None") return layerNoneKeepingUnsettled
  return RejectSink.layerS3({
    ...s3Connection(storage),
    bucketPath: storage.bucket_path,
    format: storage.format === "JSONL" ? "jsonl" : "csv",
    compression: storage.compression === "GZIP" ? "gzip" : "none",
    ...(syncId === undefined ? {} : { syncId })
  })
}
