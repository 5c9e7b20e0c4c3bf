/**
 * Echoing a STATE message exactly as the source sent it.
 *
 * State blobs are opaque: a destination must hand them back unchanged. Going through
 * `JSON.parse` would reorder integer-like keys and round numbers beyond 2^53, so the
 * echo edits the original text instead, setting only `state.destinationStats`.
 */
import type { StateStats } from "./AirbyteMessage.js"

interface Member {
  readonly key: string
  /** Where the member starts (its key's opening quote) and where its value ends. */
  readonly start: number
  readonly end: number
  readonly valueStart: number
}

const isWhitespace = (code: number) => code === 32 || code === 9 || code === 10 || code === 13

const skipWhitespace = (text: string, index: number): number => {
  let i = index
  while (i < text.length && isWhitespace(text.charCodeAt(i))) i++
  return i
}

/** `index` is at an opening quote; returns the index after the closing one. */
const skipString = (text: string, index: number): number => {
  let i = index + 1
  while (i < text.length) {
    const code = text.charCodeAt(i)
    if (code === 92) i += 2
    else if (code === 34) return i + 1
    else i++
  }
  return i
}

/** Returns the index after the JSON value starting at `index`. */
const skipValue = (text: string, index: number): number => {
  const first = text.charCodeAt(index)
  if (first === 34) return skipString(text, index)
  if (first === 123 || first === 91) {
    let depth = 0
    let i = index
    while (i < text.length) {
      const code = text.charCodeAt(i)
      if (code === 34) {
        i = skipString(text, i)
        continue
      }
      if (code === 123 || code === 91) depth++
      else if (code === 125 || code === 93) {
        depth--
        if (depth === 0) return i + 1
      }
      i++
    }
    return i
  }
  let i = index
  while (i < text.length) {
    const code = text.charCodeAt(i)
    if (code === 44 || code === 125 || code === 93 || isWhitespace(code)) break
    i++
  }
  return i
}

/** The members of the object whose `{` is at `open`, and the index of its `}`. */
const objectMembers = (text: string, open: number): { members: Array<Member>; close: number } => {
  const members: Array<Member> = []
  let i = skipWhitespace(text, open + 1)
  while (i < text.length && text.charCodeAt(i) !== 125) {
    const start = i
    const keyEnd = skipString(text, i)
    const parsedKey: unknown = JSON.parse(text.slice(i, keyEnd))
    const key = typeof parsedKey === "string" ? parsedKey : ""
    const valueStart = skipWhitespace(text, skipWhitespace(text, keyEnd) + 1)
    const end = skipValue(text, valueStart)
    members.push({ key, start, end, valueStart })
    i = skipWhitespace(text, end)
    if (text.charCodeAt(i) === 44) i = skipWhitespace(text, i + 1)
  }
  return { members, close: i }
}

/** The exact text of each element of the JSON array `text` (valid JSON), in order: a state file's states, unchanged. */
export const arrayElementTexts = (text: string): Array<string> => {
  const elements: Array<string> = []
  let i = skipWhitespace(text, skipWhitespace(text, 0) + 1)
  while (i < text.length && text.charCodeAt(i) !== 93) {
    const end = skipValue(text, i)
    elements.push(text.slice(i, end))
    i = skipWhitespace(text, end)
    if (text.charCodeAt(i) === 44) i = skipWhitespace(text, i + 1)
  }
  return elements
}

/** A number as JSON, a whole one with a decimal point (`5.0`): the spec's counts are doubles, written so. */
const doubleJson = (value: number): string => {
  const text = JSON.stringify(value)
  return /^-?\d+$/.test(text) ? `${text}.0` : text
}

/** `stats` as a JSON object, its numbers written as doubles. */
const statsJson = (stats: StateStats): string => {
  const members = Object.entries(stats).flatMap(([key, value]: [string, unknown]) =>
    value === undefined ? [] : [`${JSON.stringify(key)}:${typeof value === "number" ? doubleJson(value) : JSON.stringify(value)}`]
  )
  return `{${members.join(",")}}`
}

/** The exact text of the STATE line's `state` object (to store or pass on unchanged), if it has one. */
export const stateText = (line: string): string | undefined => {
  const text = line.trim()
  const state = objectMembers(text, skipWhitespace(text, 0)).members.find((member) => member.key === "state")
  if (state === undefined || text.charCodeAt(state.valueStart) !== 123) return undefined
  return text.slice(state.valueStart, state.end)
}

/**
 * The STATE line `line` (as received) with `state.destinationStats` set to `stats`, its counts
 * written with a decimal point (`{"recordCount":5.0}`); every other byte of the state stays as it was.
 */
export const withDestinationStats = (line: string, stats: StateStats): string => {
  const text = line.trim()
  const root = objectMembers(text, skipWhitespace(text, 0))
  const state = root.members.find((member) => member.key === "state")
  if (state === undefined || text.charCodeAt(state.valueStart) !== 123) return text
  const inner = objectMembers(text, state.valueStart)
  const existing = inner.members.find((member) => member.key === "destinationStats")
  const entry = `"destinationStats":${statsJson(stats)}`
  if (existing !== undefined) {
    return `${text.slice(0, existing.start)}${entry}${text.slice(existing.end)}`
  }
  const separator = inner.members.length === 0 ? "" : ","
  return `${text.slice(0, inner.close)}${separator}${entry}${text.slice(inner.close)}`
}
