#!/usr/bin/env node
/**
 * The connector's entry point: wiring only. A first SIGTERM / SIGINT during `write` asks the run
 * to stop: no more input is read and no job starts, the jobs already in Salesforce are awaited
 * and their states emitted, for up to `stopGracePeriodMillis`. A second signal, the end of that
 * period, or a signal to any other command interrupts the run (open jobs are aborted). Either
 * way a TRACE ERROR is written and the process exits non-zero.
 */
import { StopSignal } from "@sfdc-activation/pipeline"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { setFlagsFromString } from "node:v8"
import { main, processIo } from "./Cli.js"

// Records live for one input chunk. V8's allocation-site pretenuring still moved the objects of
// some sites straight to the old generation, and everything they pointed to then survived each
// young collection: ~390 MB promoted per million records. Without it: ~55 MB and about 5 %
// less CPU. The connector keeps no large long-lived heap that pretenuring would help.
setFlagsFromString("--no-allocation-site-pretenuring")

/** The exit code of a run that was interrupted (SIGINT / SIGTERM) rather than finished. */
const interruptedExitCode = 1

/**
 * How long a `write` asked to stop may await the jobs already in Salesforce before it is
 * interrupted: within the grace a container runtime gives before it kills (30 s by default in
 * Kubernetes), with room left to abort what is open.
 */
const stopGracePeriodMillis = 10_000

const args = process.argv.slice(2)
// Only `write` has work in Salesforce worth awaiting.
const stopSignal = StopSignal.make({ drains: args[0] === "write", gracePeriodMillis: stopGracePeriodMillis })

stopSignal.runMain(
  Effect.flatMap(main(args, { ...processIo, stop: stopSignal.requested }), (code) =>
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
