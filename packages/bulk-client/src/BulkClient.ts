/**
 * The Salesforce Bulk API 2.0 ingest client, with describe and limits.
 *
 * Every call goes through the authenticated session (one shared token refresh on expiry),
 * is metered, and fails with a typed `BulkApiError`. Idempotent calls are retried on
 * network errors, 5xx and 429 with jittered exponential backoff; an upload is never
 * retried on the same job (Salesforce accepts one upload per job): a failed upload
 * aborts its job and the caller starts a new one. Polling never aborts or deletes a job.
 *
 * A call whose answer was lost may have happened: a retried close or abort that finds the
 * job already in that state, or a retried delete that finds it gone, succeeds.
 */
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import type { AuthError } from "@sfdc-activation/auth"
import { SalesforceSession } from "@sfdc-activation/auth"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as ApiUsage from "./ApiUsage.js"
import { BulkApiError, type CallKind } from "./BulkApiError.js"
import * as IngestJob from "./IngestJob.js"
import * as OrgMetadata from "./OrgMetadata.js"
import * as PipedUpload from "./PipedUpload.js"
import * as PollCadence from "./PollCadence.js"
import { CsvReader } from "@sfdc-activation/csv"
import * as ResultRows from "./ResultRows.js"

export const defaultApiVersion = "62.0"

export interface PollOptions {
  /**
   * A fixed cadence between polls. Without one, polls back off from 250 ms (×1.5, at most 30 s
   * apart) and, once the job reports progress, aim at its projected end (`PollCadence`). A
   * schedule that ends before the job does fails the wait with `PollTimeout`.
   */
  readonly schedule?: Schedule.Schedule<unknown, unknown> | undefined
  /**
   * Give up waiting after this long (default 24 hours, on a monotonic clock). No wait runs past
   * it: the last poll comes at the deadline, and a job still running then fails the wait with
   * `PollTimeout`. The job is left running.
   */
  readonly timeout?: Duration.DurationInput | undefined
}

/**
 * A job's CSV: a stream of bytes, or a Node stream opened for each sending and piped to the
 * socket (`PipedUpload`: flat memory for a 100 MB batch file).
 */
export type UploadBody = Stream.Stream<Uint8Array, unknown> | PipedUpload.NodeStreamBody

export interface AwaitOptions extends PollOptions {
  /** The rows uploaded to the job, which the progress cadence projects its end from; a count that is not a finite number is ignored. */
  readonly expectedRecords?: number | undefined
  /**
   * The job as the caller last saw it (the close's answer). A finished one is returned as is;
   * otherwise it stands for the first poll, on a schedule too (where it takes the schedule's
   * first step): the next poll comes after the first wait; with no time left, exactly one poll
   * follows it.
   */
  readonly seen?: IngestJob.JobInfo | undefined
}

export interface BulkClientConfig {
  /** Default `62.0`. */
  readonly apiVersion?: string | undefined
  /** Retries of idempotent calls on transient errors (default: `defaultRetry`). */
  readonly retry?: Schedule.Schedule<unknown, unknown> | undefined
  readonly poll?: PollOptions | undefined
}

/** Exponential from 500 ms with jitter, at most six retries. */
export const defaultRetry: Schedule.Schedule<unknown, unknown> = Schedule.exponential(Duration.millis(500)).pipe(
  Schedule.jittered,
  Schedule.intersect(Schedule.recurs(6))
)

export const defaultPollTimeout = Duration.hours(24)

/**
 * How long the last poll, sent at the caller's deadline, may take to be answered: longer than a
 * poll's default retries (`defaultRetry`: about 32 s of backoff).
 */
const lastPollAllowance = Duration.minutes(2)

/** The pause before polling again a job whose last poll went unanswered through every retry. */
export const unansweredPollPause = Duration.seconds(30)

/** The pause before polling again a job whose last poll Salesforce refused for the org's daily API limit. */
export const rateLimitedPollPause = Duration.minutes(5)

