/**
 * Usage, spend and budgets on the dashboard, in Chromium. The sums are documents the test writes
 * (doc-stand-in.ts: the rooms' usage sums, a day of spend, a budget reached), served in place of
 * the rooms' own; the budget control calls the real town room (tests/e2e/budget-live.test.ts has
 * the whole path on the real rooms).
 */
import * as Y from "yjs";
import { expect, it } from "vitest";
import type { AgentLogResult, Bead, Convoy, RigUsage, TownUsage, UsageTotals } from "../../party/protocol.ts";
import { harness, live } from "./harness.ts";
import { rigRecord, serveDoc } from "./doc-stand-in.ts";
import { standIn } from "./stand-in.ts";

const h = harness();

const totals = (over: Partial<UsageTotals>): UsageTotals => ({
  runs: 0,
  inputTokens: 0,
  outputTokens: 0,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
  costUsd: 0,
  unpriced: 0,
  ...over,
});
const hours = (last: Record<number, number>) => Array.from({ length: 24 }, (_, i) => last[23 - i] ?? 0);
const today = new Date().toISOString().slice(0, 10);

/** A town of two rigs: alpha priced and under its budget; beta's runs unpriced, held by its token budget. */
function spendTown(ids: { alpha: string; beta: string }) {
  const doc = new Y.Doc();
  const alphaUsage: RigUsage = {
    day: today,
    today: totals({ runs: 2, inputTokens: 30_000, outputTokens: 12_000, cacheReadTokens: 3000, costUsd: 1.2 }),
    costByHour: hours({ 0: 0.8, 2: 0.4 }),
    tokensByHour: hours({ 0: 30_000, 2: 15_000 }),
    budget: { unit: "usd", daily: 5 },
  };
  const heldSince = Date.now() - 120_000;
  const betaUsage: RigUsage = {
    day: today,
    today: totals({ runs: 3, inputTokens: 150_000, outputTokens: 60_000, unpriced: 3 }),
    costByHour: hours({}),
    tokensByHour: hours({ 0: 110_000, 1: 100_000 }),
    budget: { unit: "tokens", daily: 200_000 },
    hold: { by: "rig", since: heldSince, reason: "its daily budget of 200,000 tokens is reached (210,000 used today)" },
  };
  doc.transact(() => {
    const rigs = doc.getMap("rigs");
    rigs.set(ids.alpha, rigRecord(ids.alpha, "alpha", { usage: alphaUsage }));
    rigs.set(
      ids.beta,
      rigRecord(ids.beta, "beta", {
        usage: betaUsage,
        beads: { open: 1, in_progress: 0, in_review: 0, closed: 0, failed: 0 },
        attention: [{ kind: "budget", id: ids.beta, title: "beta", detail: "daily budget reached: 210,000 of 200,000 tokens", at: heldSince }],
      }),
    );
    const town: TownUsage = {
      day: today,
      today: totals({ runs: 5, inputTokens: 180_000, outputTokens: 72_000, cacheReadTokens: 3000, costUsd: 1.2, unpriced: 3 }),
      days: [{ day: "2000-01-01", totals: totals({ runs: 4, inputTokens: 1000, costUsd: 0.5 }) }],
      budget: { unit: "usd", daily: 10 },
      reached: null,
      updatedAt: Date.now(),
    };
    doc.getMap("usage").set("town", town);
  });
  return doc;
}

