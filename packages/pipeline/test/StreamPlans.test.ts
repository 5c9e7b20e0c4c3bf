import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { StreamPlans } from "../src/index.js"
import { bulkLayer, emulatedOrgSuite } from "./support.js"

const { org } = emulatedOrgSuite()

describe("StreamPlans.plan", () => {
  it.effect("names an object the org does not have as a mapping mistake, not a Salesforce failure", () =>
    Effect.gen(function* () {
      const error = yield* StreamPlans.plan({
        stream: { name: "people" },
        object: "Contactt",
        operation: "insert",
        columns: [{ column: "LastName", source: { key: "LastName" } }]
      }).pipe(Effect.provide(bulkLayer(org)), Effect.flip)
      expect(error._tag === "PipelineError" ? [error.reason, error.detail] : error._tag).toEqual([
        "InvalidMapping",
        "the org has no object Contactt (or this user cannot see it)"
      ])
    }))
})
