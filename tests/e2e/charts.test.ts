/** The dashboard's charts in Chromium: a day of closed beads and the load per rig, and a convoy's burn-down. */
import { expect, it } from "vitest";
import type { Bead, ConvoyProgress } from "../../party/protocol.ts";
import { harness, live } from "./harness.ts";
import { standIn } from "./stand-in.ts";

const h = harness();

it("the overview draws 24 hourly bars per rig with this hour's closes, and working polecats of the maximum", async () => {
  const t = await h.town("bars");
  const alpha = await t.readyRig("alpha", { max_polecats: 3 });
  await t.readyRig("beta");
  const p = await h.page(t.url());
  await live(p);
  const charts = p.locator("[data-testid=rig-charts][data-rig=alpha]");
  await charts.waitFor();
  expect(await charts.locator("[data-testid=hour-bar]").count()).toBe(24);
  expect(await p.locator("[data-testid=rig-charts][data-rig=beta] [data-testid=hour-bar]").count()).toBe(24);

  for (const title of ["One", "Two"]) {
    const bead = await t.rigCall<Bead>(alpha, "gt_bead_create", { title });
    await t.rigCall(alpha, "gt_bead_update", { bead_id: bead.id, status: "closed" });
  }
  await charts.locator("[data-testid=closed-by-hour][data-total='2']").waitFor();
  expect(await charts.locator("[data-testid=hour-bar]").last().getAttribute("data-count")).toBe("2");
  // Readable at its size: drawn at least 150 × 40 px, with its axis: the busiest hour's count at the top, the first hour and "now" below.
  const bars = charts.locator("[data-testid=closed-by-hour]");
  const box = (await bars.boundingBox())!;
  expect(box.width).toBeGreaterThanOrEqual(150);
  expect(box.height).toBeGreaterThanOrEqual(40);
  expect(await bars.locator("[data-testid=hour-axis-top]").textContent()).toBe("2");
  expect(await bars.locator("[data-testid=hour-axis-start]").textContent()).toMatch(/^\d\d:00$/);
  expect(await bars.locator("text", { hasText: "now" }).count()).toBe(1);

  const container = await standIn(t, alpha);
  h.later(() => container.close());
  const bead = await t.rigCall<Bead>(alpha, "gt_bead_create", { title: "Work" });
  await container.started(await container.nextStart(bead.id));
  const load = charts.locator("[data-testid=rig-load]");
  await charts.locator("[data-testid=rig-load][data-working='1']").waitFor();
  expect(await load.getAttribute("data-max")).toBe("3");
});

it("a convoy's page draws its burn-down with a point per finished bead", async () => {
  const t = await h.town("burn");
  const alpha = await t.readyRig("alpha");
  const beta = await t.readyRig("beta");
  const convoy = await t.townCall<ConvoyProgress>("gt_convoy_create", {
    title: "Release 3",
    beads: [
      { title: "Notes", rig: "alpha" },
      { title: "Tag", rig: "alpha" },
      { title: "Publish", rig: "beta" },
      { title: "Announce", rig: "beta" },
    ],
  });
  const p = await h.page(t.url(`/convoys/${convoy.id}`));
  await live(p);
  const chart = p.locator("[data-testid=burn-down]");
  await chart.waitFor();
  expect(await chart.locator("[data-testid=burn-point]").count()).toBe(0);
  const byTitle = (title: string) => convoy.beads.find((b) => b.title === title)!;
  await t.rigCall(alpha, "gt_bead_update", { bead_id: byTitle("Notes").beadId, status: "closed" });
  await t.rigCall(beta, "gt_bead_update", { bead_id: byTitle("Publish").beadId, status: "closed" });
  await p.locator("[data-testid=burn-down][data-done='2']").waitFor();
  expect(await chart.locator("[data-testid=burn-point]").count()).toBe(2);
  expect(await chart.getAttribute("aria-label")).toContain("2 of 4 beads closed, 2 to go");
  // Real axes: every whole bead from 0 to 4 (not "4, 2, 0"), and distinct times increasing left to right.
  expect(await chart.locator("[data-testid=burn-y-tick]").allTextContents()).toEqual(["0", "1", "2", "3", "4"]);
  const times = chart.locator("[data-testid=burn-x-tick]");
  await expect.poll(() => times.count()).toBeGreaterThanOrEqual(2);
  const labels = await times.allTextContents();
  expect(new Set(labels).size, labels.join(" ")).toBe(labels.length);
  const ats = (await times.evaluateAll((els) => els.map((e) => Number(e.getAttribute("data-at"))))) as number[];
  expect(ats).toEqual([...ats].sort((a, b) => a - b));
  // A failed bead is not done work: no step for it, and the caption says so.
  await t.rigCall(alpha, "gt_bead_update", { bead_id: byTitle("Tag").beadId, status: "failed" });
  await p.locator("[data-testid=convoy-burn-down]", { hasText: "1 failed" }).waitFor();
  expect(await chart.locator("[data-testid=burn-point]").count()).toBe(2);
});