it("rig cards, the overview and the attention lane show today's spend and budgets; unknown cost is said, not $0", async () => {
  const t = await h.town("spend");
  const alpha = await t.readyRig("alpha");
  const beta = await t.readyRig("beta");
  const doc = spendTown({ alpha: alpha.id, beta: beta.id });
  const p = await h.page("about:blank");
  await serveDoc(p, /\/docs\/town/, doc);
  await p.goto(t.url());
  await live(p);

  const alphaSpend = p.locator("[data-testid=rig-card][data-rig=alpha] [data-testid=rig-spend]");
  expect(await alphaSpend.innerText()).toBe("Today $1.20 · 45k tokens · budget $5.00");
  const betaCard = p.locator("[data-testid=rig-card][data-rig=beta]");
  expect(await betaCard.locator("[data-testid=rig-spend]").innerText()).toBe("Today cost unknown (3 runs unpriced) · 210k tokens · budget 200k tokens");
  expect(await betaCard.locator("[data-testid=rig-alerts]").innerText()).toContain("on hold: budget");

  expect(await p.locator("[data-testid=town-totals-spend]").innerText()).toBe("today $1.20 + 3 runs unpriced");
  const town = p.locator("[data-testid=town-spend]");
  expect(await town.locator("[data-testid=town-spend-today]").innerText()).toBe("$1.20 + 3 runs unpriced · 255k tokens · 5 runs");
  expect(await town.locator("[data-testid=town-budget]").innerText()).toBe("Budget $1.20 of $10.00 today (12%); 3 runs unpriced not counted");
  expect(await town.locator("[data-testid=town-spend-days]").innerText()).toContain("2000-01-01");

  // The budget item: the room's words and the figures now, with the control to raise or clear it.
  const item = p.locator("[data-testid=attention-item][data-kind=budget][data-rig=beta]");
  expect(await item.locator("[data-testid=attention-detail]").innerText()).toContain("daily budget reached: 210,000 of 200,000 tokens");
  expect(await item.locator("[data-testid=attention-budget-figures]").innerText()).toBe("Rig: 210k of 200k tokens today (105%)");
  await item.locator("[data-testid=open-budget]").waitFor();

  // Live: a run ends in alpha, and its card says so without a reload.
  doc.transact(() => {
    const rigs = doc.getMap<ReturnType<typeof rigRecord>>("rigs");
    const rig = rigs.get(alpha.id)!;
    rigs.set(alpha.id, {
      ...rig,
      summary: { ...rig.summary, usage: { ...rig.summary.usage!, today: totals({ runs: 3, inputTokens: 50_000, costUsd: 2.5 }) } },
    });
  });
  await p.locator("[data-testid=rig-card][data-rig=alpha] [data-testid=rig-spend]", { hasText: "Today $2.50 · 50k tokens" }).waitFor();
});

