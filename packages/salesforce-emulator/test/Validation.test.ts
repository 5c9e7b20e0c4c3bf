import { describe, expect, it } from "@effect/vitest"
import { OrgFixture, SalesforceId } from "../src/index.js"
import { syncOrg } from "./support.js"

const errorOf = (failed: ReadonlyArray<Record<string, string>>, column: string, value: string): string =>
  failed.find((row) => row[column] === value)?.["sf__Error"] ?? "(row not failed)"

describe("row validation", () => {
  it("fails required fields, with the field list", async () => {
    const { client } = syncOrg()
    const { failed, successful } = await client.run(
      { object: "Opportunity", operation: "insert" },
      "Name,StageName,CloseDate\nBig deal,Prospecting,2024-12-31\n,,\n"
    )
    expect(successful).toHaveLength(1)
    expect(failed[0]?.["sf__Error"]).toBe("REQUIRED_FIELD_MISSING:Required fields are missing: [Name, StageName, CloseDate]:Name StageName CloseDate --")
    expect(failed[0]?.["sf__Id"]).toBe("")
  })

  it("fails Lead without LastName and Company; a defaulted restricted Status is not required", async () => {
    const { client, org } = syncOrg()
    const { failed, successful } = await client.run({ object: "Lead", operation: "insert" }, "LastName,Company,Status\nDoe,,\nRoe,Acme,\n")
    expect(failed.map((row) => row["sf__Error"])).toEqual(["REQUIRED_FIELD_MISSING:Required fields are missing: [Company]:Company --"])
    expect(successful).toHaveLength(1)
    expect(org.storedRecords("Lead")[0]?.["Status"]).toBe("Open - Not Contacted")
  })

  it("checks types and formats", async () => {
    const { client, org } = syncOrg()
    const csv = [
      "External_Id__c,LastName,Email,Birthdate,DoNotCall,Last_Engaged_At__c,Preferred_Call_Time__c",
      "ok-1,A,a@example.com,2000-02-29,true,2024-01-02T03:04:05.000Z,10:30:00.000Z",
      "ok-2,B,,,0,2024-01-02T05:04:05+02:00,",
      "bad-email,C,not-an-email,,,,",
      "bad-date,D,,2001-02-29,,,",
      "bad-bool,E,,,maybe,,",
      "bad-datetime,F,,,,2024-01-02 03:04,",
      "bad-time,G,,,,,25:00:00"
    ].join("\n")
    const { failed, successful } = await client.run({ object: "Contact", operation: "insert" }, csv)
    expect(successful.map((row) => row["External_Id__c"]).sort()).toEqual(["ok-1", "ok-2"])
    expect(errorOf(failed, "External_Id__c", "bad-email")).toBe("INVALID_EMAIL_ADDRESS:Email: invalid email address: not-an-email:Email --")
    expect(errorOf(failed, "External_Id__c", "bad-date")).toBe(
      "INVALID_FIELD:Failed to deserialize field at col 3. Due to, '2001-02-29' is not a valid value for the type xsd:date:--"
    )
    expect(errorOf(failed, "External_Id__c", "bad-bool")).toBe("INVALID_TYPE_ON_FIELD_IN_RECORD:Do Not Call: value not of required type: maybe:DoNotCall --")
    expect(errorOf(failed, "External_Id__c", "bad-datetime")).toMatch(/^INVALID_FIELD:Failed to deserialize field at col 5\..*xsd:dateTime:--$/)
    expect(errorOf(failed, "External_Id__c", "bad-time")).toMatch(/^INVALID_FIELD:.*xsd:time:--$/)
    const stored = org.storedRecords("Contact")
    const second = stored.find((record) => record["External_Id__c"] === "ok-2")
    expect(second?.["Last_Engaged_At__c"]).toBe("2024-01-02T03:04:05.000Z")
    expect(second?.["DoNotCall"]).toBe(false)
    expect(stored.find((record) => record["External_Id__c"] === "ok-1")?.["Preferred_Call_Time__c"]).toBe("10:30:00.000Z")
  })

  it("never inserts a checkbox as null: empty is its default, #N/A is false", async () => {
    const { client, org } = syncOrg()
    const inserted = await client.run({ object: "Contact", operation: "insert" }, "External_Id__c,LastName,DoNotCall\nbox-1,A,\nbox-2,B,#N/A\nbox-3,C,true\n")
    expect(inserted.failed).toEqual([])
    const boxes = () => Object.fromEntries(org.storedRecords("Contact").map((record): [string, unknown] => [String(record["External_Id__c"]), record["DoNotCall"]]))
    expect(boxes()).toMatchObject({ "box-1": false, "box-2": false, "box-3": true })
  })

  it("checks numbers, their range and integers", async () => {
    const { client, org } = syncOrg()
    const csv = "Name,AnnualRevenue,NumberOfEmployees,Health_Score__c\nA,1.5e6,12,99.5\nB,abc,,\nC,,1.5,\nD,,,1234\nE,,3000000000,\nF,,-2147483648,\nG,,-2147483649,\n"
    const { failed } = await client.run({ object: "Account", operation: "insert" }, csv)
    expect(errorOf(failed, "Name", "B")).toBe("INVALID_TYPE_ON_FIELD_IN_RECORD:Annual Revenue: value not of required type: abc:AnnualRevenue --")
    expect(errorOf(failed, "Name", "C")).toMatch(/^INVALID_TYPE_ON_FIELD_IN_RECORD:Employees/)
    expect(errorOf(failed, "Name", "D")).toMatch(/^NUMBER_OUTSIDE_VALID_RANGE:Health Score: value outside of valid range/)
    expect(errorOf(failed, "Name", "E")).toMatch(/^NUMBER_OUTSIDE_VALID_RANGE:Employees/)
    expect(errorOf(failed, "Name", "F")).toBe("(row not failed)")
    expect(errorOf(failed, "Name", "G")).toMatch(/^NUMBER_OUTSIDE_VALID_RANGE:Employees/)
    expect(org.storedRecords("Account").find((record) => record["Name"] === "A")?.["AnnualRevenue"]).toBe(1_500_000)
  })

  it("fails values longer than the field (STRING_TOO_LONG)", async () => {
    const { client } = syncOrg()
    const long = "x".repeat(81)
    const { failed } = await client.run({ object: "Contact", operation: "insert" }, `LastName\n${long}\n${"y".repeat(80)}\n`)
    expect(failed).toHaveLength(1)
    expect(failed[0]?.["sf__Error"]).toBe(`STRING_TOO_LONG:Last Name: data value too large: ${long} (max length=80):LastName --`)
  })

  it("enforces restricted picklists and multipicklists", async () => {
    const { client, org } = syncOrg()
    const { failed } = await client.run(
      { object: "Opportunity", operation: "insert" },
      "Name,StageName,CloseDate\nGood,closed won,2024-01-01\nBad,Maybe Later,2024-01-01\n"
    )
    expect(failed.map((row) => row["sf__Error"])).toEqual([
      "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST:Stage: bad value for restricted picklist field: Maybe Later:StageName --"
    ])
    expect(org.storedRecords("Opportunity")[0]?.["StageName"]).toBe("Closed Won")
    const multi = await client.run({ object: "Account", operation: "insert" }, "Name,Regions__c\nA,EMEA;NA\nB,EMEA;Mars\n")
    expect(multi.failed[0]?.["sf__Error"]).toMatch(/^INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST:Regions: bad value for restricted picklist field: Mars/)
    expect(org.storedRecords("Account").find((record) => record["Name"] === "A")?.["Regions__c"]).toBe("EMEA;NA")
  })

  it("rejects writes to fields not createable or not updateable", async () => {
    const { client } = syncOrg()
    const inserted = await client.run({ object: "Account", operation: "insert" }, "Name,Priority_Score__c\nA,5\nB,\n")
    expect(inserted.failed[0]?.["sf__Error"]).toMatch(/^INVALID_FIELD_FOR_INSERT_UPDATE:Unable to create\/update fields: Priority_Score__c\..*:Priority_Score__c --$/)
    expect(inserted.successful).toHaveLength(1)
    const id = inserted.successful[0]?.["sf__Id"] ?? ""
    const updated = await client.run({ object: "Account", operation: "update" }, `Id,CreatedDate\n${id},2024-01-01T00:00:00.000Z\n`)
    expect(updated.failed[0]?.["sf__Error"]).toMatch(/^INVALID_FIELD_FOR_INSERT_UPDATE:Unable to create\/update fields: CreatedDate/)
    expect(updated.failed[0]?.["sf__Id"]).toBe(id)
  })

  it("#N/A sets null, empty leaves unchanged, #N/A on a required field fails", async () => {
    const { client, org } = syncOrg()
    const acme = org.storedRecords("Account").find((record) => record["External_Id__c"] === "ACME-001")
    const id = String(acme?.["Id"])
    const { failed, successful } = await client.run(
      { object: "Account", operation: "update" },
      `Id,BillingCity,Industry,AnnualRevenue\n${id},#N/A,,42\n`
    )
    expect(failed).toHaveLength(0)
    expect(successful[0]?.["sf__Created"]).toBe("false")
    const after = org.storedRecords("Account").find((record) => record["Id"] === id)
    expect(after?.["BillingCity"]).toBeNull()
    expect(after?.["Industry"]).toBe("Manufacturing")
    expect(after?.["AnnualRevenue"]).toBe(42)
    const required = await client.run({ object: "Account", operation: "update" }, `Id,Name\n${id},#N/A\n`)
    expect(required.failed[0]?.["sf__Error"]).toBe("REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --")
    const inserted = await client.run({ object: "Contact", operation: "insert" }, "LastName,Email\n#N/A,a@b.co\n")
    expect(inserted.failed[0]?.["sf__Error"]).toBe("REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --")
  })

  it("upserts by external id: sf__Created true for inserts, false for updates; unique values stay unique", async () => {
    const { client, org } = syncOrg()
    const { successful, failed } = await client.run(
      { object: "Account", operation: "upsert", externalIdFieldName: "External_Id__c" },
      "External_Id__c,Name\nacme-001,Acme Renamed\nNEW-1,Newco\n,Blank\n"
    )
    expect(Object.fromEntries(successful.map((row) => [row["External_Id__c"], row["sf__Created"]]))).toEqual({ "acme-001": "false", "NEW-1": "true" })
    expect(failed[0]?.["sf__Error"]).toBe("MISSING_ARGUMENT:External_Id__c not specified:--")
    // the match is case-insensitive; the row's value is written back
    expect(org.storedRecords("Account").find((record) => record["Name"] === "Acme Renamed")?.["External_Id__c"]).toBe("acme-001")
    const duplicate = await client.run({ object: "Account", operation: "insert" }, "Name,External_Id__c\nCopy,new-1\n")
    expect(duplicate.failed[0]?.["sf__Error"]).toMatch(/^DUPLICATE_VALUE:duplicate value found: External_Id__c duplicates value on record with id: 001\w{15}:External_Id__c --$/)
  })

  it("fails every row repeating an external id within one job", async () => {
    const { client, org } = syncOrg()
    const before = org.storedRecords("Contact").length
    const { failed, successful } = await client.run(
      { object: "Contact", operation: "upsert", externalIdFieldName: "External_Id__c" },
      "External_Id__c,LastName\nX-1,One\nx-1,Two\nX-2,Three\n"
    )
    expect(successful.map((row) => row["External_Id__c"])).toEqual(["X-2"])
    expect(failed.map((row) => row["sf__Error"]).sort()).toEqual([
      "DUPLICATE_VALUE:Duplicate external id specified: X-1:External_Id__c --",
      "DUPLICATE_VALUE:Duplicate external id specified: x-1:External_Id__c --"
    ])
    expect(org.storedRecords("Contact")).toHaveLength(before + 1)
  })

  it("fails every row repeating a key anywhere in the job, across internal batches", async () => {
    const { client, org } = syncOrg()
    const rows = ["Name,External_Id__c", "First,DUP-1"]
    for (let i = 0; i < 10_000; i++) rows.push(`Filler ${i},F-${i}`)
    rows.push("Second,dup-1")
    const { failed } = await client.run({ object: "Account", operation: "upsert", externalIdFieldName: "External_Id__c" }, `${rows.join("\n")}\n`)
    expect(failed.map((row) => row["sf__Error"]).sort()).toEqual([
      "DUPLICATE_VALUE:Duplicate external id specified: DUP-1:External_Id__c --",
      "DUPLICATE_VALUE:Duplicate external id specified: dup-1:External_Id__c --"
    ])
    expect(org.storedRecords("Account").filter((record) => String(record["External_Id__c"]).toLowerCase() === "dup-1")).toHaveLength(0)
    const id = String(org.storedRecords("Account")[0]?.["Id"])
    const ids = ["Id,Name", `${id},Once`]
    for (let i = 0; i < 10_000; i++) ids.push(`,Filler ${i}`)
    ids.push(`${id.slice(0, 15)},Twice`)
    const update = await client.run({ object: "Account", operation: "update" }, `${ids.join("\n")}\n`)
    expect(errorOf(update.failed, "Name", "Once")).toBe(`DUPLICATE_VALUE:Duplicate id in list: ${id}:--`)
    expect(errorOf(update.failed, "Name", "Twice")).toBe(`DUPLICATE_VALUE:Duplicate id in list: ${id.slice(0, 15)}:--`)
  })

  it("fails an insert row that gives an Id; an empty Id cell is fine", async () => {
    const { client, org } = syncOrg()
    const id = String(org.storedRecords("Account")[0]?.["Id"])
    const { failed, successful } = await client.run({ object: "Account", operation: "insert" }, `Id,Name\n${id},Renamed\n,Fresh\n`)
    expect(errorOf(failed, "Name", "Renamed")).toBe("INVALID_FIELD_FOR_INSERT_UPDATE:cannot specify Id in an insert call:Id --")
    expect(successful.map((row) => row["Name"])).toEqual(["Fresh"])
    expect(org.storedRecords("Account").find((record) => record["Id"] === id)?.["Name"]).not.toBe("Renamed")
  })

  it("upserts by Id and fails update / delete of a missing or malformed Id", async () => {
    const { client, org } = syncOrg()
    const missing = SalesforceId.make("001", 999_999)
    const update = await client.run({ object: "Account", operation: "update" }, `Id,Name\n${missing},X\nnot-an-id,Y\n,Z\n`)
    expect(errorOf(update.failed, "Name", "X")).toBe("NOT_FOUND:The requested resource does not exist:--")
    expect(errorOf(update.failed, "Name", "Y")).toBe("MALFORMED_ID:Account ID: id value of incorrect type: not-an-id:Id --")
    expect(errorOf(update.failed, "Name", "Z")).toBe("MISSING_ARGUMENT:Id not specified in an update call:--")
    const id = String(org.storedRecords("Account")[0]?.["Id"])
    const upsert = await client.run({ object: "Account", operation: "upsert", externalIdFieldName: "Id" }, `Id,Name\n${id.slice(0, 15)},Renamed\n,Brand new\n`)
    expect(upsert.successful.map((row) => [row["Name"], row["sf__Id"] === id, row["sf__Created"]]).sort()).toEqual([
      ["Brand new", false, "true"],
      ["Renamed", true, "false"]
    ])
    const deleted = await client.run({ object: "Account", operation: "delete" }, `Id\n${id}\n${missing}\n`)
    expect(deleted.successful[0]?.["sf__Id"]).toBe(id)
    expect(deleted.failed[0]?.["sf__Error"]).toBe("NOT_FOUND:The requested resource does not exist:--")
    const again = await client.run({ object: "Account", operation: "delete" }, `Id\n${id}\n`)
    expect(again.failed[0]?.["sf__Error"]).toBe("ENTITY_IS_DELETED:entity is deleted:--")
  })

  it("resolves relationship columns, polymorphic included, or fails the row", async () => {
    const { client, org } = syncOrg()
    const { successful, failed } = await client.run(
      { object: "Contact", operation: "insert" },
      "LastName,Account.External_Id__c,Owner:User.Email,User:Owner.Username\nA,ACME-001,ada@example.com,\nB,NOPE,,\nC,,,ada@emulator.local\n"
    )
    expect(successful).toHaveLength(2)
    expect(failed[0]?.["sf__Error"]).toBe("INVALID_FIELD:Foreign key external ID: NOPE not found for field External_Id__c in entity Account:--")
    const acme = org.storedRecords("Account").find((record) => record["External_Id__c"] === "ACME-001")
    const ada = org.storedRecords("User").find((record) => record["Username"] === "ada@emulator.local")
    const a = org.storedRecords("Contact").find((record) => record["LastName"] === "A")
    expect(a?.["AccountId"]).toBe(acme?.["Id"])
    expect(a?.["OwnerId"]).toBe(ada?.["Id"])
    expect(org.storedRecords("Contact").find((record) => record["LastName"] === "C")?.["OwnerId"]).toBe(ada?.["Id"])
  })

  it("checks reference Ids: malformed, wrong object, missing", async () => {
    const { client } = syncOrg()
    const contactId = SalesforceId.make("003", 1)
    const { failed } = await client.run(
      { object: "Contact", operation: "insert" },
      `LastName,AccountId\nA,xyz\nB,${contactId}\nC,${SalesforceId.make("001", 424_242)}\n`
    )
    expect(errorOf(failed, "LastName", "A")).toBe("MALFORMED_ID:Account ID: id value of incorrect type: xyz:AccountId --")
    expect(errorOf(failed, "LastName", "B")).toBe(`FIELD_INTEGRITY_EXCEPTION:Account ID: id value of incorrect type: ${contactId}:AccountId --`)
    expect(errorOf(failed, "LastName", "C")).toBe("INVALID_CROSS_REFERENCE_KEY:invalid cross reference id:--")
  })

  it("fails the whole job on an unknown header field", async () => {
    const { client } = syncOrg()
    const { info, unprocessed, successful } = await client.run({ object: "Contact", operation: "insert" }, "LastName,Foo__c\nA,1\nB,2\n")
    expect(info.state).toBe("Failed")
    expect(info.errorMessage).toBe("InvalidBatch : Field name not found : Foo__c")
    expect(successful).toHaveLength(0)
    expect(unprocessed.map((row) => row["LastName"]).sort()).toEqual(["A", "B"])
  })

  it("refuses hardDelete without the permission, and allows it with", async () => {
    const { client } = syncOrg()
    const refused = await client.call("/services/data/v62.0/jobs/ingest", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ object: "Account", operation: "hardDelete" })
    })
    expect(refused.status).toBe(400)
    const [error] = (await refused.json()) as Array<{ errorCode: string; message: string }>
    expect(error?.errorCode).toBe("FEATURENOTENABLED")
    expect(error?.message).toContain("Hard Delete")
    const allowed = syncOrg({ fixture: { ...OrgFixture.defaultFixture, permissions: { hardDelete: true } } })
    const id = String(allowed.org.storedRecords("Account")[0]?.["Id"])
    const { successful } = await allowed.client.run({ object: "Account", operation: "hardDelete" }, `Id\n${id}\n`)
    expect(successful[0]?.["sf__Id"]).toBe(id)
    expect(allowed.org.storedRecords("Account").some((record) => record["Id"] === id)).toBe(false)
  })

  it("gives 18-character Ids with the object's key prefix and the case-safe suffix", async () => {
    const { client } = syncOrg()
    const { successful } = await client.run({ object: "Product_Usage__c", operation: "insert" }, "Account__r.External_Id__c,Feature__c\nACME-001,API\n")
    const id = successful[0]?.["sf__Id"] ?? ""
    expect(id).toMatch(/^a0U\w{15}$/)
    expect(SalesforceId.normalize(id.slice(0, 15))).toBe(id)
  })

  it("returns results in an order different from the input", async () => {
    const { client } = syncOrg()
    const names = Array.from({ length: 5 }, (_, index) => `N${index}`)
    const { successful } = await client.run({ object: "Contact", operation: "insert" }, `LastName\n${names.join("\n")}\n`)
    const order = successful.map((row) => row["LastName"])
    expect([...order].sort()).toEqual(names)
    expect(order).not.toEqual(names)
  })

  it("fills autoNumber fields and defaults", async () => {
    const { client, org } = syncOrg()
    await client.run({ object: "Case", operation: "insert" }, "Subject\nFirst\nSecond\n")
    const cases = org.storedRecords("Case")
    expect(cases.map((record) => record["CaseNumber"]).sort()).toEqual(["00000001", "00000002"])
    expect(cases[0]?.["Status"]).toBe("New")
    expect(cases[0]?.["IsEscalated"]).toBe(false)
  })
})

