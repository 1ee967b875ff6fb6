import { describe, expect, it } from "vitest";
import {
  answerOf,
  applyNotice,
  failRigBeads,
  moveInConvoy,
  newConvoy,
  openBeads,
  progress,
  progressText,
  reconciled,
  replaceBead,
  settle,
  convoyStateOf,
  requireRoomForBeads,
  toRetire,
  unfinishedByRig,
  withProgress,
} from "../../party/town/convoys.ts";
import { LIMITS, ToolError, type Convoy, type ConvoyBead } from "../../party/protocol.ts";
import type { Placement } from "../../party/town/placement.ts";

const bead = (beadId: string, rigName: string, over: Partial<ConvoyBead> = {}): ConvoyBead => ({
  rigId: `id-${rigName}`,
  rigName,
  beadId,
  title: beadId,
  status: "open",
  reason: "test",
  rev: 1,
  ...over,
});
const convoy = (...beads: ConvoyBead[]): Convoy => ({ id: "C", title: "c", status: "open", createdAt: 0, beads });

describe("convoy notices", () => {
  it("apply only when newer: duplicates and reordered notices change nothing", () => {
    let c = convoy(bead("b1", "a"), bead("b2", "b"));
    const notices = [
      { beadId: "b1", status: "in_progress" as const, assignee: "a/polecats/toast", rev: 2 },
      { beadId: "b1", status: "in_review" as const, rev: 3 },
      { beadId: "b1", status: "closed" as const, rev: 4 },
    ];
    // Delivered out of order and twice each.
    for (const n of [notices[2]!, notices[0]!, notices[2]!, notices[1]!, notices[0]!]) c = applyNotice(c, n) ?? c;
    expect(c.beads[0]).toMatchObject({ status: "closed", rev: 4 });
    expect(c.beads[0]!.assignee).toBeUndefined();
    expect(progress(c)).toEqual({ done: 1, failed: 0, total: 2, byRig: { a: { done: 1, failed: 0, total: 1 }, b: { done: 0, failed: 0, total: 1 } } });
    expect(applyNotice(c, notices[2]!)).toBeNull();
  });

  it("progress never exceeds the total nor goes backwards under any order of the same notices", () => {
    const notices = [2, 3, 4, 5].map((rev, i) => ({ beadId: `b${i % 2}`, status: (rev >= 4 ? "closed" : "in_progress") as "closed" | "in_progress", rev }));
    for (let seed = 0; seed < 50; seed++) {
      const order = [...notices, ...notices].sort((x, y) => ((x.rev * 7 + seed * 13) % 5) - ((y.rev * 7 + seed * 13) % 5));
      let c = convoy(bead("b0", "a"), bead("b1", "b"));
      let last = 0;
      for (const n of order) {
        c = applyNotice(c, n) ?? c;
        const { done, total } = progress(c);
        expect(done).toBeLessThanOrEqual(total);
        expect(done).toBeGreaterThanOrEqual(last);
        last = done;
      }
    }
  });

  it("doneAt: when the town learnt a bead reached closed; kept by a later notice, gone if it reopens (the burn-down)", () => {
    let c = convoy(bead("b1", "a"), bead("b2", "a"));
    c = applyNotice(c, { beadId: "b1", status: "in_review", rev: 2 }, 100)!;
    expect(c.beads[0]!.doneAt).toBeUndefined();
    c = applyNotice(c, { beadId: "b1", status: "closed", rev: 3 }, 200)!;
    expect(c.beads[0]!.doneAt).toBe(200);
    c = applyNotice(c, { beadId: "b1", status: "closed", rev: 4 }, 300)!; // a newer rev, still closed
    expect(c.beads[0]!.doneAt).toBe(200);
    c = applyNotice(c, { beadId: "b2", status: "failed", rev: 2, failure: "exit 4" }, 400)!;
    expect(c.beads[1]!.doneAt).toBeUndefined(); // failed is finished, not done
    c = applyNotice(c, { beadId: "b1", status: "open", rev: 5 }, 500)!; // reopened by an operator
    expect(c.beads[0]!.doneAt).toBeUndefined();
    c = applyNotice(c, { beadId: "b1", status: "closed", rev: 6 }, 600)!;
    expect(c.beads[0]!.doneAt).toBe(600);
  });

  it("ignores notices for a bead the town already failed", () => {
    const failed = failRigBeads(convoy(bead("b1", "a")), "id-a", "rig a removed")!;
    expect(applyNotice(failed, { beadId: "b1", status: "closed", rev: 9 })).toBeNull();
  });
});

