/**
 * Reading sync definitions: every `*.yaml` / `*.yml` file of a directory, parsed with positions,
 * `${ENV_VAR}`s substituted, decoded with the `SyncDefinition` schema, and checked as a set
 * (unique names, known `after:` targets, no cycles, operation and key consistent). Every error
 * is a `ConfigError` naming the file, line and column; it shows a value from the environment
 * as written (`${VAR}`) and a URL's user and password as `***`.
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { readdir, readFile } from "node:fs/promises"
import * as path from "node:path"
import * as YAML from "yaml"
import { ConfigError } from "./ConfigError.js"
import { maskUserinfo } from "./Redactor.js"
import * as FileSource from "./Sources/FileSource.js"
import * as SyncDefinition from "./SyncDefinition.js"

/** A decoded definition and where it came from. */
export interface LoadedSync {
  readonly file: string
  readonly definition: SyncDefinition.SyncDefinition
  /** Position of a key path in the file, for errors found later (plan). */
  readonly positionOf: (keyPath: ReadonlyArray<string>) => { readonly line: number; readonly column: number } | undefined
  /**
   * `text` with each value the definition took from the environment at or under `keyPath` shown
   * as written (`${VAR}`): a rejects location printed for a shell to expand, not masked.
   */
  readonly asWritten: (keyPath: ReadonlyArray<string>, text: string) => string
}

export interface LoadedSyncs {
  /** In run order: declared (file name) order, moved after what they depend on. */
  readonly syncs: ReadonlyArray<LoadedSync>
}

/**
 * Takes every value substituted from the environment as it is substituted, before the file is
 * decoded, so that nothing printed afterwards (errors included) can show it: the `Redactor`.
 */
export interface SecretSink {
  readonly add: (value: string) => void
}

export type Environment = Readonly<Record<string, string | undefined>>

const variablePattern = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g
/** A shell-style expansion (`${NAME:-default}`, `${NAME-x}`…), which is not supported. */
const shellExpansionPattern = /\$\{([A-Za-z_][A-Za-z0-9_]*)([^A-Za-z0-9_}][^}]*)\}/

const decode = Schema.decodeUnknownEither(SyncDefinition.SyncDefinition, { errors: "all", onExcessProperty: "error" })

type Issue = { readonly path: ReadonlyArray<PropertyKey>; readonly message: string; readonly tag: string }

const startsWith = (longer: ReadonlyArray<PropertyKey>, prefix: ReadonlyArray<PropertyKey>) =>
  longer.length > prefix.length && prefix.every((key, index) => longer[index] === key)

const samePath = (a: ReadonlyArray<PropertyKey>, b: ReadonlyArray<PropertyKey>) =>
  a.length === b.length && a.every((key, index) => b[index] === key)

/** The `undefined` branch of an optional key, failed because the key has a value. */
const isOptionalAlternative = (issue: Issue) => issue.message.startsWith("Expected undefined,")

/** A value of the wrong type, or out of its range. */
const isWrongValue = (issue: Issue) => issue.tag === "Type" || issue.tag === "Refinement"

/**
 * The issues worth showing: the most specific ones (an issue with deeper issues under it is a
 * union member that did not match), and a union's failed `type` discriminators only when
 * nothing more specific is wrong beside them. Same-path alternatives merge into "expected A or B".
 */
