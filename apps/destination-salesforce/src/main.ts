#!/usr/bin/env node
/**
 * The connector's entry point: wiring only. SIGINT / SIGTERM interrupt the run (open jobs are
 * aborted, a TRACE ERROR is written) and the process exits non-zero.
 */
import { NodeRuntime } from "@effect/platform-node"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { setFlagsFromString } from "node:v8"
import { main } from "./Cli.js"

// Records live for one input chunk. V8's allocation-site pretenuring still moved the objects of
// some sites straight to the old generation, and everything they pointed to then survived each
// young collection: ~390 MB promoted per million records. Without it: ~55 MB and about 5 %
// less CPU. The connector keeps no large long-lived heap that pretenuring would help.
setFlagsFromString("--no-allocation-site-pretenuring")

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
    // stdout carries protocol messages only: logs go out as LOG messages (Cli's airbyteLogger)
    disablePrettyLogger: true,
    teardown: (exit, onExit) => onExit(Exit.isSuccess(exit) ? (process.exitCode === undefined ? 0 : Number(process.exitCode)) : interruptedExitCode)
  }
)
