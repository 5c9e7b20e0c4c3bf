/**
 * Parsing a byte stream a chunk at a time: each chunk's bytes go to a parser that returns the
 * items they complete, handed on as one array (no promise or effect per item).
 *
 * Stopped early (`return`, as when a consumer is interrupted), the iterable calls `stop` before
 * anything else: an async generator waiting for the next chunk would otherwise only stop once
 * that chunk came, which, on a stalled download, is never.
 */

/** Turns bytes into items: `push` returns what a chunk completes, `end` what is left. */
export interface ChunkParser<A> {
  readonly push: (bytes: Uint8Array) => ReadonlyArray<A>
  readonly end: () => ReadonlyArray<A>
}

/** The items of `chunks`, an array per chunk that completes any; `stop` ends the reading of `chunks`. */
export const parse = <A>(chunks: AsyncIterable<unknown>, parser: ChunkParser<A>, stop: () => void): AsyncIterable<ReadonlyArray<A>> => {
  async function* items(): AsyncGenerator<ReadonlyArray<A>> {
    for await (const chunk of chunks) {
      if (!(chunk instanceof Uint8Array)) continue
      const completed = parser.push(chunk)
      if (completed.length > 0) yield completed
    }
    const last = parser.end()
    if (last.length > 0) yield last
  }
  return {
    [Symbol.asyncIterator]: () => {
      const generator = items()
      return {
        next: () => generator.next(),
        return: () => {
          stop()
          return generator.return(undefined)
        }
      }
    }
  }
}
