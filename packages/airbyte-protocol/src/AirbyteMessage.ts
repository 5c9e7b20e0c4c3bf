/**
 * `effect/Schema` models of every message of the Airbyte protocol v0.18.0.
 *
 * Every object in the protocol allows additional properties; decoding keeps them
 * (`onExcessProperty: "preserve"`), so a message read and written again loses nothing but the
 * `null`s of optional fields, which are taken as absent.
 * Free-form JSON (record data, state blobs, JSON schemas, configs) is checked to be an
 * object and passed through by reference, never copied.
 */
import * as Schema from "effect/Schema"

/** Parse options that keep fields this model does not name. */
export const preserveUnknownFields = { onExcessProperty: "preserve" } as const

/** A JSON object whose content the protocol leaves open; kept by reference. */
export const JsonObject = Schema.declare(
  (input: unknown): input is { readonly [key: string]: unknown } =>
    typeof input === "object" && input !== null && !Array.isArray(input),
  { identifier: "JsonObject", description: "a JSON object" }
)
export type JsonObject = typeof JsonObject.Type

const open = <Fields extends Schema.Struct.Fields>(fields: Fields, identifier: string) =>
  Schema.Struct(fields).annotations({ identifier, parseOptions: preserveUnknownFields })

/**
 * An optional field. The spec's messages leave out what they do not know, but Java- and
 * Python-built ones send `null` (generation ids, `sync_id`, a namespace): null is taken as absent.
 */
const optional = <S extends Schema.Schema.All>(schema: S) => Schema.optionalWith(schema, { nullable: true })

const Integer = Schema.Number.pipe(Schema.int())

export const StreamDescriptor = open(
  { name: Schema.String, namespace: optional(Schema.String) },
  "StreamDescriptor"
)
export type StreamDescriptor = typeof StreamDescriptor.Type

/**
 * One key per stream: its name (readable in messages), or its namespace and name as a JSON pair —
 * never `namespace.name`, which namespace `a` with stream `b` would share with a stream named
 * `a.b`. A name that starts like a pair (`[`) is a pair too, so no two streams share a key.
 */
export const streamKey = (descriptor: { readonly name: string; readonly namespace?: string | null | undefined }): string =>
  (descriptor.namespace === undefined || descriptor.namespace === null) && !descriptor.name.startsWith("[")
    ? descriptor.name
    : JSON.stringify([descriptor.namespace ?? null, descriptor.name])

// ---------------------------------------------------------------------------------------
// RECORD

export const RecordChangeType = Schema.Literal("NULLED", "TRUNCATED")
export const RecordChangeReason = Schema.Literal(
  "SOURCE_RECORD_SIZE_LIMITATION",
  "DESTINATION_RECORD_SIZE_LIMITATION",
  "PLATFORM_RECORD_SIZE_LIMITATION",
  "SOURCE_FIELD_SIZE_LIMITATION",
  "DESTINATION_FIELD_SIZE_LIMITATION",
  "PLATFORM_FIELD_SIZE_LIMITATION",
  "SOURCE_SERIALIZATION_ERROR",
  "DESTINATION_SERIALIZATION_ERROR",
  "PLATFORM_SERIALIZATION_ERROR",
  "SOURCE_RETRIEVAL_ERROR",
  "DESTINATION_TYPECAST_ERROR"
)

export const RecordMetaChange = open(
  { field: Schema.String, change: RecordChangeType, reason: RecordChangeReason },
  "AirbyteRecordMessageMetaChange"
)

export const RecordMeta = open(
  { changes: optional(Schema.Array(RecordMetaChange)) },
  "AirbyteRecordMessageMeta"
)

export const RecordFileReference = open(
  {
    staging_file_url: optional(Schema.String),
    source_file_relative_path: optional(Schema.String),
    file_size_bytes: optional(Integer)
  },
  "AirbyteRecordMessageFileReference"
)

export const AirbyteRecord = open(
  {
    namespace: optional(Schema.String),
    stream: Schema.String,
    data: JsonObject,
    emitted_at: Integer,
    meta: optional(RecordMeta),
    file_reference: optional(RecordFileReference)
  },
  "AirbyteRecordMessage"
)
export type AirbyteRecord = typeof AirbyteRecord.Type

// ---------------------------------------------------------------------------------------
// STATE

export const StateType = Schema.Literal("GLOBAL", "STREAM", "LEGACY")
export type StateType = typeof StateType.Type

export const StreamState = open(
  { stream_descriptor: StreamDescriptor, stream_state: optional(JsonObject) },
  "AirbyteStreamState"
)
export type StreamState = typeof StreamState.Type

export const GlobalState = open(
  { shared_state: optional(JsonObject), stream_states: Schema.Array(StreamState) },
  "AirbyteGlobalState"
)

export const StateStats = open(
  { recordCount: optional(Schema.Number), rejectedRecordCount: optional(Schema.Number) },
  "AirbyteStateStats"
)
export type StateStats = typeof StateStats.Type

