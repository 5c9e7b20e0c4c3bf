/**
 * A sync's `rejects:` as a reject sink, and where a run's rejects land: a local directory
 * (default `.rejects`), S3 (or MinIO, R2…), or nowhere. Every run writes under its own run id,
 * so `replay --from <location>` resubmits exactly one run's rejects.
 */
import type { RejectReader, RejectSinkError, S3Store } from "@sfdc-activation/rejects-s3"
import { RejectLayout, RejectSink } from "@sfdc-activation/rejects-s3"
import type * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as path from "node:path"
import type * as SyncDefinition from "./SyncDefinition.js"

export const defaultDirectory = ".rejects"

export const resolve = (rejects: SyncDefinition.Rejects | undefined): SyncDefinition.Rejects =>
  rejects ?? { type: "local", directory: defaultDirectory }

export const s3Connection = (rejects: Extract<SyncDefinition.Rejects, { type: "s3" }>): S3Store.S3Connection => ({
  bucket: rejects.bucket,
  region: rejects.region,
  ...(rejects.endpoint === undefined ? {} : { endpoint: rejects.endpoint, forcePathStyle: true }),
  credentials:
    rejects.accessKeyId === undefined || rejects.secretAccessKey === undefined
      ? ("default-chain" as const)
      : { accessKeyId: Redacted.make(rejects.accessKeyId), secretAccessKey: Redacted.make(rejects.secretAccessKey) }
})

/** The sink for one run of a sync: records go under `{location}/{runId}/{sync name}/`. */
export const layer = (
  rejects: SyncDefinition.Rejects | undefined,
  runId: string,
  baseDir: string
): Layer.Layer<RejectSink.RejectSink, RejectSinkError.RejectSinkError> => {
  const config = resolve(rejects)
  if (config === "none") return RejectSink.layerNone
  if (config.type === "local") {
    return RejectSink.layerLocal({ directory: path.resolve(baseDir, config.directory), bucketPath: "", syncId: runId, format: config.format ?? "csv" })
  }
  return RejectSink.layerS3({
    ...s3Connection(config),
    bucketPath: config.path ?? "",
    syncId: runId,
    format: config.format ?? "csv",
    compression: config.gzip === true ? "gzip" : "none"
  })
}

/**
 * Where a run's rejects are, as a user passes it to `replay --from`; undefined for `none`. Built
 * as the sink builds its keys: `path` and the run id sanitised, empty segments dropped (a
 * trailing `/` in `path` changes nothing).
 */
export const locationOf = (rejects: SyncDefinition.Rejects | undefined, runId: string): string | undefined => {
  const config = resolve(rejects)
  if (config === "none") return undefined
  if (config.type === "local") return path.join(config.directory, RejectLayout.sanitizeSegment(runId))
  const prefix = [RejectLayout.sanitizePrefix(config.path ?? ""), RejectLayout.sanitizeSegment(runId)].filter((segment) => segment !== "").join("/")
  return `s3://${config.bucket}/${prefix}`
}

/**
 * A `--from` argument as a reader location: a directory, or `s3://bucket/prefix` (connection
 * settings taken from a sync whose rejects use that bucket), the prefix normalised as the sink
 * writes its keys.
 */
export const readLocation = (
  from: string,
  baseDir: string,
  s3Configs: ReadonlyArray<SyncDefinition.Rejects>
): RejectReader.Location | string => {
  const s3 = /^s3:\/\/([^/]+)\/?(.*)$/.exec(from)
  if (s3 === null) return { _tag: "Local", directory: path.resolve(baseDir, from) }
  const bucket = s3[1] ?? ""
  const config = s3Configs.find((candidate) => candidate !== "none" && candidate.type === "s3" && candidate.bucket === bucket)
  if (config === undefined || config === "none" || config.type !== "s3") return `no sync stores its rejects in bucket ${bucket}, so its region and endpoint are unknown`
  const prefix = RejectLayout.sanitizePrefix(s3[2] ?? "")
  return { _tag: "S3", connection: s3Connection(config), prefix: prefix === "" ? "" : `${prefix}/` }
}
