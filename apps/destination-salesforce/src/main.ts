#!/usr/bin/env node
/**
 * The connector's entry point: wiring only. SIGINT / SIGTERM interrupt the run (open jobs are
 * aborted, a TRACE ERROR is written) and the process exits non-zero.
 */
import { NodeRuntime } from "@effect/platform-node"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { main } from "./Cli.js"

/** The exit code of a run that was interrupted (SIGINT / SIGTERM) rather than finished. */
const interruptedExitCode = 1

NodeRuntime.runMain(
  Effect.flatMap(main(process.argv.slice(2)), (code) =>
    Effect.sync(() => {
      process.exitCode = code
    })
  ),
  {
    disableErrorReporting: true,
    teardown: (exit, onExit) => onExit(Exit.isSuccess(exit) ? (process.exitCode === undefined ? 0 : Number(process.exitCode)) : interruptedExitCode)
  }
)
