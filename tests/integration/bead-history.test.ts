import { afterEach, describe, expect, inject, it } from "vitest";
import type { Bead } from "../../party/protocol.ts";
import { makeTown, until, type TestTown } from "../helpers/town.ts";

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
});
