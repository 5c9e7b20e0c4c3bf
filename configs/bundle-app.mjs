// Bundles an app's src/main.ts into a runnable ESM file, dist/main.js, resolving workspace
// packages to their sources. Code reached only through `import()` (the AWS SDK, loaded when rejects
// go to a bucket) goes to chunks beside it, read only when used. `external` packages (native or
// database drivers) are loaded from node_modules at run time.
import { build } from "esbuild"
import { rmSync } from "node:fs"

/** @param {{ readonly external?: ReadonlyArray<string> }} [options] */
export const bundleApp = (options = {}) => {
  // chunks are named by their hash: an earlier build's would stay beside the new ones
  rmSync("dist", { recursive: true, force: true })
  return build({
    entryPoints: ["src/main.ts"],
    bundle: true,
    platform: "node",
    target: "node20",
    format: "esm",
    conditions: ["@sfdc-activation/source"],
    outdir: "dist",
    splitting: true,
    chunkNames: "chunk-[hash]",
    sourcemap: true,
    legalComments: "none",
    external: [...(options.external ?? [])],
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
    logLevel: "warning"
  })
}