type CallError = BulkApiError | AuthError.AuthError

/**
 * How long to wait before asking again about a job after a call that failed this way, or
 * `undefined` when Salesforce refused it for good: unanswered through its retries (5xx, network,
 * 429, the token endpoint down) or refused for the org's daily API limit, the job runs on.
 */
export const unansweredPause = (error: CallError): Duration.Duration | undefined =>
  error.isTransient ? unansweredPollPause : error._tag === "BulkApiError" && error.reason === "RateLimited" ? rateLimitedPollPause : undefined

/** When waiting for a job ends, on the monotonic clock, and the timeout that set it. */
interface PollDeadline {
  readonly atMillis: number
  readonly timeout: Duration.Duration
}

/** The time left before the deadline, none once it has passed. */
const millisLeft = (deadline: PollDeadline, nowMillis: number) => Math.max(0, deadline.atMillis - nowMillis)

/** Milliseconds on a monotonic clock: a wall clock set back or forward moves no deadline and no cadence. */
const monotonicMillis = Effect.map(Clock.currentTimeNanos, (nanos) => Number(nanos) / 1_000_000)

const pollTimeout = (jobId: string, why: string) =>
  new BulkApiError({
    reason: "PollTimeout",
    call: "info",
    jobId,
    detail: `${why}; it was left as is and may still complete: look it up in Setup → Bulk Data Load Jobs before a rerun sends its rows again`
  })

export interface BulkClientService {
  readonly apiVersion: string
  readonly createJob: (job: IngestJob.CreateJob) => Effect.Effect<IngestJob.JobInfo, CallError>
  /** Uploads a job's CSV once; `contentLength` is the body's exact byte count. */
  readonly upload: (jobId: string, body: UploadBody, contentLength: number) => Effect.Effect<void, CallError>
  readonly closeJob: (jobId: string) => Effect.Effect<IngestJob.JobInfo, CallError>
  readonly abortJob: (jobId: string) => Effect.Effect<IngestJob.JobInfo, CallError>
  readonly jobInfo: (jobId: string) => Effect.Effect<IngestJob.JobInfo, CallError>
  readonly deleteJob: (jobId: string) => Effect.Effect<void, CallError>
  /** Every ingest job of the org, page by page. */
  readonly listJobs: Stream.Stream<IngestJob.JobInfo, CallError>
  /**
   * Polls until JobComplete, Failed or Aborted; the timeout, or a caller's schedule that ends
   * first, fails with `PollTimeout` and leaves the job alone. `expectedRecords` (the rows
   * uploaded) lets polling follow the job's progress.
   */
  readonly awaitJob: (jobId: string, options?: AwaitOptions) => Effect.Effect<IngestJob.JobInfo, CallError>
  /** A result set as parsed rows (column → value), streamed: never the whole body in memory. */
  readonly results: (jobId: string, set: IngestJob.ResultSet) => Stream.Stream<ResultRows.ResultRow, CallError>
  /**
   * The rows of a result set whose `column` holds `value` (`sf__Created` = `true`), counted as
   * the body streams, without building rows; a download that breaks off is counted again.
   */
  readonly countResults: (jobId: string, set: IngestJob.ResultSet, column: string, value: string) => Effect.Effect<number, CallError>
  readonly describeGlobal: Effect.Effect<OrgMetadata.GlobalDescribe, CallError>
  /** Cached for the life of the client; `revalidate` asks again with `If-Modified-Since`. */
  readonly describeSObject: (name: string, options?: { readonly revalidate?: boolean }) => Effect.Effect<OrgMetadata.SObjectDescribe, CallError>
  readonly limits: Effect.Effect<OrgMetadata.Limits, CallError>
  /** What this client has cost so far. */
  readonly usage: Effect.Effect<ApiUsage.ApiUsage>
}

export class BulkClient extends Context.Tag("@sfdc-activation/bulk-client/BulkClient")<BulkClient, BulkClientService>() {}

