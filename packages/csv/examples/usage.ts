import { CsvReader } from "@sfdc-activation/csv"

// Read a result file as it downloads: rows keyed by the header, and a count of created rows.
export const readResults = (chunks: Iterable<Uint8Array>) => {
  const reader = new CsvReader.RowReader()
  const created = new CsvReader.ColumnCounter("sf__Created", "true")
  const rows: Array<CsvReader.CsvRow> = []
  for (const chunk of chunks) {
    rows.push(...reader.push(chunk))
    created.feed(chunk)
  }
  rows.push(...reader.end())
  return { rows, created: created.finish() }
}
