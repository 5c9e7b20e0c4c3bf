// Vitest global setup: every test run gets its own temporary directory as TMPDIR (inherited by
// test workers and the processes they spawn), removed when the run ends, so temp files a test
// leaves behind never pile up in the machine's /tmp.
import { chmodSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

export default function setup() {
  const previous = { TMPDIR: process.env.TMPDIR, TMP: process.env.TMP, TEMP: process.env.TEMP }
  const directory = mkdtempSync(join(tmpdir(), "sfdc-activation-tests-"))
  // Like /tmp itself: tests that run a server as another user (PostgreSQL) make their folders here.
  chmodSync(directory, 0o1777)
  process.env.TMPDIR = process.env.TMP = process.env.TEMP = directory
  return () => {
    for (const [name, value] of Object.entries(previous)) {
      if (value === undefined) delete process.env[name]
      else process.env[name] = value
    }
    rmSync(directory, { recursive: true, force: true })
  }
}
