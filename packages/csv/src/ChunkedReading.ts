/**
 * Parsing a byte stream a chunk at a time: each chunk's bytes go to a parser that returns the
 * items they complete, handed on as one array (no promise or effect per item).
 *
 * Bad input makes the parser throw; the items it read before the bad input, from the same
 * bytes, are not lost: the parser appends each item to the array it is given as soon as it is
 * read, so when it throws, that array holds them. They are handed on, then the error is thrown.
 *
 * Stopped early (`return`, as when a consumer is interrupted), the iterable calls `stop` before
 * anything else: an async generator waiting for the next chunk would otherwise only stop once
 * that chunk came, which, on a stalled download, is never.
 */

/**
 * Turns bytes into items: `push` returns what a chunk completes, `end` what is left. Both append
 * each item to `items` as soon as it is read and return `items`: on bad input they throw, and
 * `items` holds what was read before it (handed on before the error).
 */
export interface ChunkParser<A> {
  readonly push: (bytes: Uint8Array, items: Array<A>) => ReadonlyArray<A>
  readonly end: (items: Array<A>) => ReadonlyArray<A>
}

/**
 * `parser` with its items passed through `f`, one at a time. When `parser` throws, the items it
 * read before are still passed through; when `f` throws, the items before are kept and the
 * error is `f`'s (it is about an earlier item).
 */
export const map = <A, B>(parser: ChunkParser<A>, f: (item: A) => B): ChunkParser<B> => {
  const mapped = (read: (into: Array<A>) => unknown, items: Array<B>): Array<B> => {
    const unmapped: Array<A> = []
    try {
      read(unmapped)
    } finally {
      for (const item of unmapped) items.push(f(item))
    }
    return items
  }
  return {
    push: (bytes, items) => mapped((into) => parser.push(bytes, into), items),
    end: (items) => mapped((into) => parser.end(into), items)
  }
}

/**
 * The items of `chunks`, an array per chunk that completes any; `stop` ends the reading of
 * `chunks`. When `parser` throws, the items it read before the bad input come first, then the error.
 */
export const parse = <A>(chunks: AsyncIterable<unknown>, parser: ChunkParser<A>, stop: () => void): AsyncIterable<ReadonlyArray<A>> => {
  async function* items(): AsyncGenerator<ReadonlyArray<A>> {
    for await (const chunk of chunks) {
      if (!(chunk instanceof Uint8Array)) continue
      const completed = attempt<A>((into) => parser.push(chunk, into))
      if (completed.items.length > 0) yield completed.items
      if (completed.failure !== undefined) throw completed.failure.error
    }
    const last = attempt<A>((into) => parser.end(into))
    if (last.items.length > 0) yield last.items
    if (last.failure !== undefined) throw last.failure.error
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

/** What a parser read: its items, or, when it threw, the items it read before and the error. */
interface Read<A> {
  readonly items: ReadonlyArray<A>
  readonly failure?: { readonly error: unknown }
}

const attempt = <A>(read: (into: Array<A>) => ReadonlyArray<A>): Read<A> => {
  const into: Array<A> = []
  try {
    return { items: read(into) }
  } catch (error) {
    return { items: into, failure: { error } }
  }
}
