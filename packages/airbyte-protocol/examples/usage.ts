import { MessageReader, MessageWriter, StateLine } from "@sfdc-activation/airbyte-protocol"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"

// Read Airbyte messages from stdin; echo each STATE with the number of records before it.
export const echoStates = (stdin: Stream.Stream<Uint8Array>, stdout: MessageWriter.Output) => {
  let records = 0
  return stdin.pipe(
    MessageReader.decodeMessages({ maxLineBytes: 10 * 1024 * 1024 }),
    Stream.filterMap(({ message, stateLine }) => {
      if (message.type === "RECORD") records++
      if (stateLine === undefined) return Option.none()
      const echoed = StateLine.withDestinationStats(stateLine, { recordCount: records })
      records = 0
      return Option.some(MessageWriter.encodedLine(echoed))
    }),
    Stream.run(MessageWriter.sink(stdout))
  )
}