const ApiErrorBody = Schema.Array(
  Schema.Struct({ errorCode: Schema.optional(Schema.String), message: Schema.optional(Schema.String) })
)
const decodeApiErrorBody = Schema.decodeUnknownEither(ApiErrorBody)

const reasonFor = (status: number, errorCode: string | undefined): BulkApiError["reason"] => {
  if (errorCode === "REQUEST_LIMIT_EXCEEDED") return "RateLimited"
  if (errorCode === "INVALIDJOBSTATE") return "InvalidJobState"
  if (errorCode === "FEATURENOTENABLED") return "FeatureNotEnabled"
  if (errorCode === "NOT_FOUND" || status === 404) return "NotFound"
  if (status === 429) return "Throttled"
  if (status >= 500 || errorCode === "SERVER_UNAVAILABLE") return "ServerError"
  if (status === 409) return "InvalidJobState"
  if (status === 403) return "Forbidden"
  return "InvalidRequest"
}

/** The typed error for a non-2xx answer, from Salesforce's `[{errorCode, message}]` body. */
const errorFromResponse = (
  response: HttpClientResponse.HttpClientResponse,
  call: CallKind,
  jobId: string | undefined
): Effect.Effect<never, BulkApiError> =>
  Effect.flatMap(Effect.orElseSucceed(response.json, () => undefined), (body) => {
    const first = Either.match(decodeApiErrorBody(body), { onLeft: () => undefined, onRight: (errors) => errors[0] })
    const errorCode = first?.errorCode
    const reason = reasonFor(response.status, errorCode)
    const apiUsage = reason === "RateLimited" ? ApiUsage.parseLimitInfo(response.headers["sforce-limit-info"]) : undefined
    return Effect.fail(
      new BulkApiError({
        reason,
        call,
        status: response.status,
        detail: first?.message ?? `HTTP ${response.status}`,
        ...(errorCode === undefined ? {} : { errorCode }),
        ...(jobId === undefined ? {} : { jobId }),
        ...(apiUsage === undefined ? {} : { apiUsage })
      })
    )
  })

const decodeJson =
  <A, I>(schema: Schema.Schema<A, I>, call: CallKind, jobId?: string) =>
  (response: HttpClientResponse.HttpClientResponse): Effect.Effect<A, BulkApiError> =>
    response.json.pipe(
      Effect.flatMap(Schema.decodeUnknown(schema)),
      Effect.mapError(
        (error) =>
          new BulkApiError({
            // A body that breaks off is a network failure (retried); one that reads but does not decode is not.
            reason: error._tag === "ParseError" ? "UnexpectedResponse" : "Network",
            call,
            status: response.status,
            detail: error._tag === "ParseError" ? `unexpected answer: ${error.message}` : "the answer could not be read",
            ...(jobId === undefined ? {} : { jobId })
          })
      )
    )

