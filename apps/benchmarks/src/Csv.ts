/** RFC 4180 CSV encoding, as the Bulk API reads it: the floor and the jsforce subject share it. */

const needsQuotes = /[",\r\n]/

/** One value: null / undefined → empty, booleans and numbers as text, quoted when needed. */
export const csvValue = (value: unknown): string => {
  if (value === null || value === undefined) return ""
  const text =
    typeof value === "string"
      ? value
      : typeof value === "number" || typeof value === "boolean" || typeof value === "bigint"
        ? String(value)
        : JSON.stringify(value)
  return needsQuotes.test(text) ? `"${text.replaceAll("\"", "\"\"")}"` : text
}

/** One CSV line (no newline). */
export const csvLine = (values: ReadonlyArray<unknown>): string => values.map(csvValue).join(",")