describe("landing (convoyStateOf, settle)", () => {
  it("lands when every bead is closed, once; a failed bead makes it stuck, never landed", () => {
    const open = convoy(bead("b1", "a", { status: "closed" }), bead("b2", "b", { status: "in_review" }));
    expect(settle(open, 5)).toMatchObject({ landed: false, stuck: false, reopened: false, convoy: { status: "open" } });
    const done = settle({ ...open, beads: [open.beads[0]!, { ...open.beads[1]!, status: "closed" }] }, 5);
    expect(done).toMatchObject({ landed: true, stuck: false, convoy: { status: "landed", landedAt: 5 } });
    expect(settle(done.convoy, 6).landed).toBe(false);
    const stuck = settle({ ...open, beads: [open.beads[0]!, { ...open.beads[1]!, status: "failed" }] }, 7);
    expect(stuck).toMatchObject({ landed: false, stuck: true, convoy: { status: "stuck", landedAt: 7 } });
    expect(progressText(progress(stuck.convoy))).toBe("1 done, 1 failed of 2");
  });

  it("a retry reopens a stuck convoy, and a bead reopened reopens a landed one; it lands again only when it truly lands", () => {
    let c = settle(
      convoy(bead("b1", "a", { status: "closed", rev: 3 }), bead("b2", "a", { status: "closed", rev: 3 }), bead("b3", "a", { status: "failed", rev: 3 })),
      5,
    ).convoy;
    expect(c.status).toBe("stuck");
    // Retried in its rig: open, then in progress (the row: "landed", "2/3 done" with a bead in progress).
    const retried = settle(applyNotice(c, { beadId: "b3", status: "open", rev: 4 }, 6)!, 6);
    expect(retried).toMatchObject({ reopened: true, landed: false, convoy: { status: "open" } });
    expect(retried.convoy.landedAt).toBeUndefined();
    c = settle(applyNotice(retried.convoy, { beadId: "b3", status: "in_progress", assignee: "a/polecats/toast", rev: 5 }, 7)!, 7).convoy;
    expect(c.status).toBe("open");
    expect(progressText(progress(c))).toBe("2/3 done");
    const landed = settle(applyNotice(c, { beadId: "b3", status: "closed", rev: 6 }, 8)!, 8);
    expect(landed).toMatchObject({ landed: true, convoy: { status: "landed", landedAt: 8 } });
    const reopened = settle(applyNotice(landed.convoy, { beadId: "b1", status: "open", rev: 4 }, 9)!, 9);
    expect(reopened).toMatchObject({ reopened: true, convoy: { status: "open" } });
  });

  it("the state is a function of the beads alone, under any mix of statuses (property)", () => {
    const statuses = ["open", "in_progress", "in_review", "closed", "failed"] as const;
    for (let seed = 0; seed < 400; seed++) {
      const n = 1 + (seed % 5);
      const beads = Array.from({ length: n }, (_, i) => bead(`b${i}`, "a", { status: statuses[(seed * 7 + i * 13 + Math.floor(seed / 5)) % 5]! }));
      const state = convoyStateOf(beads);
      const unfinished = beads.some((b) => b.status !== "closed" && b.status !== "failed");
      const failed = beads.some((b) => b.status === "failed");
      expect(state).toBe(unfinished ? "open" : failed ? "stuck" : "landed");
      for (const from of ["open", "landed", "stuck"] as const) {
        const settled = settle({ ...convoy(...beads), status: from, ...(from !== "open" ? { landedAt: 1 } : {}) }, 2).convoy;
        expect(settled.status).toBe(state);
        expect(settled.landedAt === undefined).toBe(state === "open");
        const p = progress(settled);
        expect(p.done + p.failed).toBeLessThanOrEqual(p.total);
        expect(p.failed).toBe(beads.filter((b) => b.status === "failed").length);
      }
    }
  });

  it("a removed rig's unfinished beads fail visibly and the convoy is stuck, not landed", () => {
    const c = convoy(bead("b1", "a", { status: "closed" }), bead("b2", "b", { status: "in_progress" }), bead("b3", "b", { status: "closed" }));
    const failed = failRigBeads(c, "id-b", "rig b removed")!;
    expect(failed.beads.map((b) => [b.beadId, b.status, b.note])).toEqual([
      ["b1", "closed", undefined],
      ["b2", "failed", "rig b removed"],
      ["b3", "closed", undefined],
    ]);
    expect(settle(failed, 1)).toMatchObject({ landed: false, stuck: true });
    expect(failRigBeads(failed, "id-b", "again")).toBeNull();
  });
});

