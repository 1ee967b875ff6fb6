/**
 * Large towns stay fast: a rig of 10k beads renders and scrolls with a bounded DOM (virtualised
 * columns), an overview of 20 rigs opens from the town socket alone, and no town-level view
 * (overview and its attention lane, town mail, a convoy) opens a rig's socket.
 */
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import type { Browser } from "playwright-core";
import { launch, open } from "./browser.ts";
import { e2eTown } from "./fixtures.ts";

const host = inject("e2eHost");
const secret = inject("e2eSecret");
let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

it("the overview of 20 rigs opens from the town socket alone", async () => {
  const t = await e2eTown(host, secret, "twenty");
  const names = Array.from({ length: 20 }, (_, i) => `rig-${String(i).padStart(2, "0")}`);
  for (const name of names) await t.readyRig(name);
  const o = await open(browser, "about:blank");
  const sockets: string[] = [];
  o.page.on("websocket", (ws) => sockets.push(new URL(ws.url()).pathname));
  const t0 = Date.now();
  await o.page.goto(t.url());
  await o.page.locator("[data-testid=rig-card]").nth(19).waitFor();
  const ms = Date.now() - t0;
  console.log(`overview of 20 rigs: all cards shown ${ms} ms after navigation, sockets: ${sockets.join(", ")}`);
  expect(await o.page.locator("[data-testid=rig-card]").count()).toBe(20);
  expect(sockets).toEqual([`/parties/main/${t.town}/docs/town`]);
  expect(o.errors).toEqual([]);
  await o.context.close();
  t.closeAll();
});

it("town-level views (overview, town mail, a convoy) open the town's sockets only, never a rig's", async () => {
  const t = await e2eTown(host, secret, "townonly");
  const names = ["alpha", "beta", "gamma"];
  for (const name of names) await t.readyRig(name);
  const convoy = await t.townCall<{ id: string }>("gt_convoy_create", { title: "Spread", beads: names.map((rig) => ({ title: `work in ${rig}`, rig })) });
  await t.townCall("gt_mail_send", { to: "mayor", subject: "Town only", body: "" });
  const o = await open(browser, "about:blank");
  const sockets: string[] = [];
  o.page.on("websocket", (ws) => sockets.push(new URL(ws.url()).pathname));
  const views: [string, string][] = [
    ["", "[data-testid=rig-card][data-rig=gamma]"],
    ["/mail", "[data-testid=town-mail-panel] [data-testid=mail-subject]:has-text('Town only')"],
    [`/convoys/${convoy.id}`, "[data-testid=convoy-title]:has-text('Spread')"],
  ];
  for (const [path, selector] of views) {
    await o.page.goto(t.url(path));
    await o.page.locator(selector).first().waitFor();
  }
  // In-app navigation too (the shell stays, views mount and unmount): overview → mail → overview.
  await o.page.goto(t.url());
  await o.page.locator("[data-testid=rig-card][data-rig=alpha]").waitFor();
  await o.page.locator("nav[aria-label=Town] a", { hasText: "Mail" }).click();
  await o.page.locator("[data-testid=town-mail-panel] [data-testid=mail-subject]", { hasText: "Town only" }).waitFor();
  await o.page.keyboard.press("g");
  await o.page.keyboard.press("o");
  await o.page.locator("[data-testid=rig-list]").waitFor();
  const rigSockets = sockets.filter((path) => !path.startsWith(`/parties/main/${t.town}/`));
  expect(rigSockets, `sockets opened: ${sockets.join(", ")}`).toEqual([]);
  expect(new Set(sockets)).toEqual(new Set([`/parties/main/${t.town}/docs/town`, `/parties/main/${t.town}/docs/mail`]));
  expect(o.errors).toEqual([]);
  await o.context.close();
  t.closeAll();
});

it("a rig with 10k beads renders and scrolls smoothly (virtualised columns)", async () => {
  const t = await e2eTown(host, secret, "big");
  const rig = await t.addRig("big"); // never cloned: nothing is dispatched, all 10k stay open
  const N = 10_000;
  let next = 0;
  const t0 = Date.now();
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < N) {
        const n = next++;
        await t.rigCall(rig, "gt_bead_create", { title: `Bead ${String(n).padStart(5, "0")}: tidy module ${n % 97}` });
      }
    }),
  );
  console.log(`created ${N} beads in ${Date.now() - t0} ms`);

  const o = await open(browser, "about:blank");
  const t1 = Date.now();
  await o.page.goto(t.url("/rigs/big"));
  await o.page.locator("[data-testid=column-open] [data-testid=column-count]", { hasText: String(N) }).waitFor({ timeout: 30_000 });
  await o.page.locator("[data-testid=list-open] [data-testid=bead-card]").first().waitFor();
  const shown = Date.now() - t1;
  const cards = await o.page.locator("[data-testid=bead-card]").count();
  expect(cards, "only the rows in view are in the DOM").toBeLessThan(60);

  // Scroll the open column top to bottom in steps, one per animation frame, timing the frames.
  const frames = await o.page.evaluate(async () => {
    const list = document.querySelector<HTMLElement>("[data-testid=list-open]")!;
    const deltas: number[] = [];
    let last = performance.now();
    for (let i = 0; i < 150; i++) {
      list.scrollTop = ((i + 1) / 150) * (list.scrollHeight - list.clientHeight);
      await new Promise(requestAnimationFrame);
      const now = performance.now();
      deltas.push(now - last);
      last = now;
    }
    return deltas.sort((a, b) => a - b);
  });
  const p = (q: number) => frames[Math.min(frames.length - 1, Math.floor(q * frames.length))]!;
  console.log(
    `10k beads: board shown ${shown} ms after navigation; ${cards} cards in the DOM; scroll frames p50 ${p(0.5).toFixed(1)} ms, p95 ${p(0.95).toFixed(1)} ms, max ${p(1).toFixed(1)} ms`,
  );
  // Frame times are printed, not asserted: on a loaded 2-core machine they measure the machine (a p95
  // bound failed at load 13). What the test holds is what virtualization promises: a small DOM.
  // At the bottom the oldest bead is on screen (the column is newest first), and the DOM is still small.
  await o.page.locator("[data-testid=list-open] [data-testid=bead-card]", { hasText: "Bead 00000:" }).waitFor();
  expect(await o.page.locator("[data-testid=bead-card]").count()).toBeLessThan(60);
  expect(o.errors).toEqual([]);
  await o.context.close();
  t.closeAll();
}, 300_000);
