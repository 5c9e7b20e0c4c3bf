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
    // Still until 7 s, 3,000 rows at 8 s: 3 rows/ms, 7,000 left; the end 2,567 ms out is looked at halfway.
    expect(delays([...still, [8_000, 3_000]], 10_000)[8]).toBe(1_283)
    // Still until 7 s, 1,000 rows at 8 s: the end 9.9 s out, looked at halfway (the 9th backoff step would be 6.4 s).
    expect(delays([...still, [8_000, 1_000]], 10_000)[8]).toBe(4_950)
  })

  it("once rows are seen moving twice, projects from the faster of the rate between the two and the rate since the start, past the backoff", () => {
    // 5,000 rows in the second between the moving sightings: 5 rows/ms, 2,000 left (not 4 rows/ms since the still one).
    expect(delays([[0, 0], [1_000, 3_000], [2_000, 8_000]], 10_000)).toEqual([250, 375, 440])
    // 2,000 rows in 625 ms since the start (faster than the 1,000 in the last 375 ms), 18,000 left: the end 6.2 s
    // out (not the third backoff step's 563 ms), looked at halfway
    expect(delays([[0, 0], [250, 1_000], [625, 2_000]], 20_000)).toEqual([250, 375, 3_094])
    // never further than the longest interval
    expect(delays([[0, 0], [250, 1_000], [625, 2_000]], 1_000_000)[2]).toBe(PollCadence.maximumIntervalMillis)
    // one slow patch between them does not push the poll out: 1,001 rows since the start, 999 left
    expect(delays([[0, 0], [250, 1_000], [625, 1_001]], 2_000)).toEqual([250, 275, 686])
    // a stall between them: the rate since the last still sighting, capped by the backoff again
    expect(delays([[0, 0], [250, 1_000], [625, 1_000]], 20_000)).toEqual([250, 375, 563])
  })

  it("looks halfway at an end projected more than 1 s out, then aims again from the rate since", () => {
    // 1 row/ms, 8,000 left: the end 8.8 s out, looked at after 4.4 s; then 6,000 rows in those 4.4 s, 2,000 left:
    // the end 1.6 s out, looked at after 1 s; then 1,500 rows in that second, 500 left: aimed at the end
    const sightings = [[0, 0], [1_000, 1_000], [2_000, 2_000], [6_400, 8_000], [7_400, 9_500]] as const
    expect(delays(sightings, 10_000)).toEqual([250, 375, 4_400, 1_000, 367])
    // never sooner than 1 s: an end 1.5 s out is looked at after 1 s
    expect(delays([[0, 0], [1_000, 1_000], [2_000, 2_000]], 3_364)[2]).toBe(1_000)
  })

  it("never polls closer than the minimum interval, even when every row is processed", () => {
    expect(delays([[0, 0], [1_000, 9_999]], 10_000)).toEqual([250, PollCadence.minimumIntervalMillis])
    expect(delays([[0, 0], [1_000, 10_000]], 10_000)).toEqual([250, PollCadence.minimumIntervalMillis])
  })

  it("backs off from the minimum interval while every row is processed and the job has not ended", () => {
    expect(delays([[0, 0], [1_000, 10_000], [1_200, 10_000], [1_500, 10_000], [1_950, 10_000]], 10_000)).toEqual([250, 200, 300, 450, 675])
  })

  it("backs off while a job that moved stays stuck short of its rows", () => {
    // one row left: the projection alone would ask every 200 ms for as long as the job is stuck
    const stuck = [[0, 0], [1_000, 10_000], [1_200, 10_000], [1_400, 10_000], [1_700, 10_000], [2_150, 10_000]] as const
    expect(delays(stuck, 10_001)).toEqual([250, 200, 200, 300, 450, 675])
    // rows moving again end the backoff (11,000 rows in 2,825 ms, 1,000 left), and a new stall projects again
    expect(delays([...stuck, [2_825, 11_000], [3_108, 11_000]], 12_000).slice(6)).toEqual([283, 311])
  })

  it("takes a count that is not a finite number for no count", () => {
    expect(delays([[0, 0], [250, 500], [625, 900]], Number.NaN)).toEqual([250, 375, 563])
    expect(delays([[0, 0], [250, 500], [625, 900]], Number.POSITIVE_INFINITY)).toEqual([250, 375, 563])
  })
})
