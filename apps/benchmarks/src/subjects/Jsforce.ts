/**
 * jsforce: one in-memory CSV, one job through `bulk2.loadAndWaitForResults`. That upload is larger
 * than the emulator's default 100 MiB limit (and Salesforce's 150 MB), so the limit is raised for
 * this run only: the comparison is jsforce's best case.
 */
import * as path from "node:path"
import { measureNode } from "../Measure.js"
import { result, type RunContext, type RunResult } from "../Run.js"

const maxUploadBytes = 1024 * 1024 * 1024

export const run = async (context: RunContext, childDirectory: string): Promise<RunResult> => {
  const credentials = await context.emulator.credentials()
  await context.emulator.setFaults({ maxUploadBytes })
  const figures = await measureNode({
    args: [...context.nodeFlags, path.join(childDirectory, "jsforce.mjs"), context.dataset.jsonl],
    env: {
      BENCH_URL: context.emulator.url,
      BENCH_CLIENT_ID: credentials.clientId,
      BENCH_CLIENT_SECRET: credentials.clientSecret,
      BENCH_REFRESH_TOKEN: credentials.refreshToken
    },
    stdoutFile: path.join(context.directory, "jsforce.out"),
    stderrFile: path.join(context.directory, "jsforce.err")
  })
  return result("jsforce", context, figures, `emulator upload limit raised to ${maxUploadBytes / 1024 / 1024} MiB for jsforce's single job`)
}
