/** The floor: read + JSON.parse + CSV encode to /dev/null, in its own process. */
import * as path from "node:path"
import { measureNode } from "../Measure.js"
import { result, type RunContext, type RunResult } from "../Run.js"

export const run = async (context: RunContext, childDirectory: string): Promise<RunResult> => {
  const figures = await measureNode({
    args: [...context.nodeFlags, path.join(childDirectory, "floor.mjs"), context.dataset.jsonl],
    stdoutFile: path.join(context.directory, "floor.out"),
    stderrFile: path.join(context.directory, "floor.err")
  })
  const measured = await result("floor", context, figures)
  // The floor sends nothing: it is right when it exits cleanly.
  return { ...measured, ok: figures.exitCode === 0, loaded: context.dataset.count }
}
