/**
 * The sync definition: one YAML file in `configs/syncs/` describes one sync — where rows come
 * from, which Salesforce org and object they go to, how columns map to fields, and what counts
 * as failure. The same schema decodes the YAML and generates `configs/sync.schema.json`.
 */
import type * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"

/**
 * A range check's error message: "Expected <range>, actual <value>". Set as a message so that a
 * `description` added for the JSON Schema does not replace the range in errors.
 */
const outOfRange = (range: string) => ({
  message: (issue: ParseResult.ParseIssue) => `Expected ${range}, actual ${String(issue.actual)}`
})

const NonEmpty = Schema.String.pipe(Schema.minLength(1))
const PositiveInt = Schema.Int.pipe(Schema.positive(outOfRange("a positive integer")))

/** An API name: letters, digits and underscores (`Account`, `Product_Usage__c`). */
export const ApiName = Schema.String.pipe(
  Schema.pattern(/^[A-Za-z][A-Za-z0-9_]*$/),
  Schema.annotations({ description: "A Salesforce API name, such as Account or Product_Usage__c" })
)

/** Credentials of a Connected App; values usually come from `${ENV_VARS}`. */
export const RefreshTokenCredentials = Schema.Struct({
  type: Schema.Literal("refreshToken"),
  clientId: NonEmpty,
  clientSecret: NonEmpty,
  refreshToken: NonEmpty
}).annotations({ title: "RefreshTokenCredentials" })

export const ClientCredentials = Schema.Struct({
  type: Schema.Literal("clientCredentials"),
  clientId: NonEmpty,
  clientSecret: NonEmpty
}).annotations({ title: "ClientCredentials", description: "Client credentials flow: needs a My Domain login URL" })

export const JwtCredentials = Schema.Struct({
  type: Schema.Literal("jwt"),
  clientId: NonEmpty,
  username: NonEmpty,
  privateKey: Schema.String.pipe(Schema.minLength(1), Schema.annotations({ description: "RS256 private key, PEM" }))
}).annotations({ title: "JwtCredentials" })

export const OrgCredentials = Schema.Union(RefreshTokenCredentials, ClientCredentials, JwtCredentials)
export type OrgCredentials = typeof OrgCredentials.Type

/** `production`, `sandbox`, a My Domain URL (`https://acme.my.salesforce.com`), or `local`. */
export const Login = Schema.Union(
  Schema.Literal("production", "sandbox", "local"),
  Schema.String.pipe(Schema.pattern(/^https?:\/\/[^\s/]+\/?$/), Schema.annotations({ description: "A My Domain login URL" }))
).annotations({
  description: "production | sandbox | local (the embedded emulator) | a My Domain URL such as https://acme.my.salesforce.com"
})
export type Login = typeof Login.Type

export const OrgConfig = Schema.Struct({
  login: Login,
  credentials: Schema.optional(OrgCredentials).annotations({
    description:
      "Omit to read them from the environment: SALESFORCE_CLIENT_ID with SALESFORCE_CLIENT_SECRET and SALESFORCE_REFRESH_TOKEN or SALESFORCE_REFRESH_TOKEN_FILE (refresh token), or with SALESFORCE_USERNAME and SALESFORCE_PRIVATE_KEY (JWT), or with SALESFORCE_CLIENT_SECRET alone (client credentials)"
  }),
  apiVersion: Schema.optional(Schema.String.pipe(Schema.pattern(/^\d+\.\d$/)))
})
export type OrgConfig = typeof OrgConfig.Type

/** `org: local` is short for `org: { login: local }`. */
export const Org = Schema.Union(Login, OrgConfig)
export type Org = typeof Org.Type

export const DuckDbSource = Schema.Struct({
  type: Schema.Literal("duckdb"),
  query: NonEmpty.annotations({ description: "SQL; read_csv / read_parquet / read_json paths are relative to the repository root" }),
  database: Schema.optional(NonEmpty.annotations({ description: "A .duckdb file, opened read-only (default: in memory)" }))
}).annotations({ title: "DuckDbSource" })

export const PostgresSource = Schema.Struct({
  type: Schema.Literal("postgres"),
  url: NonEmpty.annotations({ description: "postgres://user:password@host:port/db; use ${DATABASE_URL}" }),
  query: NonEmpty,
  fetchRows: Schema.optional(PositiveInt.annotations({ description: "Rows per cursor read (default 1000)" }))
}).annotations({ title: "PostgresSource" })

export const FileSource = Schema.Struct({
  type: Schema.Literal("file"),
  path: NonEmpty,
  format: Schema.optional(Schema.Literal("jsonl", "csv")).annotations({ description: "Default: from the extension" })
}).annotations({ title: "FileSource" })

