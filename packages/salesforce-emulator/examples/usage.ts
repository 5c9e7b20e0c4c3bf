import { Org, handlers } from "@sfdc-activation/salesforce-emulator"
import { setupServer } from "msw/node"

// An org with the default fixture, processing jobs as soon as they are closed.
export const org = Org.make({ faults: { processingDelayMs: 0 } })
export const mswServer = setupServer(...handlers(org, "https://emulator.my.salesforce.com"))

// Insert two Contacts through the Bulk API 2.0, the way a real client does.
export const insertContacts = async (baseUrl = "https://emulator.my.salesforce.com") => {
  const { clientId, clientSecret, refreshToken } = org.credentials
  const form = { grant_type: "refresh_token", client_id: clientId, client_secret: clientSecret, refresh_token: refreshToken }
  const token = await fetch(`${baseUrl}/services/oauth2/token`, { method: "POST", body: new URLSearchParams(form) })
  const { access_token } = (await token.json()) as { access_token: string }
  const headers = { Authorization: `Bearer ${access_token}`, "Content-Type": "application/json" }
  const jobs = `${baseUrl}/services/data/v62.0/jobs/ingest`
  const created = await fetch(jobs, { method: "POST", headers, body: JSON.stringify({ object: "Contact", operation: "insert" }) })
  const { id } = (await created.json()) as { id: string }
  const csv = "LastName,Email\nLovelace,ada@example.com\n,nobody@example.com\n"
  await fetch(`${jobs}/${id}/batches`, { method: "PUT", headers: { ...headers, "Content-Type": "text/csv" }, body: csv })
  await fetch(`${jobs}/${id}`, { method: "PATCH", headers, body: JSON.stringify({ state: "UploadComplete" }) })
  const failed = await fetch(`${jobs}/${id}/failedResults/`, { headers })
  return { failedCsv: await failed.text(), stats: org.stats() }
}
