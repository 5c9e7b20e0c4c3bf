/**
 * The emulated org: records, ingest jobs, sessions, usage counters and faults behind one
 * framework-free `handle(request): Promise<Response>` that serves the whole HTTP surface — the
 * OAuth token endpoint, describe, `/limits`, Bulk API 2.0 ingest, and the `/__emulator` admin API.
 */
import * as crypto from "node:crypto"
import * as zlib from "node:zlib"
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import * as Csv from "./Csv.js"
import * as Describe from "./Describe.js"
import * as Faults from "./Faults.js"
import { IngestJob, type JobState, type Operation, rowsPerBatch } from "./IngestJob.js"
import { JobRunner, type Meter, scanRows } from "./JobRunner.js"
import * as OAuth from "./OAuth.js"
import * as OrgFixture from "./OrgFixture.js"
import { audit, created, type FieldValue, flatten, ObjectStore, type StoredRecord } from "./RecordStore.js"
import * as Responses from "./Responses.js"
import type * as RowProcessor from "./RowProcessor.js"
import * as SalesforceId from "./SalesforceId.js"

/** Options of `make`. */
export interface Options {
  /** The org's shape and seed records (default: `OrgFixture.defaultFixture`). */
  readonly fixture?: OrgFixture.OrgFixture
  /** The fault configuration at start; `reset()` returns to it. */
  readonly faults?: Faults.Config
  /** Seed of the fault PRNG (default 1). */
  readonly seed?: number
  /** Milliseconds since the epoch (default `Date.now`): session lifetimes, JWT expiry and timestamps follow it. */
  readonly clock?: () => number
}

/** Options of one `handle` call. */
export interface HandleOptions {
  /** The URL clients must use for API calls (`instance_url`); default: the request's origin. */
  readonly instanceUrl?: string
  /**
   * The request's body, when the caller has read it already (the loopback server does: handing
   * a 100 MB upload to a Fetch `Request` copied it once more); read from `request` otherwise.
   */
  readonly body?: Uint8Array
}

const bodyBytes = async (request: Request, options: HandleOptions): Promise<Uint8Array> =>
  options.body ?? new Uint8Array(await request.arrayBuffer())

const bodyText = async (request: Request, options: HandleOptions): Promise<string> =>
  options.body === undefined ? request.text() : Buffer.from(options.body.buffer, options.body.byteOffset, options.body.byteLength).toString("utf8")

/** Call kinds counted in `stats().calls`. */
export type CallKind = Exclude<Faults.CallKind, "any"> | "other"

/** The public statistics (`GET /__emulator/stats`). */
export interface Stats {
  readonly calls: Record<CallKind | "total", number>
  readonly jobs: Record<string, number>
  readonly records: Record<string, number>
  readonly rowsProcessed: number
  readonly rowsFailed: number
  readonly usage: {
    readonly apiRequests: number
    readonly jobsCreated: number
    readonly batches: number
    readonly recordsIngested: number
  }
}

const callKinds: ReadonlyArray<CallKind> = ["token", "describe", "limits", "create", "upload", "close", "poll", "results", "abort", "delete", "list", "other"]

const CreateJobBody = Schema.Struct({
  object: Schema.String,
  operation: Schema.String,
  externalIdFieldName: Schema.optional(Schema.NullOr(Schema.String)),
  contentType: Schema.optional(Schema.String),
  lineEnding: Schema.optional(Schema.String),
  columnDelimiter: Schema.optional(Schema.String),
  assignmentRuleId: Schema.optional(Schema.NullOr(Schema.String))
})

const PatchJobBody = Schema.Struct({ state: Schema.String })

const operations: ReadonlySet<string> = new Set<Operation>(["insert", "update", "upsert", "delete", "hardDelete"])
const isOperation = (value: string): value is Operation => operations.has(value)

const jobsPageSize = 1000
const apiVersionPattern = /^\/services\/data\/v(\d+\.\d+)(\/.*)?$/
const adminPrefix = "/__emulator"

interface Session {
  readonly userId: string
  readonly issuedAt: number
  requests: number
}