export const summarizeIssues = (issues: ReadonlyArray<Issue>): Array<{ path: ReadonlyArray<PropertyKey>; message: string }> => {
  const unexpected = "is unexpected, expected: "
  // An optional key's "Expected undefined" says nothing when the value failed its own check beside it.
  const meaningful = issues.filter((issue) => !(isOptionalAlternative(issue) && issues.some((other) => other !== issue && samePath(other.path, issue.path))))
  const specific = meaningful.filter((issue) => !meaningful.some((other) => startsWith(other.path, issue.path)))
  const withoutDiscriminators = specific.filter((issue) => {
    const last = issue.path[issue.path.length - 1]
    if (last !== "type" || issue.tag !== "Type") return true
    const parent = issue.path.slice(0, -1)
    return !specific.some((other) => startsWith(other.path, parent) && other.path[parent.length] !== "type")
  })
  // Where some union member got as far as a wrong value, the other members' key complaints are noise.
  const parentOf = (issue: Issue) => issue.path.slice(0, -1)
  const focused = withoutDiscriminators.filter(
    (issue) =>
      isWrongValue(issue) ||
      !withoutDiscriminators.some((other) => isWrongValue(other) && samePath(parentOf(other), parentOf(issue)))
  )
  // A form of a union that calls a key unexpected which another form takes is not the form
  // written (`{ from: x, nul: y }` is no `{ constant }` missing its key): its complaints go,
  // unless every complaint there would go (`{ from, constant }` together).
  const keysOf = (issue: Issue) => (issue.message.startsWith(unexpected) ? [...issue.message.matchAll(/"([^"]*)"/g)].map((match) => match[1]) : [])
  const siblings = (issue: Issue) => focused.filter((other) => samePath(parentOf(other), parentOf(issue)))
  const otherForm = (issue: Issue) =>
    issue.message.startsWith(unexpected) && siblings(issue).some((other) => other !== issue && keysOf(other).includes(String(issue.path[issue.path.length - 1])))
  const unwritten = (issue: Issue) =>
    otherForm(issue) ||
    (issue.message === "is missing" && siblings(issue).some((other) => otherForm(other) && keysOf(other).includes(String(issue.path[issue.path.length - 1]))))
  const written = focused.filter((issue) => !unwritten(issue) || siblings(issue).every(unwritten))
  const grouped: Array<{ path: ReadonlyArray<PropertyKey>; messages: Array<string> }> = []
  for (const issue of written) {
    const group = grouped.find((candidate) => samePath(candidate.path, issue.path))
    if (group === undefined) grouped.push({ path: issue.path, messages: [issue.message] })
    else if (!group.messages.includes(issue.message)) group.messages.push(issue.message)
  }
  return grouped.map(({ path: keyPath, messages }) => {
    // a key no form of a union takes: one list of the keys any of them takes
    if (messages.length > 1 && messages.every((message) => message.startsWith(unexpected))) {
      return { path: keyPath, message: `${unexpected}${messages.map((message) => message.slice(unexpected.length)).join(" | ")}` }
    }
    const expected = messages.map((message) => /^Expected (.*), actual (.*)$/s.exec(message))
    if (messages.length > 1 && expected.every((match) => match !== null)) {
      const actual = expected[0]?.[2] ?? ""
      return { path: keyPath, message: `expected ${expected.map((match) => match?.[1] ?? "").join(" or ")}, got ${actual}` }
    }
    return { path: keyPath, message: messages.map((message) => message.replace(/^Expected/, "expected")).join("; ") }
  })
}

const describePath = (keyPath: ReadonlyArray<PropertyKey>) => (keyPath.length === 0 ? "the file" : keyPath.map(String).join("."))

/** Line and column (1-based) of the deepest existing node along `keyPath`. */
const locate = (document: YAML.Document, lines: YAML.LineCounter, keyPath: ReadonlyArray<PropertyKey>) => {
  for (let depth = keyPath.length; depth >= 0; depth--) {
    const node: unknown = depth === 0 ? document.contents : document.getIn(keyPath.slice(0, depth), true)
    if (YAML.isNode(node) && node.range !== undefined && node.range !== null) {
      const { line, col } = lines.linePos(node.range[0])
      return { line, column: col }
    }
  }
  return undefined
}

/** Line and column of the key `keyPath` ends with (for keys that should not be there). */
/** The key node of `keyPath`'s last step (a key written `null` or `~` reads as ""). */
const keyNodeOf = (document: YAML.Document, keyPath: ReadonlyArray<PropertyKey>): YAML.Scalar | undefined => {
  const parent: unknown = keyPath.length <= 1 ? document.contents : document.getIn(keyPath.slice(0, -1), true)
  if (!YAML.isMap(parent)) return undefined
  const last = keyPath[keyPath.length - 1]
  const pair = parent.items.find((item) => YAML.isScalar(item.key) && (item.key.value === last || (last === "" && item.key.value === null)))
  return pair !== undefined && YAML.isScalar(pair.key) ? pair.key : undefined
}

const locateKey = (document: YAML.Document, lines: YAML.LineCounter, keyPath: ReadonlyArray<PropertyKey>) => {
  const key = keyNodeOf(document, keyPath)
  if (key?.range !== undefined && key.range !== null) {
    const { line, col } = lines.linePos(key.range[0])
    return { line, column: col }
  }
  return locate(document, lines, keyPath)
}

/** `keyPath` with a last key written `null` (or `~`) named as written, not as the "" it reads as. */
const asWritten = (document: YAML.Document, keyPath: ReadonlyArray<PropertyKey>): ReadonlyArray<PropertyKey> => {
  if (keyPath[keyPath.length - 1] !== "") return keyPath
  const key = keyNodeOf(document, keyPath)
  return key === undefined || key.value !== null ? keyPath : [...keyPath.slice(0, -1), key.source ?? "null"]
}

/** The scalars that took a value from the environment, each with its text as written (`${VAR}`). */
type Interpolated = Map<YAML.Scalar, string>

/**
 * Replaces `${VAR}` in every string scalar, handing each value to `secrets`; a missing variable
 * is a `ConfigError` at its position.
 */
const interpolate = (
  document: YAML.Document,
  lines: YAML.LineCounter,
  file: string,
  env: Environment,
  secrets: SecretSink
): Either.Either<Interpolated, ConfigError> => {
  let failure: ConfigError | undefined
  const interpolated: Interpolated = new Map()
  YAML.visit(document, {
    Scalar(_key, node) {
      if (failure !== undefined || typeof node.value !== "string" || !node.value.includes("${")) return
      const written = node.value
      const expansion = shellExpansionPattern.exec(written)
      if (expansion !== null) {
        const position = node.range === undefined || node.range === null ? undefined : lines.linePos(node.range[0])
        failure = new ConfigError({
          file,
          line: position?.line,
          column: position?.col,
          detail: `\${${expansion[1]}${expansion[2]}} is not supported: only \${NAME} is replaced (no default or other shell expansion); set ${expansion[1]} or write the value`
        })
        return
      }
      node.value = written.replace(variablePattern, (_match, name: string) => {
        const value = env[name]
        if (value === undefined) {
          if (failure === undefined) {
            const position = node.range === undefined || node.range === null ? undefined : lines.linePos(node.range[0])
            failure = new ConfigError({
              file,
              line: position?.line,
              column: position?.col,
              detail: `environment variable ${name} is not set (referenced as \${${name}})`
            })
          }
          return ""
        }
        secrets.add(value)
        return value
      })
      if (node.value !== written) interpolated.set(node, written)
    }
  })
  return failure === undefined ? Either.right(interpolated) : Either.left(failure)
}

/**
 * A decode issue's message as it may be shown: a value from the environment at or under
 * `keyPath` appears as written (`${VAR}`), and no URL in it keeps its user and password.
 */
const conceal = (document: YAML.Document, interpolated: Interpolated, keyPath: ReadonlyArray<PropertyKey>, message: string): string => {
  const node: unknown = keyPath.length === 0 ? document.contents : document.getIn(keyPath, true)
  const fromEnvironment = valuesFromEnvironment(node, interpolated)
  const actual = /^(.*?, actual )/s.exec(message)?.[1]
  const own = YAML.isScalar(node) ? fromEnvironment[0] : undefined
  const shown =
    own !== undefined && actual !== undefined
      ? `${actual}${own.written}`
      : fromEnvironment
          .filter(({ value }) => value !== "")
          .sort((a, b) => b.value.length - a.value.length)
          .reduce((text, { value, written }) => text.split(value).join(written).split(JSON.stringify(value).slice(1, -1)).join(written), message)
  return maskUserinfo(shown)
}

/** The values `node` (a scalar, or every scalar under it) took from the environment, each with its text as written. */
const valuesFromEnvironment = (node: unknown, interpolated: Interpolated): Array<{ readonly value: string; readonly written: string }> => {
  const found: Array<{ readonly value: string; readonly written: string }> = []
  const collect = (scalar: YAML.Scalar) => {
    const written = interpolated.get(scalar)
    if (written !== undefined && typeof scalar.value === "string") found.push({ value: scalar.value, written })
  }
  if (YAML.isScalar(node)) collect(node)
  else if (YAML.isNode(node)) YAML.visit(node, { Scalar: (_key, scalar) => collect(scalar) })
  return found
}

/** A URL with a user name or password before its host. */
const userinfoUrl = /^[a-z][a-z0-9+.-]*:\/\/[^/]*@/i

/**
 * Checks one definition beyond its shape: the login URL holds no password, the matching key
 * fits the operation.
 */
const checkOperation = (loaded: LoadedSync): Either.Either<void, ConfigError> => {
  const { definition, file } = loaded
  const at = (keyPath: ReadonlyArray<string>, detail: string) => {
    const position = loaded.positionOf(keyPath)
    return Either.left(new ConfigError({ file, line: position?.line, column: position?.column, detail }))
  }
  if (userinfoUrl.test(SyncDefinition.loginOf(definition.org))) {
    return at(
      typeof definition.org === "string" ? ["org"] : ["org", "login"],
      "org: a login URL takes no user name or password (https://user:password@host): give the host only, and the credentials in org.credentials or the SALESFORCE_* environment variables"
    )
  }
  const fields = Object.keys(definition.mappings)
  if (fields.length === 0) return at(["mappings"], "mappings is empty: map at least one field")
  /** Salesforce matches field names in any case (`id` is Id). */
  const mapsField = (name: string) => fields.some((field) => field.toLowerCase() === name.toLowerCase())
  switch (definition.operation) {
    case "upsert":
      if (definition.externalIdField === undefined) {
        return at(["operation"], "operation upsert needs externalIdField (an External ID field of the object, or Id)")
      }
      if (!mapsField(definition.externalIdField)) {
        return at(["externalIdField"], `externalIdField ${definition.externalIdField} must be one of the mappings`)
      }
      break
    case "update":
    case "delete":
    case "hardDelete":
      if (definition.externalIdField !== undefined && definition.externalIdField.toLowerCase() !== "id") {
        return at(["externalIdField"], `operation ${definition.operation} matches records by Id; remove externalIdField or use upsert`)
      }
      if (!mapsField("Id")) return at(["mappings"], `operation ${definition.operation} needs an Id mapping (the record to ${definition.operation})`)
      if (definition.operation !== "update" && fields.length !== 1) {
        return at(["mappings"], `operation ${definition.operation} takes only the Id mapping`)
      }
      break
    case "insert":
      if (definition.externalIdField !== undefined) return at(["externalIdField"], "operation insert has no matching key: remove externalIdField or use upsert")
  }
  const source = definition.source
  if (source.type === "file") {
    const format = FileSource.formatOf(source)
    if (Either.isLeft(format)) return at(["source", "path"], format.left.detail)
  }
  if (source.type === "airbyte") {
    const inputs = [source.file, source.stdin === true ? true : undefined, source.command].filter((input) => input !== undefined)
    if (inputs.length !== 1) return at(["source"], "an airbyte source takes exactly one of file, stdin: true or command")
    if (source.namespace !== undefined && source.stream === undefined) {
      return at(["source", "namespace"], "namespace chooses the namespace of the stream: name the stream too (stream:)")
    }
  }
  return Either.void
}

/** Parses and decodes one file's text. */
export const parseSync = (
  file: string,
  text: string,
  env: Environment,
  secrets: SecretSink = new Set<string>()
): Either.Either<LoadedSync, ConfigError> => {
  const lines = new YAML.LineCounter()
  const document = YAML.parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true })
  const syntax = document.errors[0]
  if (syntax !== undefined) {
    const position = lines.linePos(syntax.pos[0])
    return Either.left(
      new ConfigError({ file, line: position.line, column: position.col, detail: `invalid YAML: ${syntax.message.split("\n")[0] ?? ""}` })
    )
  }
  const interpolation = interpolate(document, lines, file, env, secrets)
  if (Either.isLeft(interpolation)) return Either.left(interpolation.left)
  const interpolated = interpolation.right
  const positionOf = (keyPath: ReadonlyArray<PropertyKey>) => locateKey(document, lines, keyPath)
  const decoded = decode(document.toJS())
  if (Either.isLeft(decoded)) {
    const issues = summarizeIssues(
      ParseResult.ArrayFormatter.formatErrorSync(decoded.left).map((issue) => ({
        path: issue.path,
        message: conceal(document, interpolated, issue.path, issue.message),
        tag: issue._tag
      }))
    )
    // A key from the environment is named as written, too.
    const writtenAs = new Map([...interpolated].map(([node, written]) => [String(node.value), written]))
    const described = issues.map((issue) => {
      const position = issue.message.startsWith("is unexpected") ? locateKey(document, lines, issue.path) : locate(document, lines, issue.path)
      const message = `${describePath(asWritten(document, issue.path).map((key) => writtenAs.get(String(key)) ?? key))}: ${issue.message}`
      return { position, message }
    })
    const first = described[0]
    const rest = described.slice(1).map((item) => `\n  ${file}:${item.position?.line ?? 1}:${item.position?.column ?? 1}: ${item.message}`)
    return Either.left(
      new ConfigError({
        file,
        line: first?.position?.line,
        column: first?.position?.column,
        detail: `${first?.message ?? "not a sync definition"}${rest.join("")}`
      })
    )
  }
  const asWrittenUnder = (keyPath: ReadonlyArray<string>, text: string): string =>
    valuesFromEnvironment(document.getIn(keyPath, true), interpolated)
      .filter(({ value }) => value !== "")
      .sort((a, b) => b.value.length - a.value.length)
      .reduce((shown, { value, written }) => shown.split(value).join(written), text)
  const loaded: LoadedSync = { file, definition: decoded.right, positionOf, asWritten: asWrittenUnder }
  return Either.map(checkOperation(loaded), () => loaded)
}

