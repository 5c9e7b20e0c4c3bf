/**
 * The S3 adapter of `ObjectStore` (AWS SDK v3): static keys or the default credential chain,
 * an optional role to assume, custom endpoints and path-style addressing for MinIO, R2 or
 * s3rver. Every call has a timeout and transient failures are retried with a bounded
 * exponential schedule; the SDK's own retries are off so that this schedule is the only one.
 */
import type { S3Client, S3ClientConfig } from "@aws-sdk/client-s3"
import { createHash } from "node:crypto"
import * as Chunk from "effect/Chunk"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type { ObjectStore, ObjectUpload } from "./ObjectStore.js"
import { RejectSinkError } from "./RejectSinkError.js"
import type * as S3Sdk from "./S3Sdk.js"

/** S3 refuses smaller parts (except the last one). */
export const minPartBytes = 5 * 1024 * 1024

/** Static keys; secrets stay `Redacted`. */
export interface StaticCredentials {
  readonly accessKeyId: Redacted.Redacted<string>
  readonly secretAccessKey: Redacted.Redacted<string>
  readonly sessionToken?: Redacted.Redacted<string>
}

/** Retry of transient failures: exponential from `baseDelayMillis`, at most `maxRetries`. */
export interface RetryOptions {
  /** Default 200 ms. */
  readonly baseDelayMillis?: number
  /** Default 8 (about half a minute with the 10 s cap per delay). */
  readonly maxRetries?: number
  /** Cap of one delay; default 10 s. */
  readonly maxDelayMillis?: number
}

/** Where and how to reach a bucket. */
export interface S3Connection {
  readonly bucket: string
  readonly region: string
  /** e.g. `http://127.0.0.1:9000` for MinIO; R2's account endpoint. */
  readonly endpoint?: string
  /** Path-style addressing (`endpoint/bucket/key`), needed by MinIO and s3rver. */
  readonly forcePathStyle?: boolean
  /** Default: the SDK's default credential chain (env, profile, SSO, instance role…). */
  readonly credentials?: StaticCredentials | "default-chain"
  /** A role assumed (STS) with the credentials above. */
  readonly roleArn?: string
  /** Timeout of one request attempt; default 30 s. */
  readonly requestTimeoutMillis?: number
  readonly retry?: RetryOptions
}

const defaultRequestTimeoutMillis = 30_000
const defaultRetryBaseDelayMillis = 200
const defaultMaxRetries = 8
const defaultMaxRetryDelayMillis = 10_000

const SdkError = Schema.Struct({
  name: Schema.optional(Schema.String),
  code: Schema.optional(Schema.String),
  $retryable: Schema.optional(Schema.Unknown),
  $metadata: Schema.optional(Schema.Struct({ httpStatusCode: Schema.optional(Schema.Number) }))
})
const decodeSdkError = Schema.decodeUnknownOption(SdkError)

const transientNames = new Set([
  "SlowDown",
  "RequestTimeout",
  "RequestTimeoutException",
  "InternalError",
  "ServiceUnavailable",
  "Throttling",
  "ThrottlingException",
  "TooManyRequestsException",
  "TimeoutError",
  "NetworkingError"
])
const accessDeniedNames = new Set([
  "AccessDenied",
  "InvalidAccessKeyId",
  "SignatureDoesNotMatch",
  "ExpiredToken",
  "InvalidToken",
  "CredentialsProviderError",
  "AllAccessDisabled"
])

/** Classifies an SDK or network failure; the message names the operation, never a secret. */
export const classify =
  (operation: string, key: string | undefined) =>
  (cause: unknown): RejectSinkError => {
    const details = Option.getOrElse(decodeSdkError(cause), () => ({
      name: undefined,
      code: undefined,
      $retryable: undefined,
      $metadata: undefined
    }))
    const status = details.$metadata?.httpStatusCode
    const name = details.name ?? "Error"
    const what = `S3 ${operation} failed: ${details.code ?? name}${status === undefined ? "" : ` (HTTP ${status})`}`
    const make = (reason: RejectSinkError["reason"]) =>
      new RejectSinkError({ reason, message: what, cause, ...(key === undefined ? {} : { key }) })
    if (name === "NoSuchBucket") return make("BucketNotFound")
    // a store that does not implement a request (a conditional write) never will: not retried
    if (status === 501) return make("Rejected")
    if (accessDeniedNames.has(name) || status === 401 || status === 403) return make("AccessDenied")
    if (
      transientNames.has(name) ||
      details.$retryable !== undefined ||
      status === undefined ||
      status === 429 ||
      status >= 500
    ) {
      return make("Unavailable")
    }
    return make("Rejected")
  }