export const AirbyteState = open(
  {
    type: optional(StateType),
    stream: optional(StreamState),
    global: optional(GlobalState),
    data: optional(JsonObject),
    sourceStats: optional(StateStats),
    destinationStats: optional(StateStats)
  },
  "AirbyteStateMessage"
)
export type AirbyteState = typeof AirbyteState.Type

// ---------------------------------------------------------------------------------------
// LOG

export const LogLevel = Schema.Literal("FATAL", "ERROR", "WARN", "INFO", "DEBUG", "TRACE")
export type LogLevel = typeof LogLevel.Type

export const AirbyteLog = open(
  { level: LogLevel, message: Schema.String, stack_trace: optional(Schema.String) },
  "AirbyteLogMessage"
)
export type AirbyteLog = typeof AirbyteLog.Type

// ---------------------------------------------------------------------------------------
// TRACE

export const FailureType = Schema.Literal("system_error", "config_error", "transient_error")
export type FailureType = typeof FailureType.Type

export const ErrorTrace = open(
  {
    message: Schema.String,
    internal_message: optional(Schema.String),
    stack_trace: optional(Schema.String),
    failure_type: optional(FailureType),
    stream_descriptor: optional(StreamDescriptor)
  },
  "AirbyteErrorTraceMessage"
)

export const EstimateTrace = open(
  {
    name: Schema.String,
    type: Schema.Literal("STREAM", "SYNC"),
    namespace: optional(Schema.String),
    row_estimate: optional(Integer),
    byte_estimate: optional(Integer)
  },
  "AirbyteEstimateTraceMessage"
)

export const StreamStatus = Schema.Literal("STARTED", "RUNNING", "COMPLETE", "INCOMPLETE")
export type StreamStatus = typeof StreamStatus.Type

export const StreamStatusReason = open(
  {
    type: Schema.Literal("RATE_LIMITED"),
    rate_limited: optional(open({ quota_reset: optional(Integer) }, "AirbyteStreamStatusRateLimitedReason"))
  },
  "AirbyteStreamStatusReason"
)

export const StreamStatusTrace = open(
  {
    stream_descriptor: StreamDescriptor,
    status: StreamStatus,
    reasons: optional(Schema.Array(StreamStatusReason))
  },
  "AirbyteStreamStatusTraceMessage"
)

export const AnalyticsTrace = open(
  { type: Schema.String, value: optional(Schema.String) },
  "AirbyteAnalyticsTraceMessage"
)

export const TraceType = Schema.Literal("ERROR", "ESTIMATE", "STREAM_STATUS", "ANALYTICS")

export const AirbyteTrace = open(
  {
    type: TraceType,
    emitted_at: Schema.Number,
    error: optional(ErrorTrace),
    estimate: optional(EstimateTrace),
    stream_status: optional(StreamStatusTrace),
    analytics: optional(AnalyticsTrace)
  },
  "AirbyteTraceMessage"
)
export type AirbyteTrace = typeof AirbyteTrace.Type

// ---------------------------------------------------------------------------------------
// CONTROL, CONNECTION_STATUS

export const AirbyteControl = open(
  {
    type: Schema.Literal("CONNECTOR_CONFIG"),
    emitted_at: Schema.Number,
    connectorConfig: optional(open({ config: JsonObject }, "AirbyteControlConnectorConfigMessage"))
  },
  "AirbyteControlMessage"
)
export type AirbyteControl = typeof AirbyteControl.Type

export const ConnectionStatus = open(
  { status: Schema.Literal("SUCCEEDED", "FAILED"), message: optional(Schema.String) },
  "AirbyteConnectionStatus"
)
export type ConnectionStatus = typeof ConnectionStatus.Type

// ---------------------------------------------------------------------------------------
// CATALOG and the configured catalog

export const SyncMode = Schema.Literal("full_refresh", "incremental")

export const DestinationSyncMode = Schema.Literal("append", "overwrite", "append_dedup", "update", "soft_delete")
export type DestinationSyncMode = typeof DestinationSyncMode.Type

const FieldPaths = Schema.Array(Schema.Array(Schema.String))

export const AirbyteStream = open(
  {
    name: Schema.String,
    json_schema: JsonObject,
    supported_sync_modes: Schema.NonEmptyArray(SyncMode),
    source_defined_cursor: optional(Schema.Boolean),
    default_cursor_field: optional(Schema.Array(Schema.String)),
    source_defined_primary_key: optional(FieldPaths),
    namespace: optional(Schema.String),
    is_resumable: optional(Schema.Boolean),
    is_file_based: optional(Schema.Boolean)
  },
  "AirbyteStream"
)
export type AirbyteStream = typeof AirbyteStream.Type

export const AirbyteCatalog = open({ streams: Schema.Array(AirbyteStream) }, "AirbyteCatalog")

export const ConfiguredAirbyteStream = open(
  {
    stream: AirbyteStream,
    sync_mode: SyncMode,
    cursor_field: optional(Schema.Array(Schema.String)),
    destination_sync_mode: DestinationSyncMode,
    destination_object_name: optional(Schema.String),
    primary_key: optional(FieldPaths),
    generation_id: optional(Integer),
    minimum_generation_id: optional(Integer),
    sync_id: optional(Integer),
    include_files: optional(Schema.Boolean)
  },
  "ConfiguredAirbyteStream"
)
export type ConfiguredAirbyteStream = typeof ConfiguredAirbyteStream.Type

