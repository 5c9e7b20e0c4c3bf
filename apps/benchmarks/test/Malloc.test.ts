import { describe, expect, it } from "vitest"
import * as Malloc from "../src/Malloc.js"

describe("withTunable", () => {
  it("sets the tunable when none is set", () => {
    expect(Malloc.withTunable(undefined, Malloc.hugePagesTunable)).toBe("glibc.malloc.hugetlb=1")
    expect(Malloc.withTunable("", Malloc.hugePagesTunable)).toBe("glibc.malloc.hugetlb=1")
  })

  it("keeps the other tunables and replaces an earlier value of the same one", () => {
    expect(Malloc.withTunable("glibc.malloc.arena_max=2", Malloc.hugePagesTunable)).toBe("glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1")
    expect(Malloc.withTunable("glibc.malloc.hugetlb=0:glibc.malloc.arena_max=2", Malloc.hugePagesTunable)).toBe(
      "glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1"
    )
  })
})
