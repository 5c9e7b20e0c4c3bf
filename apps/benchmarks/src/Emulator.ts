/**
 * The emulator server as its own process (so its memory is never counted as a subject's), with
 * its admin API: credentials, stats (API calls by kind), faults and reset.
 */
import { spawn } from "node:child_process"
import { once } from "node:events"
import { readFileSync } from "node:fs"
import * as path from "node:path"
import * as readline from "node:readline"

export interface Credentials {
  readonly clientId: string
  readonly clientSecret: string
  readonly refreshToken: string
}

export interface Stats {
  readonly calls: Readonly<Record<string, number>> & { readonly total: number }
  readonly records: Readonly<Record<string, number>>
  readonly rowsProcessed: number
  readonly rowsFailed: number
}

export interface Emulator {
  readonly url: string
  readonly credentials: () => Promise<Credentials>
  readonly stats: () => Promise<Stats>
  readonly reset: () => Promise<void>
  readonly setFaults: (faults: Record<string, unknown>) => Promise<void>
  /** The describe result of an sObject, as a client reads it. */
  readonly describe: (sobject: string) => Promise<unknown>
  /** CPU seconds the server process has used so far; `undefined` where `/proc` is missing (not Linux). */
  readonly cpuSeconds: () => number | undefined
  readonly stop: () => Promise<void>
}

export const serverScript = path.resolve(import.meta.dirname, "../../../packages/salesforce-emulator/dist/server.js")

/** Linux's clock ticks per second (`getconf CLK_TCK`), the unit of `/proc/PID/stat` times. */
const clockTicksPerSecond = 100

/** User + system CPU seconds of a process from `/proc/PID/stat` (fields 14 and 15, after the command name). */
const processCpuSeconds = (pid: number | undefined): number | undefined => {
  if (pid === undefined) return undefined
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    return (Number(fields[11]) + Number(fields[12])) / clockTicksPerSecond
  } catch {
    return undefined
  }
}

const json = async <A>(response: Response): Promise<A> => {
  if (!response.ok) throw new Error(`emulator admin API: HTTP ${response.status} ${await response.text()}`)
  return (await response.json()) as A
}

/** Starts `node dist/server.js --port 0` (with extra node flags, e.g. `--cpu-prof`) and waits for its `listening on URL` line. */
export const start = async (nodeFlags: ReadonlyArray<string> = []): Promise<Emulator> => {
  const child = spawn(process.execPath, ["--max-old-space-size=8192", ...nodeFlags, serverScript, "--port", "0"], { stdio: ["ignore", "pipe", "inherit"] })
  const lines = readline.createInterface({ input: child.stdout })
  const [first] = (await once(lines, "line")) as [string]
  lines.close()
  child.stdout.resume()
  const url = /listening on (\S+)/.exec(first)?.[1]
  if (url === undefined) throw new Error(`emulator did not start: ${first}`)
  const admin = (suffix: string, init?: RequestInit) => fetch(`${url}/__emulator/${suffix}`, init)
  return {
    url,
    credentials: async () => json<Credentials>(await admin("credentials")),
    stats: async () => json<Stats>(await admin("stats")),
    reset: async () => void (await json<unknown>(await admin("reset", { method: "POST" }))),
    setFaults: async (faults) =>
      void (await json<unknown>(await admin("faults", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(faults) }))),
    describe: async (sobject) => {
      const { clientId, clientSecret, refreshToken } = await json<Credentials>(await admin("credentials"))
      const grant = new URLSearchParams({ grant_type: "refresh_token", refresh_token: refreshToken, client_id: clientId, client_secret: clientSecret })
      const token = await json<{ access_token: string }>(await fetch(`${url}/services/oauth2/token`, { method: "POST", body: grant }))
      return json<unknown>(await fetch(`${url}/services/data/v62.0/sobjects/${sobject}/describe/`, { headers: { Authorization: `Bearer ${token.access_token}` } }))
    },
    cpuSeconds: () => processCpuSeconds(child.pid),
    stop: async () => {
      const exited = once(child, "exit")
      child.kill("SIGTERM")
      await exited
    }
  }
}
