// Bundles an app's src/main.ts into one runnable ESM file, dist/main.js, resolving workspace
// packages to their sources. `external` packages (native or database drivers) are loaded from
// node_modules at run time.
import { build } from "esbuild"

/** @param {{ readonly external?: ReadonlyArray<string> }} [options] */
export const bundleApp = (options = {}) =>
  build({
    entryPoints: ["src/main.ts"],
    bundle: true,
    platform: "node",
    target: "node20",
    format: "esm",
    conditions: ["@sfdc-activation/source"],
    outfile: "dist/main.js",
    sourcemap: true,
    legalComments: "none",
    external: [...(options.external ?? [])],
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
    logLevel: "warning"
  })
