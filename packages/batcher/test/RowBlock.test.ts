import { describe, expect, it } from "@effect/vitest"
import { RowBlock } from "../src/index.js"

const rowsOf = (block: RowBlock.RowBlock | undefined): Array<string> => {
  if (block === undefined) return []
  const text = Buffer.from(block.bytes)
  return block.ends.map((end, index) => text.toString("utf8", index === 0 ? 0 : block.ends[index - 1], end))
}

describe("RowBlockBuilder", () => {
  it("packs lines as UTF-8 with where each ends, multi-byte characters and long lines included", () => {
    const builder = new RowBlock.RowBlockBuilder()
    const lines = ["a,é\n", `${"東".repeat(30_000)}\n`, "🚀,\"x\"\n", `${"y".repeat(100_000)}\n`]
    lines.forEach((line, index) => builder.add(7 + index, line))
    expect(builder.rowCount).toBe(4)
    const block = builder.take()
    expect(block?.firstOrdinal).toBe(7)
    expect(block?.bytes.length).toBe(lines.reduce((sum, line) => sum + Buffer.byteLength(line), 0))
    expect(rowsOf(block)).toEqual(lines)
    expect(block?.keys).toBeUndefined()
  })

  it("starts over after take (rows and characters counted anew), without touching the block it handed out", () => {
    const builder = new RowBlock.RowBlockBuilder()
    builder.add(0, "first\n")
    const first = builder.take()
    builder.add(1, "second\n")
    builder.add(2, "third\n")
    expect(builder.chars).toBe("second\nthird\n".length)
    const second = builder.take()
    expect(builder.chars).toBe(0)
    expect(rowsOf(first)).toEqual(["first\n"])
    expect(rowsOf(second)).toEqual(["second\n", "third\n"])
    expect(second?.firstOrdinal).toBe(1)
    expect(builder.take()).toBeUndefined()
  })

  it("keeps each row's key, undefined for rows added without one", () => {
    const builder = new RowBlock.RowBlockBuilder()
    builder.add(0, "a\n")
    builder.add(1, "b\n", "key-b")
    builder.add(2, "c\n")
    expect(builder.take()?.keys).toEqual([undefined, "key-b", undefined])
  })

  it("makes a one-row block", () => {
    const block = RowBlock.single(3, "x,ü\n", "k")
    expect([block.firstOrdinal, block.ends, block.keys, rowsOf(block)]).toEqual([3, [5], ["k"], ["x,ü\n"]])
  })
})
