#!/usr/bin/env node
/**
 * The runner's entry point: wiring only.
 */
import { NodeRuntime } from "@effect/platform-node"
import * as Effect from "effect/Effect"
import { main } from "./Cli.js"

NodeRuntime.runMain(
  Effect.flatMap(main(process.argv.slice(2)), (code) =>
    Effect.sync(() => {
      process.exitCode = code
    })
  ),
  { disableErrorReporting: true, disablePrettyLogger: true }
)