/** Builds the client over the session in context. */
export const make = (config: BulkClientConfig = {}): Effect.Effect<BulkClientService, never, SalesforceSession.SalesforceSession> =>
  Effect.gen(function* () {
    const session = yield* SalesforceSession.SalesforceSession
    const apiVersion = config.apiVersion ?? defaultApiVersion
    const base = `/services/data/v${apiVersion}`
    const ingest = `${base}/jobs/ingest`
    const retry = config.retry ?? defaultRetry
    const usage = yield* Ref.make(ApiUsage.empty)
    const describeCache = yield* Ref.make(new Map<string, { describe: OrgMetadata.SObjectDescribe; lastModified: string | undefined }>())

    /** Sends one request; a non-2xx answer becomes a `BulkApiError` (a 304 is returned as is). */
    const send = (
      call: CallKind,
      request: HttpClientRequest.HttpClientRequest,
      jobId?: string,
      client: SalesforceSession.AuthenticatedClient = session.client
    ): Effect.Effect<HttpClientResponse.HttpClientResponse, CallError> =>
      client.execute(request).pipe(
        Effect.catchTags({
          RequestError: (error) =>
            Effect.fail(
              new BulkApiError({
                reason: "Network",
                call,
                detail: `no answer (${error.reason}: ${error.cause instanceof Error ? error.cause.message : "connection failed"})`,
                ...(jobId === undefined ? {} : { jobId })
              })
            ),
          ResponseError: (error) =>
            Effect.fail(
              new BulkApiError({
                reason: "Network",
                call,
                detail: `the answer could not be read (${error.reason})`,
                ...(jobId === undefined ? {} : { jobId })
              })
            )
        }),
        Effect.tap((response) => ApiUsage.record(usage, call, response.headers["sforce-limit-info"])),
        Effect.flatMap((response) =>
          response.status < 300 || response.status === 304 ? Effect.succeed(response) : errorFromResponse(response, call, jobId)
        )
      )

    const retried = <A>(effect: Effect.Effect<A, CallError>): Effect.Effect<A, CallError> =>
      Effect.retry(effect, { schedule: retry, while: (error) => error._tag === "BulkApiError" && error.isTransient })

    const jobCall = (call: CallKind, request: HttpClientRequest.HttpClientRequest, jobId?: string) =>
      retried(Effect.flatMap(send(call, request, jobId), decodeJson(IngestJob.JobInfo, call, jobId)))

    const listPage = (path: string) =>
      retried(Effect.flatMap(send("list", HttpClientRequest.get(path)), decodeJson(IngestJob.JobList, "list")))
    const listJobs = Stream.paginateEffect(ingest, (path) =>
      Effect.map(listPage(path), (page) => {
        const next = page.done || page.nextRecordsUrl == null ? Option.none<string>() : Option.some(page.nextRecordsUrl)
        return [page.records, next] as const
      })
    ).pipe(Stream.flattenIterables)

    const isBulkError =
      (...reasons: ReadonlyArray<BulkApiError["reason"]>) =>
      (error: CallError): error is BulkApiError =>
        error._tag === "BulkApiError" && reasons.includes(error.reason)

    const setState = (call: "close" | "abort", jobId: string, state: "UploadComplete" | "Aborted") =>
      jobCall(call, HttpClientRequest.patch(`${ingest}/${jobId}`).pipe(HttpClientRequest.bodyUnsafeJson({ state })), jobId)

    const jobInfo = (jobId: string) => jobCall("info", HttpClientRequest.get(`${ingest}/${jobId}`), jobId)

    /**
     * When the answer to a close or abort is lost, the retry finds the job already in that state
     * (`INVALIDJOBSTATE`): the call did happen, so the job's current state is the answer.
     */
    const toState = (call: "close" | "abort", jobId: string, state: "UploadComplete" | "Aborted", reached: (state: IngestJob.JobState) => boolean) =>
      setState(call, jobId, state).pipe(
        Effect.catchIf(isBulkError("InvalidJobState"), (error) =>
          Effect.flatMap(jobInfo(jobId), (info) => (reached(info.state) ? Effect.succeed(info) : Effect.fail(error)))
        )
      )

    const closeJob = (jobId: string) => toState("close", jobId, "UploadComplete", (state) => state !== "Open")
    const abortJob = (jobId: string) => toState("abort", jobId, "Aborted", (state) => state === "Aborted")

    const createJob = (job: IngestJob.CreateJob) =>
      jobCall(
        "create",
        HttpClientRequest.post(ingest).pipe(
          HttpClientRequest.bodyUnsafeJson({
            object: job.object,
            operation: job.operation,
            contentType: "CSV",
            lineEnding: job.lineEnding ?? "LF",
            columnDelimiter: job.columnDelimiter ?? "COMMA",
            ...(job.externalIdFieldName === undefined ? {} : { externalIdFieldName: job.externalIdFieldName }),
            ...(job.assignmentRuleId === undefined ? {} : { assignmentRuleId: job.assignmentRuleId })
          })
        )
      )

    const pipedClient = session.authenticate(PipedUpload.client)
    const upload = (jobId: string, body: UploadBody, contentLength: number) => {
      const options = { contentType: "text/csv", contentLength }
      const piped = body instanceof PipedUpload.NodeStreamBody
      return send(
        "upload",
        HttpClientRequest.put(`${ingest}/${jobId}/batches`).pipe(
          piped ? HttpClientRequest.setBody(PipedUpload.httpBody(body, options)) : HttpClientRequest.bodyStream(body, options)
        ),
        jobId,
        piped ? pipedClient : session.client
      ).pipe(
        Effect.asVoid,
        Effect.catchAll((error) =>
          // The job is aborted (best effort: the abort's own failures are ignored, its retries
          // bounded) unless Salesforce refused the upload for the job's state — it already holds
          // an upload or is closed, and aborting it would discard rows it accepted — or has no such job.
          Effect.zipRight(
            isBulkError("InvalidJobState", "NotFound")(error) ? Effect.void : Effect.ignore(abortJob(jobId)),
            error._tag === "BulkApiError" && error.isTransient
              ? Effect.fail(
                  new BulkApiError({
                    reason: "UploadFailed",
                    call: "upload",
                    jobId,
                    detail: `the upload failed part way (${error.reason}: ${error.detail}); the job was aborted, send its rows in a new job`,
                    ...(error.status === undefined ? {} : { status: error.status })
                  })
                )
              : Effect.fail(error)
          )
        )
      )
    }

    /** A retried delete that finds no job: the delete whose answer was lost did happen. */
    const deleteJob = (jobId: string) =>
      Effect.suspend(() => {
        let attempts = 0
        const attempt = Effect.suspend(() => {
          attempts++
          return send("delete", HttpClientRequest.del(`${ingest}/${jobId}`), jobId)
        })
        return retried(attempt).pipe(
          Effect.asVoid,
          Effect.catchIf(
            (error) => attempts > 1 && isBulkError("NotFound")(error),
            () => Effect.void
          )
        )
      })

    /**
     * Polls until the job ends or the deadline passes, with `wait` between polls. A poll that
     * stays unanswered through its retries (5xx, network, 429, the token endpoint unavailable
     * when the session is renewed) or is refused for the org's daily API limit does not end the
     * wait: the job runs on in Salesforce whatever its caller does, and giving up would have its
     * rows sent again. Polling goes on after a pause, cut short by the deadline. A job still
     * running, or still unanswered, when a poll at or after the deadline comes back fails the
     * wait with `PollTimeout`.
     */
    const pollJob = <E>(jobId: string, deadline: PollDeadline, wait: (info: IngestJob.JobInfo, nowMillis: number) => Effect.Effect<void, E>) =>
      Effect.gen(function* () {
        let unanswered = false
        for (;;) {
          const answer = yield* Effect.either(jobInfo(jobId))
          const nowMillis = yield* monotonicMillis
          const remainingMillis = millisLeft(deadline, nowMillis)
          if (answer._tag === "Left") {
            const error = answer.left
            // a session renewed in the same outage fails transiently too (the token endpoint down)
            const pause = unansweredPause(error)
            if (pause === undefined) return yield* Effect.fail(error)
            if (remainingMillis === 0) {
              const lastPoll = isBulkError("RateLimited")(error) ? "was refused for the org's daily API limit" : "went unanswered"
              return yield* Effect.fail(
                pollTimeout(jobId, `the job was not seen to finish within ${Duration.format(deadline.timeout)} (its last poll ${lastPoll}: ${error.message})`)
              )
            }
            if (!unanswered) {
              yield* Effect.logWarning(
                `job ${jobId}: Salesforce does not answer its polls (${error.message}); the job runs on, and polling goes on every ${Duration.format(pause)} until it answers`
              )
            }
            unanswered = true
            yield* Effect.sleep(Duration.millis(Math.min(Duration.toMillis(pause), remainingMillis)))
            continue
          }
          const info = answer.right
          if (unanswered) yield* Effect.logInfo(`job ${jobId}: Salesforce answers its polls again`)
          unanswered = false
          if (IngestJob.isTerminal(info.state)) return info
          if (remainingMillis === 0) return yield* Effect.fail(pollTimeout(jobId, `the job did not finish within ${Duration.format(deadline.timeout)}`))
          yield* wait(info, nowMillis)
        }
      })

    /** Waits at the cadence `PollCadence` sets (backoff, then the job's projected end), never past the deadline. */
    const followingProgress = (options: AwaitOptions, deadline: PollDeadline, startedMillis: number) => {
      let cadence = PollCadence.start(startedMillis)
      return (info: IngestJob.JobInfo, nowMillis: number) =>
        Effect.suspend(() => {
          const step = PollCadence.next(cadence, { nowMillis, processed: info.numberRecordsProcessed ?? 0, expectedRecords: options.expectedRecords })
          cadence = step.cadence
          return Effect.sleep(Duration.millis(Math.min(step.delayMillis, millisLeft(deadline, nowMillis))))
        })
    }

    /**
     * Waits on the caller's schedule; at the deadline, a last poll comes instead. A schedule
     * that ends while the job runs fails the wait with `PollTimeout`.
     */
    const onSchedule = (jobId: string, driver: Schedule.ScheduleDriver<unknown, unknown>, deadline: PollDeadline) => (info: IngestJob.JobInfo, nowMillis: number) =>
      Effect.option(driver.next(info)).pipe(
        Effect.timeoutTo({ duration: Duration.millis(millisLeft(deadline, nowMillis)), onTimeout: () => true, onSuccess: Option.isSome }),
        Effect.flatMap((goesOn) => (goesOn ? Effect.void : Effect.fail(pollTimeout(jobId, "the poll schedule ended before the job did"))))
      )

    const awaitJob = (jobId: string, options: AwaitOptions = {}) => {
      const timeout = Duration.decode(options.timeout ?? config.poll?.timeout ?? defaultPollTimeout)
      const schedule = options.schedule ?? config.poll?.schedule
      const seen = options.seen
      if (seen !== undefined && IngestJob.isTerminal(seen.state)) return Effect.succeed(seen)
      return Effect.gen(function* () {
        const startedMillis = yield* monotonicMillis
        const deadline: PollDeadline = { atMillis: startedMillis + Duration.toMillis(timeout), timeout }
        const wait = schedule === undefined ? followingProgress(options, deadline, startedMillis) : onSchedule(jobId, yield* Schedule.driver(schedule), deadline)
        // the job as the caller last saw it is the first poll: what follows it is a wait, whatever the deadline
        if (seen !== undefined) yield* wait(seen, startedMillis)
        return yield* pollJob(jobId, deadline, wait)
      }).pipe(
        // every wait ends at the deadline, and the poll after it decides: the timer is a backstop
        // for that last poll (or one unanswered) that hangs
        Effect.timeoutFail({
          duration: Duration.sum(timeout, lastPollAllowance),
          onTimeout: () => pollTimeout(jobId, `the job did not finish within ${Duration.format(timeout)}`)
        })
      )
    }

    /**
     * A download that breaks off part way is started again, and the rows already delivered
     * are skipped (a finished job's result sets do not change), so every row comes once.
     */
    const resultsRequest = (jobId: string, set: IngestJob.ResultSet) =>
      HttpClientRequest.get(`${ingest}/${jobId}/${set}/`).pipe(HttpClientRequest.setHeaders({ Accept: "text/csv", "Accept-Encoding": "gzip" }))

    /** A results download that failed: malformed CSV is not worth another download, a broken one is. */
    const brokenDownload = (jobId: string, set: IngestJob.ResultSet) => (cause: unknown) =>
      cause instanceof CsvReader.MalformedCsv
        ? new BulkApiError({ reason: "UnexpectedResponse", call: "results", jobId, detail: `the ${set} could not be read: ${cause.message}` })
        : new BulkApiError({
            reason: "Network",
            call: "results",
            jobId,
            detail: `the ${set} download broke off (${cause instanceof Error ? cause.message : "read failed"})`
          })

    /**
     * A finished job's results refused for the org's daily API limit are waited for (every
     * `rateLimitedPollPause`, as long as a job is polled): its rows are committed, and failing
     * here would have them sent again.
     */
    const throughRateLimit = (jobId: string) =>
      Schedule.spaced(rateLimitedPollPause).pipe(
        Schedule.intersect(Schedule.recurs(Math.ceil(Duration.toMillis(defaultPollTimeout) / Duration.toMillis(rateLimitedPollPause)))),
        Schedule.whileInput(isBulkError("RateLimited")),
        Schedule.tapInput((error: CallError) =>
          Effect.logWarning(`job ${jobId}: Salesforce refuses to hand over its results (${error.message}); reading again in ${Duration.format(rateLimitedPollPause)}`)
        )
      )

    const countResults = (jobId: string, set: IngestJob.ResultSet, column: string, value: string) =>
      retried(
        Effect.scoped(
          Effect.flatMap(send("results", resultsRequest(jobId, set), jobId), (response) =>
            ResultRows.countMatching(response.stream, column, value, { onError: brokenDownload(jobId, set) })
          )
        )
      ).pipe(Effect.retry(throughRateLimit(jobId)))

    const results = (jobId: string, set: IngestJob.ResultSet): Stream.Stream<ResultRows.ResultRow, CallError> =>
      Stream.suspend(() => {
        let delivered = 0
        const download = Stream.suspend(() => {
          const skip = delivered
          return Stream.unwrapScoped(
            Effect.map(
              send("results", resultsRequest(jobId, set), jobId),
              (response) => ResultRows.parse(response.stream, { onError: brokenDownload(jobId, set) })
            )
          ).pipe(
            Stream.drop(skip),
            Stream.mapChunks((rows) => {
              delivered += rows.length
              return rows
            })
          )
        })
        return download.pipe(
          Stream.retry(Schedule.whileInput(retry, (error: CallError) => error._tag === "BulkApiError" && error.isTransient)),
          Stream.retry(throughRateLimit(jobId))
        )
      })

    const describeGlobal = retried(
      Effect.flatMap(send("describe", HttpClientRequest.get(`${base}/sobjects/`)), decodeJson(OrgMetadata.GlobalDescribe, "describe"))
    )

    const describeSObject = (name: string, options: { readonly revalidate?: boolean } = {}) =>
      Effect.gen(function* () {
        const cached = (yield* Ref.get(describeCache)).get(name)
        if (cached !== undefined && options.revalidate !== true) return cached.describe
        const request = HttpClientRequest.get(`${base}/sobjects/${encodeURIComponent(name)}/describe/`).pipe(
          cached?.lastModified === undefined ? (request) => request : HttpClientRequest.setHeader("If-Modified-Since", cached.lastModified)
        )
        const response = yield* retried(send("describe", request))
        if (response.status === 304 && cached !== undefined) return cached.describe
        const describe = yield* decodeJson(OrgMetadata.SObjectDescribe, "describe")(response)
        const lastModified = response.headers["last-modified"] ?? response.headers["date"]
        yield* Ref.update(describeCache, (cache) => new Map(cache).set(name, { describe, lastModified }))
        return describe
      })

    const limits = retried(Effect.flatMap(send("limits", HttpClientRequest.get(`${base}/limits/`)), decodeJson(OrgMetadata.Limits, "limits")))

    return {
      apiVersion,
      createJob,
      upload,
      closeJob,
      abortJob,
      jobInfo,
      deleteJob,
      listJobs,
      awaitJob,
      results,
      countResults,
      describeGlobal,
      describeSObject,
      limits,
      usage: Ref.get(usage)
    }
  })

export const layer = (config: BulkClientConfig = {}): Layer.Layer<BulkClient, never, SalesforceSession.SalesforceSession> =>
  Layer.effect(BulkClient, make(config))