export const ConfiguredAirbyteCatalog = open(
  { streams: Schema.Array(ConfiguredAirbyteStream) },
  "ConfiguredAirbyteCatalog"
)
export type ConfiguredAirbyteCatalog = typeof ConfiguredAirbyteCatalog.Type

// ---------------------------------------------------------------------------------------
// DESTINATION_CATALOG

export const DestinationOperation = open(
  {
    object_name: Schema.String,
    sync_mode: DestinationSyncMode,
    json_schema: JsonObject,
    matching_keys: optional(FieldPaths)
  },
  "DestinationOperation"
)
export type DestinationOperation = typeof DestinationOperation.Type

export const DestinationCatalog = open({ operations: Schema.Array(DestinationOperation) }, "DestinationCatalog")
export type DestinationCatalog = typeof DestinationCatalog.Type

// ---------------------------------------------------------------------------------------
// SPEC

export const OAuthConfigSpecification = open(
  {
    oauth_user_input_from_connector_config_specification: optional(JsonObject),
    oauth_connector_input_specification: optional(JsonObject),
    complete_oauth_output_specification: optional(JsonObject),
    complete_oauth_server_input_specification: optional(JsonObject),
    complete_oauth_server_output_specification: optional(JsonObject)
  },
  "OAuthConfigSpecification"
)

export const AdvancedAuth = open(
  {
    auth_flow_type: optional(Schema.Literal("oauth2.0", "oauth1.0")),
    predicate_key: optional(Schema.Array(Schema.String)),
    predicate_value: optional(Schema.String),
    oauth_config_specification: optional(OAuthConfigSpecification)
  },
  "AdvancedAuth"
)

export const ConnectorSpecification = open(
  {
    documentationUrl: optional(Schema.String),
    changelogUrl: optional(Schema.String),
    connectionSpecification: JsonObject,
    supportsIncremental: optional(Schema.Boolean),
    supportsNormalization: optional(Schema.Boolean),
    supportsDBT: optional(Schema.Boolean),
    supported_destination_sync_modes: optional(Schema.Array(DestinationSyncMode)),
    authSpecification: optional(JsonObject),
    advanced_auth: optional(AdvancedAuth),
    protocol_version: optional(Schema.String)
  },
  "ConnectorSpecification"
)
export type ConnectorSpecification = typeof ConnectorSpecification.Type

// ---------------------------------------------------------------------------------------
// The message envelope

const message = <Type extends string, Key extends string, Body extends Schema.Schema.Any>(
  type: Type,
  key: Key,
  body: Body
) =>
  open({ type: Schema.Literal(type), [key]: body } as { type: Schema.Literal<[Type]> } & { [K in Key]: Body }, `${type} message`)

export const RecordMessage = message("RECORD", "record", AirbyteRecord)
export const StateMessage = message("STATE", "state", AirbyteState)
export const LogMessage = message("LOG", "log", AirbyteLog)
export const SpecMessage = message("SPEC", "spec", ConnectorSpecification)
export const ConnectionStatusMessage = message("CONNECTION_STATUS", "connectionStatus", ConnectionStatus)
export const CatalogMessage = message("CATALOG", "catalog", AirbyteCatalog)
export const TraceMessage = message("TRACE", "trace", AirbyteTrace)
export const ControlMessage = message("CONTROL", "control", AirbyteControl)
export const DestinationCatalogMessage = message("DESTINATION_CATALOG", "destination_catalog", DestinationCatalog)

export type RecordMessage = typeof RecordMessage.Type
export type StateMessage = typeof StateMessage.Type
export type LogMessage = typeof LogMessage.Type
export type SpecMessage = typeof SpecMessage.Type
export type ConnectionStatusMessage = typeof ConnectionStatusMessage.Type
export type CatalogMessage = typeof CatalogMessage.Type
export type TraceMessage = typeof TraceMessage.Type
export type ControlMessage = typeof ControlMessage.Type
export type DestinationCatalogMessage = typeof DestinationCatalogMessage.Type

/** Any Airbyte message, told apart by `type`. */
export const AirbyteMessage = Schema.Union(
  RecordMessage,
  StateMessage,
  LogMessage,
  SpecMessage,
  ConnectionStatusMessage,
  CatalogMessage,
  TraceMessage,
  ControlMessage,
  DestinationCatalogMessage
).annotations({ identifier: "AirbyteMessage", parseOptions: preserveUnknownFields })
export type AirbyteMessage = typeof AirbyteMessage.Type

/** Decodes any value into an `AirbyteMessage`, keeping unknown fields. */
export const decodeMessage = Schema.decodeUnknownEither(AirbyteMessage)

/** Decodes a configured catalog (the `--catalog` file of `write`). */
export const decodeConfiguredCatalog = Schema.decodeUnknownEither(ConfiguredAirbyteCatalog)
