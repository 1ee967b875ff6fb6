/**
 * What needs the operator, from the town document alone (the overview reads nothing else), on real
 * `partykit dev`: a rig's failures in its summary's attention list and in the town's feed (rig name,
 * tone, bead), bounded against an agent that loops gt_escalate; beads closed per hour surviving the
 * document's retention; polecats counted apart; a convoy bead's doneAt.
 */
import { afterEach, describe, expect, inject, it } from "vitest";
import type * as Y from "yjs";
import type { Convoy, ConvoyProgress, Escalation, FeedEvent, Rig, StartAgentCommand } from "../../party/protocol.ts";
import { TOWN_NOTICES } from "../../party/feed.ts";
import { ToolCallError } from "../../client/tools.ts";
import { makeTown, untilReplica, type TestTown } from "../helpers/town.ts";
import { standIn, watchRig } from "../helpers/watch.ts";

const host = inject("partykitHost");
const secret = inject("gtSecret");
let town: TestTown;

afterEach(() => town?.closeAll());

/** The town document as the overview sees it (a viewer's replica of the town document, nothing else). */
async function overview() {
  const replica = town.replica("main", town.town);
  await replica.whenSynced();
  const rig = (doc: Y.Doc, name: string) => [...doc.getMap<Rig>("rigs").values()].find((r) => r.name === name);
  const feed = (doc: Y.Doc) => doc.getArray<FeedEvent>("events").toArray();
  const when = <T>(predicate: (doc: Y.Doc) => T | undefined | false, label: string, timeoutMs = 45_000) => untilReplica(replica, predicate, timeoutMs, label);
  return { replica, rig, feed, when };
}

