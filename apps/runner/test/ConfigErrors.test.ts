import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { readFileSync } from "node:fs"
import * as path from "node:path"
import * as OrgConnections from "../src/OrgConnections.js"
import { Redactor } from "../src/Redactor.js"
import * as SyncFiles from "../src/SyncFiles.js"
import { accountsSync, runCli, workspace } from "./support.js"

const secret = "SuperSecretValue123"
const env = { SF_CLIENT_SECRET: secret, SF_URL: "https://acme.my.salesforce.com", SF_SHORT: "ab" }

const accounts = (org: string, extra = "") => accountsSync({ org, extra })


const errorOf = (text: string) => {
  const result = SyncFiles.parseSync("configs/syncs/a.yaml", text, env)
  if (Either.isRight(result)) throw new Error("expected a configuration error")
  return result.left.message
}

describe("configuration errors never show a value from the environment", () => {
  it("a wrong value from ${VAR} is shown as written, with file, line and field", () => {
    expect(errorOf(accounts("local", "batchSize: ${SF_CLIENT_SECRET}\n"))).toBe(
      "configs/syncs/a.yaml:12:12: batchSize: expected number, actual ${SF_CLIENT_SECRET}"
    )
    // too short for the redactor to mask: still not shown
    expect(errorOf(accounts("local", "concurrency: ${SF_SHORT}\n"))).toBe("configs/syncs/a.yaml:12:14: concurrency: expected number, actual ${SF_SHORT}")
    const credentials = errorOf(accounts("\n  login: production\n  credentials: ${SF_CLIENT_SECRET}"))
    expect(credentials).toMatch(/^configs\/syncs\/a\.yaml:4:16: org\.credentials: /)
    expect(credentials).toContain("${SF_CLIENT_SECRET}")
    const org = errorOf(accounts("${SF_URL}/path"))
    expect(org).toMatch(/^configs\/syncs\/a\.yaml:2:6: org: expected .*, got \$\{SF_URL\}\/path$/s)
    for (const message of [credentials, org]) {
      expect(message).not.toContain(secret)
      expect(message).not.toContain("acme.my.salesforce.com/path")
    }
  })

  it("nor does a key from ${VAR}", () => {
    expect(errorOf(accounts("local", "${SF_CLIENT_SECRET}: 3\n"))).toMatch(/^configs\/syncs\/a\.yaml:12:1: \$\{SF_CLIENT_SECRET\}: is unexpected/)
  })

  it("nor does a map holding one", () => {
    const message = errorOf(accounts("local", "failWhen:\n  - ${SF_CLIENT_SECRET}\n"))
    expect(message).toMatch(/^configs\/syncs\/a\.yaml:13:3: failWhen: expected .*, actual \["\$\{SF_CLIENT_SECRET\}"\]$/)
    expect(message).not.toContain(secret)
  })

  it.effect("sync prints neither a decode error's value nor one named by a check after decoding", () =>
    Effect.gen(function* () {
      const root = yield* workspace({ "a.yaml": accounts("local", "batchSize: ${SF_CLIENT_SECRET}\n") })
      const decodeError = yield* runCli(["sync"], { cwd: root, env })
      expect(decodeError.code).toBe(2)
      expect(decodeError.stderr).toContain("configs/syncs/a.yaml:12:12: batchSize: expected number")
      const after = yield* workspace({ "a.yaml": accounts("local", "after: [\"${SF_CLIENT_SECRET}\"]\n") })
      const unknownName = yield* runCli(["sync"], { cwd: after, env })
      expect(unknownName.code).toBe(2)
      expect(unknownName.stderr).toContain("configs/syncs/a.yaml:12:9: after: no sync is named ***")
      expect(`${decodeError.stdout}${decodeError.stderr}${unknownName.stdout}${unknownName.stderr}`).not.toContain(secret)
    })
  )
})

