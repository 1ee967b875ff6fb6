/**
 * The work machine's truths in the dashboard: convoys that say landed only when every bead is
 * closed (stuck when one failed, open again after a retry), "Bead failed" escalations resolved by the
 * machine when their bead is retried, closed or moved, attention items that carry their bead id, and
 * a troubled agent that keeps its place in the lane of a rig crowded with failed beads.
 */
import { expect, it } from "vitest";
import type { Bead, ConvoyProgress, Escalation, Rig, StartAgentCommand } from "../../../party/protocol.ts";
import { watchRig } from "../../helpers/watch.ts";
import type { E2ETown } from "../fixtures.ts";
import { standIn, type StandIn } from "../stand-in.ts";
import { part } from "./part.ts";

/** Every run of `beadId` exits 4 until the room gives up on it: failed, with the witness's escalation. */
async function failRuns(t: E2ETown, rig: Rig, s: StandIn, beadId: string, seen: StartAgentCommand[] = []): Promise<void> {
  for (let n = 1; n <= 10; n++) {
    const start = await s.nextStart(beadId, seen);
    seen.push(start);
    await s.started(start);
    await s.exit(start, 4);
    if ((await t.rigCall<Bead>(rig, "gt_bead_status", { bead_id: beadId })).status === "failed") return;
  }
  throw new Error(`bead ${beadId} did not fail`);
}

/** A convoy of three beads in `rig`: two closed, the third failed by its runs (stuck). */
async function stuckConvoy(t: E2ETown, rig: Rig, s: StandIn, title: string): Promise<{ convoy: ConvoyProgress; failed: string }> {
  const convoy = await t.townCall<ConvoyProgress>("gt_convoy_create", {
    title,
    beads: [
      { title: "reset form", rig: rig.name },
      { title: "reset mail", rig: rig.name },
      { title: "reset token expiry", rig: rig.name },
    ],
  });
  const [a, b, c] = convoy.beads.map((x) => x.beadId) as [string, string, string];
  for (const id of [a, b]) {
    await s.nextStart(id);
    await t.rigCall(rig, "gt_bead_update", { bead_id: id, status: "closed" });
  }
  await failRuns(t, rig, s, c);
  return { convoy, failed: c };
}

type Seed = {
  stuck: ConvoyProgress;
  retried: ConvoyProgress;
  lane: Rig;
  handled: { retried: string; closed: string; moved: string };
  twins: string[];
  crowd: Rig;
  dying: string;
};