export const AirbyteSource = Schema.Struct({
  type: Schema.Literal("airbyte"),
  file: Schema.optional(NonEmpty.annotations({ description: "A file of Airbyte messages (JSON lines)" })),
  stdin: Schema.optional(Schema.Boolean.annotations({ description: "Read Airbyte messages from standard input" })),
  command: Schema.optional(
    Schema.Array(Schema.String).pipe(Schema.minItems(1)).annotations({ description: "A source connector's read command: [program, ...args]" })
  ),
  stream: Schema.optional(NonEmpty.annotations({ description: "Only RECORDs of this stream (default: all)" })),
  namespace: Schema.optional(
    NonEmpty.annotations({ description: "With stream: only RECORDs of this namespace (needed when the source has the stream in several namespaces)" })
  ),
  stateFile: Schema.optional(NonEmpty.annotations({ description: "Where to write the source's STATE once every record before it is settled" }))
}).annotations({ title: "AirbyteSource" })

export const Source = Schema.Union(DuckDbSource, PostgresSource, FileSource, AirbyteSource)
export type Source = typeof Source.Type

export const NullPolicy = Schema.Literal("clear", "leave").annotations({
  description: "clear: a null source value empties the field; leave: it keeps its value"
})

/** `Field: column`, or `{ from: column, nulls }`, or `{ constant: value }`. */
export const Mapping = Schema.Union(
  NonEmpty.annotations({ description: "The source column" }),
  Schema.Struct({ from: NonEmpty, nulls: Schema.optional(NullPolicy) }).annotations({ title: "ColumnMapping" }),
  Schema.Struct({
    constant: Schema.Union(Schema.String, Schema.Number, Schema.Boolean, Schema.Null)
  }).annotations({ title: "ConstantMapping" })
)
export type Mapping = typeof Mapping.Type

export const Operation = Schema.Literal("insert", "update", "upsert", "delete", "hardDelete")
export type Operation = typeof Operation.Type

export const Rejects = Schema.Union(
  Schema.Literal("none"),
  Schema.Struct({
    type: Schema.Literal("local"),
    directory: NonEmpty,
    format: Schema.optional(Schema.Literal("csv", "jsonl"))
  }).annotations({ title: "LocalRejects" }),
  Schema.Struct({
    type: Schema.Literal("s3"),
    bucket: NonEmpty,
    region: NonEmpty,
    path: Schema.optional(Schema.String),
    endpoint: Schema.optional(NonEmpty),
    accessKeyId: Schema.optional(NonEmpty),
    secretAccessKey: Schema.optional(NonEmpty),
    format: Schema.optional(Schema.Literal("csv", "jsonl")),
    gzip: Schema.optional(Schema.Boolean)
  }).annotations({ title: "S3Rejects" })
)
export type Rejects = typeof Rejects.Type

export const FailWhen = Schema.Struct({
  rejectedMoreThan: Schema.optional(Schema.Int.pipe(Schema.nonNegative())),
  rejectedPercentAbove: Schema.optional(Schema.Number.pipe(Schema.between(0, 100)))
})
export type FailWhen = typeof FailWhen.Type

export const SyncDefinition = Schema.Struct({
  name: Schema.String.pipe(Schema.pattern(/^[A-Za-z0-9][A-Za-z0-9_-]*$/)).annotations({
    description: "Unique name: letters, digits, - and _"
  }),
  org: Org,
  source: Source,
  object: ApiName,
  operation: Operation,
  externalIdField: Schema.optional(ApiName.annotations({ description: "The matching key of an upsert (an External ID field, or Id)" })),
  mappings: Schema.Record({ key: NonEmpty, value: Mapping }).annotations({
    description: "Field (or relationship such as Account.External_Id__c) → source column, { from, nulls } or { constant }"
  }),
  nulls: Schema.optional(NullPolicy),
  batchSize: Schema.optional(PositiveInt.pipe(Schema.lessThanOrEqualTo(150_000_000, outOfRange("at most 150000000"))).annotations({ description: "Rows per Bulk API job" })),
  concurrency: Schema.optional(PositiveInt.pipe(Schema.lessThanOrEqualTo(25, outOfRange("at most 25"))).annotations({ description: "Jobs in flight (default 4)" })),
  serial: Schema.optional(Schema.Boolean.annotations({ description: "One job at a time (lock contention)" })),
  validate: Schema.optional(Schema.Boolean.annotations({ description: "Check rows against describe before sending (default true)" })),
  rejects: Schema.optional(Rejects),
  failWhen: Schema.optional(FailWhen),
  after: Schema.optional(Schema.Array(NonEmpty).annotations({ description: "Syncs that must finish first" }))
}).annotations({ title: "SyncDefinition", description: "One sync: rows from a source into a Salesforce object" })
export type SyncDefinition = typeof SyncDefinition.Type

/** The org's login, whichever form it was written in. */
export const loginOf = (org: Org): Login => (typeof org === "string" ? org : org.login)

export type DuckDbSourceType = typeof DuckDbSource.Type
export type PostgresSourceType = typeof PostgresSource.Type
export type FileSourceType = typeof FileSource.Type
export type AirbyteSourceType = typeof AirbyteSource.Type
