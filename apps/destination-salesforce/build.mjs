// Bundles the connector into one runnable file: dist/main.js.
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
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  logLevel: "warning"
})
