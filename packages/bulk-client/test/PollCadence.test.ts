import { describe, expect, it } from "@effect/vitest"
import { PollCadence } from "../src/index.js"

/** The delays chosen for a job seen at `sightings` (time in ms, rows processed), starting at 0. */
const delays = (sightings: ReadonlyArray<readonly [number, number]>, expectedRecords?: number) => {
  let cadence = PollCadence.start(0)
  return sightings.map(([nowMillis, processed]) => {
    const step = PollCadence.next(cadence, { nowMillis, processed, expectedRecords })
    cadence = step.cadence
    return step.delayMillis
  })
}

describe("PollCadence", () => {
  it("backs off from 1 s by ×1.5 up to 30 s while the job does not move", () => {
    const still = Array.from({ length: 12 }, (_, poll) => [poll * 1_000, 0] as const)
    expect(delays(still, 1_000)).toEqual([1_000, 1_500, 2_250, 3_375, 5_063, 7_594, 11_391, 17_086, 25_629, 30_000, 30_000, 30_000])
  })

  it("backs off when the caller does not know how many rows the job holds", () => {
    expect(delays([[0, 0], [1_000, 500], [2_500, 900]])).toEqual([1_000, 1_500, 2_250])
  })

  it("aims the next poll just past the projected end once rows are processed", () => {
    // 8,000 of 10,000 rows a second after the last still sighting: 2,000 rows left at 8 rows/ms.
    expect(delays([[0, 0], [1_000, 8_000]], 10_000)).toEqual([1_000, 275])
  })

  it("measures the rate from the last sighting before the job moved", () => {
    const still = [[0, 0], [1_000, 0], [2_000, 0], [3_000, 0]] as const
    // Still until 3 s, 3,000 rows at 4 s: 3 rows/ms, 7,000 left.
    expect(delays([...still, [4_000, 3_000]], 10_000)[4]).toBe(2_567)
    // Still until 3 s, 1,000 rows at 4 s: the projected 9.9 s is later than the 5th backoff step.
    expect(delays([...still, [4_000, 1_000]], 10_000)[4]).toBe(5_063)
    // 8,000 rows in the 2 s since the last still sighting at 3 s: 2,000 left at 4 rows/ms.
    expect(delays([...still, [4_000, 3_000], [5_000, 8_000]], 10_000)[5]).toBe(550)
  })

  it("never polls closer than the minimum interval, even when every row is processed", () => {
    expect(delays([[0, 0], [1_000, 9_999]], 10_000)).toEqual([1_000, PollCadence.minimumIntervalMillis])
    expect(delays([[0, 0], [1_000, 10_000]], 10_000)).toEqual([1_000, PollCadence.minimumIntervalMillis])
  })
})
