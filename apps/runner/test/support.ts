import { afterAll, beforeAll } from "@effect/vitest"
import { EmulatorServer, Org } from "@sfdc-activation/salesforce-emulator"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { mkdtempSync } from "node:fs"
import { cp, mkdir, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { type Io, main } from "../src/Cli.js"

/** The repository root (for the shipped examples). */
export const repoRoot = path.resolve(import.meta.dirname, "../../..")

export interface Captured {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** Runs the CLI in-process with captured output. */
export const runCli = (
  args: ReadonlyArray<string>,
  options: { readonly cwd: string; readonly env?: Record<string, string>; readonly stdin?: string }
): Effect.Effect<Captured> =>
  Effect.gen(function* () {
    let stdout = ""
    let stderr = ""
    const io: Io = {
      stdout: (text) => void (stdout += text),
      stderr: (text) => void (stderr += text),
      isTTY: false,
      env: options.env ?? {},
      cwd: options.cwd,
      stdin: options.stdin === undefined ? Stream.empty : Stream.make(new TextEncoder().encode(options.stdin))
    }
    const code = yield* main(args, io)
    return { code, stdout, stderr }
  })

/** A scratch workspace: `configs/syncs/` with the given files, and the shipped warehouse. */
export const workspace = (syncs: Record<string, string>, extra: Record<string, string> = {}): Effect.Effect<string> =>
  Effect.promise(async () => {
    const root = mkdtempSync(path.join(tmpdir(), "runner-test-"))
    await mkdir(path.join(root, "configs/syncs"), { recursive: true })
    await cp(path.join(repoRoot, "configs/warehouse"), path.join(root, "configs/warehouse"), { recursive: true })
    for (const [name, text] of Object.entries(syncs)) await writeFile(path.join(root, "configs/syncs", name), text)
    for (const [name, text] of Object.entries(extra)) {
      await mkdir(path.dirname(path.join(root, name)), { recursive: true })
      await writeFile(path.join(root, name), text)
    }
    return root
  })

/**
 * A sync definition that upserts Contacts by `External_Id__c` from the rows' `key` and `last`:
 * `source` is the YAML under `source:` (indented), `extra` more top-level lines.
 */
export const contactsUpsert = (options: { readonly org: string; readonly source: string; readonly name?: string; readonly extra?: string }) =>
  `name: ${options.name ?? "contacts"}
org: ${options.org}
source:
${options.source.replace(/\n?$/, "\n")}object: Contact
operation: upsert
externalIdField: External_Id__c
mappings:
  External_Id__c: key
  LastName: last
${options.extra ?? ""}`

/**
 * An emulated org served on a loopback port for the file's tests (started before them, closed
 * after), with the `SALESFORCE_*` environment a sync needs to log in to it.
 */
export const loopbackOrg = (options: Org.Options = {}) => {
  const org = Org.make(options)
  let running: EmulatorServer.Running | undefined
  beforeAll(async () => {
    running = await EmulatorServer.start(org, { port: 0 })
  })
  afterAll(async () => {
    await running?.close()
  })
  return {
    org,
    url: (): string => running?.url ?? "",
    env: (): Record<string, string> => ({
      SALESFORCE_CLIENT_ID: org.credentials.clientId,
      SALESFORCE_CLIENT_SECRET: org.credentials.clientSecret,
      SALESFORCE_REFRESH_TOKEN: org.credentials.refreshToken
    })
  }
}

/** The example accounts sync (DuckDB over the bundled warehouse): its org, source, mappings and extra lines at the end. */
export const accountsSync = (
  options: { readonly org?: string; readonly source?: string; readonly extra?: string; readonly mappings?: string } = {}
) => `name: accounts
org: ${options.org ?? "local"}
source:
${options.source ?? "  type: duckdb\n  query: SELECT * FROM read_csv('configs/warehouse/accounts.csv')"}
object: Account
operation: upsert
externalIdField: External_Id__c
mappings:
${options.mappings ?? "  External_Id__c: account_key\n  Name: name\n"}${options.extra ?? ""}`
