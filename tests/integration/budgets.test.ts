/**
 * Usage and budgets (W22) on real `partykit dev`: a run's usage reported with its exit is stored
 * with the run and summed into its bead, its agent's day, the rig summary (today and by hour) and
 * the town's daily totals, once however often the exit is reported; a rig's daily budget reached
 * holds the next bead open with the figures (gt_bead_status, the summary's hold, a `budget`
 * attention item); raising it releases the bead to a polecat; the town's budget holds every rig
 * until it is cleared; gt_costs.
 */
import { afterEach, describe, expect, inject, it } from "vitest";
import type * as Y from "yjs";
import type {
  Agent,
  AgentLogResult,
  BeadStatusResult,
  Convoy,
  ConvoyProgress,
  BudgetSetResult,
  CostsResult,
  FeedEvent,
  Rig,
  StartAgentCommand,
  TownUsage,
  Usage,
} from "../../party/protocol.ts";
import { fails, makeTown, untilReplica, type TestTown } from "../helpers/town.ts";
import { standIn } from "../helpers/watch.ts";

const host = inject("partykitHost");
const secret = inject("gtSecret");
let town: TestTown;

afterEach(() => town?.closeAll());

const USED: Usage = { model: "claude-test", turns: 3, inputTokens: 1_000, outputTokens: 200, cacheReadTokens: 50, cacheWriteTokens: 10, costUsd: 1.2 };

async function overview() {
  const replica = town.replica("main", town.town);
  await replica.whenSynced();
  const rig = (doc: Y.Doc, name: string) => [...doc.getMap<Rig>("rigs").values()].find((r) => r.name === name);
  const usage = (doc: Y.Doc) => doc.getMap<TownUsage>("usage").get("town");
  const feed = (doc: Y.Doc) => doc.getArray<FeedEvent>("events").toArray();
  const when = <T>(predicate: (doc: Y.Doc) => T | undefined | false, label: string) => untilReplica(replica, predicate, 45_000, label);
  return { rig, usage, feed, when };
}

