import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { afterAll, afterEach, beforeAll, describe, expect, it } from "@effect/vitest"
import { Credentials, SalesforceSession } from "@sfdc-activation/auth"
import { handlers, Org } from "@sfdc-activation/salesforce-emulator"
import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import { http, HttpResponse } from "msw"
import { setupServer } from "msw/node"
import { Readable } from "node:stream"
import { upsertAccounts } from "../examples/usage.js"
import { BulkClient, PipedUpload, PollCadence } from "../src/index.js"

const baseUrl = "https://emulator.my.salesforce.com"
const org = Org.make()
const server = setupServer(...handlers(org, baseUrl))
const contentEncodings: Array<string | null> = []
server.events.on("response:mocked", ({ response }) => {
  contentEncodings.push(response.headers.get("content-encoding"))
})

beforeAll(() => server.listen({ onUnhandledRequest: "error" }))
afterEach(() => {
  server.resetHandlers()
  org.reset()
  contentEncodings.length = 0
})
afterAll(() => server.close())

const clientLayer = (config: BulkClient.BulkClientConfig = {}) =>
  BulkClient.layer({ retry: Schedule.recurs(3), ...config }).pipe(
    Layer.provide(
      SalesforceSession.layer({
        credentials: Credentials.refreshToken({
          clientId: org.credentials.clientId,
          clientSecret: Redacted.make(org.credentials.clientSecret),
          refreshToken: Redacted.make(org.credentials.refreshToken)
        }),
        login: { loginUrl: baseUrl },
        tokenRetry: Schedule.recurs(3)
      })
    ),
    Layer.provide(FetchHttpClient.layer)
  )

const withClient = <A, E>(use: (client: BulkClient.BulkClientService) => Effect.Effect<A, E>, config?: BulkClient.BulkClientConfig) =>
  Effect.flatMap(BulkClient.BulkClient, use).pipe(Effect.provide(clientLayer(config)))

const csvBody = (text: string) => {
  const bytes = new TextEncoder().encode(text)
  return { body: Stream.make(bytes), length: bytes.length }
}

/** Lets in-flight I/O (MSW answers) complete, without touching any clock. */
const settle = (rounds = 30) =>
  Effect.gen(function* () {
    for (let round = 0; round < rounds; round++) yield* Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))
  })

/** Runs `effect` in a fiber, moving the TestClock a second at a time until it is done. */
const withTime = <A, E>(effect: Effect.Effect<A, E>) =>
  Effect.gen(function* () {
    const fiber = yield* Effect.fork(effect)
    for (let round = 0; round < 120 && Option.isNone(yield* Fiber.poll(fiber)); round++) {
      yield* settle()
      yield* TestClock.adjust("1 second")
    }
    return yield* Fiber.join(fiber)
  })

const loadContacts = (client: BulkClient.BulkClientService, csv: string) =>
  Effect.gen(function* () {
    const job = yield* client.createJob({ object: "Contact", operation: "insert" })
    const { body, length } = csvBody(csv)
    yield* client.upload(job.id, body, length)
    yield* client.closeJob(job.id)
    return yield* withTime(client.awaitJob(job.id))
  })

/** A one-row Contact job, uploaded and closed. */
const closedContactJob = (client: BulkClient.BulkClientService) =>
  Effect.gen(function* () {
    const job = yield* client.createJob({ object: "Contact", operation: "insert" })
    const { body, length } = csvBody("LastName\nPolled\n")
    yield* client.upload(job.id, body, length)
    return yield* client.closeJob(job.id)
  })

/** A closed one-row job the org will not process for an hour. */
const closedJobLeftWaiting = (client: BulkClient.BulkClientService) =>
  Effect.gen(function* () {
    org.setFaults({ processingDelayMs: 3_600_000 })
    const job = yield* client.createJob({ object: "Account", operation: "insert" })
    const { body, length } = csvBody("Name\nAcme\n")
    yield* client.upload(job.id, body, length)
    return yield* client.closeJob(job.id)
  })

/** Answers the job's polls with `sightings` in turn (the last one from then on); the count of polls so far. */
const answerPollsWith = (client: BulkClient.BulkClientService, job: { readonly id: string }, sightings: ReadonlyArray<Record<string, unknown>>) => {
  let polls = 0
  server.use(
    http.get(`${baseUrl}/services/data/v${client.apiVersion}/jobs/ingest/${job.id}`, () =>
      HttpResponse.json({ ...job, ...sightings[Math.min(polls++, sightings.length - 1)] })
    )
  )
  return () => polls
}

