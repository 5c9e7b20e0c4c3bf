/**
 * Bytes (a connector's stdin) to a `Stream` of Airbyte messages.
 *
 * Lines are split on raw bytes, so a chunk boundary anywhere — even inside a multi-byte
 * UTF-8 character — is harmless. CRLF, blank lines, a byte order mark before the first line
 * and a last line without a newline are accepted. A RECORD's envelope is checked in place:
 * its `data` object is never copied.
 * A STATE keeps the exact text it came in, so echoing it preserves key order and numbers
 * beyond 2^53; in records, such numbers arrive as their exact digits (a string).
 */
import * as Channel from "effect/Channel"
import * as Chunk from "effect/Chunk"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { isUtf8 } from "node:buffer"
import * as AirbyteMessage from "./AirbyteMessage.js"
import * as LosslessNumbers from "./LosslessNumbers.js"

/** Lines longer than this many bytes are refused unless configured otherwise. */
export const defaultMaxLineBytes = 100 * 1024 * 1024

const excerptChars = 120

/** A line of input that is not a valid Airbyte message. */
export class ProtocolError extends Schema.TaggedError<ProtocolError>()("ProtocolError", {
  reason: Schema.Literal("MalformedJson", "InvalidMessage", "LineTooLong"),
  lineNumber: Schema.Number,
  detail: Schema.String,
  excerpt: Schema.String
}) {
  override get message(): string {
    const excerpt = this.excerpt === "" ? "" : ` near: ${this.excerpt}`
    return `input line ${this.lineNumber}: ${this.detail}${excerpt}`
  }
}

/** One message read from input, with where it was. */
export interface InboundMessage {
  readonly lineNumber: number
  readonly message: AirbyteMessage.AirbyteMessage
  /** The line as received; set for STATE messages only, so they can be echoed unchanged. */
  readonly stateLine: string | undefined
}

export interface ReaderOptions {
  /** Longest accepted line, in bytes (default 100 MiB). */
  readonly maxLineBytes?: number
}

const excerptOf = (line: string): string =>
  line.length <= excerptChars ? line : `${line.slice(0, excerptChars)}…`