/** The SDK, loaded on first use (see `S3Sdk`). */
const loadSdk: Effect.Effect<typeof S3Sdk, RejectSinkError> = Effect.tryPromise({
  try: () => import("./S3Sdk.js"),
  catch: (cause) =>
    new RejectSinkError({ reason: "Config", message: `cannot load the AWS SDK: ${cause instanceof Error ? cause.message : String(cause)}`, cause })
})

/** The client's settings: credentials (static, assumed role or the default chain) and our retry policy. */
const clientConfig = (sdk: typeof S3Sdk, connection: S3Connection): S3ClientConfig => {
  const staticCredentials =
    connection.credentials === undefined || connection.credentials === "default-chain"
      ? undefined
      : {
          accessKeyId: Redacted.value(connection.credentials.accessKeyId),
          secretAccessKey: Redacted.value(connection.credentials.secretAccessKey),
          ...(connection.credentials.sessionToken === undefined ? {} : { sessionToken: Redacted.value(connection.credentials.sessionToken) })
        }
  const credentials =
    connection.roleArn === undefined
      ? staticCredentials
      : sdk.fromTemporaryCredentials({
          params: { RoleArn: connection.roleArn, RoleSessionName: "sfdc-activation-rejects" },
          ...(staticCredentials === undefined ? {} : { masterCredentials: staticCredentials }),
          clientConfig: { region: connection.region }
        })
  return {
    region: connection.region,
    ...(connection.endpoint === undefined ? {} : { endpoint: connection.endpoint }),
    forcePathStyle: connection.forcePathStyle ?? false,
    ...(credentials === undefined ? {} : { credentials }),
    // Retries are ours (bounded, observable, testable); checksums only where S3 requires
    // them, which S3-compatible stores (MinIO, R2, s3rver) handle best.
    maxAttempts: 1,
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED"
  }
}

/** The client, destroyed (sockets closed) with the scope. */
const makeClient = (sdk: typeof S3Sdk, connection: S3Connection): Effect.Effect<S3Client, RejectSinkError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.try({
      // the SDK throws on a configuration it cannot use (an empty region, a malformed endpoint)
      catch: (cause) =>
        new RejectSinkError({ reason: "Config", message: `cannot set up the S3 client: ${cause instanceof Error ? cause.message : String(cause)}`, cause }),
      try: () => new sdk.S3Client(clientConfig(sdk, connection))
    }),
    (client) => Effect.sync(() => client.destroy())
  )

/** Runs one S3 call with a per-attempt timeout and retries of transient failures. */
export const makeCall = (connection: S3Connection) => {
  const timeout = Duration.millis(connection.requestTimeoutMillis ?? defaultRequestTimeoutMillis)
  const schedule = Schedule.exponential(
    Duration.millis(connection.retry?.baseDelayMillis ?? defaultRetryBaseDelayMillis)
  ).pipe(
    Schedule.modifyDelay((delay) =>
      Duration.min(delay, Duration.millis(connection.retry?.maxDelayMillis ?? defaultMaxRetryDelayMillis))
    ),
    Schedule.intersect(Schedule.recurs(connection.retry?.maxRetries ?? defaultMaxRetries))
  )
  return <A>(
    operation: string,
    key: string | undefined,
    run: (signal: AbortSignal) => Promise<A>
  ): Effect.Effect<A, RejectSinkError> =>
    Effect.tryPromise({ try: run, catch: classify(operation, key) }).pipe(
      Effect.timeoutFail({
        duration: timeout,
        onTimeout: () =>
          new RejectSinkError({
            reason: "Unavailable",
            message: `S3 ${operation} timed out after ${Duration.format(timeout)}`,
            ...(key === undefined ? {} : { key })
          })
      }),
      Effect.tapError((error) =>
        Effect.logDebug("S3 call failed").pipe(
          Effect.annotateLogs({ operation, reason: error.reason, error: error.message })
        )
      ),
      Effect.retry({ schedule, while: (error) => error.isTransient })
    )
}

const contentType = (key: string) =>
  key.endsWith(".gz") ? "application/gzip" : key.endsWith(".csv") ? "text/csv" : "application/x-ndjson"

