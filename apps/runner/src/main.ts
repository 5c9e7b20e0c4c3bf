#!/usr/bin/env node
/**
 * The runner's entry point: wiring only. SIGINT / SIGTERM interrupt the run (open jobs are
 * aborted) and the process exits 1.
 */
import { NodeRuntime } from "@effect/platform-node"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { main } from "./Cli.js"

/** The exit code of a run that was interrupted rather than finished: "failed". */
const interruptedExitCode = 1

NodeRuntime.runMain(
  Effect.flatMap(main(process.argv.slice(2)), (code) =>
    Effect.sync(() => {
      process.exitCode = code
    })
  ),
  {
    disableErrorReporting: true,
    disablePrettyLogger: true,
    teardown: (exit, onExit) => onExit(Exit.isSuccess(exit) ? (process.exitCode === undefined ? 0 : Number(process.exitCode)) : interruptedExitCode)
  }
)
