/**
 * Checks of one CSV cell made on its UTF-8 bytes: `true` says the field's converter takes the cell
 * as it is, with no string read for it. A check that cannot tell says `false`, and the cell is
 * read and converted as usual; it never says `true` for a cell the converter would refuse.
 */

/** Whether the bytes `start` to `end` (excluded) of `bytes` are a value the field takes as it is. */
export type CellCheck = (bytes: Uint8Array, start: number, end: number) => boolean

const digit0 = 48
const hyphen = 45
const colon = 58
const period = 46
const letterT = 84
const letterZ = 90
const atSign = 64
const space = 32
const lastAscii = 127

/** The number the `count` ASCII digits at `start` spell, or -1 when one is not a digit. */
const digitsAt = (bytes: Uint8Array, start: number, count: number): number => {
  let value = 0
  for (let index = start; index < start + count; index++) {
    const digit = (bytes[index] ?? 0) - digit0
    if (digit < 0 || digit > 9) return -1
    value = value * 10 + digit
  }
  return value
}

const daysInMonth = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

/** Whether a year, month (1-12) and day name a day of the Gregorian calendar. */
export const validDate = (year: number, month: number, day: number): boolean => {
  if (month < 1 || month > 12 || day < 1) return false
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0
  const last = month === 2 && leap ? 29 : (daysInMonth[month - 1] ?? 31)
  return day <= last
}

/** `yyyy-MM-dd` at `start`, a real day. */
const isDayAt = (bytes: Uint8Array, start: number): boolean => {
  const year = digitsAt(bytes, start, 4)
  return bytes[start + 4] === hyphen && bytes[start + 7] === hyphen && year >= 0 && validDate(year, digitsAt(bytes, start + 5, 2), digitsAt(bytes, start + 8, 2))
}

/** `yyyy-MM-dd` exactly, a real day: the form a date is stored in. */
export const isDate = (bytes: Uint8Array, start: number, end: number): boolean => end - start === 10 && isDayAt(bytes, start)

/** `yyyy-MM-ddTHH:mm:ss.SSSZ` exactly: the form a datetime is stored in. */
export const isCanonicalDateTime = (bytes: Uint8Array, start: number, end: number): boolean => {
  if (end - start !== 24 || bytes[start + 10] !== letterT || bytes[start + 23] !== letterZ) return false
  if (bytes[start + 13] !== colon || bytes[start + 16] !== colon || bytes[start + 19] !== period) return false
  const hour = digitsAt(bytes, start + 11, 2)
  const minute = digitsAt(bytes, start + 14, 2)
  const second = digitsAt(bytes, start + 17, 2)
  return (
    isDayAt(bytes, start) && hour >= 0 && hour <= 23 && minute >= 0 && minute <= 59 && second >= 0 && second <= 59 && digitsAt(bytes, start + 20, 3) >= 0
  )
}

/** ASCII white space, as `\s` reads it. */
const isSpace = (code: number): boolean => code === space || (code >= 9 && code <= 13)

/**
 * `local@domain.tld` as the email converter's pattern reads it: one `@` after something, no space,
 * a dot with something on both sides after it. Only ASCII is checked (the pattern's white space
 * includes Unicode spaces).
 */
const isEmail = (bytes: Uint8Array, start: number, end: number): boolean => {
  let at = -1
  let dotInside = false
  for (let index = start; index < end; index++) {
    const code = bytes[index] ?? 0
    if (isSpace(code) || code > lastAscii) return false
    if (code === atSign) {
      if (at !== -1) return false
      at = index
    } else if (code === period && at !== -1 && index > at + 1 && index < end - 1) dotInside = true
  }
  return at > start && dotInside
}

const isWord = (bytes: Uint8Array, start: number, end: number, word: string): boolean => {
  if (end - start !== word.length) return false
  for (let index = 0; index < word.length; index++) if (bytes[start + index] !== word.charCodeAt(index)) return false
  return true
}

/** Whether the cell is Salesforce's `#N/A`, which sets a field to null. */
export const isNotApplicable = (bytes: Uint8Array, start: number, end: number): boolean => isWord(bytes, start, end, "#N/A")

/** Text of at most `length` characters (any length at 0): no more bytes than that, as a character takes at least one. */
export const text = (length: number): CellCheck => (_bytes, start, end) => length <= 0 || end - start <= length

/** An email address of at most `length` characters, all ASCII. */
export const email = (length: number): CellCheck => (bytes, start, end) => end - start <= length && isEmail(bytes, start, end)

/** A checkbox written `true` or `false`. */
export const checkbox: CellCheck = (bytes, start, end) => isWord(bytes, start, end, "true") || isWord(bytes, start, end, "false")
