import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { handlers, Org } from "@sfdc-activation/salesforce-emulator"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { setupServer } from "msw/node"
import * as path from "node:path"
import { readmeSnippet } from "../../../configs/readme-snippet.mjs"
import { apiLimits, SessionLive } from "../examples/usage.js"

const baseUrl = "https://example-org.my.salesforce.com"
const org = Org.make()
const server = setupServer(...handlers(org, baseUrl))
beforeAll(() => server.listen({ onUnhandledRequest: "error" }))
afterAll(() => server.close())

describe("README", () => {
  it("shows the typechecked example", () => {
    const { snippet, example } = readmeSnippet(path.join(import.meta.dirname, ".."))
    expect(snippet).toBe(example)
  })

  it.effect("the example logs in from the environment and reads /limits", () =>
    Effect.gen(function* () {
      const environment = new Map([
        ["SALESFORCE_CLIENT_ID", org.credentials.clientId],
        ["SALESFORCE_CLIENT_SECRET", org.credentials.clientSecret],
        ["SALESFORCE_REFRESH_TOKEN", org.credentials.refreshToken],
        ["SALESFORCE_LOGIN_URL", baseUrl]
      ])
      const limits = yield* apiLimits.pipe(
        Effect.provide(SessionLive.pipe(Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(environment)))))
      )
      expect(limits).toHaveProperty("DailyApiRequests")
    }))
})