describe("rows kept as upload text", () => {
  it("read back exactly as an eager insert stores them, and stay updatable, deletable and referenceable", async () => {
    const { client, org } = syncOrg()
    const csv = "External_Id__c,Name,AnnualRevenue,Website,Customer_Since__c\nL-1,Lazy One,12.5,https://one.example,2020-01-31\nL-2,\"Lazy, Two\",,#N/A,\n"
    const inserted = await client.run({ object: "Account", operation: "insert" }, csv)
    expect(inserted.successful).toHaveLength(2)
    const one = org.storedRecords("Account").find((record) => record["External_Id__c"] === "L-1")
    expect(one).toMatchObject({ Name: "Lazy One", AnnualRevenue: 12.5, Website: "https://one.example", Customer_Since__c: "2020-01-31" })
    expect(one !== undefined && "Rating" in one).toBe(false)
    expect(one?.["OwnerId"]).toMatch(/^005/)
    expect(one?.["CreatedDate"]).toMatch(/^\d{4}-\d{2}-\d{2}T/)
    const two = org.storedRecords("Account").find((record) => record["External_Id__c"] === "L-2")
    expect(two).toMatchObject({ Name: "Lazy, Two", AnnualRevenue: null, Website: null })
    const child = await client.run({ object: "Contact", operation: "insert" }, `LastName,Account.External_Id__c,AccountId\nKid,l-2,\nKid2,,${String(one?.["Id"])}\n`)
    expect(child.failed).toHaveLength(0)
    const update = await client.run({ object: "Account", operation: "upsert", externalIdFieldName: "External_Id__c" }, "External_Id__c,Rating\nL-1,Hot\n")
    expect(update.successful[0]?.["sf__Created"]).toBe("false")
    expect(org.storedRecords("Account").find((record) => record["External_Id__c"] === "L-1")).toMatchObject({ Name: "Lazy One", Rating: "Hot" })
    const removed = await client.run({ object: "Account", operation: "delete" }, `Id\n${String(two?.["Id"])}\n`)
    expect(removed.successful).toHaveLength(1)
    const again = await client.run({ object: "Account", operation: "insert" }, "Name,External_Id__c\nReuse,L-2\n")
    expect(again.failed).toHaveLength(0)
  })
})
