/**
 * Cell formatting as Salesforce reads a Bulk API 2.0 CSV: quoting, and one formatter per kind of
 * field type. A formatter returns the cell text, or `undefined` when the value cannot be read as
 * that type (the caller turns that into a local reject). Formatters are hot: no allocation beyond
 * the returned string on the common path.
 */

const needsQuoting = /[",\r\n]/
const quoteChar = /"/g

/** Quotes a value holding `,`, `"`, CR or LF and doubles inner quotes; anything else is untouched. */
export const quote = (text: string): string =>
  needsQuoting.test(text) ? `"${text.replace(quoteChar, '""')}"` : text

/** The cell that sets a field to null on update / upsert. */
export const clearCell = "#N/A"

/** Salesforce's multipicklist separator. */
export const multipicklistSeparator = ";"

const pad2 = (n: number): string => (n < 10 ? `0${n}` : `${n}`)

const daysInMonth = (year: number, month: number): number => {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31
}

const validYearMonthDay = (year: number, month: number, day: number): boolean =>
  year >= 100 && month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month)

/** Earliest and latest instants whose ISO form has a four-digit year. */
const minIsoMillis = Date.UTC(100, 0, 1)
const maxIsoMillis = Date.UTC(9999, 11, 31, 23, 59, 59, 999)

const isoFromMillis = (millis: number): string | undefined =>
  Number.isFinite(millis) && millis >= minIsoMillis && millis <= maxIsoMillis
    ? new Date(millis).toISOString()
    : undefined

/** The two ASCII digits at `at` as a number, or -1. */
const twoDigits = (text: string, at: number): number => {
  const tens = text.charCodeAt(at) - 48
  const ones = text.charCodeAt(at + 1) - 48
  return tens >= 0 && tens <= 9 && ones >= 0 && ones <= 9 ? tens * 10 + ones : -1
}

/** The calendar date spelled `yyyy-MM-dd` at the start of `text`, if it is one that exists. */
const isIsoDatePrefix = (text: string): boolean => {
  if (text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45) return false
  const century = twoDigits(text, 0)
  const yearInCentury = twoDigits(text, 2)
  return century >= 0 && yearInCentury >= 0 && validYearMonthDay(century * 100 + yearInCentury, twoDigits(text, 5), twoDigits(text, 8))
}

/**
 * A valid date-time already in Salesforce's form `yyyy-MM-ddTHH:mm:ss.SSSZ`, which passes as it
 * is. Read character by character: the common case, and a regex here cost a tenth of encoding.
 */
const isCanonicalDateTime = (text: string): boolean => {
  if (text.length !== 24 || text.charCodeAt(10) !== 84 || text.charCodeAt(13) !== 58 || text.charCodeAt(16) !== 58) return false
  if (text.charCodeAt(19) !== 46 || text.charCodeAt(23) !== 90 || !isIsoDatePrefix(text)) return false
  const hour = twoDigits(text, 11)
  const minute = twoDigits(text, 14)
  const second = twoDigits(text, 17)
  const millis = twoDigits(text, 20)
  const lastDigit = text.charCodeAt(22) - 48
  return hour >= 0 && hour <= 23 && minute >= 0 && minute <= 59 && second >= 0 && second <= 59 && millis >= 0 && lastDigit >= 0 && lastDigit <= 9
}
const dateTimePattern =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?$/

const fractionMillis = (fraction: string | undefined): number =>
  fraction === undefined ? 0 : Number(fraction.length >= 3 ? fraction.slice(0, 3) : fraction.padEnd(3, "0"))

/**
 * Epoch millis of an ISO-8601 date or date-time string (offset `Z`, `±HH:mm`, `±HHmm`, `±HH`; a
 * time without an offset is read as UTC — chosen because warehouses store naive UTC timestamps).
 */
const parseDateTime = (text: string): number | undefined => {
  const match = dateTimePattern.exec(text)
  if (match === null) return undefined
  const year = Number(match[1])
  const month = Number(match[2])
  const day = Number(match[3])
  const hour = match[4] === undefined ? 0 : Number(match[4])
  const minute = match[5] === undefined ? 0 : Number(match[5])
  const second = match[6] === undefined ? 0 : Number(match[6])
  if (!validYearMonthDay(year, month, day) || hour > 23 || minute > 59 || second > 59) return undefined
  let offsetMinutes = 0
  if (match[9] !== undefined) {
    const offsetHours = Number(match[10])
    const offsetMins = match[11] === undefined ? 0 : Number(match[11])
    if (offsetHours > 23 || offsetMins > 59) return undefined
    offsetMinutes = (match[9] === "-" ? -1 : 1) * (offsetHours * 60 + offsetMins)
  }
  return Date.UTC(year, month - 1, day, hour, minute, second, fractionMillis(match[7])) - offsetMinutes * 60_000
}

