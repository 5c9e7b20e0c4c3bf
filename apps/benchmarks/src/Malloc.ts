/**
 * The allocator setting every process of a sitting runs with.
 *
 * Uploads and batch files are 100 MB buffers, so the org and the loaders touch hundreds of MB of
 * fresh memory. On this kind of VM a first touch costs ~3.3 ms per MB in 4 KiB pages; with
 * `glibc.malloc.hugetlb=1` glibc's malloc asks for transparent huge pages (`madvise`), which
 * works where THP is `madvise` or `always`. The floor, the loaders and the org all get it.
 * Elsewhere (musl, macOS, glibc < 2.35) the variable is ignored.
 */

/** The tunable that makes glibc's malloc advise transparent huge pages. */
export const hugePagesTunable = "glibc.malloc.hugetlb=1"

/**
 * `GLIBC_TUNABLES` with `tunable` (`name=value`) set, keeping the others; a value already set for
 * that name is replaced.
 */
export const withTunable = (current: string | undefined, tunable: string): string => {
  const nameOf = (entry: string) => entry.split("=", 1)[0]
  const others = (current ?? "").split(":").filter((entry) => entry !== "" && nameOf(entry) !== nameOf(tunable))
  return [...others, tunable].join(":")
}
