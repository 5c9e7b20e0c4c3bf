import { describe, expect, it } from "@effect/vitest"
import * as FastCheck from "effect/FastCheck"
import { CheckpointTracker } from "../src/index.js"

const batchOf = (tracker: CheckpointTracker.CheckpointTracker<string>, stream: string, count: number) => {
  const ordinals: Array<number> = []
  for (let index = 0; index < count; index++) ordinals.push(tracker.assignOrdinal(stream, tracker.addRecord(stream)))
  return ordinals
}

describe("CheckpointTracker", () => {
  it("releases a checkpoint only once every earlier record is settled, in order", () => {
    const tracker = new CheckpointTracker.CheckpointTracker<string>()
    const first = batchOf(tracker, "a", 3)
    tracker.addCheckpoint("s1", "a")
    expect(tracker.release()).toEqual([])
    const second = batchOf(tracker, "a", 2)
    tracker.addCheckpoint("s2", "a")
    expect(tracker.release()).toEqual([])
    tracker.settleBatch("a", second[0] ?? 0, second[1] ?? 0, 0)
    expect(tracker.release()).toEqual([])
    tracker.settleBatch("a", first[0] ?? 0, first[2] ?? 0, 1)
    expect(tracker.release()).toEqual([
      { payload: "s1", recordCount: 3, rejectedCount: 1 },
      { payload: "s2", recordCount: 2, rejectedCount: 0 }
    ])
    expect(tracker.release()).toEqual([])
  })

  it("waits for records of every stream before a global checkpoint, and counts per stream for stream checkpoints", () => {
    const tracker = new CheckpointTracker.CheckpointTracker<string>()
    const accounts = batchOf(tracker, "accounts", 2)
    const contacts = batchOf(tracker, "contacts", 4)
    tracker.addCheckpoint("accounts-state", "accounts")
    expect(tracker.release()).toEqual([])
    tracker.addCheckpoint("global", undefined)
    expect(tracker.release()).toEqual([])
    tracker.settleBatch("contacts", contacts[0] ?? 0, contacts[3] ?? 0, 2)
    expect(tracker.release()).toEqual([])
    tracker.settleBatch("accounts", accounts[0] ?? 0, accounts[1] ?? 0, 0)
    expect(tracker.release()).toEqual([
      { payload: "accounts-state", recordCount: 2, rejectedCount: 0 },
      { payload: "global", recordCount: 6, rejectedCount: 2 }
    ])
  })

  it("releases a checkpoint with nothing before it at once", () => {
    const tracker = new CheckpointTracker.CheckpointTracker<string>()
    tracker.addCheckpoint("start", undefined)
    expect(tracker.release()).toEqual([{ payload: "start", recordCount: 0, rejectedCount: 0 }])
  })

  it("releases a checkpoint per record, 100,000 of them covered by one batch, in one pass", () => {
    const tracker = new CheckpointTracker.CheckpointTracker<number>()
    const count = 100_000
    for (let index = 0; index < count; index++) {
      tracker.assignOrdinal("a", tracker.addRecord("a"))
      tracker.addCheckpoint(index, "a")
    }
    tracker.settleBatch("a", 0, count - 1, 0)
    const released = tracker.release()
    expect(released.map((item) => item.payload)).toEqual(Array.from({ length: count }, (_, index) => index))
    expect(released.every((item) => item.recordCount === 1)).toBe(true)
    expect([tracker.pendingCount, tracker.unsettledCount]).toEqual([0, 0])
  })

  it("counts a batch's rejections towards the epochs of the rejected rows, the rest towards its earliest with rows left", () => {
    const tracker = new CheckpointTracker.CheckpointTracker<string>()
    const first = batchOf(tracker, "a", 3)
    tracker.addCheckpoint("s1", "a")
    const second = batchOf(tracker, "a", 2)
    tracker.addCheckpoint("s2", "a")
    const from = first[0] ?? 0
    const to = second[1] ?? 0
    expect(tracker.epochsSpanned("a", from, to)).toBe(2)
    // rows 0 and 2 of the first epoch found, a third rejection not found: it may be the first
    // epoch's own, so that epoch's checkpoint does not go out as free of rejects
    tracker.settleBatch("a", from, to, 3, [from, from + 2])
    expect(tracker.release()).toEqual([
      { payload: "s1", recordCount: 3, rejectedCount: 3 },
      { payload: "s2", recordCount: 2, rejectedCount: 0 }
    ])
    // the first epoch's rows all found rejected: the ones not found go to the next
    const full = new CheckpointTracker.CheckpointTracker<string>()
    const one = batchOf(full, "a", 2)
    full.addCheckpoint("t1", "a")
    const two = batchOf(full, "a", 3)
    full.addCheckpoint("t2", "a")
    full.settleBatch("a", one[0] ?? 0, two[2] ?? 0, 4, [one[0] ?? 0, one[1] ?? 0])
    expect(full.release()).toEqual([
      { payload: "t1", recordCount: 2, rejectedCount: 2 },
      { payload: "t2", recordCount: 3, rejectedCount: 2 }
    ])
  })

  it("counts every row of each epoch when a batch's rows were all rejected", () => {
    const tracker = new CheckpointTracker.CheckpointTracker<string>()
    const first = batchOf(tracker, "a", 2)
    tracker.addCheckpoint("s1", "a")
    const second = batchOf(tracker, "a", 3)
    tracker.addCheckpoint("s2", "a")
    tracker.settleBatch("a", first[0] ?? 0, second[2] ?? 0, 5)
    expect(tracker.release()).toEqual([
      { payload: "s1", recordCount: 2, rejectedCount: 2 },
      { payload: "s2", recordCount: 3, rejectedCount: 3 }
    ])
  })

  it("reports each rejection once, to its own stream's checkpoint or the global one, whatever order batches settle in", () => {
    const tracker = new CheckpointTracker.CheckpointTracker<string>()
    const early = batchOf(tracker, "a", 2)
    const other = batchOf(tracker, "b", 1)
    tracker.addCheckpoint("a-state", "a")
    const late = batchOf(tracker, "a", 2)
    tracker.addCheckpoint("global", undefined)
    // the later batch settles first: its rejection is counted before the earlier epoch's
    tracker.settleBatch("a", late[0] ?? 0, late[1] ?? 0, 1, [late[1] ?? 0])
    tracker.settleBatch("b", other[0] ?? 0, other[0] ?? 0, 1)
    expect(tracker.release()).toEqual([])
    tracker.settleBatch("a", early[0] ?? 0, early[1] ?? 0, 2)
    expect(tracker.release()).toEqual([
      { payload: "a-state", recordCount: 2, rejectedCount: 2 },
      { payload: "global", recordCount: 5, rejectedCount: 2 }
    ])
  })

  it("settles single records rejected before batching", () => {
    const tracker = new CheckpointTracker.CheckpointTracker<string>()
    const epoch = tracker.addRecord("a")
    const batched = batchOf(tracker, "a", 1)
    tracker.addCheckpoint("s", "a")
    expect(tracker.release()).toEqual([])
    tracker.settleRecord("a", epoch, true)
    expect(tracker.release()).toEqual([])
    tracker.settleBatch("a", batched[0] ?? 0, batched[0] ?? 0, 0)
    expect(tracker.release()).toEqual([{ payload: "s", recordCount: 2, rejectedCount: 1 }])
  })

  it("never releases early, whatever the batching and settling order", () => {
    FastCheck.assert(
      FastCheck.property(
        FastCheck.array(FastCheck.oneof(FastCheck.constantFrom("a", "b", "c"), FastCheck.constant("checkpoint")), { maxLength: 60 }),
        FastCheck.integer({ min: 1, max: 5 }),
        FastCheck.array(FastCheck.nat(), { minLength: 1, maxLength: 20 }),
        (items, batchSize, order) => {
          const tracker = new CheckpointTracker.CheckpointTracker<number>()
          const batches: Array<{ stream: string; first: number; last: number }> = []
          const open = new Map<string, { first: number; last: number }>()
          const globalIndex = new Map<string, number>()
          const settledRecords = new Set<number>()
          const checkpointPositions: Array<number> = []
          let records = 0
          const released: Array<number> = []
          for (const item of items) {
            if (item === "checkpoint") {
              checkpointPositions.push(records)
              tracker.addCheckpoint(checkpointPositions.length - 1, undefined)
              for (const item of tracker.release()) {
                expect(checkpointPositions[item.payload]).toBe(0)
                released.push(item.payload)
              }
              continue
            }
            const ordinal = tracker.assignOrdinal(item, tracker.addRecord(item))
            globalIndex.set(`${item}:${ordinal}`, records)
            records++
            const current = open.get(item)
            if (current === undefined) open.set(item, { first: ordinal, last: ordinal })
            else current.last = ordinal
            const batch = open.get(item)
            if (batch !== undefined && batch.last - batch.first + 1 >= batchSize) {
              batches.push({ stream: item, ...batch })
              open.delete(item)
            }
          }
          for (const [stream, batch] of open) batches.push({ stream, ...batch })
          const remaining = [...batches]
          let step = 0
          while (remaining.length > 0) {
            const index = (order[step % order.length] ?? 0) % remaining.length
            step++
            const [batch] = remaining.splice(index, 1)
            if (batch === undefined) continue
            tracker.settleBatch(batch.stream, batch.first, batch.last, 0)
            for (let ordinal = batch.first; ordinal <= batch.last; ordinal++) {
              settledRecords.add(globalIndex.get(`${batch.stream}:${ordinal}`) ?? -1)
            }
            for (const item of tracker.release()) {
              const position = checkpointPositions[item.payload] ?? 0
              for (let record = 0; record < position; record++) expect(settledRecords.has(record)).toBe(true)
              released.push(item.payload)
            }
          }
          expect(released).toEqual(checkpointPositions.map((_, index) => index))
          expect(tracker.unsettledCount).toBe(0)
          expect(tracker.pendingCount).toBe(0)
        }
      )
    )
  })
})
