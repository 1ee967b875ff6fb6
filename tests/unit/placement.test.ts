/**
 * Placement beyond the Mayor's choice of one rig (tests/unit/mayor.test.ts): the candidates a
 * registry makes (summaries plus beads placed since), a batch placed one bead after another, the
 * refusals, and the outbox entries that create the placed beads.
 */
import { describe, expect, it } from "vitest";
import { refusal } from "../helpers/refusal.ts";
import type { BeadPayload } from "../../party/town/entries.ts";
import { beadEntries, candidates, place, remember, type BeadSpec, type Candidate } from "../../party/town/placement.ts";
import { emptySummary } from "../../party/summary.ts";
import type { Rig } from "../../party/protocol.ts";

function rig(name: string, over: Partial<Rig> = {}, beads: Partial<Rig["summary"]["beads"]> = {}, summarizedAt = 1_000): Rig {
  const summary = emptySummary(summarizedAt);
  return {
    id: `id-${name}`,
    name,
    gitUrl: "/r",
    defaultBranch: "main",
    capabilities: [],
    maxPolecats: 2,
    status: "ready",
    createdAt: 0,
    ...over,
    summary: { ...summary, beads: { ...summary.beads, ...beads } },
  };
}

const cand = (name: string, over: Partial<Candidate> = {}): Candidate => ({
  id: `id-${name}`,
  name,
  status: "ready",
  capabilities: [],
  maxPolecats: 2,
  active: 0,
  total: 0,
  ...over,
});

/** Bead ids in the order they are made. */
function ids(): () => string {
  let n = 0;
  return () => `bead-${++n}`;
}

describe("placement candidates", () => {
  it("count open, in-progress and in-review beads as active, every status in the total", () => {
    const [web] = candidates([rig("web", {}, { open: 1, in_progress: 2, in_review: 1, closed: 5, failed: 1 })], []);
    expect(web).toEqual({ id: "id-web", name: "web", status: "ready", capabilities: [], maxPolecats: 2, active: 4, total: 10 });
  });

  it("count the beads placed since a rig's last summary, and not those its summary already holds", () => {
    const recent = [
      { rigId: "id-web", at: 900 }, // before web's summary (at 1 000): in it already
      { rigId: "id-web", at: 1_100 },
      { rigId: "id-web", at: 1_200 },
      { rigId: "id-api", at: 1_100 },
      { rigId: "id-gone", at: 1_100 }, // a rig no longer in the registry
    ];
    const byName = Object.fromEntries(candidates([rig("web"), rig("api", {}, {}, 2_000)], recent).map((c) => [c.name, c]));
    expect(byName.web).toMatchObject({ active: 2, total: 2 });
    expect(byName.api).toMatchObject({ active: 0, total: 0 });
  });

  it("remember a minute of placements", () => {
    const kept = remember(
      [
        { rigId: "a", at: 0 },
        { rigId: "b", at: 30_000 },
      ],
      ["c", "c"],
      60_000,
    );
    expect(kept).toEqual([
      { rigId: "b", at: 30_000 },
      { rigId: "c", at: 60_000 },
      { rigId: "c", at: 60_000 },
    ]);
  });
});