export default part<Seed>({
  name: "work",
  async seed(t, later) {
    const conv = await t.addRig("work-conv", { max_polecats: 3 });
    const cs = await standIn(t, conv);
    later(() => cs.close());
    const stuck = (await stuckConvoy(t, conv, cs, "Ship password reset")).convoy;
    // The same, then its failed bead retried and hooked again: in progress.
    const second = await stuckConvoy(t, conv, cs, "Ship password reset (retried)");
    const before = cs.starts.filter((x) => x.bead.id === second.failed);
    await t.rigCall(conv, "gt_bead_retry", { bead_id: second.failed, note: "flaky network" });
    await cs.started(await cs.nextStart(second.failed, before));

    // The lane: five failed beads with the witness's escalation; three of them retried, closed, moved.
    const lane = await t.addRig("work-lane", { max_polecats: 2 });
    const spare = await t.readyRig("work-spare");
    const ls = await standIn(t, lane);
    later(() => ls.close());
    const failed: string[] = [];
    for (const title of ["Add audit log", "Fix login redirect", "Port settings page", "Flaky test", "Flaky test"]) {
      const bead = await t.rigCall<Bead>(lane, "gt_bead_create", { title });
      await failRuns(t, lane, ls, bead.id);
      failed.push(bead.id);
    }
    const [retried, closed, moved, ...twins] = failed as [string, string, string, string, string];
    const earlier = ls.starts.filter((x) => x.bead.id === retried);
    await t.rigCall(lane, "gt_bead_retry", { bead_id: retried });
    // Hooked again and alive (heartbeats), so the witness has no reason to fail it again.
    await ls.started(await ls.nextStart(retried, earlier));
    await t.rigCall(lane, "gt_bead_update", { bead_id: closed, status: "closed" });
    await t.townCall("gt_bead_move", { bead_id: moved, rig: spare.name, from: lane.name });

    // A rig crowded with 20 failed beads, and an agent whose run goes silent on its bead's last attempt: dead.
    const crowd = await t.addRig("work-crowd", { max_polecats: 1 });
    for (let i = 0; i < 20; i++) {
      const bead = await t.rigCall<Bead>(crowd, "gt_bead_create", { title: `crowded ${i}` });
      await t.rigCall(crowd, "gt_bead_update", { bead_id: bead.id, status: "failed" });
    }
    const ws = await standIn(t, crowd);
    later(() => ws.close());
    const dying = await t.rigCall<Bead>(crowd, "gt_bead_create", { title: "goes silent" });
    const runs: StartAgentCommand[] = [];
    for (let n = 1; n <= 2; n++) {
      const start = await ws.nextStart(dying.id, runs);
      runs.push(start);
      await ws.started(start);
      await ws.exit(start, 4);
    }
    const last = await ws.nextStart(dying.id, runs);
    // Started, then never heard from again (no heartbeats): the witness declares it dead (W7).
    await t.rigCall(crowd, "gt_agent_started", { as: last.identity, bead_id: dying.id, run: last.run, epoch: ws.epoch, pid: 4243 }, t.container);
    return { stuck, retried: second.convoy, lane, handled: { retried, closed, moved }, twins, crowd, dying: last.identity };
  },
  rows(get) {
    it("Convoy 'Ship password reset' showed 'landed', '2/3 done' with a bead in progress after a retry: it is open again", async () => {
      const { t, s, page } = get();
      const p = await page(t.url(`/convoys/${s.retried.id}`));
      await p.locator("[data-testid=convoy-summary] [data-testid=convoy-progress]", { hasText: "2/3 done" }).waitFor();
      expect(await p.getByTestId("convoy-status").innerText()).toMatch(/open/i);
      expect(await p.getByTestId("convoy-stuck").count()).toBe(0);
      const status = await t.townCall<ConvoyProgress>("gt_convoy_status", { id: s.retried.id });
      expect(status).toMatchObject({ status: "open", progress: { done: 2, failed: 0, total: 3 } });
      expect(status.landedAt).toBeUndefined();
    });

    it("Convoys holding a failed bead showed '3/3 landed': stuck, '2 done, 1 failed of 3', with what failed", async () => {
      const { t, s, page } = get();
      const p = await page(t.url(`/convoys/${s.stuck.id}`));
      await p.locator("[data-testid=convoy-summary] [data-testid=convoy-progress]", { hasText: "2 done, 1 failed of 3" }).waitFor();
      expect(await p.getByTestId("convoy-status").innerText()).toMatch(/stuck/i);
      expect(await p.getByTestId("convoy-stuck").innerText()).toContain("1 failed");
      expect(await t.townCall<ConvoyProgress>("gt_convoy_status", { id: s.stuck.id })).toMatchObject({ status: "stuck", progress: { done: 2, failed: 1 } });
      // The overview's convoy list says the same.
      const o = await page(t.url(""));
      const row = o.getByTestId("convoy-row").filter({ hasText: "Ship password reset" }).filter({ hasNotText: "retried" });
      await row.getByTestId("convoy-progress").filter({ hasText: "2 done, 1 failed of 3" }).waitFor();
      expect(await row.innerText()).toMatch(/stuck/i);
    });

    it("The attention lane after 20 minutes: 'Bead failed' escalations for beads already retried, closed or moved; two identical titles with no bead id", async () => {
      const { t, s, page } = get();
      // The machine resolved its own escalations for the retried, closed and moved beads, saying why.
      const watch = await watchRig(t, s.lane);
      const escalations: Escalation[] = watch.escalations();
      const of = (beadId: string) => escalations.filter((e) => e.beadId === beadId && e.title.startsWith("Bead failed:"));
      expect(of(s.handled.retried)).toMatchObject([{ status: "resolved", note: "resolved by the system: bead retried by the operator" }]);
      expect(of(s.handled.closed)).toMatchObject([{ status: "resolved", note: "resolved by the system: bead closed by the operator" }]);
      expect(of(s.handled.moved)).toMatchObject([{ status: "resolved", note: "resolved by the system: bead moved to rig work-spare" }]);
      for (const twin of s.twins) expect(of(twin)).toMatchObject([{ status: "open" }]);

      const p = await page(t.url(""));
      // The shared town's lane is long and groups alike titles: show every row, open this rig's groups.
      await p.locator("[data-testid=attention]").waitFor();
      const showAll = p.locator("[data-testid=attention-all]");
      if (await showAll.count()) await showAll.click();
      const groups = p.locator("[data-testid=attention-group][data-rig=work-lane]");
      await groups.first().waitFor();
      const closed = groups.locator("[data-testid=attention-expand][aria-expanded=false]");
      while (await closed.count()) await closed.first().click();
      const items = p.locator("[data-testid=attention-item][data-rig=work-lane]");
      await items.first().waitFor();
      const rows = await items.evaluateAll((els) =>
        els.map((e) => ({ kind: e.getAttribute("data-kind"), bead: e.getAttribute("data-bead"), text: e.textContent ?? "" })),
      );
      // Only the twins are left (a failed bead and its escalation each), told apart by their bead ids.
      expect(
        rows
          .filter((r) => r.kind === "escalation")
          .map((r) => r.bead)
          .sort(),
      ).toEqual([...s.twins].sort());
      expect(
        rows
          .filter((r) => r.kind === "failed_bead")
          .map((r) => r.bead)
          .sort(),
      ).toEqual([...s.twins].sort());
      for (const id of Object.values(s.handled)) expect(rows.some((r) => r.bead === id)).toBe(false);
    });

    it("A hung agent never appeared in the attention lane: a troubled agent is in the lane's first rows while its rig holds 20 failed beads", async () => {
      const { t, s, page } = get();
      const p = await page(t.url(""));
      // Visible without "Show all": ahead of failed beads and high escalations, whatever else the rig holds.
      const item = p.locator(`[data-testid=attention-item][data-kind=agent][data-id="${s.dying}"]`);
      await item.waitFor({ timeout: 20_000 });
      expect(await item.innerText()).toContain("dead");
    });
  },
});