/** S3's ETag of an object stored whole: the MD5 of its bytes (without SSE-KMS, which the sink does not set). */
const singlePartETag = (bytes: Uint8Array): string => `"${createHash("md5").update(bytes).digest("hex")}"`

/** S3's ETag of a multipart object: the MD5 of its parts' MD5s, and the number of parts (some stores use the MD5 of the whole). */
const multipartETag = (parts: ReadonlyArray<{ readonly ETag: string }>): string => {
  const md5s = Buffer.concat(parts.map((part) => Buffer.from(part.ETag.replaceAll('"', ""), "hex")))
  return `"${createHash("md5").update(md5s).digest("hex")}-${parts.length}"`
}

const missingField = (operation: string, key: string, field: string) =>
  new RejectSinkError({ reason: "Rejected", message: `S3 ${operation} returned no ${field}`, key })

/** An `ObjectStore` over one bucket. */
export const make = (connection: S3Connection): Effect.Effect<ObjectStore, RejectSinkError, Scope.Scope> =>
  Effect.gen(function* () {
    const sdk = yield* loadSdk
    const client = yield* makeClient(sdk, connection)
    const call = makeCall(connection)
    const Bucket = connection.bucket

    /**
     * Whether writes carry `If-None-Match: *`. A store that does not implement conditional writes
     * (501) gets plain ones from then on, the keys having been checked free before use.
     */
    let conditionalWrites = true
    /** Runs a write with `If-None-Match: *`, unless it replaces (a replay mark) or the store cannot take it. */
    const writeNew = <A>(
      replace: boolean,
      write: (condition: { readonly IfNoneMatch?: string }) => Effect.Effect<A, RejectSinkError>
    ): Effect.Effect<A, RejectSinkError> =>
      replace || !conditionalWrites
        ? write({})
        : write({ IfNoneMatch: "*" }).pipe(
            Effect.catchIf(
              (error) => Option.exists(decodeSdkError(error.cause), (details) => details.$metadata?.httpStatusCode === 501),
              () =>
                Effect.zipRight(
                  Effect.logWarning("The S3 store does not implement conditional writes (If-None-Match); rejects are written without them"),
                  Effect.suspend(() => {
                    conditionalWrites = false
                    return write({})
                  })
                )
            )
          )

    const begin = (Key: string, options?: { readonly replace?: boolean }): ObjectUpload => {
      const replace = options?.replace === true
      let uploadId: string | undefined
      const parts: Array<{ readonly PartNumber: number; readonly ETag: string }> = []
      /** Bytes of the parts uploaded so far, and their MD5 (some stores' ETag of a multipart object). */
      let partBytes = 0
      const wholeDigest = createHash("md5")

      const started = Effect.suspend(() =>
        uploadId !== undefined
          ? Effect.succeed(uploadId)
          : call("CreateMultipartUpload", Key, (abortSignal) =>
              client.send(new sdk.CreateMultipartUploadCommand({ Bucket, Key, ContentType: contentType(Key) }), {
                abortSignal
              })
            ).pipe(
              Effect.flatMap((output) =>
                output.UploadId === undefined
                  ? Effect.fail(missingField("CreateMultipartUpload", Key, "UploadId"))
                  : Effect.succeed(output.UploadId)
              ),
              Effect.tap((id) => {
                uploadId = id
              })
            )
      )

      const uploadPart = (bytes: Uint8Array) =>
        Effect.gen(function* () {
          const UploadId = yield* started
          const PartNumber = parts.length + 1
          const output = yield* call("UploadPart", Key, (abortSignal) =>
            client.send(new sdk.UploadPartCommand({ Bucket, Key, UploadId, PartNumber, Body: bytes }), { abortSignal })
          )
          if (output.ETag === undefined) return yield* Effect.fail(missingField("UploadPart", Key, "ETag"))
          parts.push({ PartNumber, ETag: output.ETag })
          partBytes += bytes.byteLength
          wholeDigest.update(bytes)
        })

      /**
       * Objects are written only where no object is (`If-None-Match: *`), so another run's is
       * never overwritten. A write whose answer was lost is retried, and the retry is refused
       * (the upload is gone, or the object is now there): the object is there all the same when
       * the key holds every byte written (keys are unique to one object of one sink). A small
       * object's store that stayed unavailable is not asked.
       */
      const storedWhole = (bytes: number, etags: ReadonlyArray<string>) => (refusal: RejectSinkError) =>
        call("HeadObject", Key, (abortSignal) => client.send(new sdk.HeadObjectCommand({ Bucket, Key }), { abortSignal })).pipe(
          // another run's object of the same size is not ours: its ETag (the MD5s of what was sent) tells
          Effect.flatMap((head) => (head.ContentLength === bytes && (head.ETag === undefined || etags.includes(head.ETag)) ? Effect.void : Effect.fail(refusal))),
          Effect.catchAll(() => Effect.fail(refusal))
        )

      const complete = (lastBytes: Uint8Array) =>
        Effect.gen(function* () {
          if (uploadId === undefined) {
            yield* writeNew(replace, (condition) =>
              call("PutObject", Key, (abortSignal) =>
                client.send(new sdk.PutObjectCommand({ Bucket, Key, Body: lastBytes, ContentType: contentType(Key), ...condition }), {
                  abortSignal
                })
              )
            ).pipe(Effect.catchIf((error) => !error.isTransient, storedWhole(lastBytes.byteLength, [singlePartETag(lastBytes)])))
            return
          }
          if (lastBytes.byteLength > 0) yield* uploadPart(lastBytes)
          const UploadId = uploadId
          yield* writeNew(replace, (condition) =>
            call("CompleteMultipartUpload", Key, (abortSignal) =>
              client.send(
                new sdk.CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: parts }, ...condition }),
                { abortSignal }
              )
            )
          ).pipe(Effect.catchAll(storedWhole(partBytes, [multipartETag(parts), `"${wholeDigest.copy().digest("hex")}"`])))
          uploadId = undefined
        })

      const abort = Effect.suspend(() => {
        const UploadId = uploadId
        if (UploadId === undefined) return Effect.void
        uploadId = undefined
        return call("AbortMultipartUpload", Key, (abortSignal) =>
          client.send(new sdk.AbortMultipartUploadCommand({ Bucket, Key, UploadId }), { abortSignal })
        ).pipe(
          Effect.catchAll((error) =>
            Effect.logWarning("Could not abort a multipart upload; a bucket lifecycle rule should clean it").pipe(
              Effect.annotateLogs({ key: Key, reason: error.reason, error: error.message })
            )
          )
        )
      })

      return { key: Key, uploadPart, complete, abort }
    }

    const list = (Prefix: string) =>
      Stream.paginateChunkEffect<string | undefined, string, RejectSinkError, never>(undefined, (ContinuationToken) =>
        call("ListObjectsV2", Prefix, (abortSignal) =>
          client.send(
            new sdk.ListObjectsV2Command({
              Bucket,
              Prefix,
              ...(ContinuationToken === undefined ? {} : { ContinuationToken })
            }),
            { abortSignal }
          )
        ).pipe(
          Effect.map((output) => {
            const keys = (output.Contents ?? []).flatMap((entry) => (entry.Key === undefined ? [] : [entry.Key]))
            const next = output.IsTruncated === true ? Option.fromNullable(output.NextContinuationToken) : Option.none()
            return [Chunk.fromIterable(keys), next] as const
          })
        )
      )

    const read = (Key: string) =>
      Stream.unwrap(
        call("GetObject", Key, (abortSignal) => client.send(new sdk.GetObjectCommand({ Bucket, Key }), { abortSignal })).pipe(
          Effect.flatMap((output) =>
            output.Body === undefined
              ? Effect.fail(missingField("GetObject", Key, "Body"))
              : Effect.succeed(output.Body)
          ),
          Effect.map((body) =>
            Stream.fromReadableStream({
              evaluate: () => body.transformToWebStream(),
              onError: (cause) =>
                new RejectSinkError({ reason: "Unavailable", message: "S3 GetObject body failed", key: Key, cause })
            })
          )
        )
      )

    const remove = (Key: string) =>
      call("DeleteObject", Key, (abortSignal) => client.send(new sdk.DeleteObjectCommand({ Bucket, Key }), { abortSignal }))

    // one attempt, not the retry budget: a store that cannot answer is not known to hold the key,
    // and the write that follows (conditional) meets the outage with its own retries
    const exists = (Key: string) =>
      Effect.tryPromise((abortSignal) => client.send(new sdk.HeadObjectCommand({ Bucket, Key }), { abortSignal })).pipe(
        Effect.timeout(Duration.millis(connection.requestTimeoutMillis ?? defaultRequestTimeoutMillis)),
        Effect.as(true),
        Effect.orElseSucceed(() => false)
      )

    return { minPartBytes, exists, begin, list, read, remove }
  })
