/**
 * `write`: Airbyte messages from stdin into Salesforce through the pipeline.
 *
 * Each configured stream becomes a plan (sync mode → operation, destination object, matching
 * key); `overwrite` and a refresh that removes data are refused, as Salesforce records are never
 * truncated. STATE messages are echoed byte for byte — with `destinationStats` — only once every
 * record before them is committed or stored as rejected. Stream statuses are traced.
 */
import { AirbyteMessage, MessageReader, MessageWriter, StateLine } from "@sfdc-activation/airbyte-protocol"
import type { CsvEncoder } from "@sfdc-activation/batcher"
import type { BulkClient } from "@sfdc-activation/bulk-client"
import { Pipeline, PipelineError, StreamPlans } from "@sfdc-activation/pipeline"
import type { RejectSink } from "@sfdc-activation/rejects-s3"
import type * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { ConfigError, type ConnectorConfig } from "./ConnectorConfig.js"

/** The pipeline's key for a stream. */
export const streamKey = AirbyteMessage.streamKey

const operations = {
  append: "insert",
  update: "update",
  append_dedup: "upsert",
  soft_delete: "delete"
} as const satisfies Record<Exclude<AirbyteMessage.DestinationSyncMode, "overwrite">, CsvEncoder.Operation>

/** A configured stream's operation, object and matching key, or why it cannot run. */
export const streamTarget = (
  configured: AirbyteMessage.ConfiguredAirbyteStream
): Either.Either<{ operation: CsvEncoder.Operation; object: string; externalIdFieldName: string | undefined }, ConfigError> => {
  const name = configured.stream.name
  const mode = configured.destination_sync_mode
  if (mode === "overwrite") {
    return Either.left(
      new ConfigError({
        detail: `stream ${name}: destination_sync_mode "overwrite" is not supported: Salesforce records are never truncated. Use append, update, append_dedup or soft_delete`
      })
    )
  }
  // above 0, it asks to remove the records of earlier generations (a refresh that removes data, or
  // a clear); records in Salesforce carry no generation, and objects are never truncated
  const minimumGeneration = configured.minimum_generation_id ?? 0
  if (minimumGeneration > 0) {
    return Either.left(
      new ConfigError({
        detail: `stream ${name}: minimum_generation_id ${minimumGeneration} (generation_id ${configured.generation_id ?? "absent"}) asks to remove the records of earlier syncs (a refresh that removes records, or a clear), which this destination cannot do: Salesforce records are never truncated. Use a refresh that retains records, or a sync without refresh`
      })
    )
  }
  const operation = operations[mode]
  const object = configured.destination_object_name ?? name
  // insert matches nothing: its primary_key, whatever its shape, is the source's business
  const key = operation === "insert" ? [] : configured.primary_key ?? []
  if (key.some((path) => path.length !== 1)) {
    return Either.left(new ConfigError({ detail: `stream ${name}: a matching key must be a top-level field, got ${JSON.stringify(key)}` }))
  }
  const fields = key.map((path) => path[0] ?? "")
  if (operation === "upsert") {
    if (fields.length !== 1) {
      return Either.left(
        new ConfigError({ detail: `stream ${name}: append_dedup needs exactly one matching key (an external id field or Id), got ${fields.length}` })
      )
    }
    return Either.right({ operation, object, externalIdFieldName: fields[0] })
  }
  if ((operation === "update" || operation === "delete") && fields.length > 0 && (fields.length !== 1 || fields[0]?.toLowerCase() !== "id")) {
    return Either.left(new ConfigError({ detail: `stream ${name}: ${mode} matches records by Id; primary_key must be [["Id"]]` }))
  }
  return Either.right({ operation, object, externalIdFieldName: undefined })
}

/**
 * The columns of a stream: its JSON schema's properties. A delete sends only `Id`, read from
 * the property of that name in any case (`id`, `ID`), as Salesforce matches field names; a
 * schema without one is refused, as every record would be.
 */
