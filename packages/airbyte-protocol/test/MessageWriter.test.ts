import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import { MessageWriter } from "../src/index.js"
import { messageErrors, parseJson } from "./officialSchema.js"

/** An output that accepts a write only when the test lets it drain. */
class SlowOutput implements MessageWriter.Output {
  readonly writes: Array<string> = []
  private readonly waiting: Array<() => void> = []
  write(text: string, callback: (error?: Error | null) => void): boolean {
    this.writes.push(text)
    this.waiting.push(() => callback(null))
    return false
  }
  drainOne(): boolean {
    const next = this.waiting.shift()
    next?.()
    return next !== undefined
  }
  get pendingWrites(): number {
    return this.waiting.length
  }
}

describe("MessageWriter", () => {
  it.effect("waits for each write to drain before the next, and writes whole lines", () =>
    Effect.gen(function* () {
      const output = new SlowOutput()
      const messages = Array.from({ length: 5 }, (_, index) => MessageWriter.log("INFO", `line ${index}\nwith newline`))
      const fiber = yield* Stream.fromIterable(messages).pipe(
        Stream.rechunk(2),
        Stream.run(MessageWriter.sink(output)),
        Effect.fork
      )
      let drained = 0
      while (drained < 10) {
        yield* Effect.yieldNow()
        expect(output.pendingWrites).toBeLessThanOrEqual(1)
        if (output.drainOne()) drained++
        if (output.writes.length === 3 && output.pendingWrites === 0) break
      }
      yield* Fiber.join(fiber)
      expect(output.writes).toHaveLength(3)
      const lines = output.writes.flatMap((text) => {
        expect(text.endsWith("\n")).toBe(true)
        return text.slice(0, -1).split("\n")
      })
      expect(lines.map((line) => parseJson(line))).toEqual(messages)
    }))

  it.effect("fails with OutputError when the output breaks", () =>
    Effect.gen(function* () {
      const broken: MessageWriter.Output = {
        write: (_text, callback) => {
          callback(new Error("EPIPE"))
          return false
        }
      }
      const error = yield* Stream.make(MessageWriter.log("INFO", "x")).pipe(Stream.run(MessageWriter.sink(broken)), Effect.flip)
      expect(error._tag).toBe("OutputError")
      expect(error.message).toContain("EPIPE")
    }))

  it.effect("writes encoded lines as they are", () =>
    Effect.gen(function* () {
      const output = new SlowOutput()
      const fiber = yield* Stream.make(MessageWriter.encodedLine('{"type":"STATE","state":{"n":12345678901234567890}}')).pipe(
        Stream.run(MessageWriter.sink(output)),
        Effect.fork
      )
      while (!output.drainOne()) yield* Effect.yieldNow()
      yield* Fiber.join(fiber)
      expect(output.writes).toEqual(['{"type":"STATE","state":{"n":12345678901234567890}}\n'])
    }))

  it.effect("builds messages that follow the official schema", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(1_732_665_600_000)
      const built = [
        MessageWriter.log("WARN", "careful"),
        MessageWriter.connectionStatus("SUCCEEDED"),
        MessageWriter.connectionStatus("FAILED", "invalid_grant: expired access/refresh token"),
        MessageWriter.spec({ connectionSpecification: { type: "object" }, supported_destination_sync_modes: ["append"] }),
        MessageWriter.destinationCatalog([{ object_name: "Account", sync_mode: "append", json_schema: { type: "object" } }]),
        yield* MessageWriter.traceError({
          message: "Salesforce refused the credentials",
          failureType: "config_error",
          internalMessage: "invalid_grant",
          stream: { name: "contacts" }
        }),
        yield* MessageWriter.streamStatus({ name: "contacts", namespace: "crm" }, "COMPLETE"),
        yield* MessageWriter.controlConnectorConfig({ refresh_token: "new" })
      ]
      for (const message of built) expect(messageErrors(parseJson(MessageWriter.encode(message)))).toEqual([])
      expect(built[5]).toMatchObject({ trace: { emitted_at: 1_732_665_600_000, error: { failure_type: "config_error" } } })
      expect(built[7]).toMatchObject({ control: { type: "CONNECTOR_CONFIG", connectorConfig: { config: { refresh_token: "new" } } } })
    }))
})
