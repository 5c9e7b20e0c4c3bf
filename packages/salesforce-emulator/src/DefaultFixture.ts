/**
 * The default org: the standard objects people map most (Account, Contact, Lead, Opportunity,
 * Case), User, and the custom object `Product_Usage__c`, typed as in a real org.
 */
import type { FieldFixture, OrgFixture } from "./OrgFixture.js"

type Extra = Omit<FieldFixture, "name" | "type">

const text = (name: string, length: number, extra: Extra = {}): FieldFixture => ({ name, type: "string", length, ...extra })
const area = (name: string, length: number, extra: Extra = {}): FieldFixture => ({ name, type: "textarea", length, ...extra })
const email = (name: string, extra: Extra = {}): FieldFixture => ({ name, type: "email", length: 80, ...extra })
const phone = (name: string): FieldFixture => ({ name, type: "phone", length: 40 })
const url = (name: string): FieldFixture => ({ name, type: "url", length: 255 })
const flag = (name: string, extra: Extra = {}): FieldFixture => ({ name, type: "boolean", nillable: false, defaultedOnCreate: true, ...extra })
const date = (name: string, extra: Extra = {}): FieldFixture => ({ name, type: "date", ...extra })
const dateTime = (name: string, extra: Extra = {}): FieldFixture => ({ name, type: "datetime", ...extra })
const money = (name: string, extra: Extra = {}): FieldFixture => ({ name, type: "currency", precision: 18, scale: 2, ...extra })
const number = (name: string, precision: number, scale: number, extra: Extra = {}): FieldFixture => ({ name, type: "double", precision, scale, ...extra })
const whole = (name: string, extra: Extra = {}): FieldFixture => ({ name, type: "int", ...extra })
const picklist = (name: string, values: ReadonlyArray<string>, extra: Extra = {}): FieldFixture => ({ name, type: "picklist", picklistValues: values, ...extra })
const lookup = (name: string, referenceTo: ReadonlyArray<string>, extra: Extra = {}): FieldFixture => ({ name, type: "reference", referenceTo, ...extra })
const owner = (referenceTo: ReadonlyArray<string>): FieldFixture =>
  lookup("OwnerId", referenceTo, { label: "Owner ID", relationshipName: "Owner", nillable: false, defaultedOnCreate: true })
const externalId = (): FieldFixture => text("External_Id__c", 255, { label: "External ID", externalId: true, unique: true })
const address = (prefix: string, streetLabel: string): ReadonlyArray<FieldFixture> => [
  area(`${prefix}Street`, 255, { label: streetLabel }),
  text(`${prefix}City`, 40),
  text(`${prefix}State`, 80),
  text(`${prefix}PostalCode`, 20, { label: `${prefix} Zip/Postal Code`.trim() }),
  text(`${prefix}Country`, 80),
  number(`${prefix}Latitude`, 18, 15),
  number(`${prefix}Longitude`, 18, 15)
]

const leadSources = ["Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other"]
const industries = [
  "Agriculture", "Apparel", "Banking", "Biotechnology", "Chemicals", "Communications", "Construction",
  "Consulting", "Education", "Electronics", "Energy", "Engineering", "Entertainment", "Environmental",
  "Finance", "Food & Beverage", "Government", "Healthcare", "Hospitality", "Insurance", "Machinery",
  "Manufacturing", "Media", "Not For Profit", "Recreation", "Retail", "Shipping", "Technology",
  "Telecommunications", "Transportation", "Utilities", "Other"
]
const ratings = ["Hot", "Warm", "Cold"]
const salutations = ["Mr.", "Ms.", "Mrs.", "Dr.", "Prof."]
const integrationUserId = "0055g00000AbCdEAAV"

