/**
 * Fault injection: the JSON configuration (a public contract: `--faults faults.json`,
 * `POST /__emulator/faults`, `org.setFaults`) and the deterministic engine that decides, call by
 * call, whether a fault fires.
 */
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"

/** Kinds of calls a fault can target; `any` matches every call. */
export const CallKind = Schema.Literal(
  "token",
  "describe",
  "limits",
  "create",
  "upload",
  "close",
  "poll",
  "results",
  "abort",
  "delete",
  "list",
  "any"
)
export type CallKind = typeof CallKind.Type

/** Which calls of a kind a rule hits: every Nth (`every`), a seeded random share (`rate`), or all; at most `times` hits. */
const Selection = {
  call: CallKind,
  every: Schema.optional(Schema.Int.pipe(Schema.positive())),
  rate: Schema.optional(Schema.Number.pipe(Schema.between(0, 1))),
  times: Schema.optional(Schema.Int.pipe(Schema.nonNegative()))
}

export const HttpErrorRule = Schema.Struct({
  ...Selection,
  status: Schema.Int.pipe(Schema.between(400, 599)),
  /** Overrides the Salesforce error code of the body (default by status: 503 → SERVER_UNAVAILABLE, …). */
  errorCode: Schema.optional(Schema.String),
  message: Schema.optional(Schema.String)
})
export type HttpErrorRule = typeof HttpErrorRule.Type

export const DropRule = Schema.Struct({
  ...Selection,
  /** Send this many bytes of the body, then cut the connection (default: cut before any response). */
  afterBytes: Schema.optional(Schema.Int.pipe(Schema.nonNegative()))
})
export type DropRule = typeof DropRule.Type

export const SlowRule = Schema.Struct({
  ...Selection,
  delayMs: Schema.Int.pipe(Schema.nonNegative())
})
export type SlowRule = typeof SlowRule.Type

/** The fault configuration. Every key is optional; `{}` means no faults and default timings. */
export const Config = Schema.Struct({
  /** Milliseconds a closed job waits in UploadComplete, and again in InProgress (0 = process at close). Default 200. */
  processingDelayMs: Schema.optional(Schema.Int.pipe(Schema.nonNegative())),
  /** An access token dies after this many API requests. */
  sessionTtlRequests: Schema.optional(Schema.Int.pipe(Schema.positive())),
  /** An access token dies this many seconds after it was issued. */
  sessionTtlSeconds: Schema.optional(Schema.Number.pipe(Schema.positive())),
  /** Each refresh_token grant returns a new refresh token and kills the old one. */
  rotateRefreshToken: Schema.optional(Schema.Boolean),
  httpErrors: Schema.optional(Schema.Array(HttpErrorRule)),
  dropConnections: Schema.optional(Schema.Array(DropRule)),
  slowResponses: Schema.optional(Schema.Array(SlowRule)),
  /** Added to every response. */
  latencyMs: Schema.optional(Schema.Int.pipe(Schema.nonNegative())),
  /** Share of rows failing with UNABLE_TO_LOCK_ROW on their first attempt (a retried row succeeds). */
  lockErrorRate: Schema.optional(Schema.Number.pipe(Schema.between(0, 1))),
  /** A job with more rows ends Failed after this many; the rest are its unprocessed records. */
  failJobAfterRows: Schema.optional(Schema.Int.pipe(Schema.nonNegative())),
  /** Daily maximum of API requests (token calls excluded); beyond it: 403 REQUEST_LIMIT_EXCEEDED. Default 100,000. */
  dailyApiRequests: Schema.optional(Schema.Int.pipe(Schema.nonNegative())),
  /** Daily maximum of internal 10,000-row batches. Default 15,000. */
  dailyBulkApiBatches: Schema.optional(Schema.Int.pipe(Schema.nonNegative())),
  /** Daily maximum of ingested records. Default 150,000,000. */
  dailyIngestedRecords: Schema.optional(Schema.Int.pipe(Schema.nonNegative())),
  /** Largest accepted upload, raw bytes after gunzip. Default 100 MiB. */
  maxUploadBytes: Schema.optional(Schema.Int.pipe(Schema.positive())),
  /** Seed of the PRNG behind `rate` and `lockErrorRate` (default: the org's seed). */
  seed: Schema.optional(Schema.Int)
})
export type Config = typeof Config.Type

export const defaultProcessingDelayMs = 200
export const defaultDailyApiRequests = 100_000
export const defaultDailyBulkApiBatches = 15_000
export const defaultDailyIngestedRecords = 150_000_000
export const defaultMaxUploadBytes = 100 * 1024 * 1024

/** Decodes a fault configuration from parsed JSON; the error describes what is wrong. */
export const decode = (input: unknown): Either.Either<Config, string> =>
  Schema.decodeUnknownEither(Config)(input).pipe(
    Either.mapLeft((error) => ParseResult.TreeFormatter.formatErrorSync(error))
  )

/** A small seeded PRNG (mulberry32): the same seed gives the same faults. */
export const prng = (seed: number): (() => number) => {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let mixed = state
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1)
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61)
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296
  }
}

interface Selection {
  readonly call: CallKind
  readonly every?: number | undefined
  readonly rate?: number | undefined
  readonly times?: number | undefined
}

class RuleState<R extends Selection> {
  seen = 0
  hits = 0
  constructor(readonly rule: R) {}

  /** Whether this call (of `kind`) is hit. */
  fires(kind: CallKind, random: () => number): boolean {
    if (this.rule.call !== "any" && this.rule.call !== kind) return false
    this.seen++
    if (this.rule.times !== undefined && this.hits >= this.rule.times) return false
    const selected =
      this.rule.every !== undefined
        ? this.seen % this.rule.every === 0
        : this.rule.rate !== undefined
          ? random() < this.rule.rate
          : true
    if (selected) this.hits++
    return selected
  }
}

/** The faults decided for one call. */
export interface Decision {
  readonly delayMs: number
  readonly httpError: HttpErrorRule | undefined
  readonly drop: DropRule | undefined
}

/** The live fault engine: a configuration plus the counters of its rules. */
export class Engine {
  readonly random: () => number
  private readonly httpErrors: ReadonlyArray<RuleState<HttpErrorRule>>
  private readonly drops: ReadonlyArray<RuleState<DropRule>>
  private readonly slows: ReadonlyArray<RuleState<SlowRule>>

  constructor(
    readonly config: Config,
    seed: number
  ) {
    this.random = prng(config.seed ?? seed)
    this.httpErrors = (config.httpErrors ?? []).map((rule) => new RuleState(rule))
    this.drops = (config.dropConnections ?? []).map((rule) => new RuleState(rule))
    this.slows = (config.slowResponses ?? []).map((rule) => new RuleState(rule))
  }

  get processingDelayMs(): number {
    return this.config.processingDelayMs ?? defaultProcessingDelayMs
  }

  /** Decides the faults of one call of `kind`. Every rule sees every call, so `every` counts stay exact. */
  decide(kind: CallKind): Decision {
    let delayMs = this.config.latencyMs ?? 0
    for (const slow of this.slows) if (slow.fires(kind, this.random)) delayMs += slow.rule.delayMs
    let drop: DropRule | undefined
    for (const rule of this.drops) if (rule.fires(kind, this.random) && drop === undefined) drop = rule.rule
    let httpError: HttpErrorRule | undefined
    for (const rule of this.httpErrors) if (rule.fires(kind, this.random) && httpError === undefined) httpError = rule.rule
    return { delayMs, httpError, drop }
  }
}
