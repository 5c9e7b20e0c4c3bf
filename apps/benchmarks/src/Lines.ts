/** Reads a file as lines, chunk by chunk (1 MiB), without readline's per-line overhead. */
import { createReadStream } from "node:fs"

export async function* lines(file: string): AsyncGenerator<ReadonlyArray<string>> {
  let rest = ""
  for await (const chunk of createReadStream(file, { encoding: "utf8", highWaterMark: 1 << 20 })) {
    const text = rest + String(chunk)
    const parts = text.split("\n")
    rest = parts.pop() ?? ""
    yield parts
  }
  if (rest !== "") yield [rest]
}

/** The `data` of an Airbyte RECORD line, or undefined for any other message. */
export const recordData = (line: string): Readonly<Record<string, unknown>> | undefined => {
  const message = JSON.parse(line) as { type?: string; record?: { data?: Record<string, unknown> } }
  return message.type === "RECORD" ? message.record?.data : undefined
}