describe("moving a convoy bead (replaceBead)", () => {
  const successor = bead("new", "web", { rev: 0, reason: "moved from api" });

  it("puts the successor in the old bead's place, once; its first notice (rev 1) applies, the old bead's notices no longer do", () => {
    const c = convoy(bead("b1", "api", { status: "failed", failure: "exit 4", rev: 7 }), bead("b2", "docs"));
    const moved = replaceBead(c, "b1", successor)!;
    expect(moved.beads.map((b) => [b.beadId, b.rigName, b.status])).toEqual([
      ["new", "web", "open"],
      ["b2", "docs", "open"],
    ]);
    expect(progress(moved)).toEqual({ done: 0, failed: 0, total: 2, byRig: { web: { done: 0, failed: 0, total: 1 }, docs: { done: 0, failed: 0, total: 1 } } });
    expect(replaceBead(moved, "b1", successor)).toBeNull(); // a repeated move notice
    expect(applyNotice(moved, { beadId: "b1", status: "closed", rev: 8 })).toBeNull();
    expect(applyNotice(moved, { beadId: "new", status: "in_progress", assignee: "web/polecats/toast", rev: 1 })!.beads[0]).toMatchObject({
      status: "in_progress",
      rev: 1,
    });
  });

  it("opens a stuck convoy again (settle), and never for a bead it does not hold", () => {
    const stuck = settle(convoy(bead("b1", "api", { status: "failed" }), bead("b2", "docs", { status: "closed" })), 5).convoy;
    expect(stuck.status).toBe("stuck");
    const reopened = settle(replaceBead(stuck, "b1", successor)!, 9);
    expect(reopened).toMatchObject({ reopened: true, convoy: { status: "open" } });
    expect(reopened.convoy.landedAt).toBeUndefined();
    expect(replaceBead(stuck, "zz", successor)).toBeNull();
  });
});