export const defaultFixtureData: OrgFixture = {
  organizationId: "00D5g000004emuL",
  lastModified: "2024-06-01T00:00:00.000Z",
  sobjects: [
    {
      name: "User",
      keyPrefix: "005",
      createable: true,
      fields: [
        text("Username", 80, { nillable: false, unique: true, idLookup: true }),
        email("Email", { length: 128, nillable: false, idLookup: true }),
        text("FirstName", 40),
        text("LastName", 80, { nillable: false }),
        text("Alias", 8, { nillable: false }),
        flag("IsActive", { label: "Active" }),
        text("FederationIdentifier", 512, { idLookup: true, label: "Federation ID" }),
        text("Title", 80),
        text("Department", 80)
      ],
      records: [
        { Id: integrationUserId, Username: "integration@emulator.local", Email: "integration@emulator.local", FirstName: "Integration", LastName: "User", Alias: "integ", IsActive: true },
        { Username: "ada@emulator.local", Email: "ada@example.com", FirstName: "Ada", LastName: "Lovelace", Alias: "alove", IsActive: true }
      ]
    },
    {
      name: "Account",
      keyPrefix: "001",
      fields: [
        text("Name", 255, { label: "Account Name", nillable: false }),
        picklist("Type", ["Prospect", "Customer - Direct", "Customer - Channel", "Channel Partner / Reseller", "Installation Partner", "Technology Partner", "Other"], { label: "Account Type" }),
        picklist("Industry", industries),
        url("Website"),
        phone("Phone"),
        phone("Fax"),
        money("AnnualRevenue", { precision: 18, scale: 0 }),
        whole("NumberOfEmployees", { label: "Employees" }),
        picklist("Rating", ratings, { label: "Account Rating" }),
        area("Description", 32000, { label: "Account Description" }),
        text("AccountNumber", 40),
        text("Sic", 20, { label: "SIC Code" }),
        picklist("Ownership", ["Public", "Private", "Subsidiary", "Other"]),
        picklist("AccountSource", leadSources),
        lookup("ParentId", ["Account"], { label: "Parent Account ID", relationshipName: "Parent" }),
        ...address("Billing", "Billing Street"),
        ...address("Shipping", "Shipping Street"),
        owner(["User"]),
        externalId(),
        { name: "Regions__c", type: "multipicklist", picklistValues: ["EMEA", "NA", "LATAM", "APAC"], restrictedPicklist: true, length: 4099 },
        { name: "Health_Score__c", type: "percent", precision: 5, scale: 2 },
        date("Customer_Since__c"),
        { name: "Priority_Score__c", type: "double", precision: 18, scale: 2, calculated: true, label: "Priority Score" }
      ],
      records: [
        { Name: "Acme Corporation", Type: "Customer - Direct", Industry: "Manufacturing", External_Id__c: "ACME-001", BillingCity: "San Francisco", AnnualRevenue: 5000000 },
        { Name: "Globex", Type: "Prospect", Industry: "Energy", External_Id__c: "GLOBEX-001" }
      ]
    },
    {
      name: "Contact",
      keyPrefix: "003",
      fields: [
        picklist("Salutation", salutations),
        text("FirstName", 40),
        text("LastName", 80, { nillable: false }),
        text("Name", 121, { label: "Full Name", createable: false, updateable: false }),
        email("Email", { idLookup: true }),
        phone("Phone"),
        phone("MobilePhone"),
        phone("HomePhone"),
        phone("Fax"),
        text("Title", 128),
        text("Department", 80),
        date("Birthdate"),
        picklist("LeadSource", leadSources),
        flag("DoNotCall"),
        flag("HasOptedOutOfEmail", { label: "Email Opt Out" }),
        area("Description", 32000, { label: "Contact Description" }),
        lookup("AccountId", ["Account"], { label: "Account ID" }),
        lookup("ReportsToId", ["Contact"], { label: "Reports To ID", relationshipName: "ReportsTo" }),
        ...address("Mailing", "Mailing Street"),
        owner(["User"]),
        externalId(),
        { name: "Interests__c", type: "multipicklist", picklistValues: ["Product", "Events", "Newsletter", "Webinars"], length: 4099 },
        { name: "Preferred_Call_Time__c", type: "time" },
        dateTime("Last_Engaged_At__c")
      ],
      records: [{ FirstName: "Grace", LastName: "Hopper", Email: "grace@example.com", External_Id__c: "C-0001" }]
    },
    {
      name: "Lead",
      keyPrefix: "00Q",
      fields: [
        picklist("Salutation", salutations),
        text("FirstName", 40),
        text("LastName", 80, { nillable: false }),
        text("Company", 255, { nillable: false }),
        email("Email"),
        phone("Phone"),
        phone("MobilePhone"),
        text("Title", 128),
        url("Website"),
        picklist(
          "Status",
          ["Open - Not Contacted", "Working - Contacted", "Closed - Converted", "Closed - Not Converted"],
          { label: "Lead Status", restrictedPicklist: true, nillable: false, defaultedOnCreate: true, defaultValue: "Open - Not Contacted" }
        ),
        picklist("Industry", industries),
        picklist("LeadSource", leadSources),
        picklist("Rating", ratings),
        money("AnnualRevenue", { precision: 18, scale: 0 }),
        whole("NumberOfEmployees", { label: "Employees" }),
        area("Street", 255),
        text("City", 40),
        text("State", 80),
        text("PostalCode", 20, { label: "Zip/Postal Code" }),
        text("Country", 80),
        flag("DoNotCall"),
        flag("HasOptedOutOfEmail", { label: "Email Opt Out" }),
        flag("IsConverted", { label: "Converted", createable: false, updateable: false }),
        area("Description", 32000),
        owner(["Group", "User"])
      ]
    },
    {
      name: "Opportunity",
      keyPrefix: "006",
      fields: [
        text("Name", 120, { label: "Opportunity Name", nillable: false }),
        picklist(
          "StageName",
          ["Prospecting", "Qualification", "Needs Analysis", "Value Proposition", "Id. Decision Makers", "Perception Analysis", "Proposal/Price Quote", "Negotiation/Review", "Closed Won", "Closed Lost"],
          { label: "Stage", nillable: false, restrictedPicklist: true }
        ),
        date("CloseDate", { label: "Close Date", nillable: false }),
        money("Amount"),
        { name: "Probability", type: "percent", precision: 3, scale: 0, label: "Probability (%)" },
        money("ExpectedRevenue", { label: "Expected Amount", calculated: true }),
        lookup("AccountId", ["Account"], { label: "Account ID" }),
        picklist("Type", ["Existing Customer - Upgrade", "Existing Customer - Replacement", "Existing Customer - Downgrade", "New Customer"], { label: "Opportunity Type" }),
        picklist("LeadSource", leadSources),
        text("NextStep", 255, { label: "Next Step" }),
        area("Description", 32000),
        picklist("ForecastCategoryName", ["Omitted", "Pipeline", "Best Case", "Commit", "Closed"], { label: "Forecast Category" }),
        flag("IsClosed", { label: "Closed", createable: false, updateable: false }),
        flag("IsWon", { label: "Won", createable: false, updateable: false }),
        owner(["User"])
      ],
      validationRules: [{ name: "Amount_Not_Negative", field: "Amount", minValue: 0, message: "Amount cannot be negative." }]
    },
    {
      name: "Case",
      keyPrefix: "500",
      fields: [
        text("CaseNumber", 30, { label: "Case Number", autoNumber: true, displayFormat: "{00000000}", nillable: false }),
        text("Subject", 255),
        area("Description", 32000),
        picklist("Status", ["New", "Working", "Escalated", "Closed"], { nillable: false, defaultedOnCreate: true, defaultValue: "New" }),
        picklist("Priority", ["High", "Medium", "Low"], { defaultedOnCreate: true, defaultValue: "Medium" }),
        picklist("Origin", ["Phone", "Email", "Web"], { label: "Case Origin" }),
        picklist("Type", ["Question", "Problem", "Feature Request"], { label: "Case Type" }),
        picklist("Reason", ["Installation", "Equipment Complexity", "Performance", "Breakdown", "Equipment Design", "Feedback", "Other"], { label: "Case Reason" }),
        lookup("AccountId", ["Account"], { label: "Account ID" }),
        lookup("ContactId", ["Contact"], { label: "Contact ID" }),
        email("SuppliedEmail", { label: "Web Email" }),
        text("SuppliedName", 80, { label: "Web Name" }),
        phone("SuppliedPhone"),
        flag("IsEscalated", { label: "Escalated" }),
        dateTime("ClosedDate", { label: "Closed Date", createable: false, updateable: false }),
        owner(["Group", "User"])
      ]
    },
    {
      name: "Product_Usage__c",
      label: "Product Usage",
      keyPrefix: "a0U",
      fields: [
        text("Name", 80, { label: "Product Usage Name", autoNumber: true, displayFormat: "PU-{000000}", nillable: false }),
        lookup("Account__c", ["Account"], { label: "Account", relationshipName: "Account__r" }),
        text("Usage_Key__c", 100, { label: "Usage Key", externalId: true, unique: true, caseSensitive: true }),
        picklist("Feature__c", ["Sync", "Reports", "API", "Mobile"], { label: "Feature", restrictedPicklist: true }),
        date("Usage_Date__c", { label: "Usage Date" }),
        number("Active_Users__c", 18, 0, { label: "Active Users" }),
        number("Minutes__c", 16, 2, { label: "Minutes" }),
        dateTime("Last_Seen_At__c", { label: "Last Seen At" }),
        flag("Is_Trial__c", { label: "Is Trial" }),
        area("Notes__c", 1000, { label: "Notes" })
      ]
    }
  ]
}