describe("placing a batch", () => {
  it("places by capability: a bead goes only where its requirements are met", () => {
    const placed = place(
      [
        { title: "ui", requires: ["web"] },
        { title: "db", requires: ["sql"] },
      ],
      [cand("api", { capabilities: ["sql"] }), cand("web", { capabilities: ["web"] })],
      "demo",
      ids(),
    );
    expect(placed.map((p) => [p.spec.title, p.rigName])).toEqual([
      ["ui", "web"],
      ["db", "api"],
    ]);
    expect(placed[0]!.reason).toMatch(/^web: the only eligible rig requiring web;/);
  });

  it("counts each placement for the next: a batch spreads over rigs of equal load", () => {
    const specs: BeadSpec[] = Array.from({ length: 4 }, (_, i) => ({ title: `b${i}` }));
    const placed = place(specs, [cand("a"), cand("b", { maxPolecats: 1 })], "demo", ids());
    // Loads (a of 2 slots, b of 1): 0 and 0 (a by name), 0.5 and 0, 0.5 and 1, then 1 and 1 (b has fewer beads).
    expect(placed.map((p) => p.rigName)).toEqual(["a", "b", "a", "b"]);
    expect(placed.map((p) => p.reason.split(";")[0])).toEqual([
      "a: tied on load and beads with b, first by name",
      "b: least loaded",
      "a: least loaded",
      "b: tied on load with a, fewer beads (1 vs 2)",
    ]);
    expect(placed.map((p) => p.beadId)).toEqual(["bead-1", "bead-2", "bead-3", "bead-4"]);
  });

  it("breaks ties on load by fewer beads in total", () => {
    const [first] = place([{ title: "t" }], [cand("a", { active: 1, total: 9 }), cand("b", { active: 1, total: 3 })], "demo", ids());
    expect(first).toMatchObject({ rigName: "b", reason: expect.stringMatching(/^b: tied on load with a, fewer beads \(3 vs 9\)/) });
  });

  it("puts a bead for a named rig there whatever its load, and counts it for the next", () => {
    const placed = place([{ title: "x", rig: "busy" }, { title: "y" }], [cand("busy", { active: 4 }), cand("idle", { active: 1 })], "demo", ids());
    expect(placed.map((p) => [p.rigName, p.reason.split(";")[0]])).toEqual([
      ["busy", "busy: chosen by the caller"],
      ["idle", "idle: least loaded"],
    ]);
  });

  it("keeps a bead id the caller chose (a retried sling)", () => {
    const [p] = place([{ title: "x", id: "01J0000000000000000000SLNG" }], [cand("a")], "demo", ids());
    expect(p!.beadId).toBe("01J0000000000000000000SLNG");
  });

  it("refuses the whole batch when one bead has no eligible rig (NO_ELIGIBLE_RIG) or names an unknown rig (UNKNOWN_RIG)", () => {
    const rigs = [cand("web", { capabilities: ["web"] }), cand("new", { status: "cloning", capabilities: ["gpu"] })];
    expect(refusal(() => place([{ title: "ok" }, { title: "ml", requires: ["gpu"] }], rigs, "demo", ids()))).toEqual({
      code: "NO_ELIGIBLE_RIG",
      message: "no eligible rig for a bead requiring gpu: new: status cloning; web: lacks gpu",
    });
    expect(refusal(() => place([{ title: "x", rig: "nope" }], rigs, "demo", ids()))).toEqual({
      code: "UNKNOWN_RIG",
      message: "no rig named nope in town demo",
    });
    expect(refusal(() => place([{ title: "x" }], [], "demo", ids())).code).toBe("NO_ELIGIBLE_RIG");
  });
});

describe("the beads' outbox entries", () => {
  it("create each placed bead in its rig, with its reason and defaults, keyed by the bead", () => {
    const placed = place(
      [{ title: "ui", body: "do it", priority: "high", requires: ["web"] }, { title: "docs" }],
      [cand("web", { capabilities: ["web"] })],
      "demo",
      ids(),
    );
    const entries = beadEntries(placed, 77, "01J0000000000000000000CNVY");
    expect(entries.map((e) => [e.key, e.kind, e.attempts, e.createdAt, e.nextAttemptAt])).toEqual([
      ["bead-bead-1", "bead", 0, 77, 77],
      ["bead-bead-2", "bead", 0, 77, 77],
    ]);
    const [first, second] = entries.map((e) => e.payload as BeadPayload);
    expect(first).toEqual({
      rig_id: "id-web",
      bead: {
        id: "bead-1",
        title: "ui",
        body: "do it",
        priority: "high",
        requires: ["web"],
        reason: placed[0]!.reason,
        convoy_id: "01J0000000000000000000CNVY",
      },
    });
    expect(second!.bead).toMatchObject({ body: "", priority: "medium", requires: [] });
    expect(beadEntries(placed, 77).every((e) => !("convoy_id" in (e.payload as BeadPayload).bead))).toBe(true);
  });
});