describe("the town's convoy bookkeeping", () => {
  it("a new convoy holds its placed beads open, in order, with each reason cut to 300 characters", () => {
    const placed: Placement[] = [
      { spec: { title: "ui" }, rigId: "id-web", rigName: "web", reason: "r".repeat(400), beadId: "b1" },
      { spec: { title: "db", rig: "api" }, rigId: "id-api", rigName: "api", reason: "api: chosen by the caller", beadId: "b2" },
    ];
    const c = newConvoy("C", "launch", placed, 7);
    expect(c).toEqual({
      id: "C",
      title: "launch",
      status: "open",
      createdAt: 7,
      beads: [
        { rigId: "id-web", rigName: "web", beadId: "b1", title: "ui", status: "open", reason: "r".repeat(300), rev: 0 },
        { rigId: "id-api", rigName: "api", beadId: "b2", title: "db", status: "open", reason: "api: chosen by the caller", rev: 0 },
      ],
    });
    expect(withProgress(c).progress).toEqual(progress(c));
  });

  it("bounds the beads in open convoys: landed convoys do not count, and a convoy past the bound is refused (CONFLICT)", () => {
    const open = convoy(...Array.from({ length: LIMITS.openConvoyBeads - 2 }, (_, i) => bead(`b${i}`, "a")));
    const landed = { ...convoy(bead("x", "a", { status: "closed" })), status: "landed" as const };
    expect(openBeads([open, landed])).toBe(LIMITS.openConvoyBeads - 2);
    expect(() => requireRoomForBeads([open, landed], 2)).not.toThrow();
    let refused: unknown;
    try {
      requireRoomForBeads([open, landed], 3);
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(ToolError);
    expect(refused).toMatchObject({
      code: "CONFLICT",
      message: `the town has ${LIMITS.openConvoyBeads - 2} beads in open convoys; at most ${LIMITS.openConvoyBeads} at once`,
    });
  });

  it("a move puts the successor in place (opening a stuck convoy again), or fails the old bead when the target is gone", () => {
    const successor = bead("new", "web", { rev: 0 });
    const stuck = settle(convoy(bead("b1", "api", { status: "failed" }), bead("b2", "docs", { status: "closed" })), 5).convoy;
    expect(moveInConvoy(stuck, { oldBeadId: "b1", successor, targetExists: true }, 9)).toMatchObject({
      reopened: true,
      landed: false,
      convoy: { status: "open" },
    });
    const open = convoy(bead("b1", "api", { status: "in_progress" }), bead("b2", "docs", { status: "closed" }));
    const gone = moveInConvoy(open, { oldBeadId: "b1", successor, targetExists: false }, 9)!;
    expect(gone).toMatchObject({ reopened: false, landed: false, stuck: true, convoy: { status: "stuck", landedAt: 9 } });
    expect(gone.convoy.beads[0]).toMatchObject({ beadId: "b1", status: "failed", note: "moved to rig web, which was removed" });
    expect(moveInConvoy(open, { oldBeadId: "zz", successor, targetExists: true }, 9)).toBeNull();
  });

  it("retires the longest-landed convoys past the number kept, never an open one", () => {
    const at = (id: string, landedAt: number | undefined, createdAt = 0): Convoy => ({
      ...convoy(bead("b", "a", { status: "closed" })),
      id,
      status: "landed",
      createdAt,
      ...(landedAt === undefined ? {} : { landedAt }),
    });
    const convoys = [at("late", 30), { ...convoy(bead("o", "a")), id: "open" }, at("early", 10), at("no-landed-at", undefined, 20), at("mid", 25)];
    expect(toRetire(convoys, 2).map((c) => c.id)).toEqual(["early", "no-landed-at"]);
    expect(toRetire(convoys, 4)).toEqual([]);
  });

  it("reconciles: asks each rig for its unfinished beads not still on their way, and fails those a rig does not know", () => {
    const c = convoy(bead("b1", "a", { status: "closed" }), bead("b2", "a"), bead("b3", "b", { status: "in_review" }), bead("b4", "a"), bead("b5", "c"));
    expect([...unfinishedByRig(c, (id) => id === "b4")]).toEqual([
      ["id-a", ["b2"]],
      ["id-b", ["b3"]],
      ["id-c", ["b5"]],
    ]);
    const answer = answerOf(
      [
        { id: "b3", status: "closed", rev: 5, title: "b3 renamed" },
        { id: "b9", status: "open", rev: 1, title: "moved away", movedTo: { rig: "d", beadId: "b10" } },
      ],
      ["b3", "b9", "b5"],
    );
    // A moved bead is replaced by its rig's move notice, never closed by the reconciliation.
    expect(answer).toEqual({
      notices: [{ beadId: "b3", status: "closed", rev: 5, title: "b3 renamed", assignee: undefined, failure: undefined }],
      missing: ["b5"],
    });
    const next = reconciled(c, { removedRigs: ["id-a"], notices: answer.notices, missing: answer.missing }, 11);
    expect(next.beads.map((b) => [b.beadId, b.status, b.note ?? b.doneAt ?? ""])).toEqual([
      ["b1", "closed", ""],
      ["b2", "failed", "its rig was removed"],
      ["b3", "closed", 11],
      ["b4", "failed", "its rig was removed"],
      ["b5", "failed", "missing from its rig"],
    ]);
    expect(reconciled(c, { removedRigs: [], notices: [], missing: [] }, 11)).toBe(c);
  });
});
