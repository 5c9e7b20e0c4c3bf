import * as Either from "effect/Either"
import { CsvEncoder, FieldMetadata } from "../src/index.js"

const decode = (input: unknown): FieldMetadata.ObjectMetadata => {
  const decoded = FieldMetadata.decodeObjectMetadata(input)
  if (Either.isLeft(decoded)) throw new Error(String(decoded.left))
  return decoded.right
}

/** A Contact describe, cut down to one field of each kind. */
export const contact = decode({
  name: "Contact",
  fields: [
    { name: "Id", type: "id", length: 18, nillable: false, createable: false, updateable: false, defaultedOnCreate: true, idLookup: true },
    { name: "LastName", type: "string", length: 80, nillable: false },
    { name: "FirstName", type: "string", length: 40 },
    { name: "Description", type: "textarea", length: 32000 },
    { name: "Email", type: "email", length: 80, idLookup: true },
    { name: "External_Id__c", type: "string", length: 40, externalId: true, unique: true, idLookup: true },
    { name: "Birthdate", type: "date" },
    { name: "Last_Seen__c", type: "datetime" },
    { name: "Call_Time__c", type: "time" },
    { name: "Opted_Out__c", type: "boolean", nillable: false, defaultedOnCreate: true },
    { name: "Score__c", type: "double", precision: 18, scale: 2 },
    { name: "Visits__c", type: "int", precision: 9 },
    { name: "Revenue__c", type: "currency", precision: 18, scale: 2 },
    { name: "Share__c", type: "percent", precision: 5, scale: 2 },
    {
      name: "Status__c",
      type: "picklist",
      length: 255,
      restrictedPicklist: true,
      picklistValues: [{ value: "Open" }, { value: "Closed" }, { value: "Legacy", active: false }]
    },
    { name: "Channel__c", type: "picklist", length: 255, picklistValues: [{ value: "Web" }] },
    {
      name: "Interests__c",
      type: "multipicklist",
      length: 4099,
      restrictedPicklist: true,
      picklistValues: [{ value: "Golf" }, { value: "Tennis" }, { value: "Chess" }]
    },
    { name: "Payload__c", type: "textarea", length: 131072 },
    { name: "AccountId", type: "reference", length: 18, referenceTo: ["Account"], relationshipName: "Account" },
    { name: "OwnerId", type: "reference", length: 18, nillable: false, defaultedOnCreate: true, referenceTo: ["User", "Group"], relationshipName: "Owner" },
    { name: "Name", type: "string", length: 121, createable: false, updateable: false, calculated: true }
  ]
})

export const account = decode({
  name: "Account",
  fields: [
    { name: "Id", type: "id", length: 18, nillable: false, createable: false, updateable: false, idLookup: true },
    { name: "Name", type: "string", length: 255, nillable: false },
    { name: "Account_Number__c", type: "int", externalId: true },
    { name: "Site", type: "string", length: 80 }
  ]
})

export const user = decode({
  name: "User",
  fields: [{ name: "Email", type: "email", length: 128, idLookup: true }]
})

/** Builds an encoder or fails the test with the config error. */
export const encoderFor = (options: CsvEncoder.Options): CsvEncoder.CsvEncoder => {
  const made = CsvEncoder.make(options)
  if (Either.isLeft(made)) throw new Error(made.left.message)
  return made.right
}

export const keyed = (...fields: Array<string>): Array<CsvEncoder.Column> =>
  fields.map((field) => ({ column: field, source: { key: field } }))
