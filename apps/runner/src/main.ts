#!/usr/bin/env node
/**
 * The runner's entry point: wiring only. A first SIGINT / SIGTERM during `sync` or `replay` asks
 * the run to stop: the sync running sends nothing new and awaits its jobs already in Salesforce
 * (their rows counted, their rejects stored, the state file advanced), the syncs after it are
 * skipped, the summary is printed and the process exits 1. A second signal, or a signal to any
 * other command, interrupts the run (open jobs are aborted) and the process exits 1; a signal
 * after that ends it at once.
 */
import { StopSignal } from "@sfdc-activation/pipeline"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { setFlagsFromString } from "node:v8"
import { drainsOnStop, main, processIo } from "./Cli.js"

// Records live for one input chunk. V8's allocation-site pretenuring still moved the objects of
// some sites straight to the old generation, and everything they pointed to then survived each
// young collection: ~390 MB promoted per million records. Without it: ~55 MB and about 5 %
// less CPU. The runner keeps no large long-lived heap that pretenuring would help.
setFlagsFromString("--no-allocation-site-pretenuring")

/** The exit code of a run that was interrupted rather than finished: "failed". */
const interruptedExitCode = 1

const args = process.argv.slice(2)
// Only these commands have jobs in Salesforce worth awaiting. Jobs of a real org can take
// minutes: the wait is not bounded, a second signal ends it.
const stopSignal = StopSignal.make({
  drains: drainsOnStop(args),
  onStopRequested: () =>
    void process.stderr.write("stopping: nothing new is sent; waiting for the jobs already in Salesforce to finish (signal again to stop at once)\n")
})

stopSignal.runMain(
  Effect.flatMap(main(args, { ...processIo(), stop: stopSignal.requested }), (code) =>
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
