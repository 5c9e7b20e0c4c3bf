/**
 * Salesforce record Ids: 15-character case-sensitive Ids and their 18-character case-safe form,
 * whose last three characters encode which of the first fifteen are upper-case letters.
 */

const base62Digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
const checksumAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
const sequenceChars = 9
/** Instance ("pod") characters and the reserved character that follow the key prefix. */
const podAndReserved = "5g0"

const charCodeA = 65
const charCodeZ = 90

const base62Codes = Array.from(base62Digits, (digit) => digit.charCodeAt(0))
const checksumCodes = Array.from(checksumAlphabet, (letter) => letter.charCodeAt(0))
const idLength = 18
/** Character codes of the Id at hand: read or made without a string per step. */
const codes: Array<number> = new Array<number>(idLength).fill(48)

/** Writes into `codes[15..17]` the case-safe suffix of the 15 characters in `codes[0..14]`. */
const fillSuffix = (): void => {
  for (let chunk = 0; chunk < 3; chunk++) {
    let bits = 0
    for (let position = 0; position < 5; position++) {
      const code = codes[chunk * 5 + position] ?? 0
      if (code >= charCodeA && code <= charCodeZ) bits |= 1 << position
    }
    codes[15 + chunk] = checksumCodes[bits] ?? 65
  }
}

/** Copies the first 15 characters of `text` into `codes` and computes their suffix. */
const readId15 = (text: string): void => {
  for (let index = 0; index < 15; index++) codes[index] = text.charCodeAt(index)
  fillSuffix()
}

/** The three-character case-safe suffix of a 15-character Id. */
export const checksum = (id15: string): string => {
  readId15(id15)
  return String.fromCharCode(codes[15] ?? 65, codes[16] ?? 65, codes[17] ?? 65)
}

/** The 18-character Id of the `sequence`-th record of the object with `keyPrefix` (3 characters). */
export const make = (keyPrefix: string, sequence: number): string => {
  const head = keyPrefix + podAndReserved
  for (let index = 0; index < head.length; index++) codes[index] = head.charCodeAt(index)
  let rest = sequence
  for (let index = head.length + sequenceChars - 1; index >= head.length; index--) {
    codes[index] = base62Codes[rest % 62] ?? 48
    rest = Math.floor(rest / 62)
  }
  fillSuffix()
  return String.fromCharCode(...codes)
}

const alphanumeric = /^[0-9A-Za-z]+$/

/**
 * The 18-character form of a 15- or 18-character Id, or `undefined` when the text is not a
 * well-formed Id (wrong length, characters, or an 18-character suffix that does not match).
 */
export const normalize = (text: string): string | undefined => {
  if ((text.length !== 15 && text.length !== 18) || !alphanumeric.test(text)) return undefined
  const id15 = text.slice(0, 15)
  const suffix = checksum(id15)
  if (text.length === 18 && text.slice(15).toUpperCase() !== suffix) return undefined
  return id15 + suffix
}

/**
 * The sequence number spelt by an Id shaped as `make` shapes them (18 characters, `5g0` after the
 * key prefix, nine base-62 digits), or -1. The key prefix and the suffix are not checked.
 */
export const sequenceOf = (id: string): number => {
  if (id.length !== 18 || id.charCodeAt(3) !== 53 || id.charCodeAt(4) !== 103 || id.charCodeAt(5) !== 48) return -1
  let sequence = 0
  for (let index = 6; index < 15; index++) {
    const code = id.charCodeAt(index)
    const digit = code >= 48 && code <= 57 ? code - 48 : code >= 65 && code <= 90 ? code - 55 : code >= 97 && code <= 122 ? code - 61 : -1
    if (digit < 0) return -1
    sequence = sequence * 62 + digit
  }
  return sequence
}

/**
 * The sequence number of `id` when it is exactly the Id `make(keyPrefix, sequence)` gives (its
 * case-safe suffix included), or -1. Reads the Id in place: nothing is allocated.
 */
export const sequenceMadeBy = (id: string, keyPrefix: string): number => {
  if (!id.startsWith(keyPrefix)) return -1
  const sequence = sequenceOf(id)
  if (sequence < 0) return -1
  readId15(id)
  for (let index = 15; index < idLength; index++) if (id.charCodeAt(index) !== codes[index]) return -1
  return sequence
}

/** The key prefix (first three characters) of an Id. */
export const keyPrefix = (id: string): string => id.slice(0, 3)