describe("usage per run and daily budgets (W22)", () => {
  it("a rig's budget reached holds the next bead open with the figures; raising it releases the bead; the run's usage counts once in the bead, the rig and the town", async () => {
    town = await makeTown(host, secret, "bu");
    const view = await overview();
    const rig = await town.addRig("backend");
    const container = await standIn(town, rig);
    await container.ack("gt_rig_ready", { disk_bytes: 1 });
    // A rig-scoped operator sets its own rig's budget, not another's nor the town's.
    const other = await town.addRig("frontend");
    const scoped = await town.token({ role: "operator", rig: rig.id });
    expect(await town.townCall<BudgetSetResult>("gt_budget_set", { rig: "backend", budget: { unit: "usd", daily: 1 } }, scoped)).toEqual({
      rig: "backend",
      budget: { unit: "usd", daily: 1 },
    });
    expect((await fails(town.townCall("gt_budget_set", { rig: other.name, budget: null }, scoped))).code).toBe("FORBIDDEN");
    expect((await fails(town.townCall("gt_budget_set", { budget: { unit: "usd", daily: 3 } }, scoped))).code).toBe("FORBIDDEN");
    expect((await fails(town.townCall("gt_budget_set", { rig: "backend", budget: { unit: "usd", daily: -1 } }))).code).toBe("INVALID_ARGS");
    await view.when((doc) => view.rig(doc, "backend")?.summary.usage?.budget?.daily === 1, "the rig's budget in its summary");

    // A bead with a model: its start carries it. Its run exits reporting $1.20: the budget is reached.
    const bead = await town.rigCall<{ id: string }>(rig, "gt_bead_create", { title: "Parse the config", model: "claude-opus-test" });
    const start = (await container.next((c) => c.command === "start_agent" && c.run === `${bead.id}.1`)) as StartAgentCommand;
    expect(start.model).toBe("claude-opus-test");
    expect(start.bead.model).toBe("claude-opus-test");
    await container.ack("gt_agent_started", { as: start.identity, bead_id: bead.id, run: start.run });
    await container.ack("gt_agent_exited", { as: start.identity, bead_id: bead.id, run: start.run, code: 1, usage: USED });
    // The same report again (a retry): counted once.
    await container.ack("gt_agent_exited", { as: start.identity, bead_id: bead.id, run: start.run, code: 1, usage: USED });

    // The bead waits open, and says why.
    const held = await town.rigCall<BeadStatusResult>(rig, "gt_bead_status", { bead_id: bead.id });
    expect(held.status).toBe("open");
    expect(held.hold).toMatchObject({ by: "rig", reason: "the rig's daily budget is reached ($1.20 of $1.00 today, UTC)" });
    expect(held.usage).toEqual({ runs: 1, inputTokens: 1_000, outputTokens: 200, cacheReadTokens: 50, cacheWriteTokens: 10, costUsd: 1.2, unpriced: 0 });
    // The run's record carries its usage.
    const log = await town.rigCall<AgentLogResult>(rig, "gt_agent_log", { bead_id: bead.id });
    expect(log.runs.find((r) => r.run === start.run)?.usage).toEqual(USED);
    // Its agent's day counts it once too (UTC).
    const agents = await town.rigCall<Agent[]>(rig, "gt_list_agents", {});
    expect(agents.find((a) => a.identity === start.identity)?.usage).toEqual({
      day: new Date().toISOString().slice(0, 10),
      today: { runs: 1, inputTokens: 1_000, outputTokens: 200, cacheReadTokens: 50, cacheWriteTokens: 10, costUsd: 1.2, unpriced: 0 },
    });

    // The summary: today's sums, this hour's spend, the hold and a budget attention item; the town's totals.
    const summary = await view.when((doc) => {
      const s = view.rig(doc, "backend")?.summary;
      return s?.usage?.hold && s.attention?.some((a) => a.kind === "budget") ? s : undefined;
    }, "the hold in the rig summary");
    expect(summary.usage!.today).toMatchObject({ runs: 1, costUsd: 1.2 });
    expect(summary.usage!.costByHour[23]).toBeCloseTo(1.2);
    expect(summary.usage!.tokensByHour[23]).toBe(1_260);
    expect(summary.attention!.find((a) => a.kind === "budget")).toMatchObject({
      id: rig.id,
      title: "backend",
      detail: "no new run starts: the rig's daily budget is reached ($1.20 of $1.00 today, UTC)",
    });
    const totals = await view.when((doc) => (view.usage(doc)?.today.runs === 1 ? view.usage(doc) : undefined), "the town's daily totals");
    expect(totals.today).toMatchObject({ runs: 1, costUsd: 1.2, inputTokens: 1_000 });
    await view.when(
      (doc) => view.feed(doc).some((e) => e.kind === "budget" && e.rig === "backend" && e.text.startsWith("backend: no new run starts")),
      "the hold in the town's feed",
    );
    // Nothing was started meanwhile: the bead's next run waits for the raise.
    expect(container.commands.some((c) => c.command === "start_agent" && c.run === `${bead.id}.2`)).toBe(false);

    // gt_costs: the town today, the rig's sums and hold.
    const costs = await town.townCall<CostsResult>("gt_costs", {});
    expect(costs.town.today).toMatchObject({ runs: 1, costUsd: 1.2 });
    expect(costs.rigs.find((r) => r.name === "backend")).toMatchObject({ today: { runs: 1 }, budget: { unit: "usd", daily: 1 }, hold: { by: "rig" } });

    // Raised: the bead goes to a polecat at once.
    await town.townCall("gt_budget_set", { rig: "backend", budget: { unit: "usd", daily: 5 } });
    const again = (await container.next((c) => c.command === "start_agent" && c.run === `${bead.id}.2`)) as StartAgentCommand;
    expect(again.bead.id).toBe(bead.id);
    const released = await town.rigCall<BeadStatusResult>(rig, "gt_bead_status", { bead_id: bead.id });
    expect(released.status).toBe("in_progress");
    expect(released.hold).toBeUndefined();
    await view.when(
      (doc) => !view.rig(doc, "backend")?.summary.usage?.hold && !view.rig(doc, "backend")?.summary.attention?.some((a) => a.kind === "budget"),
      "released",
    );
    container.stop();
  });

  it("the town's budget reached holds every rig; clearing it releases them", async () => {
    town = await makeTown(host, secret, "bt");
    const view = await overview();
    const rig = await town.addRig("backend");
    const container = await standIn(town, rig);
    await container.ack("gt_rig_ready", { disk_bytes: 1 });
    await town.townCall("gt_budget_set", { budget: { unit: "tokens", daily: 1_000 } });
    const bead = await town.rigCall<{ id: string }>(rig, "gt_bead_create", { title: "Write the docs" });
    const start = (await container.next((c) => c.command === "start_agent" && c.run === `${bead.id}.1`)) as StartAgentCommand;
    await container.ack("gt_agent_started", { as: start.identity, bead_id: bead.id, run: start.run });
    await container.ack("gt_agent_exited", { as: start.identity, bead_id: bead.id, run: start.run, code: 1, usage: { ...USED, costUsd: null } });
    const reached = await view.when((doc) => view.usage(doc)?.reached ?? undefined, "the town's budget reached");
    expect(reached.reason).toBe("the town's daily budget is reached (1,260 of 1,000 tokens today, UTC)");
    const hold = await view.when((doc) => view.rig(doc, "backend")?.summary.usage?.hold, "the rig held by the town");
    expect(hold).toMatchObject({ by: "town", reason: reached.reason });
    // The town learns of the spend after the run's bead was dispatched again; the next bead waits.
    const next = await town.rigCall<{ id: string }>(rig, "gt_bead_create", { title: "Write more docs" });
    const waiting = await town.rigCall<BeadStatusResult>(rig, "gt_bead_status", { bead_id: next.id });
    expect(waiting.status).toBe("open");
    expect(waiting.hold).toMatchObject({ by: "town", reason: reached.reason });
    // A rig added meanwhile holds too.
    const late = await town.addRig("frontend");
    await view.when((doc) => view.rig(doc, late.name)?.summary.usage?.hold?.by === "town", "the new rig held by the town");
    // Unpriced: its tokens count, its USD does not.
    expect((await town.townCall<CostsResult>("gt_costs", {})).town.today).toMatchObject({ runs: 1, costUsd: 0, unpriced: 1 });
    await town.townCall("gt_budget_set", { budget: null });
    await container.next((c) => c.command === "start_agent" && c.bead.id === next.id);
    await view.when(
      (doc) => view.usage(doc)?.reached === null && !view.rig(doc, "backend")?.summary.usage?.hold && !view.rig(doc, "frontend")?.summary.usage?.hold,
      "released by the town",
    );
    container.stop();
  });

  it("a convoy's bead carries its model to its run's start, and the convoy learns what the bead's runs used", async () => {
    town = await makeTown(host, secret, "bc");
    const view = await overview();
    const rig = await town.addRig("backend");
    const container = await standIn(town, rig);
    await container.ack("gt_rig_ready", { disk_bytes: 1 });
    const convoy = await town.townCall<ConvoyProgress>("gt_convoy_create", {
      title: "Release",
      beads: [{ title: "Tag it", rig: "backend", model: "gpt-test" }],
    });
    const beadId = convoy.beads[0]!.beadId;
    const start = (await container.next((c) => c.command === "start_agent" && c.run === `${beadId}.1`)) as StartAgentCommand;
    expect(start.model).toBe("gpt-test");
    await container.ack("gt_agent_started", { as: start.identity, bead_id: beadId, run: start.run });
    await container.ack("gt_agent_exited", { as: start.identity, bead_id: beadId, run: start.run, code: 1, usage: USED });
    const entry = await view.when(
      (doc) =>
        doc
          .getMap<Convoy>("convoys")
          .get(convoy.id)
          ?.beads.find((b) => b.usage),
      "the convoy bead's usage",
    );
    expect(entry.usage).toMatchObject({ runs: 1, costUsd: 1.2, inputTokens: 1_000 });
    container.stop();
  });
});