it("the rig page charts spend per hour on a real axis, says a hold and why; its waiting bead says so too", async () => {
  const t = await h.town("chart");
  const alpha = await t.readyRig("alpha");
  const beta = await t.readyRig("beta");
  const doc = spendTown({ alpha: alpha.id, beta: beta.id });
  const bead: Bead = {
    id: "01JZZZZZZZZZZZZZZZZZZZZZZZ",
    title: "Write the changelog",
    body: "",
    model: "claude-haiku-4-5",
    usage: totals({ runs: 1, inputTokens: 9000, outputTokens: 1000, unpriced: 1 }),
    status: "open",
    priority: "medium",
    requires: [],
    createdAt: Date.now() - 60_000,
    updatedAt: Date.now() - 60_000,
  };
  const rigDoc = new Y.Doc();
  rigDoc.getMap("beads").set(bead.id, bead);
  const p = await h.page("about:blank");
  await serveDoc(p, /\/docs\/town/, doc);
  await serveDoc(p, /\/docs\/rig/, rigDoc);

  await p.goto(t.url("/rigs/alpha"));
  await live(p, 2);
  const panel = p.locator("[data-testid=rig-spend-panel]");
  expect(await panel.locator("[data-testid=rig-spend-today]").innerText()).toBe("$1.20 · 45k tokens · 2 runs");
  expect(await panel.locator("[data-testid=rig-budget]").innerText()).toBe("Budget $1.20 of $5.00 today (24%)");
  const chart = panel.locator("[data-testid=spend-chart]");
  expect(await chart.getAttribute("data-unit")).toBe("usd");
  expect(await chart.locator("[data-testid=spend-bar]").count()).toBe(24);
  expect(await chart.locator("[data-testid=spend-bar]").last().getAttribute("data-value")).toBe("0.8");
  // A real axis: round steps from $0 past the highest hour ($0.80).
  expect(await chart.locator("[data-testid=spend-tick]").allTextContents()).toEqual(["$0.00", "$0.50", "$1.00"]);
  const top = await chart.locator("[data-testid=spend-bar]").last().boundingBox();
  const lower = await chart.locator("[data-testid=spend-bar]").nth(21).boundingBox();
  expect(top!.height).toBeCloseTo(lower!.height * 2, 0);
  expect(await p.locator("[data-testid=budget-hold]").count()).toBe(0);

  // beta: held by its budget; the page says why, its chart counts tokens (no run had a price).
  await p.goto(t.url("/rigs/beta"));
  const hold = p.locator("[data-testid=budget-hold]").first();
  await hold.waitFor();
  expect(await hold.innerText()).toMatch(/^On hold for its budget \(since .*\): its daily budget of 200,000 tokens is reached \(210,000 used today\)\./);
  expect(await p.locator("[data-testid=spend-chart]").getAttribute("data-unit")).toBe("tokens");
  expect(await p.locator("[data-testid=rig-spend-today]").innerText()).toBe("cost unknown (3 runs unpriced) · 210k tokens · 3 runs");

  // Its open bead waits on that hold, and says so; its model and what its runs used.
  await p.goto(t.url(`/rigs/beta/beads/${bead.id}`));
  await p.locator("[data-testid=bead-hold] [data-testid=budget-hold]").waitFor();
  expect(await p.locator("[data-testid=bead-detail]").innerText()).toContain("waiting: the rig's budget holds new runs");
  expect(await p.locator("[data-testid=bead-model]").innerText()).toBe("claude-haiku-4-5");
  expect(await p.locator("[data-testid=bead-usage]").innerText()).toBe("cost unknown (1 run unpriced) · 10k tokens · 1 run");
});

it("a convoy's page sums what its beads used", async () => {
  const t = await h.town("csum");
  const alpha = await t.readyRig("alpha");
  const beta = await t.readyRig("beta");
  const doc = spendTown({ alpha: alpha.id, beta: beta.id });
  const convoy: Convoy = {
    id: "01JYYYYYYYYYYYYYYYYYYYYYYY",
    title: "Launch",
    status: "open",
    createdAt: Date.now() - 600_000,
    beads: [
      {
        rigId: alpha.id,
        rigName: "alpha",
        beadId: "01JXXXXXXXXXXXXXXXXXXXXXX1",
        title: "API",
        status: "closed",
        reason: "r",
        rev: 1,
        usage: totals({ runs: 1, inputTokens: 8000, costUsd: 0.5 }),
      },
      {
        rigId: alpha.id,
        rigName: "alpha",
        beadId: "01JXXXXXXXXXXXXXXXXXXXXXX2",
        title: "Form",
        status: "in_progress",
        reason: "r",
        rev: 1,
        usage: totals({ runs: 2, inputTokens: 2000, costUsd: 0.2, unpriced: 1 }),
      },
      { rigId: beta.id, rigName: "beta", beadId: "01JXXXXXXXXXXXXXXXXXXXXXX3", title: "Docs", status: "open", reason: "r", rev: 1 },
    ],
  };
  doc.getMap("convoys").set(convoy.id, convoy);
  const p = await h.page("about:blank");
  await serveDoc(p, /\/docs\/town/, doc);
  await p.goto(t.url(`/convoys/${convoy.id}`));
  await live(p);
  expect(await p.locator("[data-testid=convoy-spend]").innerText()).toBe("used $0.70 + 1 run unpriced · 10k tokens · 3 runs");
  expect(await p.locator("[data-testid=convoy-bead-spend]").allInnerTexts()).toEqual(["$0.50", "$0.20 + 1 run unpriced"]);
});

