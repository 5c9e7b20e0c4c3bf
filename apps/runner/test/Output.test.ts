import { describe, expect, it } from "@effect/vitest"
import { Pipeline } from "@sfdc-activation/pipeline"
import * as Effect from "effect/Effect"
import { execFileSync } from "node:child_process"
import { shellWord } from "../src/Commands/Report.js"
import { errorLine, logger, Progress } from "../src/Progress.js"
import { mask, Redactor } from "../src/Redactor.js"

const captured = (isTTY: boolean) => {
  const written = { stdout: "", stderr: "" }
  return {
    written,
    output: {
      stdout: (text: string) => void (written.stdout += text),
      stderr: (text: string) => void (written.stderr += text),
      isTTY
    }
  }
}

describe("Redactor", () => {
  it("masks every registered secret, longest first, and a URL's password decoded or not", () => {
    const redactor = new Redactor()
    redactor.addAll(["s3cr3t-token", "s3cr3t", "postgres://app:p%40ss-word@db:5432/warehouse", "abc"])
    expect(redactor.scrub("token s3cr3t-token, short s3cr3t, abc stays")).toBe(`token ${mask}, short ${mask}, abc stays`)
    expect(redactor.scrub("auth failed for p@ss-word / p%40ss-word")).toBe(`auth failed for ${mask} / ${mask}`)
    expect(redactor.scrub("connect postgres://app:p%40ss-word@db:5432/warehouse")).toBe(`connect ${mask}`)
  })

  it("keeps a URL's password as written when its % is not a valid escape", () => {
    const redactor = new Redactor()
    expect(() => redactor.add("postgres://loader:50%off-pass@db/warehouse")).not.toThrow()
    expect(redactor.scrub("password 50%off-pass")).toBe(`password ${mask}`)
  })
})

describe("JSON log lines", () => {
  it.effect("mask a secret whose quotes or line breaks JSON escapes, in log lines and in error lines", () =>
    Effect.gen(function* () {
      const secret = 'pa"ss\nword-\\42'
      const redactor = new Redactor()
      redactor.add(secret)
      const { written, output } = captured(false)
      const progress = new Progress(output, redactor)
      yield* Effect.logError(`login failed with ${secret}`).pipe(Effect.annotateLogs({ detail: `key ${secret}` }), Effect.provide(logger(progress, "json")))
      output.stderr(`${errorLine("json", redactor.scrub(`configuration error: ${secret}`))}\n`)
      const lines = written.stderr.trimEnd().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>)
      expect(lines).toEqual([
        expect.objectContaining({ level: "ERROR", message: `login failed with ${mask}`, detail: `key ${mask}` }),
        expect.objectContaining({ level: "ERROR", message: `configuration error: ${mask}` })
      ])
      expect(written.stderr).not.toContain("ss\\nword")
    })
  )
})

describe("shellWord", () => {
  it("quotes a word so that a shell reads it back as written, expanding only its ${VAR}s", () => {
    const shell = (word: string) => execFileSync("sh", ["-c", `printf '%s' ${word}`], { env: { PATH: process.env["PATH"] ?? "", X: "ex", HOME: "/home/x" } }).toString()
    expect(shellWord(".rejects/run-1")).toBe(".rejects/run-1")
    for (const text of ["it's here", 'a "b" $HOME `id` \\n', "a b"]) expect(shell(shellWord(text))).toBe(text)
    expect(shell(shellWord('s3://${X}/a "b" $HOME `id` \\n'))).toBe('s3://ex/a "b" $HOME `id` \\n')
  })
})

describe("Progress", () => {
  it("draws a live line on a terminal with records/s, jobs in flight and rejects, scrubbed", () => {
    const redactor = new Redactor()
    redactor.add("hunter22")
    const { written, output } = captured(true)
    const progress = new Progress(output, redactor)
    progress.start("contacts-hunter22", 0)
    progress.addRecordsRead(1_000)
    progress.addRecordsRead(500)
    progress.jobStarted()
    progress.jobStarted()
    progress.jobEnded()
    progress.rejected([{ statusCode: "STRING_TOO_LONG", message: "Name: data value too large: hunter22", fields: ["Name"] }])
    progress.draw(2_000)
    expect(written.stderr).toContain(`contacts-${mask}: 1,500 records (750/s), 1 job in flight, 1 rejected`)
    expect(written.stderr).not.toContain("hunter22")
    expect(progress.rejectSamples).toEqual([{ statusCode: "STRING_TOO_LONG", message: `Name: data value too large: ${mask}`, fields: ["Name"] }])
    progress.log("a log line")
    expect(written.stderr.endsWith("\r\u001b[2Ka log line\n")).toBe(true)
  })

  it("counts the records of the pipeline's input, not the source's STATE checkpoints among them", () => {
    const progress = new Progress(captured(false).output, new Redactor())
    progress.start("users", 0)
    progress.addInput([Pipeline.record("users", { id: 1 }), Pipeline.checkpoint("state 1"), Pipeline.record("users", { id: 2 }), Pipeline.checkpoint("state 2")])
    expect(progress.line(1_000)).toBe("users: 2 records (2/s), 0 jobs in flight, 0 rejected")
  })

  it("draws nothing when stderr is not a terminal", () => {
    const { written, output } = captured(false)
    const progress = new Progress(output, new Redactor())
    progress.start("accounts", 0)
    progress.addRecordsRead(1)
    progress.draw(1_000)
    expect(written.stderr).toBe("")
    expect(progress.line(1_000)).toBe("accounts: 1 record (1/s), 0 jobs in flight, 0 rejected")
  })
})