describe("a login URL with a user name or password", () => {
  it("is refused at load time, naming file and line, never the password", () => {
    const inline = errorOf(accounts("https://admin:UrlPassw0rd@acme.my.salesforce.com"))
    expect(inline).toMatch(/^configs\/syncs\/a\.yaml:2:1: org: a login URL takes no user name or password/)
    const nested = errorOf(accounts("\n  login: https://admin@acme.my.salesforce.com"))
    expect(nested).toMatch(/^configs\/syncs\/a\.yaml:3:3: org: a login URL takes no user name or password/)
    const fromEnvironment = SyncFiles.parseSync("a.yaml", accounts("${SF_URL}"), { SF_URL: "https://admin:UrlPassw0rd@acme.my.salesforce.com" })
    expect(Either.isLeft(fromEnvironment) && fromEnvironment.left.message).toMatch(/^a\.yaml:2:1: org: a login URL takes no user name or password/)
    const withPath = errorOf(accounts("https://admin:UrlPassw0rd@acme.my.salesforce.com/services"))
    expect(withPath).toContain('got "https://***@acme.my.salesforce.com/services"')
    // a password holding "/" or "@" is masked up to the URL's last "@"
    const slashed = errorOf(accounts("https://admin:Url/Pass@w0rd@acme.my.salesforce.com"))
    expect(slashed).not.toMatch(/Url|Pass|w0rd/)
    for (const message of [inline, nested, withPath]) expect(message).not.toContain("UrlPassw0rd")
  })

  it("never appears in an org's label", () => {
    expect(OrgConnections.orgLabel("https://admin:UrlPassw0rd@acme.my.salesforce.com")).toBe("https://***@acme.my.salesforce.com")
    expect(OrgConnections.orgLabel({ login: "https://acme.my.salesforce.com" })).toBe("https://acme.my.salesforce.com")
  })

  it.effect("sync exits 2 before connecting, and neither the summary nor the report holds it", () =>
    Effect.gen(function* () {
      const root = yield* workspace({ "a.yaml": accounts("https://admin:UrlPassw0rd@acme.my.salesforce.com") })
      const result = yield* runCli(["sync", "--report", "r.json"], { cwd: root, env: { SALESFORCE_CLIENT_ID: "app", SALESFORCE_CLIENT_SECRET: "s3cret-value" } })
      expect(result.code).toBe(2)
      expect(result.stderr).toContain("configs/syncs/a.yaml:2:1: org: a login URL takes no user name or password")
      expect(`${result.stdout}${result.stderr}`).not.toContain("UrlPassw0rd")
    })
  )
})

describe("missing credentials", () => {
  it.effect("say that client credentials need SALESFORCE_CLIENT_ID with the secret", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        OrgConnections.credentialsFor("https://acme.my.salesforce.com", { SALESFORCE_CLIENT_SECRET: "s3cret-value" }, new Redactor())
      )
      expect(error.message).toContain("(SALESFORCE_CLIENT_ID is not set)")
      expect(error.message).toContain("with SALESFORCE_CLIENT_SECRET alone (client credentials")
      expect(error.message).not.toMatch(/or SALESFORCE_CLIENT_SECRET alone/)
      expect(error.message).not.toContain("s3cret-value")
    })
  )

  it.effect("take an empty variable as unset (CI passes an unset secret as ''): the complete set is used", () =>
    Effect.gen(function* () {
      const env = {
        SALESFORCE_CLIENT_ID: "app",
        SALESFORCE_CLIENT_SECRET: "s3cret-value",
        SALESFORCE_REFRESH_TOKEN: "refresh-value",
        SALESFORCE_USERNAME: "",
        SALESFORCE_PRIVATE_KEY: " "
      }
      const credentials = yield* OrgConnections.credentialsFor("https://acme.my.salesforce.com", env, new Redactor())
      expect(credentials._tag).toBe("RefreshToken")
      const error = yield* Effect.flip(OrgConnections.credentialsFor("production", { ...env, SALESFORCE_CLIENT_ID: "" }, new Redactor()))
      expect(error.message).toContain("(SALESFORCE_CLIENT_ID is not set)")
    })
  )
})

describe("a mapping Salesforce's describe refuses", () => {
  it.live("fails sync naming the file and line of the mapping entry, as plan does", () =>
    Effect.gen(function* () {
      const root = yield* workspace({ "a.yaml": accounts("local", "  Titel: name\n") })
      const result = yield* runCli(["sync", "--report", "r.json"], { cwd: root })
      expect(result.code).toBe(2)
      const located = "configs/syncs/a.yaml:12:3: InvalidMapping (stream accounts): INVALID_FIELD: No such column 'Titel' on entity 'Account'"
      expect(result.stdout).toContain(located)
      expect(readFileSync(path.join(root, "r.json"), "utf8")).toContain(located)
      const plan = yield* runCli(["plan"], { cwd: root })
      expect(plan.stdout).toContain("configs/syncs/a.yaml:12:3: UnknownField")
    })
  )
})
