import { describe, expect, it } from "@effect/vitest"
import * as Either from "effect/Either"
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { OrgFixture } from "../src/index.js"
import { syncOrg } from "./support.js"

const customFixture: OrgFixture.OrgFixture = {
  credentials: { clientId: "custom-id" },
  sobjects: [
    {
      name: "Widget__c",
      keyPrefix: "a01",
      fields: [
        { name: "Name", type: "string", length: 20, nillable: false },
        { name: "Code__c", type: "string", length: 10 },
        { name: "Price__c", type: "currency", precision: 10, scale: 2 }
      ],
      validationRules: [{ name: "Code_Format", field: "Code__c", mustMatch: "^[A-Z]{3}-\\d+$", message: "Code must look like ABC-1." }],
      duplicateRules: [{ name: "Same_Name", fields: ["Name"] }],
      records: [{ Name: "Seeded", Code__c: "ABC-1" }]
    }
  ]
}

describe("fixtures", () => {
  it("decode from JSON, fill describe flags and add the system fields", () => {
    const decoded = OrgFixture.decode(JSON.parse(JSON.stringify(OrgFixture.defaultFixture)))
    expect(Either.isRight(decoded)).toBe(true)
    const described = OrgFixture.describe(Either.getOrThrow(decoded))
    const account = described.sobjects.find((sobject) => sobject.name === "Account")
    expect(account?.fieldsByName.get("createddate")).toMatchObject({ type: "datetime", createable: false, nillable: false })
    expect(account?.fieldsByName.get("name")).toMatchObject({ createable: true, nillable: false, defaultedOnCreate: false })
    const wrong = OrgFixture.decode({ sobjects: [{ name: "X", fields: [] }] })
    expect(Either.isLeft(wrong) && wrong.left).toContain("keyPrefix")
    // Ids are made as the key prefix, "5g0" and nine base-62 digits: 18 characters with the suffix
    const longPrefix = OrgFixture.decode({ sobjects: [{ name: "X", keyPrefix: "a0UX", fields: [] }] })
    expect(Either.isLeft(longPrefix) && longPrefix.left).toContain("a key prefix is 3 letters or digits")
  })

  it("custom objects, credentials, validation rules and duplicate rules apply", async () => {
    const { client, org } = syncOrg({ fixture: customFixture })
    expect(org.credentials.clientId).toBe("custom-id")
    expect(org.credentials.clientSecret).toBe("emulator-client-secret")
    const { failed, successful } = await client.run({ object: "Widget__c", operation: "insert" }, "Name,Code__c\nGood,XYZ-9\nBad,xyz\nseeded,\n")
    expect(successful.map((row) => row["Name"])).toEqual(["Good"])
    expect(failed.find((row) => row["Name"] === "Bad")?.["sf__Error"]).toBe("FIELD_CUSTOM_VALIDATION_EXCEPTION:Code must look like ABC-1.:Code__c --")
    expect(failed.find((row) => row["Name"] === "seeded")?.["sf__Error"]).toBe("DUPLICATES_DETECTED:Use one of these records?:--")
  })

  it("the default org refuses a negative Opportunity amount", async () => {
    const { client } = syncOrg()
    const { failed } = await client.run({ object: "Opportunity", operation: "insert" }, "Name,StageName,CloseDate,Amount\nNeg,Prospecting,2024-01-01,-5\n")
    expect(failed[0]?.["sf__Error"]).toBe("FIELD_CUSTOM_VALIDATION_EXCEPTION:Amount cannot be negative.:Amount --")
  })

  it("the CLI loads --org and refuses an invalid one", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sf-emulator-org-"))
    const bad = path.join(dir, "bad.json")
    fs.writeFileSync(bad, JSON.stringify({ sobjects: [{ name: "X" }] }))
    const child = spawn(process.execPath, ["--import", "tsx/esm", path.join(import.meta.dirname, "../src/server.ts"), "--org", bad], { stdio: ["ignore", "pipe", "pipe"] })
    let stderr = ""
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve))
    expect(code).toBe(2)
    expect(stderr).toContain(`invalid fixture ${bad}`)
    fs.rmSync(dir, { recursive: true })
  })
})
