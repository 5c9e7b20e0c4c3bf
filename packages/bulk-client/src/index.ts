/**
 * Salesforce Bulk API 2.0 ingest, describe and limits for Effect.
 */
export * as ApiUsage from "./ApiUsage.js"
export * as BulkApiError from "./BulkApiError.js"
export * as BulkClient from "./BulkClient.js"
export * as IngestJob from "./IngestJob.js"
export * as OrgMetadata from "./OrgMetadata.js"
export * as PipedUpload from "./PipedUpload.js"
export * as PollCadence from "./PollCadence.js"
export * as ResultRows from "./ResultRows.js"
