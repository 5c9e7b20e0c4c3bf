/**
 * The matching keys (external ids, Ids) of the rows in one batch, to keep a key from being sent
 * twice in one job.
 *
 * A batch can hold a million keys; as a `Set` of strings that is ~80 MB per open batch. This set
 * keeps a 64-bit fingerprint of each key in an open-addressing table of 32-bit integers (~16
 * bytes a key). Two different keys share a fingerprint about once in 2^64 / n pairs; when they
 * do, `has` answers yes for a key never added, and the batch is only closed a row early. It can
 * never answer no for a key that was added.
 */

/** Slots of a new table (a power of two). */
const initialCapacity = 1024

/** The table grows when it is this full (linear probing stays short below it). */
const maxLoad = 0.6

/** The fingerprint `fingerprint` computed last (two numbers, without allocating a pair per key). */
let first = 0
let second = 0

/** Two independent 32-bit hashes of the key's UTF-16 code units (FNV-1a and a multiply-xorshift). */
const fingerprint = (key: string): void => {
  let a = 0x811c9dc5
  let b = 0x9e3779b9 ^ key.length
  for (let index = 0; index < key.length; index++) {
    const code = key.charCodeAt(index)
    a = Math.imul(a ^ code, 0x01000193)
    b = Math.imul(b ^ code, 0x5bd1e995)
    b ^= b >>> 15
  }
  b = Math.imul(b ^ (b >>> 13), 0xc2b2ae35)
  b ^= b >>> 16
  // as stored: signed 32-bit (the seed alone, for an empty key, is not); (0, 0) marks an empty slot
  first = a | 0
  second = first === 0 && b === 0 ? 1 : b | 0
}

/** A key's fingerprint as one number (53 of its 64 bits), for counting keys in a `Map`. */
export const fingerprintNumber = (key: string): number => {
  fingerprint(key)
  return (first & 0x1fffff) * 0x100000000 + (second >>> 0)
}

export class KeySet {
  private firsts = new Int32Array(initialCapacity)
  private seconds = new Int32Array(initialCapacity)
  private count = 0

  get size(): number {
    return this.count
  }

  /** Whether `key` (or, rarely, a key with the same fingerprint) was added. */
  has(key: string): boolean {
    fingerprint(key)
    return this.slotOf(first, second) < 0
  }

  /**
   * Whether the two sets share a key. A shared fingerprint counts too: rarely, a yes for sets with
   * no key in common, never a no for sets that have one.
   */
  intersects(other: KeySet): boolean {
    const [smaller, larger] = this.count <= other.count ? [this, other] : [other, this]
    if (smaller.count === 0) return false
    for (let slot = 0; slot < smaller.firsts.length; slot++) {
      const storedFirst = smaller.firsts[slot] ?? 0
      const storedSecond = smaller.seconds[slot] ?? 0
      if ((storedFirst !== 0 || storedSecond !== 0) && larger.slotOf(storedFirst, storedSecond) < 0) return true
    }
    return false
  }

  add(key: string): void {
    fingerprint(key)
    const slot = this.slotOf(first, second)
    if (slot < 0) return
    this.firsts[slot] = first
    this.seconds[slot] = second
    this.count++
    if (this.count > this.firsts.length * maxLoad) this.grow()
  }

  /** The empty slot where the fingerprint would go, or -1 when it is present. */
  private slotOf(keyFirst: number, keySecond: number): number {
    const mask = this.firsts.length - 1
    for (let slot = (keyFirst ^ Math.imul(keySecond, 0x27d4eb2d)) & mask; ; slot = (slot + 1) & mask) {
      const storedFirst = this.firsts[slot] ?? 0
      const storedSecond = this.seconds[slot] ?? 0
      if (storedFirst === 0 && storedSecond === 0) return slot
      if (storedFirst === keyFirst && storedSecond === keySecond) return -1
    }
  }

  private grow(): void {
    const firsts = this.firsts
    const seconds = this.seconds
    this.firsts = new Int32Array(firsts.length * 2)
    this.seconds = new Int32Array(seconds.length * 2)
    for (let slot = 0; slot < firsts.length; slot++) {
      const storedFirst = firsts[slot] ?? 0
      const storedSecond = seconds[slot] ?? 0
      if (storedFirst === 0 && storedSecond === 0) continue
      const empty = this.slotOf(storedFirst, storedSecond)
      this.firsts[empty] = storedFirst
      this.seconds[empty] = storedSecond
    }
  }
}
