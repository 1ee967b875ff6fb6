/** The numbers behind the dashboard's charts and the attention lane's order. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { burnDown, countTicks, hourly, timeTicks } from "../../web/src/lib/charts.ts";
import { itemHref, laneOf, rank } from "../../web/src/lib/attention.ts";
import type { AttentionItem, ConvoyBead, Rig } from "../../party/protocol.ts";

const bead = (status: ConvoyBead["status"], doneAt?: number): ConvoyBead => ({
  rigId: "R",
  rigName: "r",
  beadId: `b${Math.random()}`,
  title: "t",
  status,
  reason: "",
  rev: 1,
  ...(doneAt !== undefined ? { doneAt } : {}),
});

describe("burnDown", () => {
  it("steps down once per closed bead, in time order, from the total; failed beads stay on the line", () => {
    const b = burnDown(1000, [bead("closed", 3000), bead("open"), bead("closed", 2000), bead("failed"), bead("in_progress")]);
    expect(b.total).toBe(5);
    expect(b.points).toEqual([
      { at: 1000, remaining: 5 },
      { at: 2000, remaining: 4 },
      { at: 3000, remaining: 3 },
    ]);
    expect(b.undated).toBe(0);
    expect(b.failed).toBe(1);
  });

  it("counts finished beads with no time apart, and never draws a step before the start", () => {
    const b = burnDown(1000, [bead("closed"), bead("closed", 500)]);
    expect(b.undated).toBe(1);
    expect(b.points[1]).toEqual({ at: 1000, remaining: 1 });
  });
});

describe("countTicks", () => {
  it("gives integer ticks from 0, evenly spaced, reaching the max, at most `most` of them", () => {
    expect(countTicks(3)).toEqual([0, 1, 2, 3]); // a convoy of 3: never "3 2 0"
    expect(countTicks(1)).toEqual([0, 1]);
    expect(countTicks(0)).toEqual([0, 1]);
    expect(countTicks(5)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(countTicks(7)).toEqual([0, 2, 4, 6, 8]);
    expect(countTicks(42)).toEqual([0, 10, 20, 30, 40, 50]);
    expect(countTicks(3, 3)).toEqual([0, 2, 4]);
    for (let max = 0; max <= 5000; max += max < 50 ? 1 : 37) {
      for (const most of [3, 4, 6]) {
        const ticks = countTicks(max, most);
        expect(ticks[0]).toBe(0);
        expect(ticks.length).toBeGreaterThanOrEqual(2);
        expect(ticks.length).toBeLessThanOrEqual(most);
        expect(ticks.at(-1)!).toBeGreaterThanOrEqual(max);
        const step = ticks[1]! - ticks[0]!;
        expect(ticks.at(-2)!).toBeLessThan(Math.max(max, 1)); // no tick past the one that covers the max
        ticks.forEach((t, i) => expect(t).toBe(i * step));
        expect(Number.isInteger(step)).toBe(true);
        expect(String(step)).toMatch(/^[125]0*$/);
      }
    }
  });
});

describe("timeTicks", () => {
  const TZ = process.env.TZ;
  beforeAll(() => void (process.env.TZ = "UTC"));
  afterAll(() => void (process.env.TZ = TZ));
  const at = (iso: string) => Date.parse(iso);

  it("labels a few minutes' burn-down with distinct times, not the same minute at both ends", () => {
    const ticks = timeTicks(at("2026-12-08T20:20:05Z"), at("2026-12-08T20:20:50Z"));
    expect(ticks.map((t) => t.label)).toEqual(["20:20:10", "20:20:20", "20:20:30", "20:20:40", "20:20:50"]);
    expect(timeTicks(at("2026-12-08T20:03:00Z"), at("2026-12-08T20:41:00Z")).map((t) => t.label)).toEqual(["20:10", "20:20", "20:30", "20:40"]);
    expect(timeTicks(at("2026-12-08T09:40:00Z"), at("2026-12-08T17:10:00Z")).map((t) => t.label)).toEqual(["10:00", "12:00", "14:00", "16:00"]);
  });

  it("dates the ticks of an axis across midnight, and uses days for long spans", () => {
    expect(timeTicks(at("2026-12-08T20:00:00Z"), at("2026-12-09T04:00:00Z"), 4).map((t) => t.label)).toEqual(["Dec 8 21:00", "Dec 9 00:00", "Dec 9 03:00"]);
    expect(timeTicks(at("2026-12-01T10:00:00Z"), at("2026-12-05T10:00:00Z")).map((t) => t.label)).toEqual(["Dec 2", "Dec 3", "Dec 4", "Dec 5"]);
    expect(timeTicks(at("2026-12-20T00:00:00Z"), at("2027-03-20T00:00:00Z")).map((t) => t.label)[0]).toMatch(/2026$/);
  });

  it("for any span: distinct labels, increasing times inside the span, a round step, at most `most`", () => {
    const start = at("2026-12-08T20:20:00Z");
    for (let span = 1500; span < 400 * 86_400_000; span = Math.ceil(span * 1.37)) {
      for (const most of [3, 6]) {
        const ticks = timeTicks(start, start + span, most);
        const labels = ticks.map((t) => t.label);
        expect(new Set(labels).size, `${span} ms: ${labels.join(" ")}`).toBe(labels.length);
        expect(ticks.length).toBeLessThanOrEqual(most);
        expect(ticks.length).toBeGreaterThanOrEqual(span >= 1000 * (most - 1) ? 1 : 0);
        for (const t of ticks) expect(t.at >= start && t.at <= start + span).toBe(true);
        for (let i = 1; i < ticks.length; i++) expect(ticks[i]!.at).toBeGreaterThan(ticks[i - 1]!.at);
        if (ticks.length > 2) expect(ticks[2]!.at - ticks[1]!.at).toBe(ticks[1]!.at - ticks[0]!.at);
      }
    }
    expect(timeTicks(start, start)).toEqual([{ at: start, label: "20:20:00" }]);
  });
});

describe("hourly", () => {
  it("always gives 24 hours, the newest last; missing or bad counts are 0", () => {
    expect(hourly(undefined)).toEqual(Array(24).fill(0));
    const short = hourly([1, 2]);
    expect(short).toHaveLength(24);
    expect(short.slice(-2)).toEqual([1, 2]);
    expect(hourly([...Array(30).fill(1), -3, Number.NaN]).slice(-3)).toEqual([1, 0, 0]);
  });
});

const rig = (name: string, attention: AttentionItem[]): Rig =>
  ({
    id: `ID${name}`,
    name,
    gitUrl: "",
    defaultBranch: "main",
    capabilities: [],
    maxPolecats: 2,
    status: "ready",
    createdAt: 0,
    summary: { beads: {}, agents: {}, queuedMail: 0, lastActivity: null, diskBytes: null, updatedAt: 0, attention },
  }) as unknown as Rig;

describe("the attention lane", () => {
  it("puts a critical escalation and a broken rig before failed beads, and unread mail last, across rigs", () => {
    const lane = laneOf("/t/x", [
      rig("a", [
        { kind: "waiting_mail", id: "a/polecats/p", title: "a/polecats/p", detail: "2 unread mails", at: 1 },
        { kind: "failed_bead", id: "B1", title: "Build", detail: "exit 4", at: 5 },
      ]),
      rig("b", [
        { kind: "escalation", id: "E1", title: "Need a DB", detail: "critical from b/polecats/q", severity: "critical", at: 9 },
        { kind: "rig_error", id: "IDb", title: "b", detail: "clone failed", at: 9 },
        { kind: "escalation", id: "E2", title: "Flaky", detail: "low", severity: "low", at: 1 },
      ]),
    ]);
    expect(lane.map((r) => r.item.id)).toEqual(["E1", "IDb", "B1", "a/polecats/p", "E2"]);
    const agent = (detail: string): AttentionItem => ({ kind: "agent", id: "", title: "", detail, at: 0 });
    expect(rank(agent("dead: its run went silent"))).toBeLessThan(rank(agent("stalled: its heartbeats are late")));
    expect(rank(agent("stalled: its heartbeats are late"))).toBeLessThan(rank({ kind: "waiting_mail", id: "", title: "", detail: "", at: 0 }));
  });

  it("links each item to where it lives", () => {
    const r = rig("backend", []);
    expect(itemHref("/t/x", r, { kind: "failed_bead", id: "B1", title: "", detail: "", at: 0 })).toBe("/t/x/rigs/backend/beads/B1");
    expect(itemHref("/t/x", r, { kind: "agent", id: "backend/polecats/toast", title: "", detail: "", at: 0 })).toBe("/t/x/rigs/backend/agents/toast");
    expect(itemHref("/t/x", r, { kind: "rig_error", id: "ID", title: "", detail: "", at: 0 })).toBe("/t/x/rigs/backend");
  });
});