it("each run's model, tokens and cost on the bead's runs (an unknown cost said so)", async () => {
  const t = await h.town("runuse");
  const alpha = await t.readyRig("alpha");
  const bead = await t.rigCall<Bead>(alpha, "gt_bead_create", { title: "Priced work" });
  const run = (n: number, costUsd: number | null) => ({
    run: `${bead.id}.${n}`,
    identity: "alpha/polecats/toast",
    beadId: bead.id,
    startedAt: Date.now() - 60_000 * n,
    endedAt: Date.now() - 50_000 * n,
    exit: "exit 0",
    lines: 0,
    bytes: 0,
    dropped: 0,
    usage: { model: "claude-sonnet-4-5", turns: 3, inputTokens: 10_000, outputTokens: 2000, cacheReadTokens: 300, cacheWriteTokens: 0, costUsd },
  });
  const runs = [run(2, null), run(1, 0.05)];
  const p = await h.page("about:blank");
  // The rig room's log reader, as it answers once runs carry usage (the usage work's RunInfo.usage).
  await p.route(/\/api\/gt_agent_log$/, async (route) => {
    const asked = JSON.parse(route.request().postData() ?? "{}") as { run?: string };
    const chosen = runs.find((r) => r.run === asked.run) ?? runs[0]!;
    const value: AgentLogResult = { run: chosen, runs, lines: [], next: 0 };
    await route.fulfill({ contentType: "application/json", body: JSON.stringify({ ok: true, value }) });
  });
  await p.goto(t.url(`/rigs/alpha/beads/${bead.id}`));
  const usage = p.locator("[data-testid=bead-run-usage]");
  await usage.waitFor();
  expect(await usage.innerText()).toBe("Used: claude-sonnet-4-5 · 3 turns · 12k tokens · cost unknown");
  await p.locator(`[data-testid=bead-run][data-run="${bead.id}.1"]`).click();
  await p.locator("[data-testid=bead-run-usage]", { hasText: "$0.05" }).waitFor();
  expect(await usage.innerText()).toBe("Used: claude-sonnet-4-5 · 3 turns · 12k tokens · $0.05");
});

it("an operator sets, raises and clears a rig's daily budget; a bad figure is refused before anything is sent", async () => {
  const t = await h.town("budget");
  const alpha = await t.readyRig("alpha");
  const beta = await t.readyRig("beta");
  const doc = spendTown({ alpha: alpha.id, beta: beta.id });
  const p = await h.page("about:blank");
  await serveDoc(p, /\/docs\/town/, doc);
  const sent: unknown[] = [];
  p.on("request", (r) => r.url().includes("gt_budget_set") && sent.push(JSON.parse(r.postData() ?? "null")));
  await p.goto(t.url("/rigs/alpha"));
  await live(p, 2);

  await p.locator("[data-testid=rig-spend-panel] [data-testid=open-budget]").click();
  const dialog = p.locator("[data-testid=budget-dialog]");
  expect(await dialog.locator("select[name=unit]").inputValue()).toBe("usd");
  expect(await dialog.locator("input[name=daily]").inputValue()).toBe("5");
  expect(await dialog.locator("[data-testid=budget-explain]").innerText()).toMatch(/A run already going is not stopped/);
  await dialog.locator("input[name=daily]").fill("lots");
  await dialog.locator("[data-testid=action-submit]").click();
  expect(await dialog.locator("[data-testid=field-error][data-field=daily]").innerText()).toMatch(/^A daily amount in USD above 0/);
  expect(sent).toEqual([]);

  // Raise it: what is sent is the rig's name and the new budget; the dialog closes once the town takes it.
  await dialog.locator("input[name=daily]").fill("12.50");
  const answered = p.waitForResponse((r) => r.url().includes("gt_budget_set"));
  await dialog.locator("[data-testid=action-submit]").click();
  const reply = (await (await answered).json()) as { ok: boolean; error?: { message: string } };
  expect(sent).toEqual([{ rig: "alpha", budget: { unit: "usd", daily: 12.5 } }]);
  expect(reply.ok).toBe(true);
  await dialog.waitFor({ state: "detached" });

  await p.locator("[data-testid=rig-spend-panel] [data-testid=open-budget]").click();
  await dialog.locator("select[name=unit]").selectOption("tokens");
  await dialog.locator("[data-testid=budget-clear]").click();
  await expect.poll(() => sent.length).toBe(2);
  expect(sent[1]).toEqual({ rig: "alpha", budget: null });
});