interface Route {
  readonly kind: CallKind
  readonly run: () => Response | Promise<Response>
  readonly authenticated: boolean
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

const parseJson = (text: string): Either.Either<unknown, string> => {
  try {
    return Either.right(JSON.parse(text))
  } catch (error) {
    return Either.left(error instanceof Error ? error.message : "malformed JSON")
  }
}

const wantsGzip = (request: Request): boolean => /\bgzip\b/.test(request.headers.get("accept-encoding") ?? "")

export class Org {
  private readonly description: OrgFixture.OrgDescription
  private readonly fixture: OrgFixture.OrgFixture
  private readonly seed: number
  private readonly initialFaults: Faults.Config
  private stores = new Map<string, ObjectStore>()
  private storesByPrefix = new Map<string, ObjectStore>()
  private readonly jobs = new Map<string, IngestJob>()
  private readonly runners = new Map<string, JobRunner>()
  private readonly sessions = new Map<string, Session>()
  private jobSequence = 0
  private refreshToken: string
  private rotations = 0
  private engine: Faults.Engine
  private calls = new Map<CallKind, number>()
  private apiRequests = 0
  private jobsCreated = 0
  private meter: Meter = { batches: 0, recordsIngested: 0, rowsProcessed: 0, rowsFailed: 0 }
  private lockAttempted = new Set<string>()
  private integrationUserId = ""
  private readonly clock: () => number

  constructor(options: Options = {}) {
    this.fixture = options.fixture ?? OrgFixture.defaultFixture
    this.description = OrgFixture.describe(this.fixture)
    this.seed = options.seed ?? 1
    this.clock = options.clock ?? Date.now
    this.initialFaults = options.faults ?? {}
    this.engine = new Faults.Engine(this.initialFaults, this.seed)
    this.refreshToken = this.description.credentials.refreshToken
    this.load()
  }

  /** The connected app's credentials; `refreshToken` is the current one (after rotation). */
  get credentials(): OrgFixture.Credentials {
    return { ...this.description.credentials, refreshToken: this.refreshToken }
  }

  /** The fixture's objects with every describe flag settled. */
  get sobjects(): ReadonlyArray<OrgFixture.SObjectDescription> {
    return this.description.sobjects
  }

  /** The active fault configuration. */
  get faults(): Faults.Config {
    return this.engine.config
  }

  /** Replaces the fault configuration (`{}` clears it); rule counters start again. */
  setFaults(config: Faults.Config): void {
    this.engine = new Faults.Engine(config, this.seed)
  }

  /** Forgets records, jobs, counters and sessions' usage; reloads seed records; restores the start faults. */
  reset(): void {
    this.shutdown()
    this.jobs.clear()
    this.runners.clear()
    this.jobSequence = 0
    this.calls = new Map()
    this.apiRequests = 0
    this.jobsCreated = 0
    this.meter = { batches: 0, recordsIngested: 0, rowsProcessed: 0, rowsFailed: 0 }
    this.lockAttempted = new Set()
    this.refreshToken = this.description.credentials.refreshToken
    this.engine = new Faults.Engine(this.initialFaults, this.seed)
    this.load()
  }

  /** Cancels every job's pending batch or state change (jobs stay where they are). */
  shutdown(): void {
    for (const job of this.jobs.values()) job.cancel()
  }

  /** Issues an access token for the integration user without an OAuth round trip. */
  issueAccessToken(): string {
    return this.issue(this.integrationUserId)
  }

  /** Ends every session now: the next API call with any current token answers 401 `INVALID_SESSION_ID`. */
  expireSessions(): void {
    this.sessions.clear()
  }

  /** The access tokens of the sessions still alive (for tests that look for leaked secrets). */
  activeAccessTokens(): ReadonlyArray<string> {
    return [...this.sessions.keys()]
  }

  /** Copies of the stored records of an object (`[]` for an unknown object). */
  storedRecords(objectName: string): ReadonlyArray<Record<string, FieldValue>> {
    const store = this.stores.get(objectName.toLowerCase())
    return store === undefined ? [] : [...store.records.values()].map((record) => flatten(record, store.sobject))
  }

  /** The public statistics. */
  stats(): Stats {
    const count = (kind: CallKind) => this.calls.get(kind) ?? 0
    const calls = {
      token: count("token"),
      describe: count("describe"),
      limits: count("limits"),
      create: count("create"),
      upload: count("upload"),
      close: count("close"),
      poll: count("poll"),
      results: count("results"),
      abort: count("abort"),
      delete: count("delete"),
      list: count("list"),
      other: count("other"),
      total: callKinds.reduce((sum, kind) => sum + count(kind), 0)
    }
    const jobs: Record<string, number> = {}
    for (const job of this.jobs.values()) jobs[job.state] = (jobs[job.state] ?? 0) + 1
    const records: Record<string, number> = {}
    for (const store of this.stores.values()) records[store.sobject.name] = store.records.size
    return {
      calls,
      jobs,
      records,
      rowsProcessed: this.meter.rowsProcessed,
      rowsFailed: this.meter.rowsFailed,
      usage: {
        apiRequests: this.apiRequests,
        jobsCreated: this.jobsCreated,
        batches: this.meter.batches,
        recordsIngested: this.meter.recordsIngested
      }
    }
  }

