/**
 * The attention lane's pure rules in the dashboard: duplicates group with a count (same rig, kind and
 * title; one rig's agents by state), the bead an item is about, snoozes keyed by occurrence (a new
 * `at` is not snoozed) and their end times, which items are new for notifications, and the tab's
 * title (the lane's count, or the connection's state).
 */
import { describe, expect, it } from "vitest";
import type { AttentionItem, Rig } from "../../party/protocol.ts";
import { beadOf, groupLane, laneOf, occurrence, type Lane } from "../../web/src/lib/attention.ts";
import { nextExpiry, parseSnoozes, snoozeStorageKey, snoozeUntil, splitSnoozed } from "../../web/src/lib/snooze.ts";
import { freshRows, notifyStorageKey } from "../../web/src/lib/notify.ts";
import { titlePrefix, titleText } from "../../web/src/lib/title.ts";

const rig = (name: string, attention: AttentionItem[]): Rig => ({ id: `id-${name}`, name, summary: { attention } }) as unknown as Rig;
const failed = (id: string, title: string, at = 1000): AttentionItem => ({ kind: "failed_bead", id, title, detail: "exit 4", at });
const escalation = (id: string, title: string, at = 1000, beadId?: string): AttentionItem => ({
  kind: "escalation",
  id,
  title,
  detail: "high from witness",
  severity: "high",
  at,
  ...(beadId ? { beadId } : {}),
});
const agent = (id: string, state: string, at = 1000): AttentionItem => ({ kind: "agent", id, title: id, detail: `${state}: why`, at });

describe("grouping duplicates", () => {
  it("puts items of one rig with the same kind and title in one group, where its worst member was, members in lane order", () => {
    const a = rig("alpha", [
      escalation("E1", "Bead failed: Bump the lockfile", 10, "B1"),
      escalation("E2", "Bead failed: Bump the lockfile", 30, "B2"),
      escalation("E3", "Bead failed: Port the parser", 20, "B3"),
      failed("B1", "Bump the lockfile", 10),
      failed("B2", "Bump the lockfile", 30),
    ]);
    const groups = groupLane(laneOf("/t/x", [a]));
    expect(groups.map((g) => [g.title, g.rows.map((r) => r.item.id)])).toEqual([
      ["Bead failed: Bump the lockfile", ["E2", "E1"]],
      ["Bead failed: Port the parser", ["E3"]],
      ["Bump the lockfile", ["B2", "B1"]],
    ]);
  });

  it("keeps rigs, kinds and severities apart", () => {
    const a = rig("alpha", [failed("B1", "Same"), escalation("E1", "Same")]);
    const b = rig("beta", [failed("B2", "Same")]);
    const low: AttentionItem = { ...escalation("E2", "Same"), severity: "low" };
    const groups = groupLane(laneOf("/t/x", [a, b, rig("gamma", [low, escalation("E3", "Same")])]));
    expect(groups.every((g) => g.rows.length === 1)).toBe(true);
    expect(groups).toHaveLength(5);
  });

  it("groups one rig's agents by their state, titled with how many", () => {
    const a = rig("alpha", [
      agent("alpha/polecats/a", "hung"),
      agent("alpha/polecats/b", "hung"),
      agent("alpha/polecats/c", "dead"),
      agent("alpha/polecats/d", "hung"),
    ]);
    const groups = groupLane(laneOf("/t/x", [a]));
    expect(groups.map((g) => [g.title, g.rows.length])).toEqual([
      ["alpha/polecats/c", 1],
      ["3 agents hung", 3],
    ]);
  });
});

describe("the bead an item is about", () => {
  it("is a failed bead's own id, an item's beadId, or none", () => {
    expect(beadOf(failed("B1", "x"))).toBe("B1");
    expect(beadOf(escalation("E1", "x", 1, "B9"))).toBe("B9");
    expect(beadOf(escalation("E1", "x"))).toBeUndefined();
    expect(beadOf(agent("a/polecats/b", "hung"))).toBeUndefined();
  });
});

