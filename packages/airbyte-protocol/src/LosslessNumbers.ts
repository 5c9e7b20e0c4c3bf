/**
 * Numbers JavaScript cannot hold exactly, kept as their digits.
 *
 * `JSON.parse` turns `12345678901234567891` into `12345678901234567000`. Before parsing, a
 * line holding a number of 16 or more digits is scanned, and every number literal (outside
 * strings) whose value a double cannot hold is quoted, so it arrives as the exact text —
 * which Salesforce takes for number and text fields alike. Literals a double round-trips
 * (`0.30000000000000004`, `1732665600000`) stay numbers.
 */

const isDigit = (code: number) => code >= 48 && code <= 57

/** The digits a double always holds exactly; a literal needs more to lose anything. */
const safeDigits = 15

/** A digit or a decimal point: what a number's digits run over. */
const isMantissa = (code: number) => (code >= 48 && code <= 57) || code === 46

/**
 * Cheap test: could the line hold a number with more significant digits than a double keeps
 * (16 or more, counted across its point: `123456789.123456789` has 18)? Its digits and point
 * span at least 16 characters, so they cover a position ≡ 15 (mod 16): only those are looked at.
 * From one inside a run, the run is followed to its end, and back only as far as 16 characters
 * need; only a run that long has its digits counted.
 */
const hasLongNumber = (line: string): boolean => {
  const runLength = safeDigits + 1
  const length = line.length
  for (let probe = runLength - 1; probe < length; probe += runLength) {
    if (!isMantissa(line.charCodeAt(probe))) continue
    let end = probe + 1
    while (end < length && isMantissa(line.charCodeAt(end))) end++
    let start = probe
    while (start > end - runLength && start > 0 && isMantissa(line.charCodeAt(start - 1))) start--
    if (end - start >= runLength) {
      while (start > 0 && isMantissa(line.charCodeAt(start - 1))) start--
      let digits = 0
      for (let index = start; index < end; index++) if (line.charCodeAt(index) !== 46) digits++
      if (digits >= runLength) return true
    }
    // the probes inside this run would look at it again
    while (probe + runLength < end) probe += runLength
  }
  return false
}

/** A number literal's exact value as `sign digits e exponent`, with no leading or trailing zeros. */
const canonical = (literal: string): string => {
  const negative = literal.startsWith("-")
  const [mantissa = "", exponentText = "0"] = literal.replace(/^[-+]/, "").split(/[eE]/)
  const [whole = "", fraction = ""] = mantissa.split(".")
  const allDigits = `${whole}${fraction}`
  const leading = allDigits.length - allDigits.replace(/^0+/, "").length
  const digits = allDigits.replace(/^0+/, "").replace(/0+$/, "")
  if (digits === "") return "0"
  const exponent = Number(exponentText) + whole.length - leading
  return `${negative ? "-" : ""}${digits}e${exponent}`
}

/** Whether `JSON.parse` keeps the literal's value: the double's shortest text means the same number. */
const isExact = (literal: string): boolean => canonical(literal) === canonical(String(Number(literal)))

/** Where the JSON string literal opening at `start` ends (just past its closing quote). */
const stringEnd = (text: string, start: number): number => {
  let index = start + 1
  while (index < text.length) {
    const code = text.charCodeAt(index)
    if (code === 92) index += 2
    else if (code === 34) break
    else index++
  }
  return index + 1
}

/** `line` with every number literal too precise for a double turned into a string. */
export const preserve = (line: string): string => {
  if (!hasLongNumber(line)) return line
  let result = ""
  let copiedUpTo = 0
  let index = 0
  while (index < line.length) {
    const code = line.charCodeAt(index)
    if (code === 34) {
      index = stringEnd(line, index)
      continue
    }
    if (code === 45 || isDigit(code)) {
      const start = index
      index++
      while (index < line.length) {
        const next = line.charCodeAt(index)
        if (isDigit(next) || next === 46 || next === 101 || next === 69 || next === 43 || next === 45) index++
        else break
      }
      const literal = line.slice(start, index)
      if (literal.replace(/\D/g, "").length > safeDigits && !isExact(literal)) {
        result += `${line.slice(copiedUpTo, start)}"${literal}"`
        copiedUpTo = index
      }
      continue
    }
    index++
  }
  return copiedUpTo === 0 ? line : result + line.slice(copiedUpTo)
}

const nonFinite = /^-?(?:NaN|Infinity)/

/**
 * `json` with the bare `NaN`, `Infinity` and `-Infinity` some writers put outside strings (they
 * are not JSON; DuckDB's `to_json` does it for non-finite doubles) turned into strings.
 */
export const quoteNonFinite = (json: string): string => {
  let result = ""
  let copiedUpTo = 0
  let index = 0
  while (index < json.length) {
    if (json.charCodeAt(index) === 34) {
      index = stringEnd(json, index)
      continue
    }
    const word = nonFinite.exec(json.slice(index, index + 9))?.[0]
    if (word !== undefined) {
      result += `${json.slice(copiedUpTo, index)}"${word}"`
      index += word.length
      copiedUpTo = index
      continue
    }
    index++
  }
  return copiedUpTo === 0 ? json : result + json.slice(copiedUpTo)
}
