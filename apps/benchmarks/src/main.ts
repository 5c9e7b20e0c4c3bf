/**
 * `nx run benchmarks:bench` (`pnpm bench`): generates the rows once per size, then measures, in one
 * sitting, the floor, the connector, the runner and jsforce against a fresh emulator server each,
 * the connector again against the null org (its own cost), plus the 100-record small sync; writes results/latest.json, results/latest.md and the README table.
 *
 * BENCH_SIZES=100000,1000000 (default 1000000,3000000) · BENCH_SUBJECTS=floor,connector,connector-null-org,runner,jsforce (default;
 * also connector-upsert, connector-refused, connector-failing-jobs, connector-many-streams, connector-fan-out: the connector's other paths; runner-file)
 * BENCH_HUGE_PAGES=0 runs the processes without glibc's huge-page malloc (see Malloc.ts; on by default, for every process alike) ·
 * BENCH_RUNNER_SERIAL=1 adds serial: true to the runner sync · BENCH_CONNECTOR_JOBS=1 sets the connector's max_concurrent_jobs · BENCH_CONNECTOR_BATCH_MB=25 its batch_size_mb · BENCH_SMALL=0 skips the small sync · BENCH_REPEAT=3 runs each subject 3 times and keeps the median (the floor always runs at least 3 times, and so does the connector at the size the targets are judged at) · BENCH_PROFILE=1 runs the connector and the runner, and the org beside them, under `node --cpu-prof`
 * (figures then include the profiler's cost and are not written to results/).
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as Children from "./Children.js"
import * as Data from "./Data.js"
import * as Emulator from "./Emulator.js"
import * as Malloc from "./Malloc.js"
import * as NullOrg from "./NullOrg.js"
import * as Profile from "./Profile.js"
import * as Report from "./Report.js"
import * as Run from "./Run.js"
import { medianRun, type RunResult, type Subject } from "./Run.js"
import * as Connector from "./subjects/Connector.js"
import * as Floor from "./subjects/Floor.js"
import * as Jsforce from "./subjects/Jsforce.js"
import * as Runner from "./subjects/Runner.js"

const projectRoot = path.resolve(import.meta.dirname, "..")
const resultsDir = path.join(projectRoot, "results")
const workDir = path.join(os.tmpdir(), "sfdc-activation-bench")
const smallSyncRecords = 100

const list = (name: string, fallback: string) =>
  (process.env[name] ?? fallback)
    .split(",")
    .map((value) => value.trim())
    .filter((value) => value !== "")

const sizes = list("BENCH_SIZES", "1000000,3000000").map(Number)
const subjects = list("BENCH_SUBJECTS", "floor,connector,connector-null-org,runner,jsforce") as ReadonlyArray<Subject>
const small = process.env["BENCH_SMALL"] !== "0"
const profile = process.env["BENCH_PROFILE"] === "1"
const repeats = Math.max(1, Math.floor(Number(process.env["BENCH_REPEAT"] ?? "1")) || 1)
/** Set before any process starts: every one of them, the floor included, inherits it. */
const hugePages = process.env["BENCH_HUGE_PAGES"] !== "0"
if (hugePages) process.env["GLIBC_TUNABLES"] = Malloc.withTunable(process.env["GLIBC_TUNABLES"], Malloc.hugePagesTunable)
const repeatsOf = (subject: Subject, size: number) => Run.runsOf(subject, size, { repeats, profiled: profile, targetSize: Report.targetSize(sizes) })

const command = [
  ...(process.env["BENCH_SIZES"] === undefined ? [] : [`BENCH_SIZES=${sizes.join(",")}`]),
  ...(process.env["BENCH_SUBJECTS"] === undefined ? [] : [`BENCH_SUBJECTS=${subjects.join(",")}`]),
  ...(process.env["BENCH_CONNECTOR_JOBS"] === undefined ? [] : [`BENCH_CONNECTOR_JOBS=${process.env["BENCH_CONNECTOR_JOBS"]}`]),
  ...(process.env["BENCH_CONNECTOR_BATCH_MB"] === undefined ? [] : [`BENCH_CONNECTOR_BATCH_MB=${process.env["BENCH_CONNECTOR_BATCH_MB"]}`]),
  ...(repeats === 1 ? [] : [`BENCH_REPEAT=${repeats}`]),
  ...(hugePages ? [] : ["BENCH_HUGE_PAGES=0"]),
  "pnpm bench"
].join(" ")

const log = (text: string) => process.stdout.write(`${text}\n`)

const describeRun = (run: RunResult) =>
  `  ${run.subject.padEnd(22)} ${run.ok ? "ok    " : "FAILED"} ${run.wallSeconds.toFixed(2).padStart(7)} s  ${Math.round(run.recordsPerSecond).toLocaleString("en-US").padStart(9)} rec/s  CPU ${run.cpuSeconds.toFixed(2).padStart(6)} s  RSS ${run.peakRssMiB.toFixed(0).padStart(5)} MiB  calls ${run.apiCalls} ${JSON.stringify(run.callsByKind)}`