export const streamColumns = (
  configured: AirbyteMessage.ConfiguredAirbyteStream,
  operation: CsvEncoder.Operation
): Either.Either<Array<CsvEncoder.Column>, ConfigError> => {
  const properties = configured.stream.json_schema["properties"]
  const names = typeof properties === "object" && properties !== null ? Object.keys(properties) : []
  if (operation !== "delete") return Either.right(names.map((name) => ({ column: name, source: { key: name } })))
  if (names.length === 0) return Either.right([{ column: "Id", source: { key: "Id" } }])
  const id = names.find((name) => name.toLowerCase() === "id")
  if (id === undefined) {
    return Either.left(
      new ConfigError({
        detail: `stream ${configured.stream.name}: soft_delete deletes records by Id, and its json_schema has no Id property (it has ${names.slice(0, 10).join(", ")}${names.length > 10 ? ", …" : ""})`
      })
    )
  }
  return Either.right([{ column: "Id", source: { key: id } }])
}

export type Checkpoint = { readonly line: string }

/** The descriptor of a configured stream, as STREAM_STATUS traces name it. */
export const descriptorOf = (configured: AirbyteMessage.ConfiguredAirbyteStream): AirbyteMessage.StreamDescriptor => ({
  name: configured.stream.name,
  ...(configured.stream.namespace === undefined ? {} : { namespace: configured.stream.namespace })
})

/** INCOMPLETE for each of `streams`: what a run that stops leaves as their last status. */
export const incompleteStatuses = (streams: ReadonlyArray<AirbyteMessage.StreamDescriptor>) =>
  Effect.forEach(streams, (stream) => MessageWriter.streamStatus(stream, "INCOMPLETE"))

/** Plans for every configured stream, described from the org. */
export const plans = (
  catalog: AirbyteMessage.ConfiguredAirbyteCatalog,
  config: ConnectorConfig
): Effect.Effect<Map<string, Pipeline.StreamPlan>, ConfigError | PipelineError.PipelineError, BulkClient.BulkClient> =>
  Effect.gen(function* () {
    const byKey = new Map<string, Pipeline.StreamPlan>()
    for (const configured of catalog.streams) {
      const target = yield* streamTarget(configured)
      const columns = yield* streamColumns(configured, target.operation)
      if (columns.length === 0) {
        return yield* new ConfigError({
          detail: `stream ${configured.stream.name}: its json_schema lists no properties, so there is nothing to map to ${target.object}`
        })
      }
      const descriptor = descriptorOf(configured)
      const plan = yield* StreamPlans.plan({
        stream: descriptor,
        object: target.object,
        operation: target.operation,
        externalIdFieldName: target.externalIdFieldName,
        columns,
        // on insert there is nothing to clear: a null leaves the field to its default
        ...(target.operation === "insert" ? {} : { nullPolicy: config.null_handling === "CLEAR" ? "clear" : "leave" })
      })
      const key = streamKey(descriptor)
      if (byKey.has(key)) {
        return yield* new ConfigError({ detail: `the catalog configures stream ${key} twice` })
      }
      byKey.set(key, plan)
    }
    return byKey
  })

/** Airbyte messages in, pipeline inputs out (records and checkpoints; other messages are dropped). */
export const toPipelineInput = (inbound: MessageReader.InboundMessage): Option.Option<Pipeline.PipelineInput<Checkpoint>> => {
  const message = inbound.message
  if (message.type === "RECORD") {
    const { stream, namespace } = message.record
    return Option.some(Pipeline.record(streamKey({ name: stream, namespace }), message.record.data))
  }
  if (message.type === "STATE" && inbound.stateLine !== undefined) {
    const state = message.state
    const scope = state.type === "STREAM" && state.stream !== undefined ? streamKey(state.stream.stream_descriptor) : undefined
    return Option.some(Pipeline.checkpoint({ line: inbound.stateLine }, scope))
  }
  return Option.none()
}

/** A released checkpoint as the STATE line to echo. */
export const stateEcho = (released: { readonly payload: Checkpoint; readonly recordCount: number; readonly rejectedCount: number }) =>
  MessageWriter.encodedLine(
    StateLine.withDestinationStats(released.payload.line, {
      recordCount: released.recordCount,
      ...(released.rejectedCount > 0 ? { rejectedRecordCount: released.rejectedCount } : {})
    })
  )

/**
 * The output of `write` for stdin bytes: STREAM_STATUS traces, echoed states as records
 * settle, and a closing LOG with the summary.
 */
