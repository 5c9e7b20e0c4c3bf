// Shared Vitest settings: every project's vitest.config.ts calls `projectTestConfig`.
import { fileURLToPath } from "node:url"
import { defineConfig } from "vitest/config"

/** Resolve workspace packages to their TypeScript sources, as tsconfig's customConditions do. */
const conditions = ["@sfdc-activation/source", "node", "import", "default"]

/**
 * @param {{ testTimeout?: number, setupFiles?: string[] }} [options]
 */
export const projectTestConfig = (options = {}) =>
  defineConfig({
    resolve: { conditions },
    ssr: { resolve: { conditions, externalConditions: ["@sfdc-activation/source"] } },
    test: {
      include: ["test/**/*.test.ts", "src/**/*.test.ts"],
      environment: "node",
      testTimeout: options.testTimeout ?? 30_000,
      hookTimeout: 60_000,
      setupFiles: options.setupFiles ?? [],
      globalSetup: [fileURLToPath(new URL("./vitest.tmpdir.mjs", import.meta.url))],
      reporters: ["default", ["json", { outputFile: ".reports/vitest.json" }]]
    }
  })
