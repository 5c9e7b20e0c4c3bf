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

/** The first block holds this many bytes; blocks grow as rows need. */
const initialBlockBytes = 64 * 1024
/** The most bytes a UTF-16 code unit takes in UTF-8. */
const maxUtf8BytesPerUnit = 3

/** Packs lines into a `RowBlock`, one `add` at a time. */
export class RowBlockBuilder {
  private buffer: Buffer = Buffer.allocUnsafe(initialBlockBytes)
  private used = 0
  private ends: Array<number> = []
  private keys: Array<string | undefined> | undefined = undefined
  private firstOrdinal = 0

  /** Rows added since the last `take`. */
  get rowCount(): number {
    return this.ends.length
  }

  /** Appends a line (ending with `\n`) with its ordinal, which must follow the previous row's. */
  add(ordinal: number, line: string, key?: string): void {
    if (this.ends.length === 0) this.firstOrdinal = ordinal
    const room = this.buffer.length - this.used
    if (line.length * maxUtf8BytesPerUnit > room) this.grow(Buffer.byteLength(line, "utf8"))
    this.used += this.buffer.write(line, this.used, "utf8")
    if (key !== undefined && this.keys === undefined) this.keys = new Array<string | undefined>(this.ends.length).fill(undefined)
    this.keys?.push(key)
    this.ends.push(this.used)
  }

  /** The rows added so far as a block (none when there are none); the builder starts over. */
  take(): RowBlock | undefined {
    if (this.ends.length === 0) return undefined
    const block: RowBlock = {
      _tag: "Rows",
      firstOrdinal: this.firstOrdinal,
      bytes: this.buffer.subarray(0, this.used),
      ends: this.ends,
      keys: this.keys
    }
    const spare = this.buffer.length - this.used
    this.buffer = spare >= initialBlockBytes ? this.buffer.subarray(this.used) : Buffer.allocUnsafe(Math.max(initialBlockBytes, this.used))
    this.used = 0
    this.ends = []
    this.keys = undefined
    return block
  }

  private grow(lineBytes: number): void {
    if (this.buffer.length - this.used >= lineBytes) return
    const next = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.used + lineBytes))
    this.buffer.copy(next, 0, 0, this.used)
    this.buffer = next
  }
}

/** One row as a block (for callers that produce rows one at a time). */
export const single = (ordinal: number, line: string, key?: string): RowBlock => {
  const bytes = Buffer.from(line, "utf8")
  return { _tag: "Rows", firstOrdinal: ordinal, bytes, ends: [bytes.length], keys: key === undefined ? undefined : [key] }
}