export const write = <E, R>(
  catalog: AirbyteMessage.ConfiguredAirbyteCatalog,
  config: ConnectorConfig,
  stdin: Stream.Stream<Uint8Array, E, R>,
  options: { readonly syncId?: string | undefined; readonly tempDir?: string | undefined; readonly stop?: Effect.Effect<void> | undefined } = {}
): Stream.Stream<
  MessageWriter.Outbound,
  E | ConfigError | PipelineError.PipelineError | MessageReader.ProtocolError,
  R | BulkClient.BulkClient | RejectSink.RejectSink
> =>
  Stream.unwrap(
    Effect.gen(function* () {
      // A run that cannot start (a stream the org cannot take) still leaves every stream INCOMPLETE.
      const planned = yield* Effect.either(plans(catalog, config))
      if (Either.isLeft(planned)) {
        return Stream.concat(Stream.fromIterableEffect(incompleteStatuses(catalog.streams.map(descriptorOf))), Stream.fail(planned.left))
      }
      const streamPlans = planned.right
      const descriptors = [...streamPlans.values()].map((plan) => plan.stream)
      const started = Stream.fromIterableEffect(
        Effect.forEach(descriptors, (stream) =>
          Effect.all([MessageWriter.streamStatus(stream, "STARTED"), MessageWriter.streamStatus(stream, "RUNNING")])
        ).pipe(Effect.map((pairs) => pairs.flat()))
      )
      const pipelineOptions: Pipeline.PipelineOptions = {
        maxConcurrentJobs: config.max_concurrent_jobs,
        maxBatchAge: Duration.seconds(config.max_batch_age_seconds),
        maxBatchBytes: Math.floor(config.batch_size_mb * 1024 * 1024),
        syncId: options.syncId,
        tempDir: options.tempDir,
        stop: options.stop
      }
      /** The input line of the first record of each stream the catalog does not configure, for its error. */
      const unknownStreamLines = new Map<string, number>()
      const body = stdin.pipe(
        MessageReader.decodeMessages(),
        Stream.filterMap((inbound) => {
          const input = toPipelineInput(inbound)
          if (input._tag === "Some" && input.value._tag === "Record" && !streamPlans.has(input.value.stream) && !unknownStreamLines.has(input.value.stream)) {
            unknownStreamLines.set(input.value.stream, inbound.lineNumber)
          }
          return input
        }),
        Pipeline.run(streamPlans, pipelineOptions),
        Stream.mapError((error) => {
          if (!(error instanceof PipelineError.PipelineError) || error.reason !== "UnknownStream" || error.stream === undefined) return error
          const line = unknownStreamLines.get(error.stream)
          return line === undefined ? error : new PipelineError.PipelineError({ reason: error.reason, stream: error.stream, detail: `input line ${line}: ${error.detail}` })
        }),
        Stream.mapChunksEffect((events) => Effect.map(Effect.forEach(events, (event): Effect.Effect<ReadonlyArray<MessageWriter.Outbound>> => {
          if (event._tag === "CheckpointReleased") return Effect.succeed([stateEcho(event)])
          const totals = event.summary.totals
          const counts = `${totals.recordsIn} records in, ${totals.created} created, ${totals.updated} updated, ${totals.deleted} deleted, ${totals.rejected} rejected, ${totals.jobs} jobs`
          // A stopped run's error and INCOMPLETE statuses follow.
          if (event._tag === "Stopped") return Effect.succeed([MessageWriter.log("WARN", `sync stopped after ${counts}`)])
          return Effect.map(Effect.forEach(descriptors, (stream) => MessageWriter.streamStatus(stream, "COMPLETE")), (statuses) => [
            MessageWriter.log("INFO", `sync finished: ${counts}`),
            ...statuses
          ])
        }), (parts) => Chunk.unsafeFromArray(parts.flat())))
      )
      // A failed run marks every stream INCOMPLETE before the error reaches the caller.
      const incomplete = (cause: Cause.Cause<E | ConfigError | PipelineError.PipelineError | MessageReader.ProtocolError>) =>
        Stream.concat(
          Stream.fromIterableEffect(incompleteStatuses(descriptors)),
          Stream.failCause(cause)
        )
      return Stream.concat(started, body).pipe(Stream.catchAllCause(incomplete))
    })
  )
