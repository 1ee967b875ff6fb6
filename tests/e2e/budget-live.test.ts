/**
 * A daily budget end to end on real `partykit dev`: set from the dashboard, a run's reported usage
 * reaches it, the rig and its waiting bead say why nothing starts, the attention lane shows the
 * figures, and raising the budget from there lets work start again.
 */
import { expect, it } from "vitest";
import type { Bead, Usage } from "../../party/protocol.ts";
import { harness, live } from "./harness.ts";
import { standIn } from "./stand-in.ts";

const h = harness();
const USED: Usage = { model: "claude-sonnet-4-5", turns: 4, inputTokens: 1000, outputTokens: 200, cacheReadTokens: 50, cacheWriteTokens: 10, costUsd: 1.2 };

it("a budget set on the dashboard and reached holds the next run; the rig, its bead and the lane say why; raising it releases", async () => {
  const t = await h.town("held");
  const alpha = await t.readyRig("alpha");
  const container = await standIn(t, alpha);
  h.later(() => container.close());
  const p = await h.page(t.url("/rigs/alpha"));
  await live(p, 2);

  // Set: USD 1 a day.
  await p.locator("[data-testid=rig-spend-panel] [data-testid=open-budget]").click();
  const dialog = p.locator("[data-testid=budget-dialog]");
  await dialog.locator("input[name=daily]").fill("1");
  await dialog.locator("[data-testid=action-submit]").click();
  await dialog.waitFor({ state: "detached" });
  await p.locator("[data-testid=rig-budget]", { hasText: "Budget $0.00 of $1.00 today (0%)" }).waitFor();

  // A run reports $1.20 as it exits (before gt_done): the bead waits open, held by the budget.
  const bead = await t.rigCall<Bead>(alpha, "gt_bead_create", { title: "Parse the config" });
  const start = await container.nextStart(bead.id);
  await container.started(start);
  await t.rigCall(
    alpha,
    "gt_agent_exited",
    { as: start.identity, bead_id: bead.id, run: start.run, epoch: container.epoch, code: 1, usage: USED },
    t.container,
  );
  const hold = p.locator("[data-testid=budget-hold]");
  await hold.waitFor();
  expect(await hold.innerText()).toContain("the rig's daily budget is reached ($1.20 of $1.00 today, UTC)");
  expect(await p.locator("[data-testid=rig-budget]").innerText()).toBe("Budget $1.20 of $1.00 today (120%)");
  expect(await p.locator("[data-testid=rig-spend-today]").innerText()).toBe("$1.20 · 1.3k tokens · 1 run");

  await p.goto(t.url(`/rigs/alpha/beads/${bead.id}`));
  await p.locator("[data-testid=bead-hold] [data-testid=budget-hold]").waitFor();
  expect(await p.locator("[data-testid=bead-status]").innerText()).toMatch(/open/i);
  expect(await p.locator("[data-testid=bead-usage]").innerText()).toBe("$1.20 · 1.3k tokens · 1 run");

  // The lane: the budget item with its figures; raised from there, the rig dispatches again.
  await p.goto(t.url());
  const item = p.locator("[data-testid=attention-item][data-kind=budget][data-rig=alpha]");
  await item.waitFor();
  expect(await item.locator("[data-testid=attention-budget-figures]").innerText()).toBe("Rig: $1.20 of $1.00 today (120%)");
  expect(await p.locator("[data-testid=rig-card][data-rig=alpha] [data-testid=rig-alerts]").innerText()).toContain("on hold: budget");
  await item.locator("[data-testid=open-budget]").click();
  await dialog.locator("input[name=daily]").fill("5");
  await dialog.locator("[data-testid=action-submit]").click();
  await item.waitFor({ state: "detached" });
  const next = await container.nextStart(bead.id, [start]);
  expect(next.run).toBe(`${bead.id}.2`);
});
