import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { RejectLayout } from "../src/index.js"

const values = (overrides: Partial<RejectLayout.KeyValues> = {}): RejectLayout.KeyValues => ({
  bucketPath: "dead-letter",
  syncId: "42",
  namespace: "crm",
  streamName: "contacts",
  startedAtMillis: Date.UTC(2025, 0, 2, 3, 4, 5),
  partNumber: 0,
  formatExtension: ".csv.gz",
  ...overrides
})

const hostile = ["../../etc", "/abs", "a/b", "données☃", "", ".", "..", "a\\b", "x\u0000y", "é".repeat(300)]

describe("RejectLayout", () => {
  it.effect("renders Airbyte's layout", () =>
    Effect.gen(function* () {
      const layout = yield* RejectLayout.make()
      expect(layout.key(values())).toBe("dead-letter/42/crm/contacts/2025_01_02_1735787045000_0.csv.gz")
      expect(layout.key(values({ namespace: undefined, syncId: undefined, partNumber: 3 }))).toBe(
        "dead-letter/contacts/2025_01_02_1735787045000_3.csv.gz"
      )
    }))

  it.effect("keeps keys of hostile names under the prefix, one segment each, and apart", () =>
    Effect.gen(function* () {
      const layout = yield* RejectLayout.make()
      const keys = hostile.map((name) => layout.key(values({ streamName: name, namespace: name, syncId: name })))
      for (const [index, key] of keys.entries()) {
        expect(key.startsWith("dead-letter/")).toBe(true)
        const segments = key.split("/")
        // an empty namespace is no namespace: its segment is left out
        expect(segments).toHaveLength(hostile[index] === "" ? 4 : 5)
        expect(segments.every((segment) => /^[A-Za-z0-9._-]+$/.test(segment) && !/^\.+$/.test(segment))).toBe(true)
        expect(segments.every((segment) => segment.length <= 140)).toBe(true)
      }
      expect(new Set(keys).size).toBe(keys.length)
      expect(RejectLayout.sanitizeSegment("a/b")).not.toBe(RejectLayout.sanitizeSegment("a_b"))
      expect(RejectLayout.sanitizePrefix("/../a//b/")).toMatch(/^_+-[0-9a-f]{8}\/a\/b$/)
    }))

  it("leaves a prefix it made as it is: a location printed, then given back (replay --from), names the same place", () => {
    for (const prefix of [`salesforce/${"team-".repeat(30)}rejects`, "a b/ü/../x", `${"y".repeat(121)}/z`]) {
      const once = RejectLayout.sanitizePrefix(prefix)
      expect(RejectLayout.sanitizePrefix(once)).toBe(once)
    }
  })

  it.effect("refuses templates that could collide or escape", () =>
    Effect.gen(function* () {
      for (const template of [
        "{bucket_path}/{stream_name}",
        "{stream_name}/{bucket_path}/{part_number}",
        "{bucket_path}/../{part_number}",
        "{bucket_path}/{nope}/{part_number}"
      ]) {
        const exit = yield* Effect.exit(RejectLayout.make(template))
        expect(Exit.isFailure(exit)).toBe(true)
      }
      const custom = yield* RejectLayout.make("{bucket_path}/{stream_name}/{date}/{part_number}{format_extension}")
      expect(custom.key(values())).toBe("dead-letter/contacts/2025_01_02/0.csv.gz")
    }))
})
