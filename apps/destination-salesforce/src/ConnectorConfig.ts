/**
 * The connector's `--config` file, decoded. Secrets become `Redacted` at once; the raw
 * JSON is kept so a rotated refresh token can be sent back as a whole updated config.
 */
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"

const Secret = Schema.Redacted(Schema.String)

export const NoStorage = Schema.Struct({ storage_type: Schema.Literal("None") })

/** The rejects bucket's region when the config leaves it out or empty. */
export const defaultS3Region = "us-east-1"

export const S3Storage = Schema.Struct({
  storage_type: Schema.Literal("S3"),
  access_key_id: Schema.optional(Secret),
  secret_access_key: Schema.optional(Secret),
  role_arn: Schema.optional(Schema.String),
  s3_bucket_name: Schema.NonEmptyString,
  s3_bucket_region: Schema.optionalWith(Schema.String, { default: () => defaultS3Region }),
  s3_endpoint: Schema.optional(Schema.String),
  bucket_path: Schema.String,
  format: Schema.optionalWith(Schema.Literal("CSV", "JSONL"), { default: () => "CSV" as const }),
  compression: Schema.optionalWith(Schema.Literal("NONE", "GZIP"), { default: () => "NONE" as const })
})
export type S3Storage = typeof S3Storage.Type

export const ConnectorConfig = Schema.Struct({
  client_id: Schema.NonEmptyString,
  client_secret: Secret,
  refresh_token: Secret,
  is_sandbox: Schema.optionalWith(Schema.Boolean, { default: () => false }),
  auth_type: Schema.optional(Schema.Literal("Client")),
  // exact: a bad object is not also reported against `undefined` with the whole object (keys included) as its value
  object_storage_config: Schema.optionalWith(Schema.Union(NoStorage, S3Storage), {
    default: () => ({ storage_type: "None" as const }),
    exact: true
  }),
  login_url: Schema.optional(Schema.String),
  api_version: Schema.optionalWith(Schema.String.pipe(Schema.pattern(/^\d{2,3}\.0$/)), { default: () => "62.0" }),
  batch_size_mb: Schema.optionalWith(Schema.Number.pipe(Schema.positive(), Schema.lessThanOrEqualTo(100)), {
    default: () => 100
  }),
  max_concurrent_jobs: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 25)), { default: () => 4 }),
  null_handling: Schema.optionalWith(Schema.Literal("CLEAR", "LEAVE"), { default: () => "CLEAR" as const }),
  max_batch_age_seconds: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 86_400)), { default: () => 300 })
})
export type ConnectorConfig = typeof ConnectorConfig.Type

/** A configuration the connector cannot run with; the message names the field. */
export class ConfigError extends Schema.TaggedError<ConfigError>()("ConfigError", { detail: Schema.String }) {
  override get message(): string {
    return `invalid configuration: ${this.detail}`
  }
}

/** Fields whose values must never be echoed, even in a validation message. */
const secretFields: ReadonlySet<string> = new Set(["client_secret", "refresh_token", "access_key_id", "secret_access_key"])

/** The string values of secret fields anywhere in the raw config. */
const secretValues = (value: unknown, found: Array<string> = []): Array<string> => {
  if (typeof value !== "object" || value === null) return found
  for (const [key, inner] of Object.entries(value)) {
    if (secretFields.has(key) && typeof inner === "string" && inner !== "") found.push(inner)
    else secretValues(inner, found)
  }
  return found
}

/** Decodes the parsed `--config` JSON; errors name the offending field, never a secret's value. */
export const decode = (json: unknown): Either.Either<ConnectorConfig, ConfigError> =>
  Schema.decodeUnknownEither(ConnectorConfig, { errors: "all" })(json).pipe(
    Either.mapLeft((error) => {
      // as written and as quoted in JSON (a `"` or `\\` in it is escaped there, once or more when
      // quoted again); longest first: a secret inside another is not left half shown
      const quoted = (value: string) => [JSON.stringify(value).slice(1, -1), JSON.stringify(JSON.stringify(value)).slice(3, -3)]
      const secrets = secretValues(json)
        .flatMap((value) => [value, ...quoted(value)])
        .sort((left, right) => right.length - left.length)
      const issues = ParseResult.ArrayFormatter.formatErrorSync(error).map((issue) => {
        const where = issue.path.length === 0 ? "(root)" : issue.path.join(".")
        const secret = issue.path.some((key) => typeof key === "string" && secretFields.has(key))
        // a message about an enclosing object may quote it whole: its secrets are masked
        const message = secrets.reduce((text, value) => text.replaceAll(value, "***"), issue.message)
        return `${where}: ${secret ? "expected a string" : message}`
      })
      return new ConfigError({ detail: issues.join("; ") })
    })
  )