  /** The whole HTTP surface: Salesforce paths and the `/__emulator` admin API. */
  async handle(request: Request, options: HandleOptions = {}): Promise<Response> {
    try {
      return await this.dispatch(request, options)
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      return Responses.apiError(500, "UNKNOWN_EXCEPTION", `An unexpected error occurred: ${message}`)
    }
  }

  // -------------------------------------------------------------------------------------------

  private load(): void {
    this.stores = new Map()
    this.storesByPrefix = new Map()
    for (const sobject of this.description.sobjects) {
      const store = new ObjectStore(sobject)
      this.stores.set(sobject.name.toLowerCase(), store)
      this.storesByPrefix.set(sobject.keyPrefix, store)
    }
    const users = this.stores.get("user")
    const seedOrder = [...this.description.sobjects].sort((left, right) => (left.name === "User" ? -1 : right.name === "User" ? 1 : 0))
    this.integrationUserId = SalesforceId.make("005", 0)
    let seedAudit = created(this.description.lastModified.toISOString(), this.integrationUserId)
    for (const sobject of seedOrder) {
      const store = this.stores.get(sobject.name.toLowerCase())
      if (store === undefined) continue
      for (const seed of sobject.records) {
        const given = typeof seed["Id"] === "string" ? SalesforceId.normalize(seed["Id"]) : undefined
        const id = given ?? store.nextId()
        const record: StoredRecord = { Id: id }
        for (const field of sobject.fields) {
          const value: FieldValue | undefined = seed[field.name]
          if (field.type === "id") continue
          if (value !== undefined) record[field.name] = value
          else if (field.autoNumber) record[field.name] = store.nextAutoNumber(field)
          else if (field.defaultValue !== undefined) record[field.name] = field.defaultValue
        }
        if (sobject.fieldsByName.has("ownerid") && record["OwnerId"] === undefined) record["OwnerId"] = this.integrationUserId
        record[audit] = seedAudit
        store.insert(record)
      }
      if (store === users) {
        const integration = users.findBy("Username", this.description.credentials.username)[0]
        if (integration !== undefined) {
          this.integrationUserId = integration
          seedAudit = created(this.description.lastModified.toISOString(), integration)
          for (const record of users.records.values()) record[audit] = seedAudit
        }
      }
    }
  }

  private issue(userId: string): string {
    const token = `${this.description.organizationId}!AQ${crypto.randomBytes(48).toString("base64url").replace(/[-_]/g, ".")}`
    this.sessions.set(token, { userId, issuedAt: this.clock(), requests: 0 })
    return token
  }

  private userIdFor(username: string): string | undefined {
    const users = this.stores.get("user")
    if (users === undefined) return username === this.description.credentials.username ? this.integrationUserId : undefined
    const id = users.findBy("Username", username)[0]
    if (id === undefined) return undefined
    return users.records.get(id)?.["IsActive"] === false ? undefined : id
  }

  private tokenContext(): OAuth.TokenContext {
    return {
      credentials: this.credentials,
      rotateRefreshToken: this.engine.config.rotateRefreshToken ?? false,
      jwtPublicKey: this.description.jwtPublicKey,
      organizationId: this.description.organizationId,
      now: this.clock,
      userIdFor: (username) => this.userIdFor(username),
      issue: (userId) => this.issue(userId),
      rotate: () => {
        this.rotations++
        this.refreshToken = `5Aep861${crypto.randomBytes(30).toString("base64url").replace(/[-_]/g, ".")}${this.rotations}`
        return this.refreshToken
      }
    }
  }

  private count(kind: CallKind): void {
    this.calls.set(kind, (this.calls.get(kind) ?? 0) + 1)
  }

  private get dailyApiRequests(): number {
    return this.engine.config.dailyApiRequests ?? Faults.defaultDailyApiRequests
  }

