/**
 * The generated rows every subject loads: Contact-like rows of 10 fields, deterministic (a seeded
 * PRNG, so every run and every machine sees the same bytes), written once per size as Airbyte
 * RECORD lines (~370 bytes each) and as CSV (the DuckDB source of the runner).
 */
import { createWriteStream } from "node:fs"
import { stat } from "node:fs/promises"
import { once } from "node:events"
import * as path from "node:path"
import { csvLine } from "./Csv.js"

export const streamName = "contacts"

/** The Contact fields of a row, in column order. */
export const fields = [
  "External_Id__c",
  "FirstName",
  "LastName",
  "Email",
  "Phone",
  "Title",
  "Department",
  "Birthdate",
  "DoNotCall",
  "Last_Engaged_At__c"
] as const

export type Row = { readonly [K in (typeof fields)[number]]: K extends "DoNotCall" ? boolean : string }

const firstNames = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Margaret", "Niklaus", "Radia", "Tim"]
const lastNames = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson", "Hamilton", "Wirth", "Perlman", "Berners-Lee"]
const titles = ["Research Analyst", "Platform Engineer", "Revenue Operations Lead", "Data Engineer", "Account Executive"]
const departments = ["Research", "Engineering", "Operations", "Analytics", "Customer Success"]

/** mulberry32: a small, fast, seeded PRNG (same sequence everywhere). */
const prng = (seed: number) => {
  let state = seed >>> 0
  return (): number => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const pick = <A>(random: () => number, values: ReadonlyArray<A>): A => values[Math.floor(random() * values.length)] ?? values[0] as A

const pad = (value: number, width: number) => String(value).padStart(width, "0")

/** The `count` rows, in order, from `seed`. */
export function* rows(count: number, seed = 20_241_127): Generator<Row> {
  const random = prng(seed)
  for (let index = 0; index < count; index++) {
    const first = pick(random, firstNames)
    const last = pick(random, lastNames)
    const day = 1 + Math.floor(random() * 28)
    const month = 1 + Math.floor(random() * 12)
    const minute = Math.floor(random() * 60)
    yield {
      External_Id__c: `C-${pad(index, 9)}`,
      FirstName: first,
      LastName: `${last} ${pad(Math.floor(random() * 100_000), 5)}`,
      Email: `${first.toLowerCase()}.${last.toLowerCase()}.${index}@example.com`,
      Phone: `+44 20 7946 ${pad(Math.floor(random() * 10_000), 4)}`,
      Title: pick(random, titles),
      Department: pick(random, departments),
      Birthdate: `19${60 + Math.floor(random() * 40)}-${pad(month, 2)}-${pad(day, 2)}`,
      DoNotCall: random() < 0.1,
      Last_Engaged_At__c: `2024-11-${pad(day, 2)}T10:${pad(minute, 2)}:00.000Z`
    }
  }
}

/** Emitted-at of every RECORD: fixed, so the lines are byte-identical across runs. */
const emittedAt = 1_732_665_600_000

/** One Airbyte RECORD line (no newline). */
export const recordLine = (row: Row): string =>
  `{"type":"RECORD","record":{"stream":"${streamName}","data":${JSON.stringify(row)},"emitted_at":${emittedAt}}}`

export const csvHeader = csvLine(fields)

/** The row as a CSV line (no newline), in `fields` order. */
export const rowCsv = (row: Row): string => csvLine(fields.map((field) => row[field]))

export interface Dataset {
  readonly count: number
  /** Airbyte RECORD lines, one per row. */
  readonly jsonl: string
  readonly jsonlBytes: number
  /** The same rows as CSV with a header. */
  readonly csv: string
  readonly csvBytes: number
}

const write = async (file: string, lines: Iterable<string>) => {
  const out = createWriteStream(file)
  let buffer = ""
  for (const line of lines) {
    buffer += `${line}\n`
    if (buffer.length >= 1 << 20) {
      if (!out.write(buffer)) await once(out, "drain")
      buffer = ""
    }
  }
  out.end(buffer)
  await once(out, "finish")
  return (await stat(file)).size
}

/** Writes the dataset of `count` rows into `directory` (JSONL and CSV). */
export const generate = async (directory: string, count: number): Promise<Dataset> => {
  const jsonl = path.join(directory, `records-${count}.jsonl`)
  const csv = path.join(directory, `rows-${count}.csv`)
  const jsonlBytes = await write(jsonl, (function* () {
    for (const row of rows(count)) yield recordLine(row)
  })())
  const csvBytes = await write(csv, (function* () {
    yield csvHeader
    for (const row of rows(count)) yield rowCsv(row)
  })())
  return { count, jsonl, jsonlBytes, csv, csvBytes }
}
