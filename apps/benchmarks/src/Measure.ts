/**
 * Runs one measured process under `/usr/bin/time`: wall time (from spawn to exit, as a user sees
 * it), CPU seconds (user + system, children included) and peak RSS of that process alone.
 */
import { spawn } from "node:child_process"
import { closeSync, openSync, readFileSync } from "node:fs"

export interface ProcessFigures {
  readonly wallSeconds: number
  readonly cpuSeconds: number
  readonly peakRssMiB: number
  readonly exitCode: number
}

export interface MeasureOptions {
  readonly args: ReadonlyArray<string>
  /** A file fed to stdin (default: none). */
  readonly stdinFile?: string
  /** Where stdout and stderr go (files), so the harness adds no piping work. */
  readonly stdoutFile: string
  readonly stderrFile: string
  readonly cwd?: string
  readonly env?: Readonly<Record<string, string>>
}

const timeProgram = "/usr/bin/time"

/** `node <args>` under `/usr/bin/time -f "%U %S %M"`; resolves once it exits. */
export const measureNode = async (options: MeasureOptions): Promise<ProcessFigures> => {
  const timeFile = `${options.stderrFile}.time`
  const stdin = options.stdinFile === undefined ? "ignore" : openSync(options.stdinFile, "r")
  const stdout = openSync(options.stdoutFile, "w")
  const stderr = openSync(options.stderrFile, "w")
  const started = performance.now()
  try {
    const child = spawn(timeProgram, ["-f", "%U %S %M", "-o", timeFile, process.execPath, ...options.args], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: [stdin, stdout, stderr]
    })
    const exitCode = await new Promise<number>((resolve, reject) => {
      child.once("error", reject)
      child.once("exit", (code) => resolve(code ?? 1))
    })
    const wallSeconds = (performance.now() - started) / 1000
    const [user = "0", system = "0", maxRssKiB = "0"] = readFileSync(timeFile, "utf8").trim().split("\n").pop()?.split(" ") ?? []
    return { wallSeconds, cpuSeconds: Number(user) + Number(system), peakRssMiB: Number(maxRssKiB) / 1024, exitCode }
  } finally {
    if (typeof stdin === "number") closeSync(stdin)
    closeSync(stdout)
    closeSync(stderr)
  }
}
