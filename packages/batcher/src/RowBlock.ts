/**
 * Encoded rows packed for the batcher: their CSV lines as UTF-8 bytes, back to back, with where
 * each one ends. A block of a few hundred rows is one buffer and one array of numbers instead of
 * a string and an object per row, so rows waiting for their batch cost the garbage collector
 * nothing, and the batcher writes them to disk without joining or encoding anything again.
 */

/** Rows with contiguous ordinals from `firstOrdinal`, in input order. */
export interface RowBlock {
  readonly _tag: "Rows"
  readonly firstOrdinal: number
  /** The rows' lines (each with its `\n`), one after another. */
  readonly bytes: Uint8Array
  /** Where each row ends in `bytes` (exclusive); one entry per row, increasing. */
  readonly ends: ReadonlyArray<number>
  /** Each row's matching key (external id or Id), when rows carry keys. */
  readonly keys: ReadonlyArray<string | undefined> | undefined
}

/** Packs lines into a `RowBlock`, one `add` at a time. */
export class RowBlockBuilder {
  private lines: Array<string> = []
  /** Where each line ends, counted in UTF-16 code units. */
  private charEnds: Array<number> = []
  private totalChars = 0
  private keys: Array<string | undefined> | undefined = undefined
  private firstOrdinal = 0

  /** Rows added since the last `take`. */
  get rowCount(): number {
    return this.lines.length
  }

  /** UTF-16 code units added since the last `take` (the bytes, when the lines are ASCII). */
  get chars(): number {
    return this.totalChars
  }

  /** Appends a line (ending with `\n`) with its ordinal, which must follow the previous row's. */
  add(ordinal: number, line: string, key?: string): void {
    if (this.lines.length === 0) this.firstOrdinal = ordinal
    if (key !== undefined && this.keys === undefined) this.keys = new Array<string | undefined>(this.lines.length).fill(undefined)
    this.keys?.push(key)
    this.lines.push(line)
    this.totalChars += line.length
    this.charEnds.push(this.totalChars)
  }

  /**
   * The rows added so far as a block (none when there are none); the builder starts over. The
   * lines are encoded in one call; when they are all ASCII (bytes = characters), their ends in
   * characters are their ends in bytes, and no line is measured on its own.
   */
  take(): RowBlock | undefined {
    if (this.lines.length === 0) return undefined
    const text = this.lines.join("")
    const bytes = Buffer.from(text, "utf8")
    let ends = this.charEnds
    if (bytes.length !== text.length) {
      ends = []
      let end = 0
      for (const line of this.lines) {
        end += Buffer.byteLength(line, "utf8")
        ends.push(end)
      }
    }
    const block: RowBlock = { _tag: "Rows", firstOrdinal: this.firstOrdinal, bytes, ends, keys: this.keys }
    this.lines = []
    this.charEnds = []
    this.totalChars = 0
    this.keys = undefined
    return block
  }
}

/** One row as a block (for callers that produce rows one at a time). */
export const single = (ordinal: number, line: string, key?: string): RowBlock => {
  const bytes = Buffer.from(line, "utf8")
  return { _tag: "Rows", firstOrdinal: ordinal, bytes, ends: [bytes.length], keys: key === undefined ? undefined : [key] }
}
