/** The floor and jsforce programs, bundled once into plain ESM so no TypeScript loader is timed. */
import { build } from "esbuild"
import * as path from "node:path"

const projectRoot = path.resolve(import.meta.dirname, "..")

/** Bundles `src/children/*.ts` into `dist/children/*.mjs` (jsforce stays an import); returns that folder. */
export const bundle = async (): Promise<string> => {
  const outdir = path.join(projectRoot, "dist", "children")
  await build({
    entryPoints: ["floor", "jsforce"].map((name) => path.join(projectRoot, "src", "children", `${name}.ts`)),
    outdir,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    packages: "external",
    platform: "node",
    target: "node20",
    format: "esm",
    logLevel: "warning"
  })
  return outdir
}
