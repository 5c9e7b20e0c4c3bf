import { describe, expect, it } from "@effect/vitest"
import { KeySet } from "../src/KeySet.js"

describe("KeySet", () => {
  it("knows every key added and no other, across growth", () => {
    const keys = new KeySet()
    const added = Array.from({ length: 200_000 }, (_, index) => `C-${String(index).padStart(9, "0")}`)
    for (const key of added) keys.add(key)
    expect(keys.size).toBe(added.length)
    expect(added.every((key) => keys.has(key))).toBe(true)
    const others = Array.from({ length: 200_000 }, (_, index) => `c-${String(index).padStart(9, "0")}`)
    expect(others.filter((key) => keys.has(key))).toEqual([])
  })

  it("adds a key once, and tells apart keys of any length and script", () => {
    const keys = new KeySet()
    const sample = ["", "a", "A", "東京", "東京 ", "0013000000AbCdE", "0013000000AbCdEAAA", "\u0000", "ab", "ba"]
    for (const key of sample) keys.add(key)
    for (const key of sample) keys.add(key)
    expect(keys.size).toBe(sample.length)
    expect(sample.every((key) => keys.has(key))).toBe(true)
    expect(["b", "東", "\u0000\u0000", "0013000000abcde"].some((key) => keys.has(key))).toBe(false)
  })

  it("tells whether two sets share a key, whichever is larger", () => {
    const large = new KeySet()
    for (let index = 0; index < 50_000; index++) large.add(`K-${index}`)
    const of = (...keys: Array<string>) => {
      const set = new KeySet()
      for (const key of keys) set.add(key)
      return set
    }
    expect([large.intersects(of("K-49999")), of("x", "K-7").intersects(large)]).toEqual([true, true])
    expect([large.intersects(of("k-7", "K-50000")), of().intersects(large), large.intersects(of())]).toEqual([false, false, false])
  })
})