  /** The session of the request's bearer token, or the 401 to answer. */
  private authenticate(request: Request): Session | Response {
    const authorization = request.headers.get("authorization") ?? ""
    const match = /^(?:Bearer|OAuth)\s+(.+)$/i.exec(authorization)
    const token = match?.[1]?.trim()
    const session = token === undefined ? undefined : this.sessions.get(token)
    const expired = (): Response => Responses.apiError(401, "INVALID_SESSION_ID", "Session expired or invalid")
    if (token === undefined || session === undefined) return expired()
    const { sessionTtlRequests, sessionTtlSeconds } = this.engine.config
    if (
      (sessionTtlSeconds !== undefined && this.clock() - session.issuedAt > sessionTtlSeconds * 1000) ||
      (sessionTtlRequests !== undefined && session.requests >= sessionTtlRequests)
    ) {
      this.sessions.delete(token)
      return expired()
    }
    session.requests++
    return session
  }

  private async dispatch(request: Request, options: HandleOptions): Promise<Response> {
    const url = new URL(request.url)
    const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, "") : url.pathname
    if (path === adminPrefix || path.startsWith(`${adminPrefix}/`)) return this.admin(request, path.slice(adminPrefix.length), options)
    const instanceUrl = options.instanceUrl ?? url.origin
    const route = await this.route(request, url, path, instanceUrl, options)
    this.count(route.kind)
    const decision = this.engine.decide(route.kind === "other" ? "any" : route.kind)
    if (decision.delayMs > 0) await sleep(decision.delayMs)
    if (decision.drop !== undefined && decision.drop.afterBytes === undefined) return Responses.dropped(undefined, undefined)
    const response = await this.answer(request, route, decision)
    return decision.drop === undefined ? response : Responses.dropped(response, decision.drop.afterBytes)
  }

