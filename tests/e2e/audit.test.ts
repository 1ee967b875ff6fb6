/**
 * Find and look back, in Chromium: who did what on a bead's, an agent's and the town's pages
 * (paged with "Older"; not shown to a viewer); the "/" search finding a bead, an agent, a mail and
 * a convoy and opening each; the board's filters and sort kept in the address across a reload.
 */
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { expect, it } from "vitest";
import type { Bead, ConvoyProgress } from "../../party/protocol.ts";
import { harness, live } from "./harness.ts";

const h = harness();
/** With SCREENSHOTS=1 the audit trail's screenshots go to docs/screenshots/, else to a temp dir (still taken: the page must fit a phone). */
const SHOTS = process.env.SCREENSHOTS === "1" ? resolve(import.meta.dirname, "../../docs/screenshots") : mkdtempSync(join(tmpdir(), "townhall-audit-shots-"));

it("shows who did what, with notes, on the bead, agent and town pages, paged; a viewer sees no trail", async () => {
  const t = await h.town("audit");
  const alpha = await t.readyRig("alpha");
  const ada = await t.token({ role: "operator", sub: "ada" });
  const bead = await t.rigCall<Bead>(alpha, "gt_bead_create", { title: "Audit me" }, ada);
  // 11 fail-and-retry rounds: 23 entries on this bead, more than one page (20).
  for (let i = 0; i < 11; i++) {
    await t.rigCall(alpha, "gt_bead_update", { bead_id: bead.id, status: "failed" }, ada);
    await t.rigCall(alpha, "gt_bead_retry", { bead_id: bead.id, note: `round ${i}: flaky runner` }, ada);
  }
  await t.rigCall(alpha, "gt_mail_send", { to: "alpha/witness", subject: "Heads up", body: "restarting later" }, ada);
  await t.townCall("gt_sling", { title: "Slung by ada", rig: "alpha" }, ada);

  const p = await h.page(t.url(`/rigs/alpha/beads/${bead.id}`, ada));
  const trail = p.locator("[data-testid=bead-audit]");
  await trail.locator("[data-testid=audit-entry]").first().waitFor();
  expect(await trail.locator("[data-testid=audit-entry]").count()).toBe(20);
  const newest = trail.locator("[data-testid=audit-entry]").first();
  expect(await newest.getAttribute("data-action")).toBe("bead_retry");
  expect(await newest.locator("[data-testid=audit-who]").textContent()).toBe("ada");
  expect(await newest.locator("[data-testid=audit-what]").textContent()).toBe('retried bead "Audit me"');
  expect(await newest.locator("[data-testid=audit-note]").textContent()).toBe("Note: round 10: flaky runner");
  await trail.locator("[data-testid=audit-older]").click();
  await trail.locator("[data-testid=audit-entry]").nth(22).waitFor();
  expect(await trail.locator("[data-testid=audit-entry]").count()).toBe(23);
  expect(await trail.locator("[data-testid=audit-entry]").last().getAttribute("data-action")).toBe("bead_create");
  expect(await trail.locator("[data-testid=audit-older]").count()).toBe(0);

  // An action taken on the page shows in the trail without a reload.
  await t.rigCall(alpha, "gt_bead_update", { bead_id: bead.id, status: "closed" }, ada);
  await trail.locator("[data-testid=audit-entry][data-action=bead_close]").waitFor();

  await p.goto(t.url("/rigs/alpha/agents/witness", ada));
  const agentTrail = p.locator("[data-testid=agent-audit]");
  await agentTrail.locator("[data-testid=audit-entry][data-action=mail_send]").waitFor();
  expect(await agentTrail.locator("[data-testid=audit-what]").first().textContent()).toBe('sent mail as operator to alpha/witness: "Heads up"');

  await p.goto(t.url("", ada));
  await p.locator("[data-testid=nav-audit]").click();
  const townTrail = p.locator("[data-testid=audit]");
  await townTrail.locator("[data-testid=audit-entry][data-action=sling]").waitFor();
  expect(await townTrail.locator("[data-testid=audit-entry][data-action=sling] [data-testid=audit-what]").textContent()).toBe(
    'slung bead "Slung by ada" to rig alpha',
  );
  expect(await townTrail.locator("[data-testid=audit-entry][data-action=rig_add] [data-testid=audit-who]").textContent()).toBe("operator");
  mkdirSync(SHOTS, { recursive: true });
  await p.goto(t.url(`/rigs/alpha/beads/${bead.id}`, ada));
  await trail.locator("[data-testid=audit-entry]").first().waitFor();
  for (const [width, height] of [
    [1440, 900],
    [360, 780],
  ] as const) {
    await p.setViewportSize({ width, height });
    await trail.evaluate((el) => window.scrollTo(0, el.getBoundingClientRect().top + window.scrollY - 120));
    expect(await p.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);
    await p.screenshot({ path: join(SHOTS, `audit-trail-${width}.png`) });
  }

  // A viewer (and so a share link) sees no trail: no section on the bead page, and the town's page says whose it is.
  const v = await h.page(t.url(`/rigs/alpha/beads/${bead.id}`, t.viewer));
  await v.locator("[data-testid=bead-detail]").waitFor();
  await live(v, 2);
  expect(await v.locator("[data-testid=bead-audit]").count()).toBe(0);
  expect(await v.locator("[data-testid=nav-audit]").count()).toBe(0);
  await v.goto(t.url("/audit", t.viewer));
  await v.locator("[data-testid=audit-refused]").waitFor();
  expect(await v.locator("[data-testid=audit-entry]").count()).toBe(0);
});