it("an operator sets the town's daily budget from the overview", async () => {
  const t = await h.town("townbudget");
  const alpha = await t.readyRig("alpha");
  const beta = await t.readyRig("beta");
  const doc = spendTown({ alpha: alpha.id, beta: beta.id });
  const p = await h.page("about:blank");
  await serveDoc(p, /\/docs\/town/, doc);
  const sent: unknown[] = [];
  p.on("request", (r) => r.url().includes("gt_budget_set") && sent.push(JSON.parse(r.postData() ?? "null")));
  await p.goto(t.url());
  await live(p);
  await p.locator("[data-testid=town-spend] [data-testid=open-budget]").click();
  const dialog = p.locator("[data-testid=budget-dialog]");
  expect(await dialog.locator("h2").innerText()).toBe("Daily budget of the town");
  expect(await dialog.locator("input[name=daily]").inputValue()).toBe("10");
  await dialog.locator("select[name=unit]").selectOption("tokens");
  await dialog.locator("input[name=daily]").fill("2M");
  await dialog.locator("[data-testid=action-submit]").click();
  await expect.poll(() => sent.length).toBe(1);
  expect(sent[0]).toEqual({ budget: { unit: "tokens", daily: 2_000_000 } });
});

it("the agent page says what its run used, and what its runs used today", async () => {
  const t = await h.town("agentuse");
  const alpha = await t.readyRig("alpha");
  const container = await standIn(t, alpha);
  h.later(() => container.close());
  const bead = await t.rigCall<Bead>(alpha, "gt_bead_create", { title: "Priced work" });
  const start = await container.nextStart(bead.id);
  await container.started(start);
  const p = await h.page("about:blank");
  // The output socket as the rig room answers once runs carry usage (the usage work's RunInfo.usage).
  await p.routeWebSocket(/\/output\//, (ws) => {
    const run = { run: start.run, identity: start.identity, beadId: bead.id, startedAt: Date.now() - 30_000, lines: 1, bytes: 5, dropped: 0 };
    const usage = { model: "claude-sonnet-4-5", turns: 3, inputTokens: 10_000, outputTokens: 2000, cacheReadTokens: 300, cacheWriteTokens: 0, costUsd: 0.05 };
    ws.send(JSON.stringify({ type: "output", run: { ...run, usage }, lines: [{ seq: 1, at: Date.now(), stream: "out", text: "hello" }] }));
  });
  await p.goto(t.url(`/rigs/alpha/agents/${start.name}`));
  const used = p.locator("[data-testid=output-run-usage]");
  await used.waitFor();
  expect((await used.innerText()).trim()).toBe("· used claude-sonnet-4-5 · 3 turns · 12k tokens · $0.05");
  // Nothing counted yet today; the run's exit reports its usage (cost unknown): the agent's day counts it, said unpriced, not $0.
  const today = p.locator("[data-testid=agent-usage-today]");
  expect((await today.innerText()).trim()).toBe("today: no usage reported");
  const usage = { model: "claude-sonnet-4-5", turns: 3, inputTokens: 10_000, outputTokens: 2000, cacheReadTokens: 300, cacheWriteTokens: 0, costUsd: null };
  await container.exit(start, 1, usage);
  await expect.poll(async () => (await today.innerText()).trim()).toBe("today: cost unknown (1 run unpriced) · 12k tokens · 1 run");
});
