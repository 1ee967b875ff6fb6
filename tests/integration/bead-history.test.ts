import { afterEach, describe, expect, inject, it } from "vitest";
import type { Bead, BeadHistoryPage, Escalation } from "../../party/protocol.ts";
import { fails, makeTown, until, type TestTown } from "../helpers/town.ts";

const host = inject("partykitHost");
const secret = inject("gtSecret");
let town: TestTown;
afterEach(() => town?.closeAll());

describe("a bead's history", () => {
  it("the document holds its last 2 status changes; gt_bead_status returns the last 20 from storage", async () => {
    town = await makeTown(host, secret);
    const rig = await town.addRig("alpha");
    const bead = await town.rigCall<Bead>(rig, "gt_bead_create", { title: "many changes", body: "" });
    for (let i = 0; i < 24; i++) await town.rigCall(rig, "gt_bead_update", { bead_id: bead.id, status: i % 2 ? "open" : "closed" });

    const whole = await town.rigCall<Bead>(rig, "gt_bead_status", { bead_id: bead.id });
    expect(whole.historyCount).toBe(25);
    expect(whole.history).toHaveLength(20);
    expect(whole.history!.map((h) => h.status)).toEqual(Array.from({ length: 20 }, (_, i) => ((i + 4) % 2 ? "open" : "closed")));

    const replica = town.replica("rig", town.rigRoom(rig));
    await replica.whenSynced();
    const beads = replica.doc.getMap<Bead>("beads");
    const shown = await until(
      (cb) => (beads.observe(cb), () => beads.unobserve(cb)),
      () => (beads.get(bead.id)?.historyCount === 25 ? beads.get(bead.id) : undefined),
    );
    expect(shown.history).toEqual(whole.history!.slice(-2));
  });

  it("gt_bead_history pages through all of it, oldest page last; bad pages are refused", async () => {
    town = await makeTown(host, secret);
    const rig = await town.addRig("alpha");
    const bead = await town.rigCall<Bead>(rig, "gt_bead_create", { title: "many changes", body: "" });
    for (let i = 0; i < 24; i++) await town.rigCall(rig, "gt_bead_update", { bead_id: bead.id, status: i % 2 ? "open" : "closed" });
    const seen: number[] = [];
    let before: number | null | undefined;
    do {
      const page: BeadHistoryPage = await town.rigCall(rig, "gt_bead_history", { bead_id: bead.id, limit: 10, ...(before !== undefined ? { before } : {}) });
      expect(page.total).toBe(25);
      seen.unshift(...page.entries.map((e) => e.seq));
      before = page.before;
    } while (before !== null);
    expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => i));
    // Entry 0 is the bead's creation: the whole history, not the last 20.
    const first: BeadHistoryPage = await town.rigCall(rig, "gt_bead_history", { bead_id: bead.id, before: 1 });
    expect(first.entries.map((e) => e.status)).toEqual(["open"]);
    expect((await fails(town.rigCall(rig, "gt_bead_history", { bead_id: bead.id, limit: 0 }))).code).toBe("INVALID_ARGS");
    expect((await fails(town.rigCall(rig, "gt_bead_history", { bead_id: "01J00000000000000000000000" }))).code).toBe("UNKNOWN_BEAD");
  });

  it("gt_escalation_list gives an agent its own escalations with every note; an operator all of them", async () => {
    town = await makeTown(host, secret);
    const rig = await town.addRig("alpha");
    const fern = await town.polecat(rig, "fern");
    const moss = await town.polecat(rig, "moss");
    const mine = await town.rigCall<Escalation>(rig, "gt_escalate", { title: "need a key", severity: "high" }, fern.token);
    await town.rigCall<Escalation>(rig, "gt_escalate", { title: "other", severity: "low" }, moss.token);
    await town.rigCall(rig, "gt_escalation_ack", { id: mine.id, note: "on it" });
    await town.rigCall(rig, "gt_escalation_resolve", { id: mine.id, note: "added to the vault" });
    const listed = await town.rigCall<Escalation[]>(rig, "gt_escalation_list", {}, fern.token);
    expect(listed.map((e) => e.id)).toEqual([mine.id]);
    expect(listed[0]!.notes?.map((n) => [n.status, n.note])).toEqual([
      ["acknowledged", "on it"],
      ["resolved", "added to the vault"],
    ]);
    expect(await town.rigCall<Escalation[]>(rig, "gt_escalation_list", {})).toHaveLength(2);
    expect((await fails(town.rigCall(rig, "gt_escalation_list", { as: moss.identity }, fern.token))).code).toBe("FORBIDDEN");
  });
});
