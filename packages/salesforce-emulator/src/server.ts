#!/usr/bin/env node
/**
 * `node dist/server.js [--port N] [--host H] [--org fixture.json] [--faults faults.json]`: serves an
 * emulated org on loopback. First stdout line: `listening on http://127.0.0.1:PORT`. Stops on
 * SIGINT / SIGTERM.
 */
import { readFileSync } from "node:fs"
import * as Either from "effect/Either"
import * as EmulatorServer from "./EmulatorServer.js"
import * as Faults from "./Faults.js"
import * as Org from "./Org.js"
import * as OrgFixture from "./OrgFixture.js"

const usage = "usage: server.js [--port N] [--host H] [--org fixture.json] [--faults faults.json]"

const fail = (message: string): never => {
  process.stderr.write(`${message}\n`)
  process.exit(2)
}

const argument = (name: string): string | undefined => {
  const inline = process.argv.find((arg) => arg.startsWith(`--${name}=`))
  if (inline !== undefined) return inline.slice(name.length + 3)
  const index = process.argv.indexOf(`--${name}`)
  if (index === -1) return undefined
  const value = process.argv[index + 1]
  return value === undefined || value.startsWith("--") ? fail(`--${name} needs a value\n${usage}`) : value
}

const readJson = (path: string): unknown => {
  const parsed = Either.try((): unknown => JSON.parse(readFileSync(path, "utf8")))
  return Either.isLeft(parsed) ? fail(`cannot read ${path}: ${String(parsed.left)}`) : parsed.right
}

if (process.argv.includes("--help")) {
  process.stdout.write(`${usage}\n`)
  process.exit(0)
}

const port = Number(argument("port") ?? "0")
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`invalid --port\n${usage}`)
const orgPath = argument("org")
const faultsPath = argument("faults")
const fixture = orgPath === undefined ? OrgFixture.defaultFixture : Either.getOrElse(OrgFixture.decode(readJson(orgPath)), (error) => fail(`invalid fixture ${orgPath}:\n${error}`))
const faults = faultsPath === undefined ? {} : Either.getOrElse(Faults.decode(readJson(faultsPath)), (error) => fail(`invalid faults ${faultsPath}:\n${error}`))

const org = Org.make({ fixture, faults })
const host = argument("host") ?? "127.0.0.1"
const running = await EmulatorServer.start(org, { port, host })
process.stdout.write(`listening on ${running.url}\n`)

const stop = () => {
  running.close().then(
    () => process.exit(0),
    () => process.exit(1)
  )
}
process.once("SIGINT", stop)
process.once("SIGTERM", stop)
