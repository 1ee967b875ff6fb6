/** The numbers behind the dashboard's charts and the attention lane's order. */
import { describe, expect, it } from "vitest";
import { burnDown, hourly } from "../../web/src/lib/charts.ts";
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
