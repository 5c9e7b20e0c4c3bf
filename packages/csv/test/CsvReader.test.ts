import { describe, expect, it } from "@effect/vitest"
import { parse as parseCsv } from "csv-parse/sync"
import { Readable } from "node:stream"
import { isUtf8 } from "node:buffer"
import { ChunkedReading, CsvReader, LineReader, Utf8Text } from "../src/index.js"

const encoder = new TextEncoder()

/** Every row of `chunks` through a RowReader. */
const readAll = (chunks: ReadonlyArray<Uint8Array>) => {
  const reader = new CsvReader.RowReader()
  const rows = chunks.flatMap((chunk) => reader.push(chunk))
  return [...rows, ...reader.end()]
}

/** The rows of `chunks` whose `column` holds `value`, through a ColumnCounter. */
const countAll = (chunks: ReadonlyArray<Uint8Array>, column: string, value: string) => {
  const counter = new CsvReader.ColumnCounter(column, value)
  for (const chunk of chunks) counter.feed(chunk)
  return counter.finish()
}

const bytesOf = (text: string) => Array.from(encoder.encode(text), (byte) => Uint8Array.of(byte))

describe("RowReader and ColumnCounter", () => {
  it("read and count as csv-parse does, over random rows cut into random chunks", () => {
    let seed = 7
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648
      return seed / 2_147_483_648
    }
    const pieces = ["true", "false", ",", '"', "\n", "\r\n", "a", "é", "東京", " ", ""]
    const value = () => Array.from({ length: Math.floor(random() * 4) }, () => pieces[Math.floor(random() * pieces.length)]).join("")
    const field = (text: string) => (random() < 0.5 || /[",\r\n]/.test(text) || text === "" ? `"${text.replaceAll('"', '""')}"` : text)
    for (let round = 0; round < 40; round++) {
      const lineEnd = round % 2 === 0 ? "\n" : "\r\n"
      let csv = `${round % 4 === 0 ? "\ufeff" : ""}sf__Id,sf__Created,Note${lineEnd}`
      for (let row = 0; row < 50; row++) {
        const created = random() < 0.5 ? "true" : value()
        csv += `${field(`001${row}`)},${field(created)},${field(value())}${lineEnd}`
      }
      const bytes = encoder.encode(csv)
      const chunks: Array<Uint8Array> = []
      for (let start = 0; start < bytes.length; ) {
        const end = Math.min(bytes.length, start + 1 + Math.floor(random() * 40))
        chunks.push(bytes.subarray(start, end))
        start = end
      }
      const oracle: Array<Record<string, string>> = parseCsv(csv, { columns: true, bom: true, skip_empty_lines: true })
      expect(readAll(chunks)).toEqual(oracle)
      expect(countAll(chunks, "sf__Created", "true")).toBe(oracle.filter((row) => row["sf__Created"] === "true").length)
    }
  })

  it("read blank lines, a last row without a line break, a header alone and nothing", () => {
    expect(readAll(bytesOf('Id,Name\r\n\r\n1,""\n\n2,"x"'))).toEqual([
      { Id: "1", Name: "" },
      { Id: "2", Name: "x" }
    ])
    expect(countAll(bytesOf('Id,Name\r\n\r\n1,""\n\n2,"x"'), "Name", "x")).toBe(1)
    expect(readAll(bytesOf("Id,Name\n"))).toEqual([])
    expect(readAll([])).toEqual([])
    expect(countAll([], "Id", "1")).toBe(0)
    expect(countAll(bytesOf("Id\n1\n"), "Missing", "1")).toBe(0)
  })

  it("read a long quoted value arriving in many small chunks", () => {
    const long = `${'line, with "quotes"\n'.repeat(40_000)}end`
    const bytes = encoder.encode(`Id,Note\n1,"${long.replaceAll('"', '""')}"\n2,short\n`)
    const chunks = Array.from({ length: Math.ceil(bytes.length / 1024) }, (_, index) => bytes.subarray(index * 1024, (index + 1) * 1024))
    expect(readAll(chunks)).toEqual([
      { Id: "1", Note: long },
      { Id: "2", Note: "short" }
    ])
    expect(countAll(chunks, "Note", "short")).toBe(1)
  })

  it("name the line and the record of malformed CSV", () => {
    const failure = (read: () => unknown) => {
      try {
        read()
        return undefined
      } catch (error) {
        return error instanceof CsvReader.MalformedCsv ? error.message : error
      }
    }
    expect(failure(() => readAll(bytesOf('Id,Name\n"1","unclosed\n')))).toBe(
      "malformed CSV at line 2, record 2 (the header is record 1): a quoted field is never closed"
    )
    expect(failure(() => readAll(bytesOf('Id,Name\n\n"1","A\nB"\n"2","B"x\n')))).toBe(
      "malformed CSV at line 5, record 3 (the header is record 1): a closing quote is not followed by a comma or a line break"
    )
    expect(failure(() => readAll(bytesOf("Id,Name\r\n1,A\r\n\r\n2,B,C\r\n")))).toBe(
      "malformed CSV at line 4, record 3 (the header is record 1): 3 fields where the header has 2"
    )
    expect(failure(() => countAll(bytesOf('Id,Created\n1,"true\n'), "Created", "true"))).toBe(
      "malformed CSV in record 2 (the header is record 1): a quoted field is never closed"
    )
  })

  it("read rows ended by a bare CR, as old spreadsheets write them", () => {
    for (const chunks of [bytesOf('a,b\r1,"2"\r\r3,4\r'), [encoder.encode('a,b\r1,"2"\r\r3,4\r')]]) {
      expect(readAll(chunks)).toEqual([
        { a: "1", b: "2" },
        { a: "3", b: "4" }
      ])
    }
  })
})

describe("LineReader", () => {
  it("splits lines across chunks, inside a character too, dropping CRs before LFs", () => {
    const reader = new LineReader.LineReader()
    const lines = bytesOf('{"a":"東京"}\r\n\n{"b":1}\n{"c":2}').flatMap((byte) => reader.push(byte))
    expect([...lines, ...reader.end()]).toEqual(['{"a":"東京"}', "", '{"b":1}', '{"c":2}'])
    const ended = new LineReader.LineReader()
    expect([...ended.push(encoder.encode("x\n")), ...ended.end()]).toEqual(["x"])
    const marked = new LineReader.LineReader()
    expect([...bytesOf('\ufeff{"a":1}\n\ufeff').flatMap((byte) => marked.push(byte)), ...marked.end()]).toEqual(['{"a":1}', "\ufeff"])
  })

  it("reads a long line arriving in many small chunks", () => {
    const long = "x".repeat(3_000_000)
    const bytes = encoder.encode(`${long}\nshort`)
    const reader = new LineReader.LineReader()
    const lines = Array.from({ length: Math.ceil(bytes.length / 1024) }, (_, index) => bytes.subarray(index * 1024, (index + 1) * 1024)).flatMap((chunk) =>
      reader.push(chunk)
    )
    expect([...lines, ...reader.end()]).toEqual([long, "short"])
  })

  it("nonBlank decodes the lines that hold something, with their line numbers", () => {
    const parser = LineReader.nonBlank((line, lineNumber) => `${lineNumber}:${line}`)
    const decoded = bytesOf("a\n \n\nb\nc").flatMap((byte) => parser.push(byte, []))
    expect([...decoded, ...parser.end([])]).toEqual(["1:a", "4:b", "5:c"])
  })
})

describe("ChunkedReading", () => {
  it("hands on each chunk's items, the last ones at the end, and stops the source when returned early", async () => {
    const reader = new LineReader.LineReader()
    const parser = { push: (bytes: Uint8Array) => reader.push(bytes), end: () => reader.end() }
    const collected: Array<ReadonlyArray<string>> = []
    const chunks = Readable.from([encoder.encode("a\nb"), "not bytes", encoder.encode("\nc")], { objectMode: true })
    for await (const lines of ChunkedReading.parse(chunks, parser, () => undefined)) collected.push(lines)
    expect(collected).toEqual([["a"], ["b"], ["c"]])

    let stopped = false
    let release: () => void = () => undefined
    async function* stalled(): AsyncGenerator<Uint8Array> {
      yield encoder.encode("first\n")
      await new Promise<void>((resolve) => (release = resolve))
    }
    const iterator = ChunkedReading.parse(stalled(), parser, () => {
      stopped = true
      release()
    })[Symbol.asyncIterator]()
    expect(await iterator.next()).toEqual({ done: false, value: ["first"] })
    const waiting = iterator.next()
    await iterator.return?.()
    expect(stopped).toBe(true)
    expect(await waiting).toEqual({ done: true, value: undefined })
  })
})

describe("bad input after good rows in the same chunk", () => {
  /** The batches `parse` hands on for `chunks`, then the error it ends with (undefined if none). */
  const parseAll = async <A>(chunks: ReadonlyArray<Uint8Array>, parser: ChunkedReading.ChunkParser<A>) => {
    const batches: Array<ReadonlyArray<A>> = []
    try {
      for await (const items of ChunkedReading.parse(Readable.from(chunks, { objectMode: true }), parser, () => undefined)) batches.push(items)
      return { batches, error: undefined }
    } catch (error) {
      return { batches, error }
    }
  }

  it("RowReader keeps the rows before a malformed row in the array it appends to, then throws where it is", () => {
    const reader = new CsvReader.RowReader()
    const rows: Array<CsvReader.CsvRow> = []
    expect(() => reader.push(encoder.encode("id,name\n1,A\n2,B\n\n3,C,extra\n4,D\n"), rows)).toThrow(
      "malformed CSV at line 5, record 4 (the header is record 1): 3 fields where the header has 2"
    )
    expect(rows).toEqual([
      { id: "1", name: "A" },
      { id: "2", name: "B" }
    ])
    const ending = new CsvReader.RowReader()
    const last: Array<CsvReader.CsvRow> = []
    expect(ending.push(encoder.encode('id,name\n1,A\n2,"B'), last)).toBe(last)
    expect(last).toEqual([{ id: "1", name: "A" }])
    expect(() => ending.end(last)).toThrow("malformed CSV at line 3, record 3 (the header is record 1): a quoted field is never closed")
    expect(last).toEqual([{ id: "1", name: "A" }])
  })

  it("parse hands on the CSV rows before the malformed one, then fails with its line and record", async () => {
    const csv = `key,last\n${Array.from({ length: 5 }, (_, i) => `CV-${i},L${i}`).join("\n")}\nx,y,z\nCV-9,L9\n`
    const { batches, error } = await parseAll([encoder.encode(csv)], new CsvReader.RowReader())
    expect(batches.flat()).toEqual(Array.from({ length: 5 }, (_, i) => ({ key: `CV-${i}`, last: `L${i}` })))
    expect(error).toBeInstanceOf(CsvReader.MalformedCsv)
    expect(error).toMatchObject({ line: 7, record: 7, message: "malformed CSV at line 7, record 7 (the header is record 1): 3 fields where the header has 2" })
    // the same when the bad row ends the file without a line break: it is read by `end`
    const unclosed = await parseAll([encoder.encode('key,last\nA,1\nB,"2\n')], new CsvReader.RowReader())
    expect(unclosed.batches.flat()).toEqual([{ key: "A", last: "1" }])
    expect(unclosed.error).toMatchObject({ line: 3, record: 3 })
  })

  it("parse hands on the JSON lines decoded before a bad one, then fails with the decoder's error", async () => {
    const parser = LineReader.nonBlank((line, lineNumber) => {
      try {
        return JSON.parse(line) as unknown
      } catch {
        throw new Error(`line ${lineNumber} is not JSON`)
      }
    })
    const good = Array.from({ length: 5 }, (_, i) => JSON.stringify({ key: `JL-${i}` }))
    const { batches, error } = await parseAll([encoder.encode(`${good.join("\n")}\n{oops\n{"key":"after"}\n`)], parser)
    expect(batches.flat()).toEqual(Array.from({ length: 5 }, (_, i) => ({ key: `JL-${i}` })))
    expect(error).toEqual(new Error("line 6 is not JSON"))
    // the bad line alone in the last bytes, read by `end`
    const last = LineReader.nonBlank((line, lineNumber) => {
      if (line === "bad") throw new Error(`line ${lineNumber}`)
      return line
    })
    const ending = await parseAll([encoder.encode("a\n\nb\nbad")], last)
    expect(ending.batches).toEqual([["a", "b"]])
    expect(ending.error).toEqual(new Error("line 4"))
  })

  it("map passes the rows read before a failure through, and an error of its own keeps those before it", async () => {
    const csv = encoder.encode("n\n1\n2\n3\n\"x\"y\n")
    const doubled = await parseAll([csv], ChunkedReading.map(new CsvReader.RowReader(), (row) => Number(row["n"]) * 2))
    expect(doubled.batches).toEqual([[2, 4, 6]])
    expect(doubled.error).toMatchObject({ line: 5, record: 5 })
    const checked = await parseAll(
      [csv],
      ChunkedReading.map(new CsvReader.RowReader(), (row) => {
        if (row["n"] === "3") throw new Error("3 is not allowed")
        return row["n"]
      })
    )
    expect(checked.batches).toEqual([["1", "2"]])
    expect(checked.error).toEqual(new Error("3 is not allowed"))
  })
})

describe("bytes that are not UTF-8", () => {
  /** `text` as UTF-8 with `latin1` (a line saved as Latin-1: "é" is the single byte 0xE9) put in place of `marker`. */
  const withLatin1 = (text: string, marker: string, latin1: string) => {
    const [before = "", after = ""] = text.split(marker)
    return Buffer.concat([Buffer.from(before, "utf8"), Buffer.from(latin1, "latin1"), Buffer.from(after, "utf8")])
  }
  /** `bytes` cut into chunks of `size` (1: byte by byte, inside characters too). */
  const chunksOf = (bytes: Uint8Array, size: number) =>
    Array.from({ length: Math.ceil(bytes.length / size) }, (_, index) => bytes.subarray(index * size, (index + 1) * size))

  it("LineReader hands on the lines before the one that is not UTF-8, then names it, however the bytes are cut", () => {
    const bytes = withLatin1('{"n":"Zoë 東京"}\n\n{"n":"ok"}\n{"n":"@"}\n{"n":"after"}\n', "@", "Renée")
    for (const size of [1, 2, 3, 7, 64, bytes.length]) {
      const reader = new LineReader.LineReader()
      const lines: Array<string> = []
      expect(() => {
        for (const chunk of chunksOf(bytes, size)) reader.push(chunk, lines)
        reader.end(lines)
      }).toThrow(new LineReader.InvalidUtf8(4))
      expect(lines).toEqual(['{"n":"Zoë 東京"}', "", '{"n":"ok"}'])
    }
    // the last line, without a line feed, ending inside a character
    const truncated = new LineReader.LineReader()
    const first = truncated.push(Buffer.concat([Buffer.from("a\nb"), Buffer.from("東", "utf8").subarray(0, 2)]))
    expect(first).toEqual(["a"])
    expect(() => truncated.end()).toThrow("line 2: its bytes are not UTF-8 text")
  })

  it("takes U+FFFD spelled in UTF-8 as the character it is", () => {
    const reader = new LineReader.LineReader()
    expect([...reader.push(Buffer.from("a\uFFFDb\n", "utf8")), ...reader.end()]).toEqual(["a\uFFFDb"])
    const rows = new CsvReader.RowReader()
    expect([...rows.push(Buffer.from("k\n\uFFFD\n", "utf8")), ...rows.end()]).toEqual([{ k: "\uFFFD" }])
  })

  it("nonBlank decodes the lines before, with their numbers, then fails at the line", () => {
    const parser = LineReader.nonBlank((line, lineNumber) => `${lineNumber}:${line}`)
    const decoded: Array<string> = []
    expect(() => parser.push(withLatin1("a\n\nb\nc@\nd\n", "@", "é"), decoded)).toThrow(new LineReader.InvalidUtf8(4))
    expect(decoded).toEqual(["1:a", "3:b"])
  })

  it("RowReader hands on the rows before and names the line and record, in a quoted field across lines too", () => {
    for (const size of [1, 5, 1 << 16]) {
      const reader = new CsvReader.RowReader()
      const rows: Array<CsvReader.CsvRow> = []
      const bytes = withLatin1('id,name\n1,"Zoë\nline two"\n2,"B\n@"\n3,C\n', "@", "Müller")
      expect(() => {
        for (const chunk of chunksOf(bytes, size)) reader.push(chunk, rows)
        reader.end(rows)
      }).toThrow("malformed CSV at line 4, record 3 (the header is record 1): its bytes are not UTF-8 text")
      expect(rows).toEqual([{ id: "1", name: "Zoë\nline two" }])
    }
    // in the last row, without a line break: found whether the bytes come at once or one by one
    for (const size of [1, 64]) {
      const ending = new CsvReader.RowReader()
      const rows: Array<CsvReader.CsvRow> = []
      let error: unknown
      try {
        for (const chunk of chunksOf(withLatin1("id,name\n1,A\n2,@", "@", "Ærø"), size)) ending.push(chunk, rows)
        ending.end(rows)
      } catch (thrown) {
        error = thrown
      }
      expect(error).toMatchObject({ line: 3, record: 3 })
      expect(rows).toEqual([{ id: "1", name: "A" }])
    }
  })
})

describe("UTF-8 checked whatever the line endings", () => {
  it("RowReader hands on the rows of a bare-CR file as they come, and names the record of a bad byte", () => {
    const rows = Array.from({ length: 2_000 }, (_, index) => `${index},Zoë ${index}`)
    const bytes = Buffer.concat([Buffer.from(`id,name\r${rows.slice(0, 1_500).join("\r")}\r`, "utf8"), Buffer.from("1500,Müller\r", "latin1"), Buffer.from(rows.slice(1_501).join("\r"))])
    const reader = new CsvReader.RowReader()
    const read: Array<CsvReader.CsvRow> = []
    const handedOn: Array<number> = []
    let error: unknown
    try {
      for (let start = 0; start < bytes.length; start += 4096) {
        reader.push(bytes.subarray(start, start + 4096), read)
        handedOn.push(read.length)
      }
      reader.end(read)
    } catch (thrown) {
      error = thrown
    }
    // rows come out chunk by chunk, not all at the end
    expect(handedOn[0]).toBeGreaterThan(100)
    expect(read).toHaveLength(1_500)
    expect(read[1_499]).toEqual({ id: "1499", name: "Zoë 1499" })
    expect(error).toMatchObject({ record: 1_502, line: 1_502 })
  })

  it("numbers the lines of a bare-CR file as its rows end, in every chunking", () => {
    for (const chunks of [bytesOf('a,b\r1,2\r\r"3\r3",4\r5\r'), [encoder.encode('a,b\r1,2\r\r"3\r3",4\r5\r')]]) {
      const reader = new CsvReader.RowReader()
      expect(() => [...chunks.flatMap((chunk) => reader.push(chunk)), ...reader.end()]).toThrow("malformed CSV at line 6, record 4 (the header is record 1): 1 fields where the header has 2")
    }
  })

  it("keeps a column named __proto__ as a column, and a row's own properties only", () => {
    const [row] = readAll([encoder.encode("key,__proto__,constructor\nQ1,Countess,\n")])
    expect(Object.keys(row ?? {})).toEqual(["key", "__proto__", "constructor"])
    expect(Object.hasOwn(row ?? {}, "__proto__")).toBe(true)
    expect(row?.["__proto__"]).toBe("Countess")
    expect(row?.["constructor"]).toBe("")
  })

  it("finds the first bad byte where Node's own check finds the bytes bad, over random bytes", () => {
    let seed = 11
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648
      return seed / 2_147_483_648
    }
    const pieces = ["a", "é", "東", "😀", "\n"].map((text) => Buffer.from(text, "utf8"))
    for (let round = 0; round < 3_000; round++) {
      const parts: Array<Buffer> = []
      for (let index = 0; index < 12; index++) {
        parts.push(random() < 0.9 ? (pieces[Math.floor(random() * pieces.length)] ?? Buffer.alloc(0)) : Buffer.of(Math.floor(random() * 256)))
      }
      const bytes = Buffer.concat(parts)
      const offset = Utf8Text.firstInvalidOffset(bytes)
      expect(offset === -1).toBe(isUtf8(bytes))
      if (offset !== -1) {
        expect(isUtf8(bytes.subarray(0, offset))).toBe(true)
        expect(bytes.subarray(0, offset).toString("utf8")).not.toContain("\uFFFD")
      }
    }
  })
})

describe("a header naming a column twice", () => {
  it("is malformed, naming the column and both places, rather than keeping only the last cell of each row", () => {
    const reader = new CsvReader.RowReader()
    expect(() => reader.push(encoder.encode("\n\nid,name,email,name\n1,Ann,a@x.io,Bob\n"))).toThrow(
      'malformed CSV at line 3, record 1 (the header is record 1): the header names column "name" twice (columns 2 and 4)'
    )
  })

  it("takes unnamed columns (a spreadsheet's empty ones) however many", () => {
    const reader = new CsvReader.RowReader()
    expect([...reader.push(encoder.encode("Email,LastName,,\r\na@x.io,Smith,,\r\n")), ...reader.end()]).toEqual([{ Email: "a@x.io", LastName: "Smith", "": "" }])
  })
})