const variants: Record<string, (input: unknown) => Either.Either<AirbyteMessage.AirbyteMessage, ParseResult.ParseError>> = {
  RECORD: Schema.decodeUnknownEither(AirbyteMessage.RecordMessage),
  STATE: Schema.decodeUnknownEither(AirbyteMessage.StateMessage),
  LOG: Schema.decodeUnknownEither(AirbyteMessage.LogMessage),
  SPEC: Schema.decodeUnknownEither(AirbyteMessage.SpecMessage),
  CONNECTION_STATUS: Schema.decodeUnknownEither(AirbyteMessage.ConnectionStatusMessage),
  CATALOG: Schema.decodeUnknownEither(AirbyteMessage.CatalogMessage),
  TRACE: Schema.decodeUnknownEither(AirbyteMessage.TraceMessage),
  CONTROL: Schema.decodeUnknownEither(AirbyteMessage.ControlMessage),
  DESTINATION_CATALOG: Schema.decodeUnknownEither(AirbyteMessage.DestinationCatalogMessage)
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/**
 * The common RECORD shape, checked without building anything: stream, data, emitted_at
 * and an optional namespace. Anything else (meta, odd types) goes through the full Schema.
 * A null namespace is set to `undefined` in place (the object is the one just parsed), as
 * the Schema takes it: absent.
 */
const isPlainRecordMessage = (value: Record<string, unknown>): value is AirbyteMessage.RecordMessage => {
  const record = value["record"]
  if (!isObject(record)) return false
  const emittedAt = record["emitted_at"]
  const namespace = record["namespace"]
  const plain =
    typeof record["stream"] === "string" &&
    isObject(record["data"]) &&
    typeof emittedAt === "number" &&
    Number.isInteger(emittedAt) &&
    (namespace === undefined || namespace === null || typeof namespace === "string") &&
    record["meta"] === undefined &&
    record["file_reference"] === undefined
  if (plain && namespace === null) record["namespace"] = undefined
  return plain
}

/** Whether `owner[key]` is absent, null (then removed, as the Schema takes it: absent) or passes `check`. */
const absentOr = (owner: Record<string, unknown>, key: string, check: (value: unknown) => boolean): boolean => {
  const value = owner[key]
  if (value === null) delete owner[key]
  return value === undefined || value === null || check(value)
}

const isString = (value: unknown): value is string => typeof value === "string"

/**
 * The common per-stream STATE shape, checked without the Schema (a source may send one after
 * every record): `{type: "STREAM", stream: {stream_descriptor: {name, namespace?}, stream_state?}}`.
 * Anything else (stats, GLOBAL, LEGACY, odd types) goes through the full Schema.
 */
const isPlainStreamState = (value: Record<string, unknown>): value is AirbyteMessage.StateMessage => {
  const state = value["state"]
  if (!isObject(state) || state["type"] !== "STREAM") return false
  const stream = state["stream"]
  if (!isObject(stream)) return false
  const descriptor = stream["stream_descriptor"]
  return (
    isObject(descriptor) &&
    typeof descriptor["name"] === "string" &&
    state["global"] === undefined &&
    state["data"] === undefined &&
    state["sourceStats"] === undefined &&
    state["destinationStats"] === undefined &&
    absentOr(descriptor, "namespace", isString) &&
    absentOr(stream, "stream_state", isObject)
  )
}

/** A STATE line to keep: a copy, as `line` is a slice of the whole input chunk, which it would keep alive while the state waits. */
const keptLine = (line: string) => Buffer.from(line, "utf8").toString("utf8")

/** The byte order mark some Windows tools put before UTF-8 text. */
const byteOrderMark = 0xfeff

/** Decodes one line of text; `undefined` for a blank line. Line 1 may start with a byte order mark. */
export const decodeLine = (
  text: string,
  lineNumber: number
): Either.Either<InboundMessage | undefined, ProtocolError> => {
  const line = lineNumber === 1 && text.charCodeAt(0) === byteOrderMark ? text.slice(1) : text
  if (line.length === 0 || (line.charCodeAt(0) <= 32 && line.trim() === "")) return Either.right(undefined)
  let parsed: unknown
  try {
    parsed = JSON.parse(LosslessNumbers.preserve(line))
  } catch (cause) {
    const detail = cause instanceof SyntaxError ? cause.message : "not valid JSON"
    return Either.left(
      new ProtocolError({ reason: "MalformedJson", lineNumber, detail: `malformed JSON (${detail})`, excerpt: excerptOf(line) })
    )
  }
  if (!isObject(parsed)) {
    return Either.left(
      new ProtocolError({ reason: "InvalidMessage", lineNumber, detail: "a message must be a JSON object", excerpt: excerptOf(line) })
    )
  }
  const type = parsed["type"]
  if (type === "RECORD" && isPlainRecordMessage(parsed)) {
    return Either.right({ lineNumber, message: parsed, stateLine: undefined })
  }
  if (type === "STATE" && isPlainStreamState(parsed)) {
    return Either.right({ lineNumber, message: parsed, stateLine: keptLine(line) })
  }
  const decode = typeof type === "string" ? variants[type] : undefined
  if (decode === undefined) {
    const detail = type === undefined ? "message has no `type`" : `unknown message type ${JSON.stringify(type)}`
    return Either.left(new ProtocolError({ reason: "InvalidMessage", lineNumber, detail, excerpt: excerptOf(line) }))
  }
  return Either.match(decode(parsed), {
    onLeft: (error) =>
      Either.left(
        new ProtocolError({
          reason: "InvalidMessage",
          lineNumber,
          detail: `invalid ${String(type)} message: ${ParseResult.TreeFormatter.formatErrorSync(error)}`,
          excerpt: excerptOf(line)
        })
      ),
    onRight: (message) => Either.right({ lineNumber, message, stateLine: type === "STATE" ? keptLine(line) : undefined })
  })
}

/**
 * Splits bytes into lines and decodes each; keeps the partial line between chunks.
 * Each chunk is turned into text once, up to its last newline byte: a newline byte never
 * occurs inside a multi-byte UTF-8 sequence, so that text is always whole.
 */
class LineDecoder {
  private pending: Array<Buffer> = []
  private pendingBytes = 0
  private lineNumber = 0

  constructor(private readonly maxLineBytes: number) {}

  /** Decodes every complete line in `bytes` into `out`; the first bad line stops it. */
  push(bytes: Uint8Array, out: Array<InboundMessage>): ProtocolError | undefined {
    const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    const lastNewline = buffer.lastIndexOf(10)
    if (lastNewline === -1) return this.keep(buffer)
    const lines = this.pendingBytes === 0 ? buffer.subarray(0, lastNewline) : Buffer.concat([...this.pending, buffer.subarray(0, lastNewline)])
    this.pending = []
    this.pendingBytes = 0
    const error = this.decodeBytes(lines, out)
    return error ?? this.keep(buffer.subarray(lastNewline + 1))
  }

  /** Decodes the last line, if the input did not end with a newline. */
  end(out: Array<InboundMessage>): ProtocolError | undefined {
    if (this.pendingBytes === 0) return undefined
    const lines = Buffer.concat(this.pending)
    this.pending = []
    this.pendingBytes = 0
    return this.decodeBytes(lines, out)
  }

  /**
   * Decodes newline-separated lines of UTF-8. Bytes that are not UTF-8 would be turned into
   * U+FFFD and loaded as such: only when the text holds one are the bytes checked, and the lines
   * before the first bad one still go out.
   */
  private decodeBytes(lines: Buffer, out: Array<InboundMessage>): ProtocolError | undefined {
    const text = lines.toString("utf8")
    return this.decodeText(text, out, text.includes("\uFFFD") ? firstInvalidLine(lines) : -1)
  }

  private keep(rest: Buffer): ProtocolError | undefined {
    if (rest.length === 0) return undefined
    if (this.pendingBytes + rest.length > this.maxLineBytes) return this.tooLong(this.lineNumber + 1)
    this.pending.push(rest)
    this.pendingBytes += rest.length
    return undefined
  }

  /** Decodes newline-separated lines, up to line `invalidLine` (0-based; -1: none) which is not UTF-8. */
  private decodeText(text: string, out: Array<InboundMessage>, invalidLine: number): ProtocolError | undefined {
    let start = 0
    for (let index = 0; ; index++) {
      const newline = text.indexOf("\n", start)
      const end = newline === -1 ? text.length : newline
      this.lineNumber++
      if (index === invalidLine) {
        return new ProtocolError({ reason: "MalformedJson", lineNumber: this.lineNumber, detail: "the line is not valid UTF-8", excerpt: "" })
      }
      const lineEnd = end > start && text.charCodeAt(end - 1) === 13 ? end - 1 : end
      const line = text.slice(start, lineEnd)
      if (this.isTooLong(line)) return this.tooLong(this.lineNumber)
      const decoded = decodeLine(line, this.lineNumber)
      if (Either.isLeft(decoded)) return decoded.left
      if (decoded.right !== undefined) out.push(decoded.right)
      if (newline === -1) return undefined
      start = newline + 1
    }
  }

  /** A UTF-16 length never exceeds the UTF-8 byte length, which is at most three times it. */
  private isTooLong(line: string): boolean {
    if (line.length > this.maxLineBytes) return true
    return line.length * 3 > this.maxLineBytes && Buffer.byteLength(line, "utf8") > this.maxLineBytes
  }

  private tooLong(lineNumber: number): ProtocolError {
    return new ProtocolError({
      reason: "LineTooLong",
      lineNumber,
      detail: `line longer than the ${this.maxLineBytes} byte limit`,
      excerpt: ""
    })
  }
}

/** The 0-based index of the first newline-separated line of `bytes` that is not valid UTF-8, or -1. */
const firstInvalidLine = (bytes: Buffer): number => {
  let start = 0
  for (let line = 0; start <= bytes.length; line++) {
    const newline = bytes.indexOf(10, start)
    const end = newline === -1 ? bytes.length : newline
    if (!isUtf8(bytes.subarray(start, end))) return line
    if (newline === -1) return -1
    start = newline + 1
  }
  return -1
}

type DecodeChannel<E> = Channel.Channel<Chunk.Chunk<InboundMessage>, Chunk.Chunk<Uint8Array>, E | ProtocolError, E, void, unknown>

/**
 * Decodes one input buffer at a time and hands its messages on before decoding the next,
 * so however the upstream groups its buffers, decoded records are never piled up.
 */
const decodeChannel = <E>(maxLineBytes: number): DecodeChannel<E> =>
  Channel.suspend(() => {
    const decoder = new LineDecoder(maxLineBytes)
    const emit = (out: Array<InboundMessage>, next: DecodeChannel<E>): DecodeChannel<E> =>
      out.length === 0 ? next : Channel.zipRight(Channel.write(Chunk.unsafeFromArray(out)), next)
    const decodeFrom = (input: Chunk.Chunk<Uint8Array>, index: number): DecodeChannel<E> => {
      if (index >= input.length) return loop
      const out: Array<InboundMessage> = []
      const error = decoder.push(Chunk.unsafeGet(input, index), out)
      return emit(out, error === undefined ? Channel.suspend(() => decodeFrom(input, index + 1)) : Channel.fail(error))
    }
    const loop: DecodeChannel<E> = Channel.readWithCause({
      onInput: (input: Chunk.Chunk<Uint8Array>) => decodeFrom(input, 0),
      onFailure: Channel.failCause,
      onDone: () => {
        const out: Array<InboundMessage> = []
        const error = decoder.end(out)
        return emit(out, error === undefined ? Channel.void : Channel.fail(error))
      }
    })
    return loop
  })

/**
 * Decodes a byte stream of newline-delimited Airbyte messages. Messages before a bad
 * line are emitted before the stream fails with a `ProtocolError` naming that line.
 */
export const decodeMessages =
  (options: ReaderOptions = {}) =>
  <E, R>(bytes: Stream.Stream<Uint8Array, E, R>): Stream.Stream<InboundMessage, E | ProtocolError, R> =>
    Stream.pipeThroughChannelOrFail(bytes, decodeChannel<E>(options.maxLineBytes ?? defaultMaxLineBytes))
