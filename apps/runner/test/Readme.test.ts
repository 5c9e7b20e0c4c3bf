import { describe, expect, it } from "@effect/vitest"
import * as Either from "effect/Either"
import { readFileSync } from "node:fs"
import * as path from "node:path"
import * as SyncFiles from "../src/SyncFiles.js"
import { repoRoot } from "./support.js"

const readmes = ["README.md", "apps/runner/README.md"]

/** The ```yaml blocks of a README. */
const yamlBlocks = (readme: string): Array<string> =>
  [...readFileSync(path.join(repoRoot, readme), "utf8").matchAll(/```ya?ml\n([\s\S]*?)```/g)].map((match) => match[1] ?? "")

/** Every `${VAR}` of `text`, set to a placeholder. */
const environmentFor = (text: string): SyncFiles.Environment =>
  Object.fromEntries([...text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((match) => [match[1] ?? "", `placeholder-${match[1] ?? ""}`]))

const decodes = (readme: string, text: string) => {
  const result = SyncFiles.parseSync(readme, text, environmentFor(text))
  return Either.isLeft(result) ? result.left.message : "decodes"
}

/**
 * The commented-out alternatives written as a flow map (`# org: { … }`, continued on `#` lines
 * until its braces close), each uncommented in place of the line of its key.
 */
const flowAlternatives = (block: string): Array<{ readonly key: string; readonly text: string }> => {
  const lines = block.split("\n")
  const found: Array<{ key: string; text: string }> = []
  for (const [index, line] of lines.entries()) {
    const key = /^# ([A-Za-z]+): \{/.exec(line)?.[1]
    if (key === undefined) continue
    const alternative: Array<string> = []
    let depth = 0
    for (const next of lines.slice(index)) {
      const uncommented = next.replace(/^# ?/, "")
      alternative.push(uncommented)
      depth += (uncommented.match(/\{/g) ?? []).length - (uncommented.match(/\}/g) ?? []).length
      if (depth <= 0) break
    }
    const text = lines.map((other) => (other.startsWith(`${key}:`) ? alternative.join("\n") : other)).join("\n")
    found.push({ key, text })
  }
  return found
}

describe("README YAML", () => {
  it("has a sync definition in the root README", () => {
    expect(yamlBlocks("README.md").length).toBeGreaterThan(0)
  })

  for (const readme of readmes) {
    it(`every yaml block of ${readme} decodes with the runner's loader`, () => {
      for (const block of yamlBlocks(readme)) expect(decodes(readme, block)).toBe("decodes")
    })

    it(`every commented-out { } alternative of ${readme} decodes in place of its key`, () => {
      for (const block of yamlBlocks(readme)) {
        for (const alternative of flowAlternatives(block)) expect(`${alternative.key}: ${decodes(readme, alternative.text)}`).toBe(`${alternative.key}: decodes`)
      }
    })
  }

  it("the org alternative with credentials is among them", () => {
    expect(yamlBlocks("README.md").flatMap(flowAlternatives).map((alternative) => alternative.key)).toContain("org")
  })
})
