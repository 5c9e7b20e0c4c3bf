// Reads the TypeScript usage snippet of a package README, so a test can check it is the
// same text as a typechecked example file.
import { readFileSync } from "node:fs"
import { join } from "node:path"

/**
 * The first ```ts block of `README.md` in `projectDir`, and the text of `examples/usage.ts`.
 * @param {string} projectDir
 */
export const readmeSnippet = (projectDir) => {
  const readme = readFileSync(join(projectDir, "README.md"), "utf8")
  const match = /```ts\n([\s\S]*?)```/.exec(readme)
  return {
    snippet: match === null ? "" : match[1],
    example: readFileSync(join(projectDir, "examples", "usage.ts"), "utf8")
  }
}
