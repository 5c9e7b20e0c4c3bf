/**
 * The sync engine shared by the runner and the Airbyte connector.
 */
export * as CheckpointTracker from "./CheckpointTracker.js"
export * as IngestBatch from "./IngestBatch.js"
export * as KeyOrder from "./KeyOrder.js"
export * as Pipeline from "./Pipeline.js"
export * as PipelineError from "./PipelineError.js"
export * as RejectedRows from "./RejectedRows.js"
export * as RetryRows from "./RetryRows.js"
export * as StopSignal from "./StopSignal.js"
export * as StreamPlans from "./StreamPlans.js"
export * as SyncStats from "./SyncStats.js"
