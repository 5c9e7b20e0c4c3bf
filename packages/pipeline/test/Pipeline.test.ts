import { describe, expect, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Stream from "effect/Stream"
import { http, HttpResponse } from "msw"
import { type BulkClient, PollCadence } from "@sfdc-activation/bulk-client"
import { type RejectedRecord, RejectSink } from "@sfdc-activation/rejects-s3"
import { readdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Pipeline, StreamPlans } from "../src/index.js"
import { baseUrl, bulkLayer, emulatedOrgSuite, localRejects, readRejects, tempDirectory } from "./support.js"

const { org, server } = emulatedOrgSuite()

const column = (name: string, key = name) => ({ column: name, source: { key } })

const contactPlan = (overrides: Partial<StreamPlans.PlanRequest> = {}) =>
  withOrg(StreamPlans.plan({
    stream: { name: "contacts" },
    object: "Contact",
    operation: "insert",
    columns: [column("LastName", "last_name"), column("Email", "email"), column("External_Id__c", "id")],
    ...overrides
  }))

/** Plans need describes: the same org, through its own session. */
const withOrg = <A, E>(effect: Effect.Effect<A, E, BulkClient.BulkClient>) => Effect.provide(effect, bulkLayer(org))

/** Runs inputs through the pipeline against the org, rejects in a temp directory. */
const runSync = <P>(
  plans: ReadonlyMap<string, Pipeline.StreamPlan>,
  inputs: ReadonlyArray<Pipeline.PipelineInput<P>>,
  options: Pipeline.PipelineOptions = {}
) => {
  const directory = tempDirectory("pipeline-rejects-")
  return Effect.gen(function* () {
    const events = yield* Stream.fromIterable(inputs).pipe(Pipeline.run(plans, options), Stream.runCollect, Effect.map(Chunk.toArray))
    return { events, directory }
  }).pipe(Effect.provide(Layer.merge(bulkLayer(org), localRejects(directory))))
}

/** Every close is carried out, then its connection cut before any answer, however often it is retried; `afterClose` runs between. */
const closesAnswerLost = (afterClose: () => void = () => undefined) =>
  server.use(
    http.patch(`${baseUrl}/services/data/:version/jobs/ingest/:id`, async ({ request }) => {
      const body: unknown = await request.clone().json()
      if (typeof body !== "object" || body === null || !("state" in body) || body.state !== "UploadComplete") return undefined
      await org.handle(request)
      afterClose()
      return HttpResponse.error()
    })
  )

const released = <P>(events: ReadonlyArray<Pipeline.PipelineEvent<P>>) =>
  events.flatMap((event) => (event._tag === "CheckpointReleased" ? [event] : []))

const summaryOf = <P>(events: ReadonlyArray<Pipeline.PipelineEvent<P>>) => {
  const last = events[events.length - 1]
  if (last?._tag !== "Finished") throw new Error("no summary")
  return last.summary
}

/** Contacts this suite loaded (the fixture seeds others). */
const loadedContacts = () => org.storedRecords("Contact").filter((record) => String(record["External_Id__c"] ?? "").startsWith("T-"))

const contacts = (count: number, start = 0) =>
  Array.from({ length: count }, (_, index) =>
    Pipeline.record<string>("contacts", { last_name: `Lovelace ${start + index}`, email: `ada${start + index}@example.com`, id: `T-${start + index}` })
  )

describe("Pipeline", () => {
  it.live("takes a job's close answer as its first poll: the job is first asked about one interval later", () =>
    Effect.gen(function* () {
      org.setFaults({ processingDelayMs: 0 })
      const plan = yield* contactPlan()
      // when the job was closed, and when it was asked about; the calls go on to the org
      const calls: Array<{ readonly call: "close" | "poll"; readonly at: number }> = []
      server.use(
        http.patch(`${baseUrl}/services/data/:version/jobs/ingest/:id`, () => void calls.push({ call: "close", at: performance.now() })),
        http.get(`${baseUrl}/services/data/:version/jobs/ingest/:id`, () => void calls.push({ call: "poll", at: performance.now() }))
      )
      const directory = tempDirectory("pipeline-rejects-")
      const events = yield* Stream.fromIterable(contacts(3)).pipe(
        Pipeline.run(new Map([["contacts", plan]])),
        Stream.runCollect,
        Effect.map(Chunk.toArray),
        Effect.provide(Layer.merge(bulkLayer(org, baseUrl, {}), localRejects(directory)))
      )
      expect(summaryOf(events).totals).toMatchObject({ created: 3, jobs: 1 })
      // the emulator finished the job at its close, but its close answer says UploadComplete, as Salesforce's does
      expect(calls.map(({ call }) => call)).toEqual(["close", "poll"])
      const [closed, polled] = calls
      expect((polled?.at ?? 0) - (closed?.at ?? 0)).toBeGreaterThanOrEqual(PollCadence.initialIntervalMillis - 5)
    }))

  it.live("asked to stop, it reads no more, awaits the job in flight, releases its checkpoint and fails with Stopped", () =>
    Effect.gen(function* () {
      org.setFaults({ processingDelayMs: 600 })
      const plan = yield* contactPlan()
      const stop = yield* Deferred.make<void>()
      // the input stays open, as a source still running does
      const input = Stream.concat(Stream.fromIterable([...contacts(3, 700), Pipeline.checkpoint("in flight", "contacts")]), Stream.never)
      const jobsBefore = org.stats().calls.create
      const closesBefore = org.stats().calls.close
      const fiber = yield* Effect.fork(
        input.pipe(
          Pipeline.run(new Map([["contacts", plan]]), { maxBatchAge: "20 millis", stop: Deferred.await(stop) }),
          Stream.either,
          Stream.runCollect,
          Effect.map(Chunk.toArray),
          Effect.provide(Layer.merge(bulkLayer(org), localRejects(tempDirectory("pipeline-stop-"))))
        )
      )
      // the job is closed and Salesforce is processing it when the stop comes
      while (org.stats().calls.close === closesBefore) yield* Effect.sleep("10 millis")
      yield* Deferred.succeed(stop, undefined)
      const outcome = yield* Fiber.join(fiber)
      org.setFaults({ processingDelayMs: 0 })
      const events = outcome.flatMap((item) => (item._tag === "Right" ? [item.right] : []))
      expect(released(events)).toEqual([{ _tag: "CheckpointReleased", payload: "in flight", recordCount: 3, rejectedCount: 0 }])
      expect(outcome.flatMap((item) => (item._tag === "Left" ? [item.left.reason] : []))).toEqual(["Stopped"])
      expect(loadedContacts().filter((record) => String(record["External_Id__c"]).startsWith("T-70"))).toHaveLength(3)
      expect(org.stats().calls.create - jobsBefore).toBe(1)
    }))

  it.live("asked to stop, it sends no follow-up job: rows waiting for one are rejected once some rows of their batch are saved, else the batch stays unsettled; a job uploaded but not closed is aborted", () =>
    Effect.gen(function* () {
      const plan = yield* contactPlan()
      const fast = { rowRetryDelay: "200 millis" } as const
      /** Runs `count` rows with a checkpoint after them, fires the stop when `ready` holds, and returns what came out and the rejects. */
      const stopWhen = (start: number, count: number, ready: () => boolean) =>
        Effect.gen(function* () {
          const stop = yield* Deferred.make<void>()
          const directory = tempDirectory("pipeline-stop-")
          const input = Stream.concat(Stream.fromIterable([...contacts(count, start), Pipeline.checkpoint("after", "contacts")]), Stream.never)
          const fiber = yield* Effect.fork(
            input.pipe(
              Pipeline.run(new Map([["contacts", plan]]), { maxBatchAge: "20 millis", stop: Deferred.await(stop), ingest: fast }),
              Stream.either,
              Stream.runCollect,
              Effect.map(Chunk.toArray),
              Effect.provide(Layer.merge(bulkLayer(org), localRejects(directory)))
            )
          )
          while (!ready()) yield* Effect.sleep("5 millis")
          yield* Deferred.succeed(stop, undefined)
          const outcome = yield* Fiber.join(fiber)
          return {
            released: released(outcome.flatMap((item) => (item._tag === "Right" ? [item.right] : []))),
            failures: outcome.flatMap((item) => (item._tag === "Left" ? [item.left.reason] : [])),
            rejects: yield* readRejects(directory)
          }
        })
      const calls = () => org.stats().calls
      const loadedFrom = (prefix: string) => loadedContacts().filter((record) => String(record["External_Id__c"]).startsWith(prefix))

      // every job fails after 4 rows: without the stop, follow-ups would load the other 19
      org.setFaults({ processingDelayMs: 0, failJobAfterRows: 4 })
      let before = calls()
      const saved = yield* stopWhen(800, 23, () => calls().close > before.close)
      expect(saved.failures).toEqual(["Stopped"])
      expect(calls().create - before.create).toBe(1)
      expect(loadedFrom("T-80")).toHaveLength(4)
      // the 4 saved rows are not sent again by the next run: the batch is settled, its 19 other rows rejected
      expect(saved.released).toEqual([{ _tag: "CheckpointReleased", payload: "after", recordCount: 23, rejectedCount: 19 }])
      expect(saved.rejects).toHaveLength(19)
      expect(new Set(saved.rejects.map((record) => record.statusCode))).toEqual(new Set(["UNPROCESSED"]))
      expect(new Set([...loadedFrom("T-80"), ...saved.rejects.map((record) => record.row)].map((row) => row["External_Id__c"]))).toHaveProperty("size", 23)

      // a job that saved nothing: its batch stays unsettled, to be sent whole by the next run
      org.setFaults({ processingDelayMs: 0, failJobAfterRows: 0 })
      before = calls()
      const unsaved = yield* stopWhen(850, 5, () => calls().close > before.close)
      expect(unsaved.failures).toEqual(["Stopped"])
      expect(calls().create - before.create).toBe(1)
      expect(unsaved.released).toEqual([])
      expect(unsaved.rejects).toEqual([])
      expect(loadedFrom("T-85")).toEqual([])

      // the stop comes while the follow-up job uploads: it is aborted, and its rows rejected
      org.setFaults({ processingDelayMs: 0, failJobAfterRows: 2, slowResponses: [{ call: "upload", delayMs: 300, times: 2 }] })
      before = calls()
      const followUpUploading = yield* stopWhen(870, 6, () => calls().upload >= before.upload + 2)
      expect(followUpUploading.failures).toEqual(["Stopped"])
      expect(calls().create - before.create).toBe(2)
      expect(calls().close - before.close).toBe(1)
      expect(calls().abort - before.abort).toBe(1)
      expect(loadedFrom("T-87")).toHaveLength(2)
      expect(followUpUploading.released).toEqual([{ _tag: "CheckpointReleased", payload: "after", recordCount: 6, rejectedCount: 4 }])
      expect(followUpUploading.rejects).toHaveLength(4)

      // an upload Salesforce takes its time over: the job is aborted, not closed, when it ends
      org.setFaults({ processingDelayMs: 0, slowResponses: [{ call: "upload", delayMs: 300 }] })
      before = calls()
      const uploading = yield* stopWhen(900, 3, () => calls().upload > before.upload)
      expect(uploading.failures).toEqual(["Stopped"])
      expect(uploading.released).toEqual([])
      expect(calls().close - before.close).toBe(0)
      expect(calls().abort - before.abort).toBe(1)
      expect(loadedFrom("T-90")).toEqual([])
      org.setFaults({ processingDelayMs: 0 })
    }))

  it.live("a value refused before sending that text cannot write (an invalid date) is stored as the text its source value keeps", () =>
    Effect.gen(function* () {
      const plan = yield* contactPlan({ columns: [column("LastName", "last_name"), column("External_Id__c", "id"), column("Birthdate", "born")] })
      const { directory } = yield* runSync(new Map([["contacts", plan]]), [Pipeline.record<string>("contacts", { last_name: "Odd", id: "T-odd-1", born: new Date(Number.NaN) })])
      const rejects = yield* readRejects(directory)
      // a replay compares each cell with its source value to tell an edit: left as is, they agree
      expect(rejects.map((reject) => [reject.row["born"], reject.sourceValues?.["born"]])).toEqual([["Invalid Date", "Invalid Date"]])
    }))

  it.live("a rejects store that cannot be written still lets out the checkpoints before the first reject, then fails", () =>
    Effect.gen(function* () {
      const plan = yield* contactPlan()
      // the rejects directory cannot be made (a file is in its way): records are kept until a flush, which fails
      const blocked = join(tempDirectory("pipeline-blocked-"), "rejects")
      writeFileSync(blocked, "not a directory")
      const inputs = [
        ...contacts(2, 900),
        Pipeline.checkpoint("clean", "contacts"),
        Pipeline.record<string>("contacts", { email: "no-name@example.com", id: "T-blocked" }),
        Pipeline.checkpoint("after the reject", "contacts")
      ]
      const outcome = yield* Stream.fromIterable(inputs).pipe(
        Pipeline.run(new Map([["contacts", plan]])),
        Stream.either,
        Stream.runCollect,
        Effect.map(Chunk.toArray),
        Effect.provide(Layer.merge(bulkLayer(org), localRejects(blocked)))
      )
      const events = outcome.flatMap((item) => (item._tag === "Right" ? [item.right] : []))
      // its records are in Salesforce: withholding it would have them sent (inserted) again
      expect(released(events)).toEqual([{ _tag: "CheckpointReleased", payload: "clean", recordCount: 2, rejectedCount: 0 }])
      expect(outcome.flatMap((item) => (item._tag === "Left" ? [item.left.reason] : []))).toEqual(["RejectSinkFailed"])
      expect(loadedContacts().filter((record) => ["T-900", "T-901"].includes(String(record["External_Id__c"])))).toHaveLength(2)
    }))

  it.live("sends a few rows and releases their checkpoint while the input stays open", () =>
    Effect.gen(function* () {
      org.setFaults({ processingDelayMs: 0 })
      const plan = yield* contactPlan()
      // a few rows (far below a block), then an input that neither ends nor sends anything
      const first = yield* Stream.concat(Stream.fromIterable([...contacts(3), Pipeline.checkpoint("s1", "contacts")]), Stream.never).pipe(
        Pipeline.run(new Map([["contacts", plan]]), { maxBatchAge: "10 millis" }),
        Stream.filter((event) => event._tag === "CheckpointReleased"),
        Stream.runHead,
        Effect.provide(Layer.merge(bulkLayer(org), localRejects(tempDirectory("pipeline-open-")))),
        Effect.timeout("20 seconds")
      )
      expect(first._tag === "Some" && first.value._tag === "CheckpointReleased" ? first.value.payload : undefined).toBe("s1")
      expect(loadedContacts()).toHaveLength(3)
    }))

  it.live("loads records, echoes checkpoints in order with counts, and reports", () =>
    Effect.gen(function* () {
      org.setFaults({ processingDelayMs: 0 })
      const plan = yield* contactPlan()
      const inputs = [
        ...contacts(3),
        Pipeline.checkpoint("s1", "contacts"),
        ...contacts(2, 3),
        Pipeline.record<string>("contacts", { email: "no-name@example.com", id: "T-bad" }),
        Pipeline.checkpoint("s2", "contacts")
      ]
      const { events, directory } = yield* runSync(new Map([["contacts", plan]]), inputs)
      expect(released(events)).toEqual([
        { _tag: "CheckpointReleased", payload: "s1", recordCount: 3, rejectedCount: 0 },
        { _tag: "CheckpointReleased", payload: "s2", recordCount: 3, rejectedCount: 1 }
      ])
      expect(loadedContacts().map((record) => record["External_Id__c"]).sort()).toEqual(["T-0", "T-1", "T-2", "T-3", "T-4"])
      const rejects = yield* readRejects(directory)
      expect(rejects).toHaveLength(1)
      expect(rejects[0]).toMatchObject({ statusCode: "REQUIRED_FIELD_MISSING", object: "Contact", operation: "insert", stream: { name: "contacts" } })
      expect(rejects[0]?.row).toMatchObject({ email: "no-name@example.com" })
      expect(summaryOf(events).totals).toMatchObject({ recordsIn: 6, created: 5, rejected: 1, rejectedLocally: 1, jobs: 1 })
      // Every row sent was processed without a failure: there were no results to read.
      expect(org.stats().calls.results).toBe(0)
    }))

  it.live("stores a row refused before sending in its form, with the values text would not give back", () =>
    Effect.gen(function* () {
      const plan = yield* contactPlan()
      const sentPlan: Pipeline.StreamPlan = {
        ...(yield* contactPlan({ stream: { name: "contacts#as-sent" }, columns: [column("LastName"), column("Email"), column("External_Id__c")] })),
        rowForm: "sent"
      }
      const values = {
        email: "values@example.com",
        id: "T-values",
        tags: ["Product", "Events"],
        engagedAt: 1700000000000,
        optIn: true,
        nested: { a: [1, { b: null }] },
        seenAt: new Date("2024-05-06T07:08:09.010Z"),
        visits: 12345678901234567890n,
        note: null,
        score: Number.NaN,
        ratio: [Number.POSITIVE_INFINITY],
        due: new Date(Number.NaN),
        badge: new Uint8Array([0xde, 0xad, 0xbe, 0xef])
      }
      const { directory } = yield* runSync(new Map([["contacts", plan], ["sent", sentPlan]]), [
        Pipeline.record<string>("contacts", values),
        Pipeline.record<string>("contacts", { email: "plain@example.com", id: "T-plain", last_name: null }),
        Pipeline.record<string>("sent", { LastName: null, Email: "sent@example.com", External_Id__c: "T-sent" })
      ])
      const rejects = yield* readRejects(directory)
      const stored = (id: string) => rejects.find((reject) => reject.row["id"] === id || reject.row["External_Id__c"] === id)
      expect(rejects.every((reject) => reject.statusCode === "REQUIRED_FIELD_MISSING")).toBe(true)
      expect(stored("T-values")).toMatchObject({
        rowForm: "source",
        row: {
          tags: '["Product","Events"]',
          engagedAt: "1700000000000",
          optIn: "true",
          nested: '{"a":[1,{"b":null}]}',
          seenAt: "2024-05-06T07:08:09.010Z",
          visits: "12345678901234567890",
          note: ""
        },
        // what JSON cannot hold is kept as the text the encoder read (JSON would make NaN null: a clear)
        sourceValues: { ...values, seenAt: "2024-05-06T07:08:09.010Z", visits: "12345678901234567890", score: "NaN", ratio: ["Infinity"], due: "Invalid Date", badge: "3q2+7w==" }
      })
      expect(stored("T-plain")).toMatchObject({ rowForm: "source", row: { email: "plain@example.com", id: "T-plain", last_name: "" } })
      expect(stored("T-plain")?.sourceValues).toBeUndefined()
      // a row as sent keeps a cleared field as it was sent
      expect(stored("T-sent")).toMatchObject({ rowForm: "sent", row: { LastName: "#N/A", Email: "sent@example.com", External_Id__c: "T-sent" } })
      expect(stored("T-sent")?.sourceValues).toBeUndefined()
    }))

  it.live("splits into many jobs, keeps server rejects, and never loses a record across streams", () =>
    Effect.gen(function* () {
      org.setFaults({ processingDelayMs: 0 })
      const plans = new Map([
        ["contacts", yield* contactPlan({ validate: false })],
        [
          "accounts",
          yield* withOrg(
            StreamPlans.plan({ stream: { name: "accounts" }, object: "Account", operation: "insert", columns: [column("Name", "name"), column("Website", "site")] })
          )
        ]
      ])
      const inputs: Array<Pipeline.PipelineInput<string>> = []
      for (let round = 0; round < 6; round++) {
        inputs.push(...contacts(7, round * 7))
        inputs.push(Pipeline.record("contacts", { email: "x@example.com", id: `bad-${round}` }))
        inputs.push(Pipeline.record("accounts", { name: `Zeta ${round}`, site: "acme.example" }))
        inputs.push(Pipeline.checkpoint(`contacts-${round}`, "contacts"))
        if (round % 2 === 1) inputs.push(Pipeline.checkpoint(`global-${round}`))
      }
      const { events, directory } = yield* runSync(plans, inputs, { maxBatchBytes: 200, maxConcurrentJobs: 3 })
      const payloads = released(events).map((event) => event.payload)
      const expected = inputs.flatMap((input) => (input._tag === "Checkpoint" ? [input.payload] : []))
      expect(payloads).toEqual(expected)
      const summary = summaryOf(events)
      expect(summary.streams["contacts"]?.jobs).toBeGreaterThanOrEqual(6)
      expect(loadedContacts()).toHaveLength(42)
      expect(org.storedRecords("Account").filter((record) => String(record["Name"]).startsWith("Zeta "))).toHaveLength(6)
      const rejects = yield* readRejects(directory)
      expect(rejects).toHaveLength(6)
      expect(rejects.every((reject) => reject.statusCode === "REQUIRED_FIELD_MISSING" && reject.jobId !== undefined)).toBe(true)
      expect(summary.totals).toMatchObject({ recordsIn: 54, created: 48, rejected: 6, rejectedLocally: 0 })
    }))

  it.live("hands a large input chunk on in several blocks and loses no row after the first", () =>
    Effect.gen(function* () {
      org.setFaults({ processingDelayMs: 0 })
      const plan = yield* contactPlan({
        columns: [column("LastName", "last_name"), column("External_Id__c", "id"), column("Description", "notes")]
      })
      // One input chunk of ~1 MB of rows: several blocks' worth.
      const notes = "x".repeat(300)
      const rows = Array.from({ length: 3_000 }, (_, index) =>
        Pipeline.record<string>("contacts", { last_name: `Lovelace ${index}`, id: `T-${index}`, notes })
      )
      const inputs = [...rows.slice(0, 2_500), Pipeline.checkpoint("s1", "contacts"), ...rows.slice(2_500)]
      const { events } = yield* runSync(new Map([["contacts", plan]]), inputs)
      expect(released(events)).toEqual([{ _tag: "CheckpointReleased", payload: "s1", recordCount: 2_500, rejectedCount: 0 }])
      expect(summaryOf(events).totals).toMatchObject({ recordsIn: 3_000, created: 3_000, jobs: 1 })
      const stored = new Set(loadedContacts().map((record) => record["External_Id__c"]))
      expect(stored.size).toBe(3_000)
      expect(stored.has("T-2499") && stored.has("T-2999")).toBe(true)
    }))

  it.live("counts a rejection towards the checkpoint of its own record when one job holds several checkpoints' records", () =>
    Effect.gen(function* () {
      org.setFaults({ processingDelayMs: 0 })
      // not validated locally: Salesforce refuses the rows without a LastName
      const plan = yield* contactPlan({ validate: false })
      const nameless = (index: number) => Pipeline.record<string>("contacts", { email: `x${index}@example.com`, id: `T-bad${index}` })
      const { events } = yield* runSync(new Map([["contacts", plan]]), [
        nameless(1),
        ...contacts(1),
        nameless(2),
        Pipeline.checkpoint("s1", "contacts"),
        ...contacts(2, 1),
        Pipeline.checkpoint("s2", "contacts"),
        nameless(3),
        Pipeline.checkpoint("s3", "contacts")
      ])
      expect(summaryOf(events).totals).toMatchObject({ jobs: 1, created: 3, rejected: 3 })
      expect(released(events)).toEqual([
        { _tag: "CheckpointReleased", payload: "s1", recordCount: 3, rejectedCount: 2 },
        { _tag: "CheckpointReleased", payload: "s2", recordCount: 2, rejectedCount: 0 },
        { _tag: "CheckpointReleased", payload: "s3", recordCount: 1, rejectedCount: 1 }
      ])
    }))

  it.live("echoes a checkpoint whose records were all settled before it arrived, and one before any record", () =>
    Effect.gen(function* () {
      org.setFaults({ processingDelayMs: 0 })
      const plan = yield* contactPlan()
      const refused = Array.from({ length: 1_200 }, (_, index) => Pipeline.record<string>("contacts", { email: `nameless${index}@example.com`, id: `T-x${index}` }))
      const inputs = [
        Pipeline.checkpoint("start", "contacts"),
        ...refused,
        Pipeline.checkpoint("after-refused", "contacts"),
        Pipeline.checkpoint("nothing-new", "contacts"),
        ...contacts(2),
        Pipeline.checkpoint("end", "contacts")
      ]
      const { events } = yield* runSync(new Map([["contacts", plan]]), inputs)
      expect(released(events)).toEqual([
        { _tag: "CheckpointReleased", payload: "start", recordCount: 0, rejectedCount: 0 },
        { _tag: "CheckpointReleased", payload: "after-refused", recordCount: 1_200, rejectedCount: 1_200 },
        { _tag: "CheckpointReleased", payload: "nothing-new", recordCount: 0, rejectedCount: 0 },
        { _tag: "CheckpointReleased", payload: "end", recordCount: 2, rejectedCount: 0 }
      ])
      expect(loadedContacts()).toHaveLength(2)
    }))

  it.live("resubmits the unprocessed rows of a job that failed part way", () =>
    Effect.gen(function* () {
      org.setFaults({ processingDelayMs: 0, failJobAfterRows: 4 })
      const plan = yield* contactPlan()
      const { events } = yield* runSync(new Map([["contacts", plan]]), [...contacts(10), Pipeline.checkpoint("done", "contacts")])
      expect(loadedContacts()).toHaveLength(10)
      expect(released(events)).toHaveLength(1)
      expect(summaryOf(events).totals.jobs).toBeGreaterThanOrEqual(2)
    }))

  it.live("a follow-up job that fails before its close settles the batch: the rows it held are rejected, the saved ones not sent again, and the run fails", () =>
    Effect.gen(function* () {
      const plan = yield* contactPlan()
      const run = (start: number) =>
        Effect.gen(function* () {
          const directory = tempDirectory("pipeline-rejects-")
          const outcome = yield* Stream.fromIterable([...contacts(8, start), Pipeline.checkpoint("after", "contacts")]).pipe(
            Pipeline.run(new Map([["contacts", plan]]), { ingest: { rowRetryDelay: "10 millis" } }),
            Stream.either,
            Stream.runCollect,
            Effect.map(Chunk.toArray),
            Effect.provide(Layer.merge(bulkLayer(org), localRejects(directory)))
          )
          return {
            released: released(outcome.flatMap((item) => (item._tag === "Right" ? [item.right] : []))),
            failures: outcome.flatMap((item) => (item._tag === "Left" ? [item.left.reason] : [])),
            rejects: yield* readRejects(directory)
          }
        })
      const loadedFrom = (prefix: string) => loadedContacts().filter((record) => String(record["External_Id__c"]).startsWith(prefix))

      /** From now on, Salesforce refuses to create the second job. */
      const refuseSecondJob = () => {
        let creates = 0
        server.use(
          http.post(`${baseUrl}/services/data/:version/jobs/ingest`, () =>
            ++creates === 2 ? HttpResponse.json([{ errorCode: "INVALIDJOB", message: "no" }], { status: 400 }) : undefined
          )
        )
      }

      // the first job saves 3 rows and fails; Salesforce refuses to create the follow-up
      org.setFaults({ processingDelayMs: 0, failJobAfterRows: 3 })
      refuseSecondJob()
      const refused = yield* run(1100)
      expect(refused.failures).toEqual(["SalesforceFailed"])
      expect(loadedFrom("T-110")).toHaveLength(3)
      expect(refused.released).toEqual([{ _tag: "CheckpointReleased", payload: "after", recordCount: 8, rejectedCount: 5 }])
      expect(refused.rejects.map((record) => record.statusCode)).toEqual(Array(5).fill("UNPROCESSED"))
      expect(new Set([...loadedFrom("T-110"), ...refused.rejects.map((record) => record.row)].map((row) => row["External_Id__c"]))).toHaveProperty("size", 8)

      // a follow-up closed, then not answered for: it may have saved its rows, so the batch stays unsettled
      const firstJobs = new Set<string>()
      let followUpClosed = false
      server.use(
        http.get(`${baseUrl}/services/data/:version/jobs/ingest/:id`, ({ params }) => {
          const id = String(params["id"])
          if (!followUpClosed) {
            firstJobs.add(id)
            return undefined
          }
          return firstJobs.has(id) ? undefined : HttpResponse.json([{ errorCode: "INVALIDJOB", message: "no" }], { status: 400 })
        }),
        http.patch(`${baseUrl}/services/data/:version/jobs/ingest/:id`, ({ params }) => {
          if (firstJobs.size > 0 && !firstJobs.has(String(params["id"]))) followUpClosed = true
          return undefined
        })
      )
      org.setFaults({ processingDelayMs: 0, failJobAfterRows: 3 })
      const unknown = yield* run(1200)
      expect(unknown.failures).toEqual(["SalesforceFailed"])
      expect(followUpClosed).toBe(true)
      expect(unknown.released).toEqual([])
      expect(unknown.rejects).toEqual([])

      // a batch in parts (an upsert repeating a key): the part after the one cut short is not sent, the batch stays unsettled
      const upsert = yield* contactPlan({ operation: "upsert", externalIdFieldName: "External_Id__c" })
      server.resetHandlers()
      org.setFaults({ processingDelayMs: 0, failJobAfterRows: 2 })
      refuseSecondJob()
      const createsBefore = org.stats().calls.create
      const inParts = yield* Stream.fromIterable([
        ...contacts(4, 1300),
        Pipeline.record<string>("contacts", { last_name: "Again", email: "again@example.com", id: "T-1300" }),
        Pipeline.checkpoint("after", "contacts")
      ]).pipe(
        Pipeline.run(new Map([["contacts", upsert]]), { ingest: { rowRetryDelay: "10 millis" } }),
        Stream.either,
        Stream.runCollect,
        Effect.map(Chunk.toArray),
        Effect.provide(Layer.merge(bulkLayer(org), localRejects(tempDirectory("pipeline-rejects-"))))
      )
      expect(inParts.flatMap((item) => (item._tag === "Left" ? [item.left.reason] : []))).toEqual(["SalesforceFailed"])
      expect(released(inParts.flatMap((item) => (item._tag === "Right" ? [item.right] : [])))).toEqual([])
      expect(org.stats().calls.create - createsBefore).toBe(1)
      expect(loadedFrom("T-130").map((record) => record["LastName"]).sort()).toEqual(["Lovelace 1300", "Lovelace 1301"])
      org.setFaults({ processingDelayMs: 0 })
    }))

  it.live("keeps sending follow-up jobs past the usual two while each gets rows through, and stops at one that gets none", () =>
    Effect.gen(function* () {
      org.setFaults({ processingDelayMs: 0, failJobAfterRows: 4 })
      const plan = yield* contactPlan()
      const fast = { ingest: { rowRetryDelay: "0 millis" } } as const
      // 4 rows a job: 23 rows take the first job and 5 follow-ups
      const progressing = yield* runSync(new Map([["contacts", plan]]), contacts(23, 500), fast)
      expect(summaryOf(progressing.events).totals).toMatchObject({ created: 23, rejected: 0, jobs: 6 })
      // a job that saves nothing: the usual two follow-ups, then the rows are rejected as unprocessed
      org.setFaults({ processingDelayMs: 0, failJobAfterRows: 0 })
      const stalled = yield* runSync(new Map([["contacts", plan]]), contacts(3, 600), fast)
      expect(summaryOf(stalled.events).totals).toMatchObject({ created: 0, rejected: 3, jobs: 3 })
      expect((yield* readRejects(stalled.directory)).map((reject) => reject.statusCode)).toEqual(["UNPROCESSED", "UNPROCESSED", "UNPROCESSED"])
    }))

  it.live("logs each job when it is sent and when Salesforce has finished it, with its outcome", () =>
    Effect.gen(function* () {
      org.setFaults({ processingDelayMs: 0, failJobAfterRows: 4 })
      const plan = yield* contactPlan()
      const lines: Array<string> = []
      const collect = Logger.replace(Logger.defaultLogger, Logger.make(({ message }) => lines.push(Array.isArray(message) ? message.join(" ") : String(message))))
      yield* runSync(new Map([["contacts", plan]]), [...contacts(10), Pipeline.checkpoint("done", "contacts")]).pipe(Effect.provide(collect))
      const jobLines = lines.filter((line) => line.startsWith("job ")).map((line) => line.replace(/^job \w{18}:/, "job:").replace(/after \d+\.\d s/, "after t s"))
      // Every job fails after 4 rows: the rest go again in follow-up jobs until none is left.
      const failed = "Failed after t s, 4 rows processed, 0 failed: InternalServerError : the job failed after 4 rows (fault injection)"
      expect(jobLines).toEqual([
        "job: insert of 10 rows (350 B) sent to Salesforce",
        `job: ${failed}`,
        "job: insert of 6 rows (222 B) sent to Salesforce",
        `job: ${failed}`,
        "job: insert of 2 rows (94 B) sent to Salesforce",
        "job: JobComplete after t s, 2 rows processed, 0 failed"
      ])
    }))

  it.live("spools a large set of unprocessed rows to a temp file, sends it again and leaves no file behind", () =>
    Effect.gen(function* () {
      org.setFaults({ processingDelayMs: 0, failJobAfterRows: 4 })
      const plan = yield* contactPlan()
      const tempDir = tempDirectory("pipeline-spool-")
      // Every job fails after 4 rows: 10 rows take the first job and two follow-ups, each spooled.
      const { events } = yield* runSync(new Map([["contacts", plan]]), contacts(10), { tempDir, ingest: { retryMemoryLimitBytes: 64 } })
      expect(loadedContacts().map((record) => record["External_Id__c"]).sort()).toEqual(contacts(10).map((_, index) => `T-${index}`).sort())
      expect(summaryOf(events).totals).toMatchObject({ created: 10, rejected: 0, jobs: 3 })
      expect(readdirSync(tempDir)).toEqual([])
    }))

  it.live("rejects spooled rows with their values and error when the follow-up jobs run out", () =>
    Effect.gen(function* () {
      org.setFaults({ processingDelayMs: 0, failJobAfterRows: 4 })
      const plan = yield* contactPlan()
      const tempDir = tempDirectory("pipeline-spool-")
      const { events, directory } = yield* runSync(new Map([["contacts", plan]]), contacts(10), {
        tempDir,
        ingest: { retryMemoryLimitBytes: 64, maxRowRetries: 0 }
      })
      expect(loadedContacts()).toHaveLength(4)
      const rejects = yield* readRejects(directory)
      expect(rejects).toHaveLength(6)
      expect(new Set(rejects.map((reject) => reject.statusCode))).toEqual(new Set(["UNPROCESSED"]))
      const loaded = new Set(loadedContacts().map((record) => String(record["External_Id__c"])))
      const expected = contacts(10).flatMap((input) =>
        input._tag === "Record" && !loaded.has(String(input.data["id"])) ? [{ LastName: input.data["last_name"], Email: input.data["email"], External_Id__c: input.data["id"] }] : []
      )
      expect(rejects.map((reject) => reject.row).sort((a, b) => String(a["External_Id__c"]).localeCompare(String(b["External_Id__c"])))).toEqual(
        expected.sort((a, b) => String(a.External_Id__c).localeCompare(String(b.External_Id__c)))
      )
      expect(summaryOf(events).totals).toMatchObject({ created: 4, rejected: 6 })
      expect(readdirSync(tempDir)).toEqual([])
    }))

  it.live("retries rows that met UNABLE_TO_LOCK_ROW in a follow-up job", () =>
    Effect.gen(function* () {
      org.setFaults({ processingDelayMs: 0, lockErrorRate: 0.5 })
      const plan = yield* contactPlan()
      const { events } = yield* runSync(new Map([["contacts", plan]]), contacts(40))
      expect(loadedContacts()).toHaveLength(40)
      const totals = summaryOf(events).totals
      expect(totals).toMatchObject({ created: 40, rejected: 0 })
      expect(totals.jobs).toBeGreaterThanOrEqual(2)
    }))

  it.live("rejects a row whose follow-up jobs ran out with the Id of the record Salesforce named", () =>
    Effect.gen(function* () {
      org.setFaults({ processingDelayMs: 0 })
      const plan = yield* contactPlan({ operation: "upsert", externalIdFieldName: "External_Id__c" })
      const plans = new Map([["contacts", plan]])
      yield* runSync(plans, contacts(2))
      const ids = new Map(loadedContacts().map((record) => [record["External_Id__c"], record["Id"]]))
      org.setFaults({ processingDelayMs: 0, lockErrorRate: 1 })
      // The emulator hits a row with a lock error once: with no follow-up job, it is rejected.
      const { directory } = yield* runSync(plans, contacts(2), { ingest: { maxRowRetries: 0 } })
      const rejects = yield* readRejects(directory)
      expect(rejects.map((reject) => [reject.statusCode, reject.row["External_Id__c"], reject.sfId]).sort()).toEqual([
        ["UNABLE_TO_LOCK_ROW", "T-0", ids.get("T-0")],
        ["UNABLE_TO_LOCK_ROW", "T-1", ids.get("T-1")]
      ])
    }))

  it.live("an upsert keyed on a column named like an inherited property (constructor) sends a record without it keyless", () =>
    Effect.gen(function* () {
      org.setFaults({ processingDelayMs: 0 })
      // unvalidated, the keyless record goes to Salesforce, which refuses it
      const plan = yield* contactPlan({
        operation: "upsert",
        externalIdFieldName: "External_Id__c",
        validate: false,
        columns: [column("LastName", "last_name"), column("External_Id__c", "constructor")]
      })
      const records = [
        Pipeline.record<string>("contacts", { last_name: "Hamilton", constructor: "T-ctor-1" }),
        Pipeline.record<string>("contacts", { last_name: "Nobody" })
      ]
      const { events } = yield* runSync(new Map([["contacts", plan]]), records)
      expect(summaryOf(events).totals).toMatchObject({ recordsIn: 2, created: 1, rejected: 1 })
      expect(loadedContacts().filter((record) => record["External_Id__c"] === "T-ctor-1")).toHaveLength(1)
    }))

  it.live("upserts by external id without duplicates, counting created and updated, and clears nulls", () =>
    Effect.gen(function* () {
      org.setFaults({ processingDelayMs: 0 })
      const plan = yield* contactPlan({ operation: "upsert", externalIdFieldName: "External_Id__c" })
      const plans = new Map([["contacts", plan]])
      yield* runSync(plans, contacts(5))
      const second = yield* runSync(plans, [
        ...contacts(3, 3),
        Pipeline.record<string>("contacts", { last_name: "Lovelace 0", email: null, id: "T-0" })
      ])
      expect(summaryOf(second.events).totals).toMatchObject({ created: 1, updated: 3 })
      const stored = loadedContacts()
      expect(stored).toHaveLength(6)
      expect(stored.find((record) => record["External_Id__c"] === "T-0")?.["Email"] ?? null).toBeNull()
    }))

  it.live("sends a key twice in separate jobs, so the later record wins", () =>
    Effect.gen(function* () {
      org.setFaults({ processingDelayMs: 0 })
      const plan = yield* contactPlan({ operation: "upsert", externalIdFieldName: "External_Id__c" })
      const { events } = yield* runSync(new Map([["contacts", plan]]), [
        Pipeline.record("contacts", { last_name: "First", email: "a@example.com", id: "T-dup" }),
        Pipeline.record("contacts", { last_name: "Other", email: "b@example.com", id: "T-other" }),
        Pipeline.record("contacts", { last_name: "Second", email: "c@example.com", id: "t-DUP" })
      ])
      const totals = summaryOf(events).totals
      expect(totals).toMatchObject({ created: 2, updated: 1, rejected: 0, jobs: 2 })
      expect(org.storedRecords("Contact").find((record) => String(record["External_Id__c"]).toLowerCase() === "t-dup")?.["LastName"]).toBe("Second")
    }))

  it.live("starts the later job of a repeated key only once the earlier one is done, even when its upload is slow", () =>
    Effect.gen(function* () {
      // The first job's upload is held back: run side by side, the second job would end first
      // and the older row would overwrite the newer one.
      org.setFaults({ processingDelayMs: 0, slowResponses: [{ call: "upload", delayMs: 300, times: 1 }] })
      const plan = yield* contactPlan({ operation: "upsert", externalIdFieldName: "External_Id__c" })
      const { events } = yield* runSync(new Map([["contacts", plan]]), [
        Pipeline.record("contacts", { last_name: "First", email: "a@example.com", id: "T-dup" }),
        Pipeline.record("contacts", { last_name: "Second", email: "c@example.com", id: "T-dup" }),
        Pipeline.checkpoint("s1", "contacts")
      ])
      expect(released(events)).toHaveLength(1)
      expect(summaryOf(events).totals).toMatchObject({ created: 1, updated: 1, jobs: 2 })
      expect(org.storedRecords("Contact").find((record) => record["External_Id__c"] === "T-dup")?.["LastName"]).toBe("Second")
    }))

  it.live("sends the open batch once 10,000 checkpoints wait on it (a source sending a state after every record)", () =>
    Effect.gen(function* () {
      org.setFaults({ processingDelayMs: 0 })
      const plan = yield* contactPlan()
      const inputs = contacts(25_000).flatMap((record, index) => [record, Pipeline.checkpoint(`s${index}`, "contacts")])
      const { events } = yield* runSync(new Map([["contacts", plan]]), inputs)
      expect(summaryOf(events).totals).toMatchObject({ created: 25_000, rejected: 0, jobs: 3 })
      const payloads = released(events).map((event) => event.payload)
      expect(payloads).toHaveLength(25_000)
      expect(payloads.every((payload, index) => payload === `s${index}`)).toBe(true)
    }))

  it.live("sends rows repeating their keys (a join that fans out) in a job per repeat, not a job per row", () =>
    Effect.gen(function* () {
      org.setFaults({ processingDelayMs: 0 })
      const plan = yield* contactPlan({ operation: "upsert", externalIdFieldName: "External_Id__c" })
      const person = (index: number, name: string) =>
        Pipeline.record<string>("contacts", { last_name: `${name} ${index}`, email: `fan${index}@example.com`, id: `T-fan${index}` })
      const rows = Array.from({ length: 500 }, (_, index) => [person(index, "First"), person(index, "Second")]).flat()
      const { events } = yield* runSync(new Map([["contacts", plan]]), [...rows, Pipeline.checkpoint("s1", "contacts")])
      expect(summaryOf(events).totals).toMatchObject({ created: 500, updated: 500, rejected: 0, jobs: 2 })
      expect(released(events)).toEqual([{ _tag: "CheckpointReleased", payload: "s1", recordCount: 1_000, rejectedCount: 0 }])
      const names = loadedContacts().map((record) => record["LastName"])
      expect(names).toHaveLength(500)
      expect(names.filter((name) => String(name).startsWith("Second"))).toHaveLength(500)
    }))

  it.live("counts a rejection in a later part of a batch towards the checkpoint of its own record", () =>
    Effect.gen(function* () {
      org.setFaults({ processingDelayMs: 0 })
      // not validated locally: Salesforce refuses the names that are too long
      const plan = yield* contactPlan({ operation: "upsert", externalIdFieldName: "External_Id__c", validate: false })
      const person = (id: string, name: string) => Pipeline.record<string>("contacts", { last_name: name, id })
      const tooLong = "x".repeat(81)
      const { events, directory } = yield* runSync(new Map([["contacts", plan]]), [
        person("T-p1", "A"),
        Pipeline.checkpoint("s1", "contacts"),
        person("T-p1", tooLong),
        person("T-p2", "B"),
        person("T-p2", "B2"),
        Pipeline.checkpoint("s2", "contacts"),
        person("T-p2", tooLong),
        Pipeline.checkpoint("s3", "contacts")
      ])
      expect(summaryOf(events).totals).toMatchObject({ jobs: 3, created: 2, updated: 1, rejected: 2 })
      expect(released(events)).toEqual([
        { _tag: "CheckpointReleased", payload: "s1", recordCount: 1, rejectedCount: 0 },
        { _tag: "CheckpointReleased", payload: "s2", recordCount: 3, rejectedCount: 1 },
        { _tag: "CheckpointReleased", payload: "s3", recordCount: 1, rejectedCount: 1 }
      ])
      const stored = new Map(loadedContacts().map((record) => [record["External_Id__c"], record["LastName"]]))
      expect(stored.get("T-p1")).toBe("A")
      expect(stored.get("T-p2")).toBe("B2")
      const rejects = yield* readRejects(directory)
      expect(rejects.map((reject) => [reject.statusCode, reject.row["External_Id__c"]])).toEqual([
        ["STRING_TOO_LONG", "T-p1"],
        ["STRING_TOO_LONG", "T-p2"]
      ])
    }))

  it.live("an upsert on Id named in another case sends one record's 18- and 15-character Ids in separate jobs", () =>
    Effect.gen(function* () {
      org.setFaults({ processingDelayMs: 0 })
      const existing = org.storedRecords("Contact")[0]
      const id = String(existing?.["Id"])
      const plan = yield* contactPlan({ operation: "upsert", externalIdFieldName: "ID", columns: [column("Id", "sfid"), column("LastName", "last_name")] })
      const { events } = yield* runSync(new Map([["contacts", plan]]), [
        Pipeline.record("contacts", { sfid: id, last_name: "First" }),
        Pipeline.record("contacts", { sfid: id.slice(0, 15), last_name: "Second" })
      ])
      expect(summaryOf(events).totals).toMatchObject({ updated: 2, rejected: 0, jobs: 2 })
      expect(org.storedRecords("Contact").find((record) => record["Id"] === id)?.["LastName"]).toBe("Second")
    }))

  it.live("resolves relationship columns through the parent's external id", () =>
    Effect.gen(function* () {
      org.setFaults({ processingDelayMs: 0 })
      const accounts = yield* withOrg(
        StreamPlans.plan({
          stream: { name: "accounts" },
          object: "Account",
          operation: "upsert",
          externalIdFieldName: "External_Id__c",
          columns: [column("Name", "name"), column("External_Id__c", "key")]
        })
      )
      const people = yield* contactPlan({ columns: [column("LastName", "last_name"), column("Account.External_Id__c", "account")] })
      yield* runSync(new Map([["accounts", accounts]]), [Pipeline.record("accounts", { name: "Acme", key: "A-1" })])
      const { directory } = yield* runSync(new Map([["contacts", people]]), [
        Pipeline.record("contacts", { last_name: "Linked", account: "A-1" }),
        Pipeline.record("contacts", { last_name: "Orphan", account: "A-404" })
      ])
      const account = org.storedRecords("Account").find((record) => record["External_Id__c"] === "A-1")
      const linked = org.storedRecords("Contact").find((record) => record["LastName"] === "Linked")
      expect(linked?.["AccountId"]).toBe(account?.["Id"])
      const rejects = yield* readRejects(directory)
      expect(rejects.map((reject) => reject.row["LastName"])).toEqual(["Orphan"])
    }))

  it.live("a stream that fails lets the jobs running in Salesforce finish: their checkpoints go out, then the failure", () =>
    Effect.gen(function* () {
      // Contact's job takes a while; the hard delete of Leads is refused at create (no permission).
      org.setFaults({ processingDelayMs: 300 })
      const people = yield* contactPlan()
      const removals = yield* withOrg(StreamPlans.plan({ stream: { name: "gone" }, object: "Lead", operation: "hardDelete", columns: [column("Id", "id")] }))
      // The Lead record comes once Contact's job is uploaded: it fails while that job runs.
      const uploaded = Effect.gen(function* () {
        while (org.stats().calls.upload < 1) yield* Effect.sleep("5 millis")
      })
      const input = Stream.concat(
        Stream.fromIterable<Pipeline.PipelineInput<string>>([...contacts(2), Pipeline.checkpoint("c1", "contacts")]),
        Stream.fromEffect(uploaded).pipe(
          Stream.flatMap(() => Stream.fromIterable<Pipeline.PipelineInput<string>>([Pipeline.record("gone", { id: "00Q5g00000000AAAAA" }), Pipeline.checkpoint("g1", "gone")]))
        )
      )
      const events: Array<Pipeline.PipelineEvent<string>> = []
      const failure = yield* input.pipe(
        Pipeline.run(new Map([["contacts", people], ["gone", removals]]), { maxBatchRows: 2 }),
        Stream.runForEach((event) => Effect.sync(() => void events.push(event))),
        Effect.provide(Layer.merge(bulkLayer(org), localRejects(tempDirectory("pipeline-rejects-")))),
        Effect.flip
      )
      expect(failure).toMatchObject({ _tag: "PipelineError", reason: "SalesforceFailed" })
      expect(failure.message).toContain("FEATURENOTENABLED")
      expect(released(events)).toEqual([{ _tag: "CheckpointReleased", payload: "c1", recordCount: 2, rejectedCount: 0 }])
      const last = events[events.length - 1]
      expect(last?._tag === "Stopped" ? last.summary.totals : undefined).toMatchObject({ recordsIn: 3, created: 2, jobs: 1 })
      expect(loadedContacts()).toHaveLength(2)
      expect(org.stats().jobs["JobComplete"]).toBe(1)
    }))

  it.live("a close that keeps failing aborts its job rather than leave it open with the rows", () =>
    Effect.gen(function* () {
      org.setFaults({ processingDelayMs: 0, httpErrors: [{ call: "close", status: 503, errorCode: "SERVER_UNAVAILABLE", message: "down" }] })
      const jobs = () => ({ open: org.stats().jobs["Open"] ?? 0, aborted: org.stats().jobs["Aborted"] ?? 0 })
      const before = jobs()
      const failure = yield* Effect.flip(runSync(new Map([["contacts", yield* contactPlan()]]), [...contacts(1, 900), Pipeline.checkpoint("c1", "contacts")]))
      expect(failure.message).toContain("close")
      expect(jobs()).toEqual({ open: before.open, aborted: before.aborted + 1 })
      expect(loadedContacts().filter((record) => record["External_Id__c"] === "T-900")).toEqual([])
    }))

  it.live("a job whose close reached Salesforce though every answer was lost is awaited, not failed (its rows would go twice)", () =>
    Effect.gen(function* () {
      org.setFaults({ processingDelayMs: 0 })
      closesAnswerLost()
      const { events } = yield* runSync(new Map([["contacts", yield* contactPlan()]]), [...contacts(2, 910), Pipeline.checkpoint("c1", "contacts")])
      expect(released(events).map((event) => event.payload)).toEqual(["c1"])
      expect(summaryOf(events).totals).toMatchObject({ created: 2, rejected: 0 })
      expect(loadedContacts().filter((record) => ["T-910", "T-911"].includes(String(record["External_Id__c"])))).toHaveLength(2)
    }))

  it.live("a job whose close answer was lost, and whose state Salesforce does not tell at once, is asked about again, then awaited", () =>
    Effect.gen(function* () {
      // the close is carried out and its answer lost; the job is done at once, so the abort is
      // refused, and the state requests after it (the abort's own, then the next) go unanswered
      // through all their retries
      org.setFaults({ processingDelayMs: 0 })
      closesAnswerLost(() => org.setFaults({ processingDelayMs: 0, httpErrors: [{ call: "poll", status: 503, times: 8 }] }))
      const { events } = yield* runSync(new Map([["contacts", yield* contactPlan()]]), [...contacts(2, 920), Pipeline.checkpoint("c1", "contacts")], {
        ingest: { unansweredJobPause: "20 millis" }
      })
      expect(released(events).map((event) => event.payload)).toEqual(["c1"])
      expect(summaryOf(events).totals).toMatchObject({ created: 2, rejected: 0, jobs: 1 })
      expect(loadedContacts().filter((record) => ["T-920", "T-921"].includes(String(record["External_Id__c"])))).toHaveLength(2)
    }))

  it.live("a failure while a new stream's first rows wait to be handed over still ends the run (no lane is made after it)", () =>
    Effect.gen(function* () {
      // Contact's job runs for a while, so the stop waits on it for more than the 1 s hand-over tick.
      org.setFaults({ processingDelayMs: 800 })
      const people = yield* contactPlan()
      const removals = yield* withOrg(StreamPlans.plan({ stream: { name: "gone" }, object: "Lead", operation: "hardDelete", columns: [column("Id", "id")] }))
      const leads = yield* withOrg(StreamPlans.plan({ stream: { name: "leads" }, object: "Lead", operation: "insert", columns: [column("LastName", "last"), column("Company", "company")] }))
      const uploaded = Effect.gen(function* () {
        while (org.stats().calls.upload < 1) yield* Effect.sleep("5 millis")
      })
      // Enough hard deletes to be handed over at once (refused at create), one lead that waits; the input stays open.
      const later = [
        ...Array.from({ length: 4000 }, (_, index) => Pipeline.record<string>("gone", { id: `00Q5g${String(index).padStart(10, "0")}` })),
        Pipeline.record<string>("leads", { last: "Waiting", company: "Acme" })
      ]
      const input = Stream.concat(
        Stream.fromIterable<Pipeline.PipelineInput<string>>([...contacts(2), Pipeline.checkpoint("c1", "contacts")]),
        Stream.fromEffect(uploaded).pipe(Stream.flatMap(() => Stream.concat(Stream.fromIterable(later), Stream.never)))
      )
      const events: Array<Pipeline.PipelineEvent<string>> = []
      const failure = yield* input.pipe(
        Pipeline.run(new Map([["contacts", people], ["gone", removals], ["leads", leads]]), { maxBatchAge: "100 millis" }),
        Stream.runForEach((event) => Effect.sync(() => void events.push(event))),
        Effect.provide(Layer.merge(bulkLayer(org), localRejects(tempDirectory("pipeline-rejects-")))),
        Effect.flip
      )
      expect(failure.message).toContain("FEATURENOTENABLED")
      expect(released(events).map((event) => event.payload)).toEqual(["c1"])
      expect(org.storedRecords("Lead").filter((lead) => lead["LastName"] === "Waiting")).toHaveLength(0)
    }), 20_000)

  it.live("a delete of a record already deleted counts as deleted; an Id that names no record is rejected", () =>
    Effect.gen(function* () {
      org.setFaults({ processingDelayMs: 0 })
      const plan = yield* contactPlan()
      yield* runSync(new Map([["contacts", plan]]), contacts(2))
      const ids = loadedContacts().map((record) => String(record["Id"]))
      const removals = yield* withOrg(StreamPlans.plan({ stream: { name: "gone" }, object: "Contact", operation: "delete", columns: [column("Id", "id")] }))
      const first = yield* runSync(new Map([["gone", removals]]), ids.map((id) => Pipeline.record<string>("gone", { id })))
      expect(summaryOf(first.events).totals).toMatchObject({ deleted: 2, rejected: 0 })
      // Sent again (a rerun after a crash), with an Id of no record.
      const inputs = [...ids.map((id) => Pipeline.record<string>("gone", { id })), Pipeline.record<string>("gone", { id: `${ids[0]?.slice(0, 12) ?? ""}ZZZ` }), Pipeline.checkpoint("g1", "gone")]
      const again = yield* runSync(new Map([["gone", removals]]), inputs)
      expect(summaryOf(again.events).totals).toMatchObject({ deleted: 2, rejected: 1 })
      expect(released(again.events)).toEqual([{ _tag: "CheckpointReleased", payload: "g1", recordCount: 3, rejectedCount: 1 }])
      const rejects = yield* readRejects(again.directory)
      expect(rejects.map((reject) => reject.statusCode)).toEqual(["NOT_FOUND"])
    }))

  it.live("releases the checkpoints of a source that sends one after every record, 150,000 in one job", () =>
    Effect.gen(function* () {
      org.setFaults({ processingDelayMs: 0 })
      const plan = yield* contactPlan({ columns: [column("LastName", "last_name")] })
      const count = 150_000
      const inputs: Array<Pipeline.PipelineInput<number>> = []
      for (let index = 0; index < count; index++) {
        inputs.push(Pipeline.record("contacts", { last_name: `Many ${index}` }), Pipeline.checkpoint(index, "contacts"))
      }
      let releasedCount = 0
      let last = -1
      let inOrder = true
      yield* Stream.fromIterable(inputs).pipe(
        // all of them waiting on one batch, released at once
        Pipeline.run(new Map([["contacts", plan]]), { maxWaitingCheckpoints: count + 1 }),
        Stream.runForEach((event) =>
          Effect.sync(() => {
            if (event._tag !== "CheckpointReleased") return
            inOrder &&= event.payload === last + 1
            last = event.payload
            releasedCount++
          })
        ),
        Effect.provide(Layer.merge(bulkLayer(org), localRejects(tempDirectory("pipeline-rejects-"))))
      )
      expect(releasedCount).toBe(count)
      expect(inOrder).toBe(true)
      expect(org.stats().calls.create).toBe(1)
    }), 120_000)

  it.live("hands rows refused before sending to the rejects store in bounded slices, however large each row", () =>
    Effect.gen(function* () {
      org.setFaults({ processingDelayMs: 0 })
      const plan = yield* contactPlan()
      // LastName holds at most 80 characters: every 1 MB row is refused before sending
      const huge = "x".repeat(1024 * 1024)
      const inputs = Array.from({ length: 40 }, (_, index) => Pipeline.record<string>("contacts", { last_name: `${huge}${index}`, id: `T-${index}` }))
      const writes: Array<number> = []
      const recording = Layer.effect(
        RejectSink.RejectSink,
        Effect.map(RejectSink.makeNone, (sink) => ({ ...sink, write: (records: ReadonlyArray<RejectedRecord.RejectedRecord>) => Effect.zipRight(Effect.sync(() => void writes.push(records.length)), sink.write(records)) }))
      )
      const events = yield* Stream.fromIterable(inputs).pipe(
        Pipeline.run(new Map([["contacts", plan]])),
        Stream.runCollect,
        Effect.map(Chunk.toArray),
        Effect.provide(Layer.merge(bulkLayer(org), recording))
      )
      expect(summaryOf(events).totals).toMatchObject({ recordsIn: 40, rejectedLocally: 40 })
      expect(writes.reduce((sum, count) => sum + count, 0)).toBe(40)
      expect(Math.max(...writes)).toBeLessThanOrEqual(17)
    }))

  it.live("fails on a record for a stream it does not know, after settling what came before", () =>
    Effect.gen(function* () {
      org.setFaults({ processingDelayMs: 0 })
      const plan = yield* contactPlan()
      const outcome = yield* Effect.flip(
        runSync(new Map([["contacts", plan]]), [...contacts(2), Pipeline.checkpoint("s1", "contacts"), Pipeline.record("ghosts", { a: 1 })])
      )
      expect(outcome).toMatchObject({ _tag: "PipelineError", reason: "UnknownStream", stream: "ghosts" })
    }))

  it.live("tells what was settled before it stopped, just before the failure", () =>
    Effect.gen(function* () {
      org.setFaults({ processingDelayMs: 0 })
      const plan = yield* contactPlan()
      const events: Array<Pipeline.PipelineEvent<string>> = []
      const inputs = [...contacts(2), Pipeline.record<string>("contacts", { email: "nameless@example.com", id: "T-x" }), Pipeline.record<string>("ghosts", { a: 1 })]
      const outcome = yield* Stream.fromIterable(inputs).pipe(
        Pipeline.run(new Map([["contacts", plan]])),
        Stream.runForEach((event) => Effect.sync(() => void events.push(event))),
        Effect.provide(Layer.merge(bulkLayer(org), localRejects(tempDirectory("pipeline-rejects-")))),
        Effect.flip
      )
      expect(outcome).toMatchObject({ reason: "UnknownStream" })
      const last = events.at(-1)
      expect(last?._tag).toBe("Stopped")
      expect(last?._tag === "Stopped" ? last.summary.totals : undefined).toMatchObject({ recordsIn: 3, created: 2, rejected: 1, rejectedLocally: 1 })
    }))
})
