/** Beads closed per hour (party/hours.ts), with an injected clock across hour boundaries. */
import { describe, expect, it } from "vitest";
import { HOUR_MS, countClosed, hourlyWake, last24, nextHourAt, type HourlyCounts } from "../../party/hours.ts";

const at = (iso: string) => Date.parse(iso);

describe("beads closed per hour", () => {
  it("[23] is the current hour, [22] the one before, across an hour boundary", () => {
    let counts: HourlyCounts = {};
    counts = countClosed(counts, at("2030-01-01T10:59:59.999Z"));
    counts = countClosed(counts, at("2030-01-01T10:59:59.999Z"));
    counts = countClosed(counts, at("2030-01-01T11:00:00.000Z"));
    const now = last24(counts, at("2030-01-01T11:30:00Z"));
    expect(now).toHaveLength(24);
    expect(now[23]).toBe(1);
    expect(now[22]).toBe(2);
    expect(now.slice(0, 22).every((n) => n === 0)).toBe(true);
  });

  it("shifts as time passes, and forgets what is older than 24 hours", () => {
    const counts = countClosed(countClosed({}, at("2030-01-01T10:15:00Z")), at("2030-01-01T11:15:00Z"));
    expect(last24(counts, at("2030-01-01T12:00:00Z")).slice(20)).toEqual([0, 1, 1, 0]);
    expect(last24(counts, at("2030-01-02T09:59:59Z")).slice(0, 3)).toEqual([1, 1, 0]); // 10:00 and 11:00 of the day before
    expect(last24(counts, at("2030-01-02T10:00:00Z")).slice(0, 3)).toEqual([1, 0, 0]); // 10:00 has left the window
    expect(last24(counts, at("2030-01-02T11:00:00Z")).every((n) => n === 0)).toBe(true);
  });

  it("keeps at most 24 hours of counters however long the rig runs", () => {
    let counts: HourlyCounts = {};
    const start = at("2030-01-01T00:00:00Z");
    for (let h = 0; h < 24 * 10; h++) counts = countClosed(counts, start + h * HOUR_MS + 5, start + h * HOUR_MS + 5, 3);
    expect(Object.keys(counts).length).toBeLessThanOrEqual(24);
    expect(last24(counts, start + 239 * HOUR_MS)).toEqual(Array(24).fill(3));
  });

  it("counts every closing, more than a document keeps live (GT_RETAIN_CLOSED)", () => {
    let counts: HourlyCounts = {};
    const t = at("2030-01-01T09:10:00Z");
    for (let i = 0; i < 5_000; i++) counts = countClosed(counts, t + i);
    expect(last24(counts, t + 10_000)[23]).toBe(5_000);
  });

  it("a closing reported for an hour already out of the window is not counted", () => {
    const now = at("2030-01-03T00:00:00Z");
    expect(countClosed({}, at("2030-01-01T00:00:00Z"), now)).toEqual({});
  });

  it("wakes the room at the next hour while the chart has something to shift, else never", () => {
    const now = at("2030-01-01T10:20:00Z");
    expect(hourlyWake({}, now)).toBeNull();
    expect(nextHourAt(now)).toBe(at("2030-01-01T11:00:00Z"));
    expect(hourlyWake(countClosed({}, now), now)).toBe(at("2030-01-01T11:00:00Z"));
    expect(hourlyWake(countClosed({}, now), now + 24 * HOUR_MS)).toBeNull();
  });
});