describe("the attention lane's data, from the town socket alone", () => {
  it("a failed bead and an agent's escalation are in the rig summary's attention list and in the town feed with rig, tone and bead", async () => {
    town = await makeTown(host, secret, "at");
    const view = await overview();
    const rig = await town.addRig("backend");
    const container = await standIn(town, rig);
    await container.ack("gt_rig_ready", { disk_bytes: 1 });
    const bead = await town.rigCall<{ id: string }>(rig, "gt_bead_create", { title: "Fix the flaky parser" });
    // Three runs that exit 4 before gt_done: the bead fails, with the witness's escalation.
    for (let run = 1; run <= 3; run++) {
      const start = (await container.next((c) => c.command === "start_agent" && c.run === `${bead.id}.${run}`)) as StartAgentCommand;
      await container.ack("gt_agent_started", { as: start.identity, bead_id: bead.id, run: start.run });
      await container.ack("gt_agent_exited", { as: start.identity, bead_id: bead.id, run: start.run, code: 4 });
    }
    const polecat = await town.token({ role: "agent", rig: rig.id, agent: "backend/polecats/toast" });
    const escalation = await town.rigCall<Escalation>(
      rig,
      "gt_escalate",
      { title: "The parser's grammar is ambiguous", severity: "critical", bead_id: bead.id },
      polecat,
    );

    const summary = await view.when((doc) => {
      const s = view.rig(doc, "backend")?.summary;
      return s?.attention?.some((a) => a.id === escalation.id) && s.attention.some((a) => a.kind === "failed_bead") ? s : undefined;
    }, "attention list with the failed bead and the escalation");
    expect(summary.attention![0]).toEqual({
      kind: "escalation",
      id: escalation.id,
      title: "The parser's grammar is ambiguous",
      detail: "critical from backend/polecats/toast",
      severity: "critical",
      at: escalation.createdAt,
      beadId: bead.id,
    });
    const failed = summary.attention!.find((a) => a.kind === "failed_bead")!;
    expect(failed).toMatchObject({ id: bead.id, title: "Fix the flaky parser", beadId: bead.id });
    expect(failed.detail).toMatch(/exit 4.*gave up after 3 runs/);
    // The witness's own escalation for the failed bead is there too, after the critical one.
    expect(summary.attention!.some((a) => a.kind === "escalation" && a.severity === "high" && a.title === "Bead failed: Fix the flaky parser")).toBe(true);
    // Polecats apart from the witness and the refinery: one polecat, idle; three agents in all.
    expect(summary.polecats).toMatchObject({ idle: 1, working: 0 });
    expect(Object.values(summary.agents).reduce((a, b) => a + b, 0)).toBe(3);

    const events = await view.when((doc) => {
      const feed = view.feed(doc).filter((e) => e.rig === "backend");
      return feed.some((e) => e.kind === "failed") && feed.some((e) => e.kind === "escalation") ? feed : undefined;
    }, "the rig's failures in the town feed");
    expect(events.find((e) => e.kind === "failed")).toMatchObject({
      tone: "bad",
      rig: "backend",
      bead: bead.id,
      text: expect.stringMatching(/^backend: bead .* failed after 3 runs/),
    });
    expect(events.find((e) => e.kind === "escalation")).toMatchObject({
      tone: "bad",
      rig: "backend",
      bead: bead.id,
      agent: "backend/polecats/toast",
      text: "backend/polecats/toast: The parser's grammar is ambiguous",
    });
    // The town's own events have tones too.
    expect(view.feed(view.replica.doc).find((e) => e.kind === "rig" && e.text === "rig backend added")).toMatchObject({ tone: "info", rig: "backend" });
    container.stop();
  });

  it("an agent looping gt_escalate is rate limited, and adds at most a window's share to the town feed, the rest merged into one line", async () => {
    town = await makeTown(host, secret, "at");
    const view = await overview();
    const rig = await town.addRig("backend");
    const hostile = await town.polecat(rig, "toast");
    const outcomes: string[] = [];
    for (let i = 0; i < 40; i++) {
      outcomes.push(
        await town.rigCall(rig, "gt_escalate", { title: `help ${i}`, severity: "low" }, hostile.token).then(
          () => "ok",
          (e: unknown) => (e instanceof ToolCallError ? e.code : String(e)),
        ),
      );
    }
    const accepted = outcomes.filter((o) => o === "ok").length;
    expect(outcomes.filter((o) => o === "RATE_LIMITED")).toHaveLength(30);
    expect(accepted).toBe(10); // the escalation budget of one principal: a burst of 10
    const merged = await view.when((doc) => view.feed(doc).find((e) => e.rig === "backend" && /more failures/.test(e.text)), "the merged line");
    expect(merged).toMatchObject({
      kind: "escalation",
      tone: "warn",
      text: `backend: ${accepted - TOWN_NOTICES.perWindow} more failures (${accepted - TOWN_NOTICES.perWindow} escalation); see the rig's feed`,
    });
    const fromRig = view.feed(view.replica.doc).filter((e) => e.rig === "backend" && e.kind === "escalation");
    expect(fromRig).toHaveLength(TOWN_NOTICES.perWindow + 1);
    // Nothing lost: every accepted escalation is in the rig, and in its summary.
    const rigView = await watchRig(town, rig);
    expect(rigView.escalations().filter((e) => e.status === "open")).toHaveLength(accepted);
    expect(view.rig(view.replica.doc, "backend")!.summary.openEscalations).toBe(accepted);
  });

  it("beads closed per hour survive the document's retention (GT_RETAIN_CLOSED is 5 here), and a convoy bead gets doneAt", async () => {
    town = await makeTown(host, secret, "at");
    const view = await overview();
    const rig = await town.addRig("backend");
    await town.markReady(rig);
    const before = Date.now();
    const convoy = await town.townCall<ConvoyProgress>("gt_convoy_create", {
      title: "burn",
      beads: [
        { title: "one", rig: "backend" },
        { title: "two", rig: "backend" },
      ],
    });
    const own = [];
    for (let i = 0; i < 6; i++) own.push(await town.rigCall<{ id: string }>(rig, "gt_bead_create", { title: `bead ${i}` }));
    await view.when(
      (doc) =>
        doc
          .getMap<Convoy>("convoys")
          .get(convoy.id)
          ?.beads.every((b) => b.rev > 0)
          ? true
          : undefined,
      "convoy beads created",
    );
    for (const id of [convoy.beads[0]!.beadId, ...own.map((b) => b.id)]) await town.rigCall(rig, "gt_bead_update", { bead_id: id, status: "closed" });

    const summary = await view.when((doc) => {
      const s = view.rig(doc, "backend")?.summary;
      return s?.closedByHour?.reduce((a, b) => a + b, 0) === 7 ? s : undefined;
    }, "7 closings in the chart");
    expect(summary.closedByHour).toHaveLength(24);
    expect(summary.closedByHour![23]! + summary.closedByHour![22]!).toBe(7); // this hour (or the last, at a boundary)
    expect(summary.beads.closed).toBe(7);
    // Retention moves the longest-closed beads out of the rig's document; a summary sent after that
    // (a new bead) still counts all seven closings in the chart.
    const rigView = await watchRig(town, rig);
    await rigView.when(() => rigView.beads().filter((b) => b.status === "closed").length <= 5);
    await town.rigCall(rig, "gt_bead_create", { title: "after retention" });
    const later = await view.when((doc) => {
      const s = view.rig(doc, "backend")?.summary;
      return s && s.beads.open === 2 ? s : undefined;
    }, "a summary after retention");
    expect(rigView.beads().filter((b) => b.status === "closed").length).toBeLessThanOrEqual(5);
    expect(later.closedByHour!.reduce((a, b) => a + b, 0)).toBe(7);
    expect(later.beads.closed).toBe(7);

    const done = await view.when(
      (doc) =>
        doc
          .getMap<Convoy>("convoys")
          .get(convoy.id)
          ?.beads.find((b) => b.doneAt !== undefined),
      "doneAt",
    );
    expect(done.beadId).toBe(convoy.beads[0]!.beadId);
    expect(done.doneAt).toBeGreaterThanOrEqual(before);
    expect(view.replica.doc.getMap<Convoy>("convoys").get(convoy.id)!.beads[1]!.doneAt).toBeUndefined();
  });

  it("an agent going silent reaches the town (summary and feed) by the witness's ticks alone, with no other change", async () => {
    town = await makeTown(host, secret, "at");
    const view = await overview();
    const rig = await town.addRig("backend");
    const container = await standIn(town, rig);
    await container.ack("gt_rig_ready", { disk_bytes: 1 });
    const bead = await town.rigCall<{ id: string }>(rig, "gt_bead_create", { title: "Silent work" });
    const start = (await container.next((c) => c.command === "start_agent")) as StartAgentCommand;
    await container.ack("gt_agent_started", { as: start.identity, bead_id: bead.id, run: start.run });
    // Nobody vouches for the run (GT_WITNESS_TIMEOUT_MS is 3 s here): stalled, then dead.
    const item = await view.when(
      (doc) => view.rig(doc, "backend")?.summary.attention?.find((a) => a.kind === "agent" && a.id === start.identity),
      "the agent in the attention list",
    );
    expect(item.detail).toMatch(/^(stalled|dead)/);
    const line = await view.when(
      (doc) => view.feed(doc).find((e) => e.rig === "backend" && (e.kind === "stalled" || e.kind === "dead")),
      "stalled or dead in the town feed",
    );
    expect(line).toMatchObject({ agent: start.identity, bead: bead.id });
    expect(line.tone).toBe(line.kind === "dead" ? "bad" : "warn");
    container.stop();
  });
});