it("'/' finds a bead, an agent, a mail and a convoy, grouped by kind, and opens each from the keyboard", async () => {
  const t = await h.town("search");
  const alpha = await t.readyRig("alpha");
  await t.readyRig("beta");
  const bead = await t.rigCall<Bead>(alpha, "gt_bead_create", { title: "Quokka parser" });
  await t.rigCall(alpha, "gt_mail_send", { to: "alpha/witness", subject: "Wombat report", body: "see the logs" });
  const convoy = await t.townCall<ConvoyProgress>("gt_convoy_create", { title: "Numbat release", beads: [{ title: "Numbat tag", rig: "alpha" }] });

  const p = await h.page(t.url("/rigs/alpha"));
  await live(p, 2);
  await p.locator(`[data-testid=bead-card][data-bead="${bead.id}"]`).waitFor();
  const find = async (text: string) => {
    await p.locator("body").click({ position: { x: 2, y: 2 } });
    await p.keyboard.press("/");
    await p.waitForFunction(() => document.activeElement?.getAttribute("data-testid") === "search-input");
    await p.keyboard.type(text);
    await p.locator("[data-testid=search-hit]").first().waitFor();
  };

  await find("quokka");
  expect(await p.locator("[data-testid=search-group]").evaluateAll((els) => els.map((e) => e.getAttribute("data-kind")))).toEqual(["bead"]);
  // The other rig's document is not open: the results say it was not searched.
  expect(await p.locator("[data-testid=search-not-searched]").textContent()).toContain("rig beta");
  await p.keyboard.press("Enter");
  await p.waitForURL(`**/rigs/alpha/beads/${bead.id}`);
  await p.locator("[data-testid=bead-title]", { hasText: "Quokka parser" }).waitFor();

  await find("witness");
  expect(await p.locator("[data-testid=search-hit][data-kind=agent]").first().textContent()).toContain("alpha/witness");
  await p.keyboard.press("Enter");
  await p.waitForURL("**/rigs/alpha/agents/witness");
  await p.locator("[data-testid=agent-detail]").waitFor();

  await find("wombat");
  expect(await p.locator("[data-testid=search-hit]").evaluateAll((els) => els.map((e) => e.getAttribute("data-kind")))).toEqual(["mail"]);
  await p.keyboard.press("Enter");
  await p.waitForURL("**/rigs/alpha/agents/witness#inbox");
  await p.locator("[data-testid=agent-inbox]", { hasText: "Wombat report" }).waitFor();

  // Two hits (the convoy and its bead): the arrow keys move to the convoy.
  await find("numbat");
  expect(await p.locator("[data-testid=search-group]").evaluateAll((els) => els.map((e) => e.getAttribute("data-kind")))).toEqual(["bead", "convoy"]);
  await p.keyboard.press("ArrowDown");
  expect(await p.locator("[data-testid=search-hit][aria-selected=true]").getAttribute("data-kind")).toBe("convoy");
  await p.keyboard.press("Enter");
  await p.waitForURL(`**/convoys/${convoy.id}`);
  await p.getByText("Numbat release").first().waitFor();
});

it("keeps the board's filters and sort in the address: a reload shows the same board, and the token stays out", async () => {
  const t = await h.town("filters");
  const alpha = await t.readyRig("alpha");
  const high = await t.rigCall<Bead>(alpha, "gt_bead_create", { title: "Parser high", priority: "high" });
  const low = await t.rigCall<Bead>(alpha, "gt_bead_create", { title: "Parser low", priority: "low" });
  const other = await t.rigCall<Bead>(alpha, "gt_bead_create", { title: "Unrelated", priority: "high" });
  const p = await h.page(t.url("/rigs/alpha"));
  await live(p, 2);
  await p.locator(`[data-testid=bead-card][data-bead="${other.id}"]`).waitFor();
  await p.locator("[data-testid=board-filter-text]").fill("parser");
  await p.locator("[data-testid=board-filter-priority] button", { hasText: "high" }).click();
  await p.locator("[data-testid=board-filter-status] button", { hasText: "Open" }).click();
  await p.locator("[data-testid=board-sort]").selectOption("title");
  await p.waitForURL((url) => url.searchParams.get("sort") === "title");
  const url = new URL(p.url());
  expect(Object.fromEntries(url.searchParams)).toEqual({ q: "parser", priority: "high", status: "open", sort: "title" });
  const shown = () => p.locator("[data-testid=bead-card]").evaluateAll((els) => els.map((e) => e.getAttribute("data-bead")));
  await p.locator(`[data-testid=bead-card][data-bead="${low.id}"]`).waitFor({ state: "detached" });
  expect(await shown()).toEqual([high.id]);
  expect(
    await p
      .locator("[data-testid^=column-]")
      .evaluateAll((els) => els.map((e) => e.getAttribute("data-testid")).filter((id) => !id!.includes("count") && !id!.includes("archived"))),
  ).toEqual(["column-open"]);

  await p.reload();
  await live(p, 2);
  await p.locator(`[data-testid=bead-card][data-bead="${high.id}"]`).waitFor();
  expect(await shown()).toEqual([high.id]);
  expect(await p.locator("[data-testid=board-filter-text]").inputValue()).toBe("parser");
  expect(await p.locator("[data-testid=board-sort]").inputValue()).toBe("title");
  expect(p.url()).not.toContain("token=");

  // Shared: the same address in a fresh page (with a token that leaves it) shows the same board.
  const shared = await h.page(`${url.origin}${url.pathname}${url.search}&token=${t.operator}`);
  await live(shared, 2);
  await shared.locator(`[data-testid=bead-card][data-bead="${high.id}"]`).waitFor();
  expect(await shared.locator("[data-testid=bead-card]").count()).toBe(1);
  expect(shared.url()).not.toContain("token=");
  expect(new URL(shared.url()).searchParams.get("q")).toBe("parser");
});
