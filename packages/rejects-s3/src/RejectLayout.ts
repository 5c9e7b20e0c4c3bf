/**
 * Where rejected records go: object keys following Airbyte's dead-letter layout, built from a
 * template whose values are sanitised so that a key never leaves its `bucket_path` prefix.
 */
import * as Effect from "effect/Effect"
import { createHash } from "node:crypto"
import { RejectSinkError } from "./RejectSinkError.js"

/** Airbyte's layout. */
export const defaultTemplate =
  "{bucket_path}/{sync_id}/{namespace}/{stream_name}/{date}_{timestamp}_{part_number}{format_extension}"

/** The variables a template may use. */
export const variables = [
  "bucket_path",
  "sync_id",
  "namespace",
  "stream_name",
  "date",
  "timestamp",
  "part_number",
  "format_extension"
] as const
export type Variable = (typeof variables)[number]

/** The values of one object's key. Absent `syncId` / `namespace` drop their path segment. */
export interface KeyValues {
  readonly bucketPath: string
  readonly syncId: string | undefined
  readonly namespace: string | undefined
  readonly streamName: string
  /** When the object was started, epoch milliseconds. */
  readonly startedAtMillis: number
  readonly partNumber: number
  /** `.csv`, `.jsonl`, `.csv.gz`, `.jsonl.gz`. */
  readonly formatExtension: string
}

const maxSegmentChars = 120
const safeCharacter = /[A-Za-z0-9._-]/

/**
 * Makes one value safe as a single path segment: characters outside `[A-Za-z0-9._-]` (slashes,
 * spaces, unicode, control characters) become `_`, a segment of only dots becomes underscores,
 * an empty value becomes `_`. When anything was changed (or the value was too long) a short hash
 * of the original is appended, so `a/b` and `a_b` stay apart.
 */
/** A segment `sanitizeSegment` shortened: sanitised again (a location printed, then given back), it stays as it is. */
const shortenedSegment = new RegExp(`^[A-Za-z0-9._-]{${maxSegmentChars}}-[0-9a-f]{8}$`)

export const sanitizeSegment = (value: string): string => {
  let safe = Array.from(value.normalize("NFC"), (char) => (safeCharacter.test(char) ? char : "_")).join("")
  if (/^\.*$/.test(safe)) safe = "_".repeat(Math.max(1, safe.length))
  if (safe === value && (safe.length <= maxSegmentChars || shortenedSegment.test(safe))) return safe
  const hash = createHash("sha256").update(value).digest("hex").slice(0, 8)
  return `${safe.slice(0, maxSegmentChars)}-${hash}`
}

/** Sanitises a `/`-separated prefix segment by segment; empty segments are dropped. */
export const sanitizePrefix = (prefix: string): string =>
  prefix
    .split("/")
    .filter((segment) => segment !== "")
    .map(sanitizeSegment)
    .join("/")

const pad = (value: number) => value.toString().padStart(2, "0")

const renderValue = (name: Variable, values: KeyValues): string => {
  switch (name) {
    case "bucket_path":
      return sanitizePrefix(values.bucketPath)
    case "sync_id":
      return values.syncId === undefined ? "" : sanitizeSegment(values.syncId)
    case "namespace":
      return values.namespace === undefined || values.namespace === "" ? "" : sanitizeSegment(values.namespace)
    case "stream_name":
      return sanitizeSegment(values.streamName)
    case "date": {
      const date = new Date(values.startedAtMillis)
      return `${date.getUTCFullYear()}_${pad(date.getUTCMonth() + 1)}_${pad(date.getUTCDate())}`
    }
    case "timestamp":
      return values.startedAtMillis.toString()
    case "part_number":
      return values.partNumber.toString()
    case "format_extension":
      return values.formatExtension
  }
}

const isVariable = (name: string): name is Variable => variables.some((variable) => variable === name)

/** A checked key template. */
export interface Layout {
  readonly template: string
  readonly key: (values: KeyValues) => string
}

const placeholder = /\{([^{}]*)\}/g

const render = (template: string, values: KeyValues): string =>
  template
    .replace(placeholder, (_match, name: string) => (isVariable(name) ? renderValue(name, values) : ""))
    .split("/")
    .filter((segment) => segment !== "")
    .map((segment) => (/^\.+$/.test(segment) ? "_".repeat(segment.length) : segment))
    .join("/")

/**
 * Checks a template: only known variables, it starts with `{bucket_path}/`, holds
 * `{part_number}` (keys of one sink never collide) and its literal text has no `.`/`..`
 * segment, backslash or control character. Values are sanitised when rendering.
 */
export const make = (template: string = defaultTemplate): Effect.Effect<Layout, RejectSinkError> => {
  const fail = (message: string) => Effect.fail(new RejectSinkError({ reason: "Config", message }))
  const names = Array.from(template.matchAll(placeholder), (match) => match[1] ?? "")
  const unknown = names.filter((name) => !isVariable(name))
  if (unknown.length > 0) return fail(`Unknown layout variables: ${unknown.join(", ")}`)
  if (!template.startsWith("{bucket_path}/")) return fail("The layout must start with {bucket_path}/")
  if (!names.includes("part_number")) return fail("The layout must contain {part_number}")
  const literal = template.replace(placeholder, "x")
  // eslint-disable-next-line no-control-regex
  if (/[\\\u0000-\u001f]/.test(literal)) return fail("The layout holds a backslash or a control character")
  if (literal.split("/").some((segment) => segment === "." || segment === "..")) {
    return fail("The layout holds a '.' or '..' segment")
  }
  return Effect.succeed({ template, key: (values) => render(template, values) })
}