describe("BulkClient", () => {
  it.effect("runs a job end to end and streams its results (gzip)", () =>
    withClient((client) =>
      Effect.gen(function* () {
        org.setFaults({ processingDelayMs: 0 })
        const seeded = org.storedRecords("Contact").length
        const done = yield* loadContacts(client, "LastName,Email\nLovelace,ada@example.com\n,nobody@example.com\nHopper,grace@example.com\n")
        expect(done).toMatchObject({ state: "JobComplete", numberRecordsProcessed: 3, numberRecordsFailed: 1 })
        const succeeded = Chunk.toArray(yield* Stream.runCollect(client.results(done.id, "successfulResults")))
        expect(succeeded.map((row) => row["LastName"]).sort()).toEqual(["Hopper", "Lovelace"])
        expect(succeeded.every((row) => row["sf__Created"] === "true" && /^003[0-9A-Za-z]{15}$/.test(row["sf__Id"] ?? ""))).toBe(true)
        expect(yield* client.countResults(done.id, "successfulResults", "sf__Created", "true")).toBe(2)
        expect(yield* client.countResults(done.id, "failedResults", "Email", "nobody@example.com")).toBe(1)
        const failed = Chunk.toArray(yield* Stream.runCollect(client.results(done.id, "failedResults")))
        expect(failed).toHaveLength(1)
        expect(failed[0]?.["sf__Error"]).toMatch(/^REQUIRED_FIELD_MISSING:/)
        expect(failed[0]?.["Email"]).toBe("nobody@example.com")
        expect(contentEncodings).toContain("gzip")
        expect(org.storedRecords("Contact")).toHaveLength(seeded + 2)
      })
    ))

  it.effect("reads a finished job's results once Salesforce hands them over again after the daily API limit", () =>
    withClient((client) =>
      Effect.gen(function* () {
        org.setFaults({ processingDelayMs: 0 })
        const done = yield* loadContacts(client, "LastName,Email\nLovelace,ada.limit@example.com\n,nobody.limit@example.com\n")
        const refuseOnce = () =>
          org.setFaults({
            processingDelayMs: 0,
            httpErrors: [{ call: "results", status: 403, errorCode: "REQUEST_LIMIT_EXCEEDED", message: "TotalRequests Limit exceeded.", times: 1 }]
          })
        const waitedFor = <A, E>(read: Effect.Effect<A, E>) =>
          Effect.gen(function* () {
            refuseOnce()
            const fiber = yield* Effect.fork(read)
            yield* settle()
            expect(Option.isNone(yield* Fiber.poll(fiber))).toBe(true)
            yield* TestClock.adjust(BulkClient.rateLimitedPollPause)
            yield* settle()
            return yield* Fiber.join(fiber)
          })
        const failed = yield* waitedFor(Stream.runCollect(client.results(done.id, "failedResults")))
        expect(Chunk.toArray(failed).map((row) => row["Email"])).toEqual(["nobody.limit@example.com"])
        expect(yield* waitedFor(client.countResults(done.id, "successfulResults", "sf__Created", "true"))).toBe(1)
      })
    ))

  it.effect("creates jobs for every operation and sends the job options", () =>
    withClient((client) =>
      Effect.gen(function* () {
        for (const operation of ["insert", "update", "delete"] as const) {
          const job = yield* client.createJob({ object: "Account", operation })
          expect(job).toMatchObject({ operation, object: "Account", state: "Open", contentType: "CSV", lineEnding: "LF" })
        }
        const upsert = yield* client.createJob({ object: "Account", operation: "upsert", externalIdFieldName: "External_Id__c" })
        expect(upsert.externalIdFieldName).toBe("External_Id__c")
        const missingKey = yield* Effect.flip(client.createJob({ object: "Account", operation: "upsert" }))
        expect(missingKey).toMatchObject({ _tag: "BulkApiError", reason: "InvalidRequest", call: "create", status: 400 })
        const hardDelete = yield* Effect.flip(client.createJob({ object: "Account", operation: "hardDelete" }))
        expect(hardDelete).toMatchObject({ reason: "FeatureNotEnabled", errorCode: "FEATURENOTENABLED" })
        const unknownObject = yield* Effect.flip(client.createJob({ object: "Nope__c", operation: "insert" }))
        expect(unknownObject.reason).toBe("InvalidRequest")
        expect(unknownObject.errorCode).toBeDefined()
      })
    ))

  it.effect("refuses a second upload, and aborts, reads, lists and deletes jobs", () =>
    withClient((client) =>
      Effect.gen(function* () {
        const job = yield* client.createJob({ object: "Account", operation: "insert" })
        const { body, length } = csvBody("Name\nAcme\n")
        yield* client.upload(job.id, body, length)
        const second = yield* Effect.flip(client.upload(job.id, body, length))
        expect(second).toMatchObject({ call: "upload", jobId: job.id, reason: "InvalidJobState" })
        expect(second.isTransient).toBe(false)
        // The job keeps the upload it accepted: a refusal for its state does not abort it.
        expect((yield* client.jobInfo(job.id)).state).toBe("Open")
        const aborted = yield* client.abortJob(job.id)
        expect(aborted.state).toBe("Aborted")
        expect((yield* client.jobInfo(job.id)).state).toBe("Aborted")
        const other = yield* client.createJob({ object: "Account", operation: "insert" })
        const listed = Chunk.toArray(yield* Stream.runCollect(client.listJobs)).map((info) => info.id)
        expect(listed).toEqual(expect.arrayContaining([job.id, other.id]))
        const notDeletable = yield* Effect.flip(client.deleteJob(other.id))
        expect(notDeletable.reason).toBe("InvalidJobState")
        yield* client.deleteJob(job.id)
        const gone = yield* Effect.flip(client.jobInfo(job.id))
        expect(gone).toMatchObject({ reason: "NotFound", status: 404, jobId: job.id })
        const deletedTwice = yield* Effect.flip(client.deleteJob(job.id))
        expect(deletedTwice).toMatchObject({ reason: "NotFound", call: "delete", jobId: job.id })
      })
    ))

  it.effect("lists jobs across pages", () =>
    withClient((client) =>
      Effect.gen(function* () {
        const jobsPastOnePage = 1_001
        yield* Effect.forEach(Array.from({ length: jobsPastOnePage }), () => client.createJob({ object: "Lead", operation: "insert" }), {
          concurrency: 8,
          discard: true
        })
        const listed = yield* Stream.runCount(client.listJobs)
        expect(listed).toBe(jobsPastOnePage)
        expect(org.stats().calls.list).toBe(2)
      })
    ))

  it.effect("goes on polling a job whose polls go unanswered through every retry, until Salesforce answers", () =>
    withClient((client) =>
      Effect.gen(function* () {
        // more 503s than one poll's retries take: the first poll gives up, the wait does not
        org.setFaults({ processingDelayMs: 0, httpErrors: [{ call: "poll", status: 503, times: 10 }] })
        const job = yield* closedContactJob(client)
        const before = org.stats().calls.poll
        const done = yield* withTime(client.awaitJob(job.id))
        expect(done.state).toBe("JobComplete")
        expect(org.stats().calls.poll - before).toBe(11)
        // the same outage taking the token endpoint, with the session expiring meanwhile
        const second = yield* closedContactJob(client)
        org.setFaults({ processingDelayMs: 0, sessionTtlRequests: 2, httpErrors: [{ call: "poll", status: 503, times: 8 }, { call: "token", status: 503, times: 8 }] })
        expect((yield* withTime(client.awaitJob(second.id))).state).toBe("JobComplete")
      })
    ))

  it.effect("on a schedule of the caller's too, goes on polling a job whose polls go unanswered through every retry", () =>
    withClient(
      (client) =>
        Effect.gen(function* () {
          org.setFaults({ processingDelayMs: 0, httpErrors: [{ call: "poll", status: 503, times: 10 }] })
          const job = yield* closedContactJob(client)
          expect((yield* withTime(client.awaitJob(job.id))).state).toBe("JobComplete")
        }),
      { poll: { schedule: Schedule.spaced("5 millis") } }
    ))

  it.effect("goes on polling, after a longer pause, a job whose poll Salesforce refuses for the daily API limit", () =>
    withClient((client) =>
      Effect.gen(function* () {
        // the job was closed: Salesforce commits its rows whatever the client does next
        org.setFaults({
          processingDelayMs: 0,
          httpErrors: [{ call: "poll", status: 403, errorCode: "REQUEST_LIMIT_EXCEEDED", message: "TotalRequests Limit exceeded.", times: 1 }]
        })
        const job = yield* closedContactJob(client)
        const polls = () => org.stats().calls.poll
        const before = polls()
        const fiber = yield* Effect.fork(client.awaitJob(job.id))
        yield* settle()
        expect(polls() - before).toBe(1)
        yield* TestClock.adjust(Duration.subtract(BulkClient.rateLimitedPollPause, Duration.seconds(1)))
        yield* settle()
        expect(polls() - before).toBe(1)
        yield* TestClock.adjust("1 second")
        yield* settle()
        expect((yield* Fiber.join(fiber)).state).toBe("JobComplete")
        expect(polls() - before).toBe(2)
      })
    ))

  it.effect("polls 250 ms apart, growing ×1.5, and times out without touching the job", () =>
    withClient((client) =>
      Effect.gen(function* () {
        const job = yield* closedJobLeftWaiting(client)
        const polls = () => org.stats().calls.poll
        const fiber = yield* Effect.fork(client.awaitJob(job.id, { timeout: "10 seconds" }))
        yield* settle()
        expect(polls()).toBe(1)
        yield* TestClock.adjust("249 millis")
        yield* settle()
        expect(polls()).toBe(1)
        yield* TestClock.adjust("1 millis")
        yield* settle()
        expect(polls()).toBe(2)
        yield* TestClock.adjust("375 millis")
        yield* settle()
        expect(polls()).toBe(3)
        yield* TestClock.adjust("563 millis")
        yield* settle()
        expect(polls()).toBe(4)
        yield* TestClock.adjust("10 seconds")
        yield* settle()
        const error = yield* Effect.flip(Fiber.join(fiber))
        expect(error).toMatchObject({ reason: "PollTimeout", jobId: job.id })
        expect(org.stats().calls).toMatchObject({ abort: 0, delete: 0 })
        expect((yield* client.jobInfo(job.id)).state).not.toBe("Aborted")
      })
    ))

  it.effect("polls once more at the timeout's deadline instead of sleeping past it", () =>
    withClient((client) =>
      Effect.gen(function* () {
        // No progress: polls back off to 250 ms, 625 ms, … 5.2 s, 8.0 s; the next one would come at 12.3 s.
        const running = { state: "InProgress", numberRecordsProcessed: 0 }
        const awaitWithTenSeconds = (sightings: ReadonlyArray<Record<string, unknown>>) =>
          Effect.gen(function* () {
            const job = yield* closedJobLeftWaiting(client)
            const polls = answerPollsWith(client, job, sightings)
            const fiber = yield* Effect.fork(Effect.either(client.awaitJob(job.id, { timeout: "10 seconds" })))
            for (let elapsed = 0; elapsed < 9_900; elapsed += 100) {
              yield* settle()
              yield* TestClock.adjust("100 millis")
            }
            yield* settle()
            const pollsBeforeDeadline = polls()
            yield* TestClock.adjust("100 millis")
            yield* settle()
            return { pollsBeforeDeadline, polls: polls(), outcome: yield* Fiber.join(fiber) }
          })
        // finished after the eighth poll: the ninth, at the deadline, finds it done
        const finished = yield* awaitWithTenSeconds([...Array.from({ length: 8 }, () => running), { state: "JobComplete", numberRecordsProcessed: 1 }])
        expect(finished.pollsBeforeDeadline).toBe(8)
        expect(finished.polls).toBe(9)
        expect(Either.getOrThrow(finished.outcome)).toMatchObject({ state: "JobComplete" })
        // still running at the deadline: that last poll, then PollTimeout
        const timedOut = yield* awaitWithTenSeconds([running])
        expect(timedOut.polls).toBe(9)
        expect(Either.isLeft(timedOut.outcome) && timedOut.outcome.left).toMatchObject({ reason: "PollTimeout" })
      })
    ))

  it.effect("on a schedule, polls once more at the deadline, then fails with PollTimeout", () =>
    withClient((client) =>
      Effect.gen(function* () {
        const job = yield* closedJobLeftWaiting(client)
        const polls = () => org.stats().calls.poll
        const fiber = yield* Effect.fork(client.awaitJob(job.id, { timeout: "10 seconds", schedule: Schedule.spaced("4 seconds") }))
        for (let second = 0; second < 9; second++) {
          yield* settle()
          yield* TestClock.adjust("1 second")
        }
        yield* settle()
        // 0, 4 and 8 s; the next step of the schedule would come after the deadline
        expect(polls()).toBe(3)
        yield* TestClock.adjust("1 second")
        yield* settle()
        const late = yield* Effect.flip(Fiber.join(fiber))
        expect(polls()).toBe(4)
        expect(late).toMatchObject({ reason: "PollTimeout", jobId: job.id })
        expect(late.message).toContain("did not finish within 10s")
        expect(org.stats().calls).toMatchObject({ abort: 0, delete: 0 })
      })
    ))

  it.effect("fails with PollTimeout when the caller's schedule ends before the job, rather than handing back a running job", () =>
    withClient((client) =>
      Effect.gen(function* () {
        const job = yield* closedJobLeftWaiting(client)
        const ended = yield* Effect.flip(withTime(client.awaitJob(job.id, { schedule: Schedule.recurs(2) })))
        expect(org.stats().calls.poll).toBe(3)
        expect(ended).toMatchObject({ reason: "PollTimeout", jobId: job.id })
        expect(ended.message).toContain("the poll schedule ended before the job did; it was left as is and may still complete")
        expect(org.stats().calls).toMatchObject({ abort: 0, delete: 0 })
      })
    ))

  it.effect("on a schedule too, takes the close's answer as the first poll", () =>
    withClient((client) =>
      Effect.gen(function* () {
        const closed = yield* closedJobLeftWaiting(client)
        const polls = () => org.stats().calls.poll
        const fiber = yield* Effect.fork(client.awaitJob(closed.id, { seen: closed, schedule: Schedule.spaced("1 second") }))
        yield* settle()
        expect(polls()).toBe(0)
        yield* TestClock.adjust("1 second")
        yield* settle()
        expect(polls()).toBe(1)
        yield* Fiber.interrupt(fiber)
      })
    ))

  it.effect("cuts the pause after an unanswered poll short at the deadline, polls there, and fails with PollTimeout", () =>
    withClient((client) =>
      Effect.gen(function* () {
        org.setFaults({ processingDelayMs: 0, httpErrors: [{ call: "poll", status: 503, times: 1_000 }] })
        const job = yield* closedContactJob(client)
        const polls = () => org.stats().calls.poll
        const fiber = yield* Effect.fork(client.awaitJob(job.id, { timeout: "45 seconds" }))
        yield* settle()
        // one poll and its retries, unanswered
        const perPoll = polls()
        expect(perPoll).toBeGreaterThan(0)
        yield* TestClock.adjust(BulkClient.unansweredPollPause)
        yield* settle()
        expect(polls()).toBe(2 * perPoll)
        yield* TestClock.adjust("14999 millis")
        yield* settle()
        expect(polls()).toBe(2 * perPoll)
        expect(Option.isNone(yield* Fiber.poll(fiber))).toBe(true)
        // 15 s left: the pause ends at the deadline, with a last poll
        yield* TestClock.adjust("1 millis")
        yield* settle()
        expect(polls()).toBe(3 * perPoll)
        const error = yield* Effect.flip(Fiber.join(fiber))
        expect(error).toMatchObject({ reason: "PollTimeout", jobId: job.id })
        expect(error.message).toContain("its last poll went unanswered")
      })
    ))

  it.effect("with no time left, polls a job the close saw running once before PollTimeout", () =>
    withClient((client) =>
      Effect.gen(function* () {
        const closed = yield* closedJobLeftWaiting(client)
        const error = yield* Effect.flip(client.awaitJob(closed.id, { seen: closed, timeout: 0 }))
        expect(error).toMatchObject({ reason: "PollTimeout", jobId: closed.id })
        expect(org.stats().calls.poll).toBe(1)
        // on a schedule too
        const onSchedule = yield* Effect.flip(client.awaitJob(closed.id, { seen: closed, timeout: 0, schedule: Schedule.spaced("1 second") }))
        expect(onSchedule).toMatchObject({ reason: "PollTimeout", jobId: closed.id })
        expect(org.stats().calls.poll).toBe(2)
      })
    ))

  it.effect("cuts the pause after a poll refused for the daily API limit short at the deadline", () =>
    withClient((client) =>
      Effect.gen(function* () {
        org.setFaults({
          processingDelayMs: 0,
          httpErrors: [{ call: "poll", status: 403, errorCode: "REQUEST_LIMIT_EXCEEDED", message: "TotalRequests Limit exceeded.", times: 1_000 }]
        })
        const job = yield* closedContactJob(client)
        const polls = () => org.stats().calls.poll
        const fiber = yield* Effect.fork(client.awaitJob(job.id, { timeout: "1 minute" }))
        yield* settle()
        expect(polls()).toBe(1)
        yield* TestClock.adjust("1 minute")
        yield* settle()
        expect(polls()).toBe(2)
        const error = yield* Effect.flip(Fiber.join(fiber))
        expect(error).toMatchObject({ reason: "PollTimeout", jobId: job.id })
        expect(error.message).toContain("its last poll was refused for the org's daily API limit")
      })
    ))

  it.effect("keeps its deadline and cadence when the wall clock is set forward", () =>
    withClient((client) =>
      Effect.gen(function* () {
        const job = yield* closedJobLeftWaiting(client)
        const polls = () => org.stats().calls.poll
        // the test clock, with a wall clock that jumps an hour ahead once the wait has started
        const underlying = yield* Effect.clock
        let wallOffsetMillis = 0
        const jumpingWallClock: Clock.Clock = {
          [Clock.ClockTypeId]: Clock.ClockTypeId,
          unsafeCurrentTimeMillis: () => underlying.unsafeCurrentTimeMillis() + wallOffsetMillis,
          currentTimeMillis: Effect.sync(() => underlying.unsafeCurrentTimeMillis() + wallOffsetMillis),
          unsafeCurrentTimeNanos: () => underlying.unsafeCurrentTimeNanos(),
          currentTimeNanos: underlying.currentTimeNanos,
          sleep: (duration) => underlying.sleep(duration)
        }
        const fiber = yield* Effect.fork(Effect.withClock(client.awaitJob(job.id, { timeout: "10 seconds" }), jumpingWallClock))
        yield* settle()
        wallOffsetMillis = 3_600_000
        yield* TestClock.adjust("250 millis")
        yield* settle()
        yield* TestClock.adjust("375 millis")
        yield* settle()
        expect(polls()).toBe(3)
        expect(Option.isNone(yield* Fiber.poll(fiber))).toBe(true)
        yield* Fiber.interrupt(fiber)
      })
    ))

  it.effect("takes the close's answer as the first poll: asks one interval later, and not at all once it is finished", () =>
    withClient((client) =>
      Effect.gen(function* () {
        const closed = yield* closedJobLeftWaiting(client)
        const polls = () => org.stats().calls.poll
        const fiber = yield* Effect.fork(client.awaitJob(closed.id, { timeout: "10 seconds", seen: closed }))
        yield* settle()
        expect(polls()).toBe(0)
        yield* TestClock.adjust("249 millis")
        yield* settle()
        expect(polls()).toBe(0)
        yield* TestClock.adjust("1 millis")
        yield* settle()
        expect(polls()).toBe(1)
        yield* TestClock.adjust("375 millis")
        yield* settle()
        expect(polls()).toBe(2)
        yield* Fiber.interrupt(fiber)
        const finished = { ...closed, state: "JobComplete" as const, numberRecordsProcessed: 1 }
        expect(yield* client.awaitJob(closed.id, { seen: finished })).toBe(finished)
        expect(polls()).toBe(2)
      })
    ))

  it.effect("polls a job that reports progress just past its projected end", () =>
    withClient((client) =>
      Effect.gen(function* () {
        const job = yield* closedJobLeftWaiting(client)
        // The job as Salesforce reports it while processing 10,000 rows: 5,000 done 250 ms in.
        const sightings = [
          { state: "InProgress", numberRecordsProcessed: 0 },
          { state: "InProgress", numberRecordsProcessed: 5_000 },
          { state: "InProgress", numberRecordsProcessed: 9_900 },
          { state: "JobComplete", numberRecordsProcessed: 10_000 }
        ]
        const polls = answerPollsWith(client, job, sightings)
        const fiber = yield* Effect.fork(client.awaitJob(job.id, { expectedRecords: 10_000 }))
        yield* settle()
        yield* TestClock.adjust("250 millis")
        yield* settle()
        expect(polls()).toBe(2)
        // 5,000 rows left at 20 rows/ms: the next poll 275 ms later, not at the 375 ms backoff.
        yield* TestClock.adjust("274 millis")
        yield* settle()
        expect(polls()).toBe(2)
        yield* TestClock.adjust("1 millis")
        yield* settle()
        expect(polls()).toBe(3)
        yield* TestClock.adjust(`${PollCadence.minimumIntervalMillis} millis`)
        yield* settle()
        const done = yield* Fiber.join(fiber)
        expect(done).toMatchObject({ state: "JobComplete", numberRecordsProcessed: 10_000 })
        expect(polls()).toBe(4)
      })
    ))

  it.effect("notices a job finished after a slow patch within about a second, not at the longest interval", () =>
    withClient((client) =>
      Effect.gen(function* () {
        const closed = yield* closedJobLeftWaiting(client)
        // 1,000 of 2,000 rows 250 ms after the close, then one more row in the next 275 ms: a slow patch
        const sightings = [
          { state: "InProgress", numberRecordsProcessed: 1_000 },
          { state: "InProgress", numberRecordsProcessed: 1_001 },
          { state: "JobComplete", numberRecordsProcessed: 2_000 }
        ]
        const polls = answerPollsWith(client, closed, sightings)
        const fiber = yield* Effect.fork(client.awaitJob(closed.id, { expectedRecords: 2_000, seen: closed, timeout: "10 seconds" }))
        for (let step = 0; step < 12; step++) {
          yield* settle()
          yield* TestClock.adjust("100 millis")
        }
        yield* settle()
        expect(polls()).toBe(3)
        expect((yield* Fiber.join(fiber)).state).toBe("JobComplete")
      })
    ))

  it.effect("retries transient errors a bounded number of times", () =>
    withClient((client) =>
      Effect.gen(function* () {
        org.setFaults({ httpErrors: [{ call: "create", status: 503, every: 1, times: 2 }] })
        yield* client.createJob({ object: "Account", operation: "insert" })
        expect(org.stats().calls.create).toBe(3)
        org.setFaults({ httpErrors: [{ call: "create", status: 500, every: 1 }] })
        const error = yield* Effect.flip(client.createJob({ object: "Account", operation: "insert" }))
        expect(error).toMatchObject({ reason: "ServerError", status: 500 })
        expect(org.stats().calls.create).toBe(3 + 4)
      })
    ))

  it.effect("reports REQUEST_LIMIT_EXCEEDED as RateLimited with the usage, without retrying", () =>
    withClient((client) =>
      Effect.gen(function* () {
        yield* client.describeGlobal
        const used = org.stats().usage.apiRequests
        org.setFaults({ dailyApiRequests: used + 1 })
        yield* client.limits
        const error = yield* Effect.flip(client.createJob({ object: "Account", operation: "insert" }))
        expect(error).toMatchObject({ reason: "RateLimited", errorCode: "REQUEST_LIMIT_EXCEEDED", status: 403 })
        expect(error._tag === "BulkApiError" ? error.apiUsage?.max : undefined).toBe(used + 1)
        expect(error.message).toContain("API requests used")
        expect(org.stats().calls.create).toBe(1)
      })
    ))

  it.effect("aborts the job when its upload breaks off, and says to use a new job", () =>
    withClient((client) =>
      Effect.gen(function* () {
        org.setFaults({ dropConnections: [{ call: "upload", every: 1, times: 1 }] })
        const job = yield* client.createJob({ object: "Account", operation: "insert" })
        const { body, length } = csvBody("Name\nAcme\n")
        const error = yield* Effect.flip(client.upload(job.id, body, length))
        expect(error).toMatchObject({ reason: "UploadFailed", jobId: job.id })
        expect(org.stats().calls.upload).toBe(1)
        expect((yield* client.jobInfo(job.id)).state).toBe("Aborted")
      })
    ))

  it.effect("a session expiring under a streamed upload fails it as UploadFailed, not sent again empty", () =>
    withClient((client) =>
      Effect.gen(function* () {
        const job = yield* client.createJob({ object: "Account", operation: "insert" })
        const bytes = new TextEncoder().encode("Name\nAcme\n")
        let reads = 0
        const oneShot = Stream.suspend(() => (reads++ === 0 ? Stream.make(bytes) : Stream.empty))
        org.expireSessions()
        const error = yield* Effect.flip(client.upload(job.id, oneShot, bytes.byteLength))
        expect(error).toMatchObject({ reason: "UploadFailed", jobId: job.id })
        expect(error.message).toContain("cannot be sent again")
        expect((yield* client.jobInfo(job.id)).state).toBe("Aborted")
      })
    ))

  it.effect("aborts the job when its upload is refused for good (413), and fails with the refusal", () =>
    withClient((client) =>
      Effect.gen(function* () {
        org.setFaults({ maxUploadBytes: 5 })
        const job = yield* client.createJob({ object: "Account", operation: "insert" })
        const { body, length } = csvBody("Name\nAcme\n")
        const error = yield* Effect.flip(client.upload(job.id, body, length))
        expect(error).toMatchObject({ _tag: "BulkApiError", call: "upload", jobId: job.id, status: 413 })
        expect(error._tag === "BulkApiError" && error.reason).not.toBe("UploadFailed")
        expect((yield* client.jobInfo(job.id)).state).toBe("Aborted")
      })
    ))

  it.effect("reports an abort or a delete whose answer was lost as done", () =>
    withClient((client) =>
      Effect.gen(function* () {
        const job = yield* client.createJob({ object: "Account", operation: "insert" })
        org.setFaults({
          dropConnections: [
            { call: "abort", every: 1, times: 1, afterBytes: 0 },
            { call: "delete", every: 1, times: 1, afterBytes: 0 }
          ]
        })
        const aborted = yield* client.abortJob(job.id)
        expect(aborted).toMatchObject({ id: job.id, state: "Aborted" })
        expect(org.stats().calls.abort).toBe(2)
        yield* client.deleteJob(job.id)
        expect(org.stats().calls.delete).toBe(2)
        expect(org.stats().jobs).toEqual({})
      })
    ))

  it.effect("pipes a Node stream body, opened anew when a 401 replays the upload", () =>
    withClient((client) =>
      Effect.gen(function* () {
        org.setFaults({ processingDelayMs: 0 })
        const rows = Array.from({ length: 2_000 }, (_, index) => `Contact ${index},c${index}@example.com\n`)
        const csv = `LastName,Email\n${rows.join("")}`
        const chunks = csv.match(/[\s\S]{1,4096}/g) ?? []
        let opens = 0
        const body = new PipedUpload.NodeStreamBody(
          Effect.sync(() => {
            opens++
            return Readable.from(chunks.map((chunk) => Buffer.from(chunk)))
          })
        )
        const seeded = org.storedRecords("Contact").length
        const job = yield* client.createJob({ object: "Contact", operation: "insert" })
        org.expireSessions()
        yield* client.upload(job.id, body, Buffer.byteLength(csv))
        expect(opens).toBe(2)
        yield* client.closeJob(job.id)
        const done = yield* withTime(client.awaitJob(job.id, { expectedRecords: rows.length }))
        expect(done).toMatchObject({ state: "JobComplete", numberRecordsProcessed: 2_000, numberRecordsFailed: 0 })
        expect(org.storedRecords("Contact").slice(seeded).map((record) => record["Email"])).toEqual(rows.map((_, index) => `c${index}@example.com`))
      })
    ))

  it.effect("aborts the job when a piped body breaks off while it is read", () =>
    withClient((client) =>
      Effect.gen(function* () {
        const job = yield* client.createJob({ object: "Account", operation: "insert" })
        const breaking = new PipedUpload.NodeStreamBody(
          Effect.sync(
            () =>
              new Readable({
                read() {
                  this.push("Name\nAcme\n")
                  this.destroy(new Error("disk read failed"))
                }
              })
          )
        )
        const error = yield* Effect.flip(client.upload(job.id, breaking, 1_000))
        expect(error).toMatchObject({ reason: "UploadFailed", jobId: job.id })
        expect((yield* client.jobInfo(job.id)).state).toBe("Aborted")
        expect(org.storedRecords("Account").some((record) => record["Name"] === "Acme")).toBe(false)
      })
    ))

  it.effect("reads unprocessed records of a job that failed part way", () =>
    withClient((client) =>
      Effect.gen(function* () {
        org.setFaults({ processingDelayMs: 0, failJobAfterRows: 2 })
        const rows = Array.from({ length: 5 }, (_, index) => `Contact ${index}`)
        const done = yield* loadContacts(client, `LastName\n${rows.join("\n")}\n`)
        expect(done.state).toBe("Failed")
        expect(done.errorMessage).toBeTruthy()
        const unprocessed = Chunk.toArray(yield* Stream.runCollect(client.results(done.id, "unprocessedrecords")))
        const succeeded = Chunk.toArray(yield* Stream.runCollect(client.results(done.id, "successfulResults")))
        expect(unprocessed.length + succeeded.length).toBe(5)
        expect(unprocessed.length).toBeGreaterThan(0)
        expect(Object.keys(unprocessed[0] ?? {})).toEqual(["LastName"])
      })
    ))

  it.effect("caches describes per run and revalidates with If-Modified-Since", () =>
    withClient((client) =>
      Effect.gen(function* () {
        const global = yield* client.describeGlobal
        expect(global.sobjects.map((object) => object.name)).toEqual(expect.arrayContaining(["Account", "Contact", "Product_Usage__c"]))
        const contact = yield* client.describeSObject("Contact")
        expect(contact.fields.find((field) => field.name === "LastName")).toMatchObject({ type: "string", nillable: false, createable: true })
        yield* client.describeSObject("Contact")
        expect(org.stats().calls.describe).toBe(2)
        const again = yield* client.describeSObject("Contact", { revalidate: true })
        expect(again).toEqual(contact)
        expect(org.stats().calls.describe).toBe(3)
        const limits = yield* client.limits
        expect(limits["DailyApiRequests"]?.Max).toBeGreaterThan(0)
      })
    ))

  it.effect("meters calls by kind and the org's API usage", () =>
    withClient((client) =>
      Effect.gen(function* () {
        yield* client.describeSObject("Account")
        yield* client.limits
        yield* client.createJob({ object: "Account", operation: "insert" })
        const usage = yield* client.usage
        expect(usage.calls).toEqual({ describe: 1, limits: 1, create: 1 })
        expect(usage.totalCalls).toBe(3)
        expect(usage.orgApiRequests?.used).toBe(org.stats().calls.total - org.stats().calls.token)
        expect(usage.orgApiRequests?.max).toBeGreaterThan(0)
      })
    ))

  it.effect("never puts the access token or secrets in errors", () =>
    withClient((client) =>
      Effect.gen(function* () {
        org.setFaults({ httpErrors: [{ call: "create", status: 500, every: 1 }] })
        const exit = yield* Effect.exit(client.createJob({ object: "Account", operation: "insert" }))
        const secrets = org.activeAccessTokens().concat([org.credentials.clientSecret, org.credentials.refreshToken])
        expect(secrets.length).toBeGreaterThan(2)
        const rendered = `${Exit.isFailure(exit) ? Cause.pretty(exit.cause) : ""}\n${JSON.stringify(exit)}`
        expect(rendered).toContain("ServerError")
        for (const secret of secrets) expect(rendered).not.toContain(secret)
      })
    ))

  it.effect("runs the README example: an upsert and its refused rows", () =>
    withClient(() =>
      Effect.gen(function* () {
        org.setFaults({ processingDelayMs: 0 })
        const outcome = yield* upsertAccounts("Name,External_Id__c\nInitech,EX-1\n,EX-2\n").pipe(Effect.provide(clientLayer()))
        expect(outcome.state).toBe("JobComplete")
        expect(outcome.processed).toBe(2)
        expect(Chunk.toArray(outcome.refused).map((row) => row["External_Id__c"])).toEqual(["EX-2"])
      })
    ))
})
