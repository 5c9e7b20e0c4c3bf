/**
 * A throwaway PostgreSQL cluster for tests: initdb in a temp dir, started on a free loopback
 * port with trust auth, stopped and removed afterwards. Binaries come from PATH or Debian's
 * /usr/lib/postgresql/<version>/bin; as root the server runs as the `postgres` user.
 */
import { execFileSync } from "node:child_process"
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import * as path from "node:path"

const binDir = (): string => {
  const onPath = (process.env["PATH"] ?? "").split(":").find((dir) => existsSync(path.join(dir, "initdb")))
  if (onPath !== undefined) return onPath
  const root = "/usr/lib/postgresql"
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : []
  const found = versions.map((version) => path.join(root, version, "bin")).find((dir) => existsSync(path.join(dir, "initdb")))
  if (found === undefined) throw new Error("PostgreSQL server binaries not found: apt-get install -y postgresql")
  return found
}

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
    server.on("error", reject)
  })

export interface Cluster {
  readonly url: string
  readonly psql: (sql: string) => void
  readonly stop: () => void
}

export const start = async (): Promise<Cluster> => {
  const bin = binDir()
  const dir = mkdtempSync(path.join(tmpdir(), "runner-pg-"))
  const isRoot = process.getuid?.() === 0
  if (isRoot) {
    const uid = Number(execFileSync("id", ["-u", "postgres"]).toString().trim())
    const gid = Number(execFileSync("id", ["-g", "postgres"]).toString().trim())
    chownSync(dir, uid, gid)
  }
  const run = (program: string, args: ReadonlyArray<string>) =>
    isRoot
      ? execFileSync("runuser", ["-u", "postgres", "--", path.join(bin, program), ...args], { stdio: "pipe" })
      : execFileSync(path.join(bin, program), [...args], { stdio: "pipe" })
  const data = path.join(dir, "data")
  run("initdb", ["-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"])
  // A port found free can be taken before the server binds it: try another one, a few times.
  const startOn = async (attemptsLeft: number): Promise<number> => {
    const candidate = await freePort()
    try {
      run("pg_ctl", ["-D", data, "-l", path.join(dir, "log"), "-w", "-o", `-p ${candidate} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, "start"])
      return candidate
    } catch (error) {
      if (attemptsLeft <= 1) throw error
      return startOn(attemptsLeft - 1)
    }
  }
  const port = await startOn(3)
  const url = `postgres://postgres:pw-unused@127.0.0.1:${port}/postgres`
  return {
    url,
    psql: (sql) => void execFileSync(existsSync(path.join(bin, "psql")) ? path.join(bin, "psql") : "psql", ["-h", "127.0.0.1", "-p", String(port), "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-q", "-c", sql], { stdio: "pipe" }),
    stop: () => {
      try {
        run("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"])
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    }
  }
}