  private async answer(request: Request, route: Route, decision: Faults.Decision): Promise<Response> {
    if (decision.httpError !== undefined) {
      return Responses.injected(decision.httpError.status, decision.httpError.errorCode, decision.httpError.message)
    }
    if (!route.authenticated) return route.run()
    const session = this.authenticate(request)
    if (session instanceof Response) return session
    if (this.apiRequests >= this.dailyApiRequests) {
      return this.withUsage(Responses.apiError(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."))
    }
    this.apiRequests++
    return this.withUsage(await route.run())
  }

  private withUsage(response: Response): Response {
    response.headers.set("Sforce-Limit-Info", `api-usage=${this.apiRequests}/${this.dailyApiRequests}`)
    return response
  }

  private async route(request: Request, url: URL, path: string, instanceUrl: string, options: HandleOptions): Promise<Route> {
    const method = request.method.toUpperCase()
    const other = (run: () => Response, authenticated = true): Route => ({ kind: "other", run, authenticated })
    if (path === "/services/oauth2/token") {
      if (method !== "POST") return other(() => Responses.apiError(405, "METHOD_NOT_ALLOWED", `HTTP Method '${method}' not allowed. Allowed are POST`), false)
      const body = await bodyText(request, options)
      return {
        kind: "token",
        authenticated: false,
        run: () => OAuth.token(body, request.headers, url, instanceUrl, this.tokenContext())
      }
    }
    const identity = /^\/id\/([^/]+)\/([^/]+)$/.exec(path)
    if (identity !== null && method === "GET") {
      return other(() => this.identity(instanceUrl, identity[1] ?? "", identity[2] ?? ""))
    }
    if (path === "/services/data") {
      return other(() => Responses.json(["58.0", "59.0", "60.0", "61.0", "62.0", "63.0", "64.0"].map((version) => ({ label: "Salesforce", url: `/services/data/v${version}`, version }))), false)
    }
    const match = apiVersionPattern.exec(path)
    if (match === null) return other(Responses.notFound)
    const version = match[1] ?? "62.0"
    const segments = (match[2] ?? "").split("/").filter((segment) => segment.length > 0).map(decodeURIComponent)
    const [first, second, third, fourth, fifth] = segments
    if (first === undefined) {
      return other(() =>
        Responses.json({
          sobjects: `/services/data/v${version}/sobjects`,
          limits: `/services/data/v${version}/limits`,
          jobs: `/services/data/v${version}/jobs`
        })
      )
    }
    if (first === "limits" && second === undefined && method === "GET") return { kind: "limits", authenticated: true, run: () => this.limits() }
    if (first === "sobjects" && method === "GET") {
      if (second === undefined) return { kind: "describe", authenticated: true, run: () => this.describeGlobal(request, version) }
      if (third === "describe" && fourth === undefined) return { kind: "describe", authenticated: true, run: () => this.describeObject(request, second, version, true) }
      if (third === undefined) return { kind: "describe", authenticated: true, run: () => this.describeObject(request, second, version, false) }
    }
    if (first === "jobs" && second === "ingest") {
      if (third === undefined) {
        if (method === "POST") {
          const body = await bodyText(request, options)
          return { kind: "create", authenticated: true, run: () => this.createJob(body, version) }
        }
        if (method === "GET") return { kind: "list", authenticated: true, run: () => this.listJobs(url, version) }
        return other(() => Responses.apiError(405, "METHOD_NOT_ALLOWED", `HTTP Method '${method}' not allowed. Allowed are GET,POST`))
      }
      if (fourth === undefined) {
        if (method === "GET") return { kind: "poll", authenticated: true, run: () => this.withJob(third, (job) => Responses.json(job.info())) }
        if (method === "DELETE") return { kind: "delete", authenticated: true, run: () => this.withJob(third, (job) => this.deleteJob(job)) }
        if (method === "PATCH") {
          const body = await bodyText(request, options)
          const state = Schema.decodeUnknownEither(PatchJobBody)(parseJson(body).pipe(Either.getOrElse(() => undefined)))
          const aborting = Either.isRight(state) && state.right.state === "Aborted"
          return { kind: aborting ? "abort" : "close", authenticated: true, run: () => this.withJob(third, (job) => this.patchJob(job, state)) }
        }
        return other(() => Responses.apiError(405, "METHOD_NOT_ALLOWED", `HTTP Method '${method}' not allowed. Allowed are GET,PATCH,DELETE`))
      }
      if (fourth === "batches" && fifth === undefined && method === "PUT") {
        const bytes = await bodyBytes(request, options)
        return { kind: "upload", authenticated: true, run: () => this.withJob(third, (job) => this.upload(job, request, bytes)) }
      }
      if ((fourth === "successfulResults" || fourth === "failedResults" || fourth === "unprocessedrecords") && fifth === undefined && method === "GET") {
        return { kind: "results", authenticated: true, run: () => this.withJob(third, (job) => this.results(job, fourth, request)) }
      }
    }
    return other(Responses.notFound)
  }

  /** The identity URL of a token (`id` in the token response). */
  private identity(instanceUrl: string, organizationId: string, userId: string): Response {
    const user = this.stores.get("user")?.records.get(userId)
    if (organizationId !== this.description.organizationId || user === undefined) return Responses.notFound()
    return Responses.json({
      id: `${instanceUrl}/id/${organizationId}/${userId}`,
      organization_id: organizationId,
      user_id: userId,
      username: user["Username"] ?? null,
      email: user["Email"] ?? null,
      display_name: [user["FirstName"], user["LastName"]].filter((part) => typeof part === "string").join(" "),
      active: user["IsActive"] !== false,
      urls: { rest: `${instanceUrl}/services/data/v{version}/`, sobjects: `${instanceUrl}/services/data/v{version}/sobjects/` }
    })
  }

  // -------------------------------------------------------------------------------------------
  // Describe and limits

  private notModified(request: Request): boolean {
    const since = request.headers.get("if-modified-since")
    if (since === null) return false
    const date = new Date(since)
    return !Number.isNaN(date.getTime()) && this.description.lastModified.getTime() <= date.getTime()
  }

  private describeGlobal(request: Request, version: string): Response {
    if (this.notModified(request)) return new Response(null, { status: 304 })
    return Responses.json(Describe.global(this.description.sobjects, version), 200, { "Last-Modified": this.description.lastModified.toUTCString() })
  }

  private describeObject(request: Request, name: string, version: string, full: boolean): Response {
    const store = this.stores.get(name.toLowerCase())
    if (store === undefined) return Responses.apiError(404, "NOT_FOUND", `The requested resource does not exist`)
    if (full && this.notModified(request)) return new Response(null, { status: 304 })
    const body = full ? Describe.sobject(store.sobject, version) : Describe.basicInfo(store.sobject, version)
    return Responses.json(body, 200, { "Last-Modified": this.description.lastModified.toUTCString() })
  }

  private limits(): Response {
    const config = this.engine.config
    const limit = (max: number, used: number) => ({ Max: max, Remaining: Math.max(0, max - used) })
    return Responses.json({
      DailyApiRequests: limit(this.dailyApiRequests, this.apiRequests),
      DailyBulkApiBatches: limit(config.dailyBulkApiBatches ?? Faults.defaultDailyBulkApiBatches, this.meter.batches),
      DailyBulkV2QueryFileStorageMB: limit(976_562, 0),
      DailyBulkV2QueryJobs: limit(10_000, 0),
      DataStorageMB: limit(5_120, 0),
      FileStorageMB: limit(20_480, 0),
      HourlyODataCallout: limit(20_000, 0)
    })
  }

  // -------------------------------------------------------------------------------------------
  // Bulk API 2.0 ingest

  private withJob(id: string, run: (job: IngestJob) => Response): Response {
    const job = this.jobs.get(SalesforceId.normalize(id) ?? id)
    return job === undefined ? Responses.notFound() : run(job)
  }

  private invalidJobState(message: string): Response {
    return Responses.apiError(this.description.invalidJobStateStatus, "INVALIDJOBSTATE", message)
  }

  private createJob(body: string, version: string): Response {
    const parsed = parseJson(body)
    if (Either.isLeft(parsed)) return Responses.apiError(400, "JSON_PARSER_ERROR", `Unexpected character in the request body: ${parsed.left}`)
    const decoded = Schema.decodeUnknownEither(CreateJobBody)(parsed.right)
    if (Either.isLeft(decoded)) return Responses.apiError(400, "INVALIDJOB", "The job definition needs `object` and `operation`")
    const spec = decoded.right
    if (!isOperation(spec.operation)) return Responses.apiError(400, "INVALIDJOB", `InvalidJob : Invalid operation: ${spec.operation}`)
    const store = this.stores.get(spec.object.toLowerCase())
    if (store === undefined) return Responses.apiError(400, "INVALIDJOB", `Unable to find object: ${spec.object}`)
    if ((spec.contentType ?? "CSV") !== "CSV") return Responses.apiError(400, "INVALIDJOB", `InvalidJob : Unsupported content type: ${spec.contentType ?? ""}`)
    const delimiter = Csv.delimiters[spec.columnDelimiter ?? "COMMA"]
    if (delimiter === undefined) return Responses.apiError(400, "INVALIDJOB", `InvalidJob : Invalid column delimiter: ${spec.columnDelimiter ?? ""}`)
    const lineEnding = spec.lineEnding ?? "LF"
    if (lineEnding !== "LF" && lineEnding !== "CRLF") return Responses.apiError(400, "INVALIDJOB", `InvalidJob : Invalid line ending: ${lineEnding}`)
    let externalIdFieldName: string | undefined
    if (spec.operation === "upsert") {
      const name = spec.externalIdFieldName ?? ""
      if (name === "") return Responses.apiError(400, "INVALIDJOB", `External ID was blank for ${store.sobject.name}. An External ID must be specified for upsert.`)
      const field = store.sobject.fieldsByName.get(name.toLowerCase())
      if (field === undefined) return Responses.apiError(400, "INVALIDJOB", `InvalidJob : Field name not found : ${name}`)
      if (field.type !== "id" && !field.externalId) {
        return Responses.apiError(400, "INVALIDJOB", `InvalidJob : The field ${field.name} is not an External ID or Id field of ${store.sobject.name}`)
      }
      externalIdFieldName = field.name
    }
    if (spec.operation === "hardDelete" && !this.description.hardDeleteAllowed) {
      return Responses.apiError(400, "FEATURENOTENABLED", "hardDelete requires the \"Bulk API Hard Delete\" permission")
    }
    const id = SalesforceId.make("750", ++this.jobSequence)
    const job = new IngestJob(
      {
        id,
        object: store.sobject.name,
        operation: spec.operation,
        externalIdFieldName,
        lineEnding,
        columnDelimiter: delimiter,
        apiVersion: version,
        createdById: this.integrationUserId,
        assignmentRuleId: spec.assignmentRuleId ?? undefined
      },
      new Date(this.clock())
    )
    this.jobs.set(id, job)
    this.jobsCreated++
    return Responses.json(job.summary())
  }

  private listJobs(url: URL, version: string): Response {
    const all = [...this.jobs.values()]
    const start = Number(url.searchParams.get("queryLocator") ?? "0")
    const from = Number.isInteger(start) && start > 0 ? start : 0
    const page = all.slice(from, from + jobsPageSize)
    const next = from + jobsPageSize
    const done = next >= all.length
    return Responses.json({
      done,
      records: page.map((job) => job.listEntry()),
      nextRecordsUrl: done ? null : `/services/data/v${version}/jobs/ingest?queryLocator=${next}`
    })
  }

  private upload(job: IngestJob, request: Request, bytes: Uint8Array): Response {
    if (job.state !== "Open" || job.content !== undefined) {
      return this.invalidJobState(
        `Found multiple contents for job: <${job.spec.id}>, please 'Close' / 'Abort' / 'Delete' the current Job then create a new Job and make sure you only do 'PUT' once on a given Job.`
      )
    }
    const maxUploadBytes = this.engine.config.maxUploadBytes ?? Faults.defaultMaxUploadBytes
    let raw = bytes
    if (/\bgzip\b/i.test(request.headers.get("content-encoding") ?? "")) {
      const inflated = Either.try(() => zlib.gunzipSync(bytes, { maxOutputLength: maxUploadBytes + 1 }))
      if (Either.isLeft(inflated)) {
        return inflated.left instanceof RangeError
          ? this.tooLarge(maxUploadBytes)
          : Responses.apiError(400, "INVALID_REQUEST", "The gzip-encoded body could not be decompressed")
      }
      raw = inflated.right
    }
    if (raw.byteLength > maxUploadBytes) return this.tooLarge(maxUploadBytes)
    job.content = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength)
    job.systemModstamp = new Date(this.clock())
    return new Response(null, { status: 201 })
  }

  private tooLarge(maxUploadBytes: number): Response {
    return Responses.apiError(413, "EXCEEDED_MAX_SIZE_REQUEST", `The upload exceeds the maximum of ${maxUploadBytes} bytes`)
  }

  private patchJob(job: IngestJob, state: Either.Either<{ readonly state: string }, unknown>): Response {
    if (Either.isLeft(state)) return Responses.apiError(400, "JSON_PARSER_ERROR", "The request body must be {\"state\": …}")
    const target = state.right.state
    if (target === "UploadComplete") {
      if (job.state !== "Open") return this.invalidJobState(`Job ${job.spec.id} is not Open: its state is ${job.state}`)
      const config = this.engine.config
      if (
        this.meter.batches >= (config.dailyBulkApiBatches ?? Faults.defaultDailyBulkApiBatches) ||
        this.meter.recordsIngested >= (config.dailyIngestedRecords ?? Faults.defaultDailyIngestedRecords)
      ) {
        return Responses.apiError(403, "REQUEST_LIMIT_EXCEEDED", "ExceededQuota : the Bulk API daily limit of batches or records is exhausted")
      }
      job.state = "UploadComplete"
      job.systemModstamp = new Date(this.clock())
      const summary = Responses.json(job.summary())
      this.schedule(job)
      return summary
    }
    if (target === "Aborted") {
      if (job.state !== "Open" && job.state !== "UploadComplete") return this.invalidJobState(`Job ${job.spec.id} cannot be aborted: its state is ${job.state}`)
      job.cancel()
      this.runners.delete(job.spec.id)
      scanRows(job)
      job.state = "Aborted"
      job.systemModstamp = new Date(this.clock())
      return Responses.json(job.summary())
    }
    return this.invalidJobState(`Invalid state: ${target}`)
  }

  private context(store: ObjectStore): RowProcessor.Context {
    return {
      store,
      stores: this.stores,
      storesByPrefix: this.storesByPrefix,
      userId: this.integrationUserId,
      random: this.engine.random,
      lockErrorRate: this.engine.config.lockErrorRate ?? 0,
      lockAttempted: this.lockAttempted
    }
  }

  private runner(job: IngestJob): JobRunner | undefined {
    const store = this.stores.get(job.spec.object.toLowerCase())
    if (store === undefined) return undefined
    if (job.content === undefined) job.content = Buffer.alloc(0)
    return new JobRunner(job, this.context(store), this.meter, this.engine.config.failJobAfterRows)
  }

  /** UploadComplete → InProgress → JobComplete | Failed, after `processingDelayMs` (synchronously at 0). */
  private schedule(job: IngestJob): void {
    const delay = this.engine.processingDelayMs
    if (delay === 0) {
      const runner = this.runner(job)
      if (runner === undefined) return
      job.state = "InProgress"
      const now = new Date(this.clock())
      runner.runAll(now)
      runner.finish(now)
      return
    }
    // unref'd: a job waiting out its processing delay never keeps the process alive
    const timer = (run: () => void, ms: number) => {
      const pending = setTimeout(run, ms)
      pending.unref?.()
      job.cancelPending = () => clearTimeout(pending)
    }
    // The next batch right after pending I/O (an upload coming in, a poll), with no timer's 1 ms
    // floor. Not unref'd: the loop would then wait in its poll phase for I/O or a timer before each
    // batch. A batch is short and the last one hands over to a timer.
    const next = (run: () => void) => {
      const pending = setImmediate(run)
      job.cancelPending = () => clearImmediate(pending)
    }
    const finish = (runner: JobRunner) => {
      job.cancelPending = undefined
      runner.finish(new Date(this.clock()))
      this.runners.delete(job.spec.id)
    }
    const step = (runner: JobRunner) => {
      if (this.jobs.get(job.spec.id) !== job || job.state !== "InProgress") return
      const done = runner.step(new Date(this.clock()))
      job.systemModstamp = new Date(this.clock())
      if (done) timer(() => finish(runner), delay)
      else next(() => step(runner))
    }
    timer(() => {
      const runner = this.runner(job)
      if (runner === undefined) return
      this.runners.set(job.spec.id, runner)
      job.state = "InProgress"
      job.systemModstamp = new Date(this.clock())
      step(runner)
    }, delay)
  }

  private deleteJob(job: IngestJob): Response {
    const deletable: ReadonlyArray<JobState> = ["UploadComplete", "JobComplete", "Aborted", "Failed"]
    if (!deletable.includes(job.state)) return this.invalidJobState(`Job ${job.spec.id} cannot be deleted: its state is ${job.state}`)
    job.cancel()
    job.release()
    this.jobs.delete(job.spec.id)
    this.runners.delete(job.spec.id)
    return new Response(null, { status: 204 })
  }

  private results(job: IngestJob, which: "successfulResults" | "failedResults" | "unprocessedrecords", request: Request): Response {
    if (!job.isTerminal) return this.invalidJobState(`Job ${job.spec.id} is not complete: its state is ${job.state}`)
    const body =
      which === "successfulResults" ? job.successfulResults() : which === "failedResults" ? job.failedResults() : job.unprocessedRecords()
    const headers: Record<string, string> = { "Content-Type": "text/csv; charset=UTF-8" }
    if (wantsGzip(request)) {
      const zipped = zlib.gzipSync(body)
      return new Response(zipped, { status: 200, headers: { ...headers, "Content-Encoding": "gzip", "Content-Length": String(zipped.byteLength) } })
    }
    return new Response(body, { status: 200, headers: { ...headers, "Content-Length": String(body.byteLength) } })
  }

  // -------------------------------------------------------------------------------------------
  // Admin API

  private async admin(request: Request, path: string, options: HandleOptions): Promise<Response> {
    const method = request.method.toUpperCase()
    const records = /^\/objects\/([^/]+)\/records$/.exec(path)
    if (records !== null && method === "GET") {
      const name = decodeURIComponent(records[1] ?? "")
      if (!this.stores.has(name.toLowerCase())) return Responses.apiError(404, "NOT_FOUND", `Unknown object: ${name}`)
      return Responses.json(this.storedRecords(name))
    }
    if (path === "/stats" && method === "GET") return Responses.json(this.stats())
    if (path === "/faults" && method === "GET") return Responses.json(this.faults)
    if (path === "/faults" && (method === "POST" || method === "PUT")) {
      const parsed = parseJson(await bodyText(request, options))
      const decoded = Either.isLeft(parsed) ? parsed : Faults.decode(parsed.right)
      if (Either.isLeft(decoded)) return Responses.apiError(400, "INVALID_FAULTS", decoded.left)
      this.setFaults(decoded.right)
      return Responses.json(this.faults)
    }
    if (path === "/reset" && method === "POST") {
      this.reset()
      return Responses.json({ reset: true })
    }
    if (path === "/credentials" && method === "GET") return Responses.json(this.credentials)
    if (path === "/fixture" && method === "GET") return Responses.json(this.fixture)
    return Responses.notFound()
  }
}

/** Rows per internal batch (Salesforce's 10,000). */
export const batchRows = rowsPerBatch

/** A new org: the default fixture unless one is given. */
export const make = (options: Options = {}): Org => new Org(options)