const measure = async (subject: Subject, dataset: Data.Dataset, childDirectory: string): Promise<RunResult> => {
  const directory = path.join(workDir, `${subject}-${dataset.count}`)
  mkdirSync(directory, { recursive: true })
  const profileDir = path.join(directory, "profile")
  const profiledScript = Connector.isConnectorSubject(subject) ? Connector.mainScript : subject === "runner" || subject === "runner-file" ? Runner.mainScript : undefined
  const nodeFlags = profile && profiledScript !== undefined ? ["--cpu-prof", "--cpu-prof-dir", profileDir] : []
  const orgProfileDir = path.join(directory, "org-profile")
  const server = await Emulator.start(nodeFlags.length > 0 ? ["--cpu-prof", "--cpu-prof-dir", orgProfileDir] : [])
  let nullOrg: Emulator.Emulator | undefined
  try {
    // the null org serves the emulator's describe of Contact; the emulator then idles
    if (subject === "connector-null-org") nullOrg = await NullOrg.start({ Contact: await server.describe("Contact") })
    const context = await Run.contextOf({ dataset, emulator: nullOrg ?? server, directory, nodeFlags })
    const run = await (subject === "floor"
      ? Floor.run(context, childDirectory)
      : Connector.isConnectorSubject(subject)
        ? Connector.run(context, subject)
        : subject === "runner" || subject === "runner-file"
          ? Runner.run(context, subject)
          : Jsforce.run(context, childDirectory))
    log(describeRun(run))
    if (!run.ok) log(`    see ${directory} (stdout / stderr of the run)`)
    if (nodeFlags.length > 0 && profiledScript !== undefined) {
      const [file] = readdirSync(profileDir).filter((name) => name.endsWith(".cpuprofile"))
      if (file !== undefined) log(`\n${subject} CPU profile ${path.join(profileDir, file)}:\n${Profile.formatHotSpots(Profile.hotSpots(path.join(profileDir, file), profiledScript))}\n`)
    }
    return run
  } finally {
    await nullOrg?.stop()
    await server.stop()
    if (nodeFlags.length > 0 && subject !== "connector-null-org") {
      const [file] = readdirSync(orgProfileDir).filter((name) => name.endsWith(".cpuprofile"))
      if (file !== undefined) log(`\n${subject}: the org's CPU profile ${path.join(orgProfileDir, file)}:\n${Profile.formatHotSpots(Profile.hotSpots(path.join(orgProfileDir, file), Emulator.serverScript))}\n`)
    }
  }
}

/** Runs a subject `repeatsOf` times; the run with the median wall time stands for them all. */
const measureRepeated = async (subject: Subject, dataset: Data.Dataset, childDirectory: string): Promise<RunResult> => {
  const first = await measure(subject, dataset, childDirectory)
  const more: Array<RunResult> = []
  for (let run = 1; run < repeatsOf(subject, dataset.count); run++) more.push(await measure(subject, dataset, childDirectory))
  return medianRun(first, more)
}

const replaceBetween = (text: string, start: string, end: string, body: string) => {
  const from = text.indexOf(start)
  const to = text.indexOf(end)
  return from === -1 || to === -1 ? `${text}\n${start}\n${body}\n${end}\n` : `${text.slice(0, from + start.length)}\n${body}\n${text.slice(to)}`
}

mkdirSync(workDir, { recursive: true })
const childDirectory = await Children.bundle()
const runs: Array<RunResult> = []
let recordBytes = 0
for (const size of sizes) {
  log(`N = ${size.toLocaleString("en-US")}: generating rows in ${workDir}`)
  const dataset = await Data.generate(workDir, size)
  recordBytes = Math.round(dataset.jsonlBytes / size)
  log(`  ${(dataset.jsonlBytes / 1024 / 1024).toFixed(0)} MiB of RECORD lines (~${recordBytes} bytes each), ${(dataset.csvBytes / 1024 / 1024).toFixed(0)} MiB CSV`)
  const floorRuns: Array<RunResult> = []
  const measured: Array<RunResult> = []
  for (const subject of Run.sittingOrder(subjects, repeatsOf("floor", size))) {
    if (subject === "floor") floorRuns.push(await measure(subject, dataset, childDirectory))
    else measured.push(await measureRepeated(subject, dataset, childDirectory))
  }
  const [firstFloor, ...moreFloors] = floorRuns
  if (firstFloor !== undefined) runs.push(medianRun(firstFloor, moreFloors))
  runs.push(...measured)
}
const smallRuns: Array<RunResult> = []
if (small) {
  log(`small sync: ${smallSyncRecords} records, default processing delay`)
  const dataset = await Data.generate(workDir, smallSyncRecords)
  for (const subject of subjects.filter((name) => name === "connector" || name === "runner")) smallRuns.push(await measure(subject, dataset, childDirectory))
}

const cpus = os.cpus()
const results: Report.Results = {
  generatedAt: new Date().toISOString(),
  command,
  machine: {
    cpu: cpus[0]?.model.trim() ?? "unknown",
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 1024 ** 3),
    node: process.versions.node,
    platform: `${os.platform()} ${os.release()}`,
    glibcTunables: process.env["GLIBC_TUNABLES"] ?? ""
  },
  recordBytes,
  runs,
  small: smallRuns
}
const table = Report.markdown(results)
log(`\n${table}`)
if (profile) {
  log("profiled run: results/ left unchanged")
} else {
  mkdirSync(resultsDir, { recursive: true })
  writeFileSync(path.join(resultsDir, "latest.json"), `${JSON.stringify({ ...results, targets: Report.targets(results) }, null, 2)}\n`)
  writeFileSync(path.join(resultsDir, "latest.md"), table)
  const readme = path.join(projectRoot, "README.md")
  writeFileSync(readme, replaceBetween(readFileSync(readme, "utf8"), "<!-- bench:start -->", "<!-- bench:end -->", table))
  log(`wrote ${path.relative(process.cwd(), resultsDir)}/latest.json, latest.md and the README table`)
}