/**
 * Epoch millis, when a number can be read as such: an integer beyond ±10^11 (after 1973-03-03 or
 * before 1966-10-31). A smaller one is far more likely epoch seconds (1714979289) or a date
 * spelt as digits (20240506) than a moment of 1970: read as millis it would land there, so it is
 * refused instead.
 */
const epochMillis = (value: number): number | undefined =>
  Number.isInteger(value) && Math.abs(value) >= minEpochMillis ? value : undefined

const minEpochMillis = 1e11

/** dateTime → UTC `yyyy-MM-ddTHH:mm:ss.SSSZ`, from an ISO string (any offset), epoch millis or a `Date`. */
export const dateTime = (value: unknown): string | undefined => {
  if (typeof value === "string") {
    if (isCanonicalDateTime(value)) return value
    const millis = parseDateTime(value)
    return millis === undefined ? undefined : isoFromMillis(millis)
  }
  if (typeof value === "number") {
    const millis = epochMillis(value)
    return millis === undefined ? undefined : isoFromMillis(millis)
  }
  if (value instanceof Date) return isoFromMillis(value.getTime())
  return undefined
}

/** After a date: a time of day (`T10:15…`, ` 10:15…`: whatever zone follows, as warehouses print it) or an offset alone. */
const afterDate = /^(?:[Tt ](?:[01]\d|2[0-3]):[0-5]\d(?:\D|$)|[Zz]$|[+-](?:[01]\d|2[0-3])(?::?[0-5]\d)?$)/

/**
 * date → `yyyy-MM-dd`. A string keeps the calendar date it spells; what follows the date must
 * start as a time of day (`2024-05-06 10:00:00.000 -0700`, `…T10:00+02:00[Europe/Paris]`) or be an
 * offset, and is ignored (`2024-05-06 garbage` is refused, not cut); epoch millis and `Date`
 * values are read in UTC.
 */
export const date = (value: unknown): string | undefined => {
  if (typeof value === "string") {
    if (!isIsoDatePrefix(value)) return undefined
    return value.length === 10 || afterDate.test(value.slice(10)) ? value.slice(0, 10) : undefined
  }
  const millis = typeof value === "number" ? epochMillis(value) : undefined
  const iso =
    millis !== undefined
      ? isoFromMillis(millis)
      : value instanceof Date
        ? isoFromMillis(value.getTime())
        : undefined
  return iso === undefined ? undefined : iso.slice(0, 10)
}

