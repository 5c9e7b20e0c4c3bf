import { Session } from "node:inspector/promises"
import { writeFileSync } from "node:fs"
import { Org } from "../src/index.js"
const rowCount = 1_000_000
const lines = ["External_Id__c,FirstName,LastName,Email,Phone,Title,Department,Birthdate,DoNotCall,Last_Engaged_At__c"]
for (let index = 0; index < rowCount; index++) {
  lines.push(`EXT-${index},Ada,Lovelace ${index % 997},ada.${index}@example.com,+44 20 7946 ${index % 10_000},Analyst,Research,1990-01-${String((index % 28) + 1).padStart(2, "0")},${index % 2 === 0},2024-11-27T10:15:00.000Z`)
}
const csv = `${lines.join("\n")}\n`
const org = Org.make({ faults: { processingDelayMs: 0, maxUploadBytes: 256 * 1024 * 1024 } })
const baseUrl = "https://emulator.my.salesforce.com"
const call = (path: string, init: RequestInit = {}) => org.handle(new Request(`${baseUrl}${path}`, init))
const headers = { Authorization: `Bearer ${org.issueAccessToken()}`, "Content-Type": "application/json" }
const jobs = "/services/data/v62.0/jobs/ingest"
const { id } = (await (await call(jobs, { method: "POST", headers, body: JSON.stringify({ object: "Contact", operation: "insert" }) })).json()) as { id: string }
await call(`${jobs}/${id}/batches`, { method: "PUT", headers: { ...headers, "Content-Type": "text/csv" }, body: csv })
const session = new Session()
const profile = process.env["PROF"] === "1"
if (profile) { session.connect(); await session.post("Profiler.enable"); await session.post("Profiler.start") }
const started = performance.now(); const cpu = process.cpuUsage()
await call(`${jobs}/${id}`, { method: "PATCH", headers, body: JSON.stringify({ state: "UploadComplete" }) })
const s = (performance.now() - started) / 1000; const c = process.cpuUsage(cpu)
console.log(`${s.toFixed(2)} s, CPU ${((c.user + c.system) / 1e6).toFixed(2)} → ${Math.round(rowCount / s)} rows/s`)
if (profile) { const { profile: p } = await session.post("Profiler.stop"); writeFileSync("/tmp/em.cpuprofile", JSON.stringify(p)) }
const info = (await (await call(`${jobs}/${id}`, { headers })).json()) as { state: string; numberRecordsFailed: number }
console.log(info.state, info.numberRecordsFailed)
if (process.env["RESULTS"] === "1") {
  const session2 = new Session(); session2.connect(); await session2.post("Profiler.enable"); await session2.post("Profiler.start")
  const t = performance.now()
  const text = await (await call(`${jobs}/${id}/successfulResults/`, { headers })).arrayBuffer()
  console.log("results", ((performance.now() - t) / 1000).toFixed(2), "s", text.byteLength)
  const { profile: p } = await session2.post("Profiler.stop"); writeFileSync("/tmp/res.cpuprofile", JSON.stringify(p))
}
