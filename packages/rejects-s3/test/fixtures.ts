// Rejected records for tests.
import { RejectedRecord } from "../src/index.js"

export const rejected = (
  index: number,
  overrides: Partial<RejectedRecord.RejectedRecord> = {}
): RejectedRecord.RejectedRecord => {
  const sfError = "REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --"
  return {
    row: { Email: `person${index}@example.com`, FirstName: `Ann, "the ${index}th"`, Notes: "line one\nline two" },
    sfError,
    ...RejectedRecord.parseSfError(sfError),
    jobId: "750xx0000000001AAA",
    object: "Contact",
    operation: "upsert",
    stream: { name: "contacts", namespace: "crm" },
    syncId: "42",
    rejectedAt: "2025-01-02T03:04:05.000Z",
    ...overrides
  }
}
