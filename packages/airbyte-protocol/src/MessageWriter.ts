/**
 * Airbyte messages out: one JSON line each, written through a `Sink` that waits for the
 * output to drain (back-pressure) and writes whole lines only, so two producers never
 * interleave partial lines. Builders make the messages a destination emits.
 */
import * as Clock from "effect/Clock"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Sink from "effect/Sink"
import type * as AirbyteMessage from "./AirbyteMessage.js"

/** The output failed (closed pipe, disk full…). */
export class OutputError extends Data.TaggedError("OutputError")<{ readonly cause: unknown }> {
  override get message(): string {
    return `could not write to output: ${this.cause instanceof Error ? this.cause.message : String(this.cause)}`
  }
}

/** A line already encoded, such as a STATE echoed from its original text. */
export interface EncodedLine {
  readonly _tag: "EncodedLine"
  readonly line: string
}

export const encodedLine = (line: string): EncodedLine => ({ _tag: "EncodedLine", line })

export type Outbound = AirbyteMessage.AirbyteMessage | EncodedLine

/** The JSON line of a message, without its newline. */
export const encode = (outbound: Outbound): string =>
  "_tag" in outbound && outbound._tag === "EncodedLine" ? outbound.line : JSON.stringify(outbound)

/** What the writer needs of an output: `process.stdout`, a file or socket stream. */
export interface Output {
  write(text: string, callback: (error?: Error | null) => void): boolean
}

const writeText = (output: Output, text: string): Effect.Effect<void, OutputError> =>
  Effect.async<void, OutputError>((resume) => {
    output.write(text, (error) => resume(error ? Effect.fail(new OutputError({ cause: error })) : Effect.void))
  })

/**
 * A sink writing each message as one line. Each chunk goes out in a single write, and the
 * sink waits for the write to be flushed before taking the next chunk.
 */
export const sink = (output: Output): Sink.Sink<void, Outbound, never, OutputError> =>
  Sink.forEachChunk((chunk: Iterable<Outbound>) => {
    let text = ""
    for (const outbound of chunk) text += `${encode(outbound)}\n`
    return text === "" ? Effect.void : writeText(output, text)
  })

// ---------------------------------------------------------------------------------------
// Builders

export const log = (level: AirbyteMessage.LogLevel, message: string): AirbyteMessage.LogMessage => ({
  type: "LOG",
  log: { level, message }
})

export const connectionStatus = (
  status: AirbyteMessage.ConnectionStatus["status"],
  message?: string
): AirbyteMessage.ConnectionStatusMessage => ({
  type: "CONNECTION_STATUS",
  connectionStatus: message === undefined ? { status } : { status, message }
})

export const spec = (specification: AirbyteMessage.ConnectorSpecification): AirbyteMessage.SpecMessage => ({
  type: "SPEC",
  spec: specification
})

export const destinationCatalog = (
  operations: ReadonlyArray<AirbyteMessage.DestinationOperation>
): AirbyteMessage.DestinationCatalogMessage => ({
  type: "DESTINATION_CATALOG",
  destination_catalog: { operations }
})

export interface TraceErrorOptions {
  readonly message: string
  readonly failureType: AirbyteMessage.FailureType
  readonly internalMessage?: string
  readonly stackTrace?: string
  readonly stream?: AirbyteMessage.StreamDescriptor
}

/** A TRACE ERROR: what a connector emits before exiting non-zero. */
export const traceError = (options: TraceErrorOptions): Effect.Effect<AirbyteMessage.TraceMessage> =>
  Effect.map(Clock.currentTimeMillis, (emittedAt) => ({
    type: "TRACE",
    trace: {
      type: "ERROR",
      emitted_at: emittedAt,
      error: {
        message: options.message,
        failure_type: options.failureType,
        ...(options.internalMessage === undefined ? {} : { internal_message: options.internalMessage }),
        ...(options.stackTrace === undefined ? {} : { stack_trace: options.stackTrace }),
        ...(options.stream === undefined ? {} : { stream_descriptor: options.stream })
      }
    }
  }))

/** A TRACE STREAM_STATUS for one stream. */
export const streamStatus = (
  stream: AirbyteMessage.StreamDescriptor,
  status: AirbyteMessage.StreamStatus
): Effect.Effect<AirbyteMessage.TraceMessage> =>
  Effect.map(Clock.currentTimeMillis, (emittedAt) => ({
    type: "TRACE",
    trace: { type: "STREAM_STATUS", emitted_at: emittedAt, stream_status: { stream_descriptor: stream, status } }
  }))

/** A CONTROL CONNECTOR_CONFIG: the whole updated config for the platform to persist. */
export const controlConnectorConfig = (
  config: AirbyteMessage.JsonObject
): Effect.Effect<AirbyteMessage.ControlMessage> =>
  Effect.map(Clock.currentTimeMillis, (emittedAt) => ({
    type: "CONTROL",
    control: { type: "CONNECTOR_CONFIG", emitted_at: emittedAt, connectorConfig: { config } }
  }))