const timePattern = /^(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?[Zz]?$/

/** time → `HH:mm:ss.SSSZ`, from `HH:mm[:ss[.SSS]][Z]` or a `Date` (its UTC time of day). */
export const time = (value: unknown): string | undefined => {
  if (typeof value === "string") {
    const match = timePattern.exec(value)
    if (match === null) return undefined
    const hour = Number(match[1])
    const minute = Number(match[2])
    const second = match[3] === undefined ? 0 : Number(match[3])
    if (hour > 23 || minute > 59 || second > 59) return undefined
    const millis = fractionMillis(match[4])
    return `${pad2(hour)}:${pad2(minute)}:${pad2(second)}.${String(millis).padStart(3, "0")}Z`
  }
  if (value instanceof Date) {
    const iso = isoFromMillis(value.getTime())
    return iso === undefined ? undefined : iso.slice(11)
  }
  return undefined
}

/** boolean → `true` / `false`, from booleans, "true"/"false" (any case), 1/0 and "1"/"0". */
export const boolean = (value: unknown): string | undefined => {
  if (value === true || value === 1) return "true"
  if (value === false || value === 0) return "false"
  if (typeof value === "string") {
    if (value === "true" || value === "1") return "true"
    if (value === "false" || value === "0") return "false"
    const lower = value.toLowerCase()
    if (lower === "true") return "true"
    if (lower === "false") return "false"
  }
  return undefined
}

/**
 * A number as plain decimal text, never in exponent form: `String` writes 1e21 and above, and
 * non-zero magnitudes below 1e-6, as `1e+21` / `1e-7`, which a text field would store as such.
 * From 1e21 (every such double is an integer) the exact integer value is written; below 1e-6 the
 * plain expansion of the shortest digits that read back as the same number. -0 is `0`; NaN and
 * ±Infinity keep `String`'s text (typed formatters refuse them before).
 */
export const plainNumber = (value: number): string => {
  const magnitude = value < 0 ? -value : value
  if (magnitude < 1e21 && magnitude >= 1e-6) return String(value)
  if (magnitude === 0) return "0"
  if (magnitude >= 1e21) return magnitude === Number.POSITIVE_INFINITY ? String(value) : BigInt(value).toString()
  if (magnitude !== magnitude) return "NaN"
  // below 1e-6 String gives `d[.ddd]e-n`
  const shortest = String(magnitude)
  const exponentAt = shortest.indexOf("e")
  const zeros = -Number(shortest.slice(exponentAt + 1)) - 1
  const digits = shortest.charAt(1) === "." ? shortest.charAt(0) + shortest.slice(2, exponentAt) : shortest.slice(0, exponentAt)
  return `${value < 0 ? "-" : ""}0.${"0".repeat(zeros)}${digits}`
}

const integerPattern = /^[+-]?\d+$/

/** int / long → plain integer text; NaN, Infinity, fractions and non-numeric strings are refused. */
export const integer = (value: unknown): string | undefined => {
  if (typeof value === "number") return Number.isInteger(value) ? plainNumber(value) : undefined
  if (typeof value === "bigint") return value.toString()
  if (typeof value === "string") return integerPattern.test(value) ? value : undefined
  return undefined
}

const decimalPattern = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/

/**
 * double / currency / percent → plain decimal text; numbers never in exponent form (a string in
 * scientific notation passes as it is: Salesforce reads it).
 */
export const decimal = (value: unknown): string | undefined => {
  if (typeof value === "number") return Number.isFinite(value) ? plainNumber(value) : undefined
  if (typeof value === "bigint") return value.toString()
  if (typeof value === "string") return decimalPattern.test(value) ? value : undefined
  return undefined
}

/** `value` as JSON, unless it holds what JSON would silently turn into `null` (NaN, ±Infinity). */
const exactJson = (value: object): string | undefined => {
  const json = JSON.stringify(value)
  // only JSON holding a null can have lost a value: the slower look is for those alone
  if (json === undefined || !json.includes("null")) return json
  let lossy = false
  JSON.stringify(value, (_key, item: unknown) => {
    if (typeof item === "number" && !Number.isFinite(item)) lossy = true
    return item
  })
  return lossy ? undefined : json
}

/**
 * Text fields: strings as they are; numbers, bigints and booleans as their text; a `Date` as its
 * ISO instant; bytes as base64; other objects and arrays as JSON. Unicode is never altered. NaN
 * and ±Infinity, alone or inside an object, are refused: they are no value a source meant to give.
 */
export const text = (value: unknown): string | undefined => {
  switch (typeof value) {
    case "string":
      return value
    case "number":
      return Number.isFinite(value) ? plainNumber(value) : undefined
    case "bigint":
    case "boolean":
      return String(value)
    case "object": {
      if (value === null) return undefined
      if (value instanceof Date) return isoFromMillis(value.getTime())
      if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64")
      try {
        return exactJson(value)
      } catch {
        // cycles and bigints inside objects cannot be written as JSON
        return undefined
      }
    }
    case "symbol":
    case "undefined":
    case "function":
      return undefined
  }
}

/**
 * A value as text with no question asked (a field not validated): `text`'s, else an object as the
 * JSON it gives (NaN inside as null; `[object Object]` when it has none: a cycle, a bigint
 * inside), else `String` (NaN and ±Infinity as such).
 */
export const looseText = (value: unknown): string => {
  const exact = text(value)
  if (exact !== undefined) return exact
  if (typeof value === "object" && value !== null) {
    try {
      return JSON.stringify(value)
    } catch {
      return Object.prototype.toString.call(value)
    }
  }
  return String(value)
}

/**
 * multipicklist → values joined with `;`, from an array of values or an already joined string. An
 * empty array gives the empty text, which the encoder writes as the column's null; an array value
 * holding `;` is refused.
 */
export const multipicklist = (value: unknown): string | undefined => {
  if (typeof value === "string") return value
  if (!Array.isArray(value)) return undefined
  let joined = ""
  for (let index = 0; index < value.length; index++) {
    const item: unknown = value[index]
    const itemText =
      typeof item === "string" ? item : typeof item === "number" ? text(item) : typeof item === "boolean" ? String(item) : undefined
    // a value holding the separator would reach Salesforce as two values
    if (itemText === undefined || itemText.includes(multipicklistSeparator)) return undefined
    joined = index === 0 ? itemText : joined + multipicklistSeparator + itemText
  }
  return joined
}

const salesforceId = /^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$/

/** A 15- or 18-character Salesforce record id. */
export const isSalesforceId = (text: string): boolean => salesforceId.test(text)