/**
 * Run order: declared order, each sync moved after the syncs its `after:` names. Unknown
 * names and cycles are configuration errors.
 */
export const order = (syncs: ReadonlyArray<LoadedSync>): Either.Either<Array<LoadedSync>, ConfigError> => {
  const byName = new Map<string, LoadedSync>()
  for (const sync of syncs) {
    const existing = byName.get(sync.definition.name)
    if (existing !== undefined) {
      const position = sync.positionOf(["name"])
      return Either.left(
        new ConfigError({ file: sync.file, line: position?.line, column: position?.column, detail: `sync name ${sync.definition.name} is already used by ${existing.file}` })
      )
    }
    byName.set(sync.definition.name, sync)
  }
  for (const sync of syncs) {
    for (const [index, name] of (sync.definition.after ?? []).entries()) {
      if (!byName.has(name)) {
        const position = sync.positionOf(["after", String(index)])
        return Either.left(
          new ConfigError({
            file: sync.file,
            line: position?.line,
            column: position?.column,
            detail: `after: no sync is named ${name} (known: ${[...byName.keys()].join(", ")})`
          })
        )
      }
    }
  }
  const ordered: Array<LoadedSync> = []
  const state = new Map<string, "visiting" | "done">()
  const visit = (sync: LoadedSync, trail: ReadonlyArray<string>): Either.Either<void, ConfigError> => {
    const name = sync.definition.name
    if (state.get(name) === "done") return Either.void
    if (state.get(name) === "visiting") {
      const position = sync.positionOf(["after"])
      return Either.left(
        new ConfigError({ file: sync.file, line: position?.line, column: position?.column, detail: `after: dependency cycle ${[...trail, name].join(" → ")}` })
      )
    }
    state.set(name, "visiting")
    for (const dependency of sync.definition.after ?? []) {
      const target = byName.get(dependency)
      if (target === undefined) continue
      const visited = visit(target, [...trail, name])
      if (Either.isLeft(visited)) return visited
    }
    state.set(name, "done")
    ordered.push(sync)
    return Either.void
  }
  for (const sync of syncs) {
    const visited = visit(sync, [])
    if (Either.isLeft(visited)) return Either.left(visited.left)
  }
  return Either.right(ordered)
}

/** Every sync definition of `directory`, in run order; values from the environment go to `secrets` as they are read. */
export const load = (
  directory: string,
  env: Environment,
  baseDir: string = directory,
  secrets: SecretSink = new Set<string>()
): Effect.Effect<LoadedSyncs, ConfigError> =>
  Effect.gen(function* () {
    const names = yield* Effect.tryPromise({
      try: () => readdir(directory),
      catch: () => new ConfigError({ detail: `cannot read the sync directory ${directory}` })
    })
    const files = names.filter((name) => /\.ya?ml$/.test(name)).sort()
    if (files.length === 0) return yield* new ConfigError({ detail: `no sync definitions (*.yaml) in ${directory}` })
    const loaded: Array<LoadedSync> = []
    for (const name of files) {
      const file = path.relative(baseDir, path.join(directory, name))
      const text = yield* Effect.tryPromise({
        try: () => readFile(path.join(directory, name), "utf8"),
        catch: () => new ConfigError({ file, detail: "cannot read the file" })
      })
      loaded.push(yield* parseSync(file, text, env, secrets))
    }
    return { syncs: yield* order(loaded) }
  })
