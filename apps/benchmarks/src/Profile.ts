/**
 * The top self-time functions of a V8 `.cpuprofile` (`node --cpu-prof`), each with the source
 * module it was bundled from (esbuild's `// path` comments in dist/main.js).
 */
import { readFileSync } from "node:fs"

interface ProfileNode {
  readonly id: number
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number }
}

interface CpuProfile {
  readonly nodes: ReadonlyArray<ProfileNode>
  readonly samples: ReadonlyArray<number>
  readonly timeDeltas: ReadonlyArray<number>
}

export interface HotSpot {
  readonly functionName: string
  readonly module: string
  readonly line: number
  readonly selfMs: number
  readonly selfPercent: number
}

/** For each line of a bundle, the module (`// packages/x/src/Y.ts`) it belongs to. */
const modulesOf = (bundle: string): ((line: number) => string) => {
  const starts: Array<{ line: number; module: string }> = []
  bundle.split("\n").forEach((text, index) => {
    const match = /^\/\/ ((?:\.\.\/)*[\w@.-]+\/[^\s]+\.(?:[cm]?js|ts))$/.exec(text)
    if (match?.[1] !== undefined) starts.push({ line: index, module: match[1].replace(/^(\.\.\/)+/, "").replace(/^node_modules\/\.pnpm\/[^/]+\/node_modules\//, "") })
  })
  return (line) => {
    let module = "(bundle)"
    for (const start of starts) {
      if (start.line > line) break
      module = start.module
    }
    return module
  }
}

export const hotSpots = (profileFile: string, bundleFile: string, top = 25): Array<HotSpot> => {
  const profile = JSON.parse(readFileSync(profileFile, "utf8")) as CpuProfile
  const moduleOf = modulesOf(readFileSync(bundleFile, "utf8"))
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const self = new Map<string, { node: ProfileNode; micros: number }>()
  let total = 0
  profile.samples.forEach((id, index) => {
    const micros = profile.timeDeltas[index] ?? 0
    total += micros
    const node = byId.get(id)
    if (node === undefined) return
    const frame = node.callFrame
    const key = `${frame.functionName}|${frame.url}|${frame.lineNumber}`
    const entry = self.get(key) ?? { node, micros: 0 }
    entry.micros += micros
    self.set(key, entry)
  })
  return [...self.values()]
    .sort((a, b) => b.micros - a.micros)
    .slice(0, top)
    .map(({ node, micros }) => {
      const frame = node.callFrame
      const inBundle = frame.url.endsWith("dist/main.js")
      return {
        functionName: frame.functionName === "" ? "(anonymous)" : frame.functionName,
        module: inBundle ? moduleOf(frame.lineNumber) : frame.url === "" ? "(native)" : frame.url.replace(/^node:/, "node:"),
        line: frame.lineNumber + 1,
        selfMs: micros / 1000,
        selfPercent: total === 0 ? 0 : (micros / total) * 100
      }
    })
}

export const formatHotSpots = (spots: ReadonlyArray<HotSpot>): string =>
  [
    "| self ms | self % | function | module (bundle line) |",
    "|---:|---:|---|---|",
    ...spots.map((spot) => `| ${spot.selfMs.toFixed(0)} | ${spot.selfPercent.toFixed(1)} | ${spot.functionName} | ${spot.module} (${spot.line}) |`)
  ].join("\n")
