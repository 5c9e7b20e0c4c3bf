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
  it("backs off from 250 ms by ×1.5 up to 30 s while the job does not move", () => {
    const still = Array.from({ length: 14 }, (_, poll) => [poll * 1_000, 0] as const)
    expect(delays(still, 1_000)).toEqual([250, 375, 563, 844, 1_266, 1_898, 2_848, 4_271, 6_407, 9_611, 14_416, 21_624, 30_000, 30_000])
  })

  it("backs off when the caller does not know how many rows the job holds", () => {
    expect(delays([[0, 0], [250, 500], [625, 900]])).toEqual([250, 375, 563])
  })

  it("aims the next poll just past the projected end once rows are processed", () => {
    // 8,000 of 10,000 rows a second after the last still sighting: 2,000 rows left at 8 rows/ms.
    expect(delays([[0, 0], [1_000, 8_000]], 10_000)).toEqual([250, 275])
  })

  it("measures the rate from the last sighting before the job moved", () => {
    const still = Array.from({ length: 8 }, (_, poll) => [poll * 1_000, 0] as const)
    // Still until 7 s, 3,000 rows at 8 s: 3 rows/ms, 7,000 left.
    expect(delays([...still, [8_000, 3_000]], 10_000)[8]).toBe(2_567)
    // Still until 7 s, 1,000 rows at 8 s: the projected 9.9 s is later than the 9th backoff step.
    expect(delays([...still, [8_000, 1_000]], 10_000)[8]).toBe(6_407)
    // 8,000 rows in the 2 s since the last still sighting at 7 s: 2,000 left at 4 rows/ms.
    expect(delays([...still, [8_000, 3_000], [9_000, 8_000]], 10_000)[9]).toBe(550)
  })

  it("never polls closer than the minimum interval, even when every row is processed", () => {
    expect(delays([[0, 0], [1_000, 9_999]], 10_000)).toEqual([250, PollCadence.minimumIntervalMillis])
    expect(delays([[0, 0], [1_000, 10_000]], 10_000)).toEqual([250, PollCadence.minimumIntervalMillis])
  })
})
