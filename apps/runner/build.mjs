// Bundles the runner into one runnable file: dist/main.js. Native and database drivers stay
// external and are loaded from node_modules at run time.
import { build } from "esbuild"

await build({
  entryPoints: ["src/main.ts"],
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  conditions: ["@sfdc-activation/source"],
  outfile: "dist/main.js",
  sourcemap: true,
  legalComments: "none",
  external: ["@duckdb/*", "postgres"],
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  logLevel: "warning"
})