describe("snoozes", () => {
  const lane = laneOf("/t/x", [rig("alpha", [failed("B1", "one", 100), failed("B2", "two", 200)])]);

  it("are keyed by occurrence: the same item raised again (a new at) is not snoozed", () => {
    const [one, two] = [lane.find((r) => r.item.id === "B1")!, lane.find((r) => r.item.id === "B2")!];
    const snoozes = { [occurrence(one)]: 5000 };
    expect(splitSnoozed(lane, occurrence, snoozes, 1000)).toEqual({ open: [two], snoozed: [one] });
    const again: Lane = { ...one, item: { ...one.item, at: 300 } };
    expect(splitSnoozed([again, two], occurrence, snoozes, 1000).snoozed).toEqual([]);
    // Once its time is up it is back.
    expect(splitSnoozed(lane, occurrence, snoozes, 5000).snoozed).toEqual([]);
    expect(occurrence(one)).toBe("id-alpha:failed_bead:B1@100");
  });

  it("end in 1 hour, 4 hours, or at 08:00 local time tomorrow", () => {
    const now = new Date(2026, 11, 8, 23, 30).getTime();
    expect(snoozeUntil("1h", now) - now).toBe(3_600_000);
    expect(snoozeUntil("4h", now) - now).toBe(4 * 3_600_000);
    expect(new Date(snoozeUntil("tomorrow", now))).toEqual(new Date(2026, 11, 9, 8, 0));
    const early = new Date(2026, 11, 31, 0, 5).getTime();
    expect(new Date(snoozeUntil("tomorrow", early))).toEqual(new Date(2027, 0, 1, 8, 0));
  });

  it("read from storage: ended ones and anything unreadable dropped, per town", () => {
    expect(parseSnoozes(JSON.stringify({ a: 10, b: 2000, c: "x", d: null }), 1000)).toEqual({ b: 2000 });
    expect(parseSnoozes("{not json", 0)).toEqual({});
    expect(parseSnoozes("[1,2]", 0)).toEqual({});
    expect(parseSnoozes(null, 0)).toEqual({});
    expect(snoozeStorageKey("demo")).not.toBe(snoozeStorageKey("other"));
    expect(nextExpiry({ a: 10, b: 3000, c: 2000 }, 1000)).toBe(2000);
    expect(nextExpiry({ a: 10 }, 1000)).toBeNull();
  });
});

describe("which items are new (notifications)", () => {
  it("those whose occurrence was not seen: not the ones present at load, but the same item raised again", () => {
    const first = laneOf("/t/x", [rig("alpha", [failed("B1", "one", 100)])]);
    const seen = new Set(first.map(occurrence));
    const later = laneOf("/t/x", [rig("alpha", [failed("B1", "one", 100), failed("B2", "two", 200)])]);
    expect(freshRows(seen, later, occurrence).map((r) => r.item.id)).toEqual(["B2"]);
    const again = laneOf("/t/x", [rig("alpha", [failed("B1", "one", 900)])]);
    expect(freshRows(seen, again, occurrence).map((r) => r.item.id)).toEqual(["B1"]);
    expect(notifyStorageKey("demo")).toBe("townhall.notify.demo");
  });
});

describe("the tab's title", () => {
  it("carries the lane's count while live, the connection's state while down, nothing before the town loads", () => {
    expect(titleText(["overview", "demo"], { sync: "live", loaded: true, count: 3 })).toBe("(3) overview · demo — Townhall");
    expect(titleText(["overview", "demo"], { sync: "live", loaded: true, count: 0 })).toBe("overview · demo — Townhall");
    expect(titleText(["overview", "demo"], { sync: "reconnecting", loaded: true, count: 3 })).toBe("⚠ Reconnecting · overview · demo — Townhall");
    expect(titleText(["backend", "demo"], { sync: "closed", loaded: true, count: 3 })).toBe("⚠ Disconnected · backend · demo — Townhall");
    expect(titleText(["overview", "demo"], { sync: "connecting", loaded: false, count: 0 })).toBe("overview · demo — Townhall");
    expect(titleText([], null)).toBe("Townhall");
    expect(titlePrefix(null)).toBe("");
  });
});
