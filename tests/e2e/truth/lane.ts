/**
 * The attention lane that stays usable, and tells the operator when they are needed: duplicates
 * show as one row with a count that opens to its members, each with its bead id; snoozing in this
 * browser (a new occurrence comes back); several escalations acknowledged with one note; the tab's
 * title carries the lane's count or that the connection is down; opt-in notifications for new items
 * while the tab is hidden (the browser's own Notification API, recorded by a wrapper).
 */
import { expect, it } from "vitest";
import type { Page } from "playwright-core";
import type { Bead, Escalation, Rig } from "../../../party/protocol.ts";
import { untilReplica } from "../../helpers/town.ts";
import type { E2ETown } from "../fixtures.ts";
import { live } from "../harness.ts";
import { standIn } from "../stand-in.ts";
import { part } from "./part.ts";

type Seed = {
  /** Three failed beads titled alike, each with the witness's "Bead failed: …" escalation. */
  a: Rig;
  failed: Bead[];
  /** Three open escalations titled alike, with no bead. */
  b: Rig;
  flaky: string[];
  /** One open escalation before the page loads; its polecat raises more during the row. */
  c: Rig;
  cToken: string;
};

const TITLE = "Bump the lockfile";
const FLAKY = "Flaky e2e on CI";

/** Lane rows past the first few: show them all (the shared town's other parts have items too). */
async function showAll(p: Page) {
  // The lane renders once the town is live; only then does it say whether it has more rows.
  await p.locator("[data-testid=attention]").waitFor();
  const all = p.locator("[data-testid=attention-all]");
  if (await all.count()) await all.click();
}

/** The lane's count and the tab's title read at the same instant. */
const countAndTitle = (p: Page) =>
  p.evaluate(() => ({ count: Number(document.querySelector("[data-testid=attention-count]")?.textContent), title: document.title }));

const group = (p: Page, rig: string, kind: string, title: string) =>
  p.locator(`[data-testid=attention-group][data-rig="${rig}"][data-kind=${kind}]`, { has: p.locator("[data-testid=attention-expand]", { hasText: title }) });

function escalations(t: E2ETown, rig: Rig, predicate: (all: Escalation[]) => boolean) {
  const replica = t.replica("rig", t.rigRoom(rig), t.operator);
  return untilReplica(replica, (doc) => {
    const all = [...doc.getMap<Escalation>("escalations").values()];
    return predicate(all) && all;
  });
}

export default part<Seed>({
  name: "lane",
  async seed(t, later) {
    const a = await t.readyRig("lane-a");
    const container = await standIn(t, a);
    later(() => container.close());
    const failed: Bead[] = [];
    for (let i = 0; i < 3; i++) failed.push((await container.failingBead(TITLE)).bead);

    const b = await t.readyRig("lane-b");
    const pb = await t.polecat(b, "toast");
    const flaky: string[] = [];
    for (let i = 0; i < 3; i++) flaky.push((await t.rigCall<Escalation>(b, "gt_escalate", { title: FLAKY, severity: "medium" }, pb.token)).id);

    const c = await t.readyRig("lane-c");
    const pc = await t.polecat(c, "maple");
    await t.rigCall(c, "gt_escalate", { title: "Already there when the page loaded", severity: "high" }, pc.token);
    return { a, failed, b, flaky, c, cToken: pc.token };
  },
  rows(get) {
    it("the attention lane after 20 minutes: identical titles show as one row with a count, opening to members that each show their bead id", async () => {
      const { t, s } = get();
      const p = await get().page(t.url());
      await live(p);
      await p.locator("[data-testid=attention]").waitFor();
      await showAll(p);
      const beads = group(p, "lane-a", "failed_bead", TITLE);
      await beads.waitFor();
      expect(await beads.getAttribute("data-count")).toBe("3");
      expect(await beads.locator("[data-testid=attention-group-count]").textContent()).toBe("×3");
      // No member row until opened: one row, not three.
      expect(await beads.locator("[data-testid=attention-item]").count()).toBe(0);
      const failedEscalations = group(p, "lane-a", "escalation", `Bead failed: ${TITLE}`);
      expect(await failedEscalations.getAttribute("data-count")).toBe("3");

      await beads.locator("[data-testid=attention-expand]").click();
      expect(await beads.locator("[data-testid=attention-expand]").getAttribute("aria-expanded")).toBe("true");
      const members = beads.locator("[data-testid=attention-item]");
      await members.nth(2).waitFor();
      const shown = await members.evaluateAll((els) =>
        els.map((e) => {
          const chip = e.querySelector("[data-testid=attention-bead]");
          return { id: e.getAttribute("data-id"), bead: chip?.getAttribute("data-bead"), href: chip?.getAttribute("href"), text: chip?.textContent };
        }),
      );
      expect(shown.map((m) => m.bead).sort()).toEqual(s.failed.map((b) => b.id).sort());
      for (const m of shown) {
        expect(m.bead).toBe(m.id);
        expect(m.href).toBe(`/t/${t.town}/rigs/lane-a/beads/${m.bead}`);
        expect(m.text).toBe(m.bead!.slice(-8));
      }
    });

    it("an item's link to a row on the rig page lands it below the sticky header, not under it", async () => {
      const { t } = get();
      // A phone: the rig page is long (stacked columns), so the browser scrolls to the row.
      const p = await get().page(t.url(), { width: 360, height: 740 });
      await live(p);
      await showAll(p);
      await p.locator("[data-testid=attention-item][data-rig=lane-c][data-kind=escalation] [data-testid=attention-link]").first().click();
      await p.waitForURL(/#escalation-/);
      const row = p.locator(`[id="${decodeURIComponent(new URL(p.url()).hash.slice(1))}"]`);
      await row.waitFor();
      // The router scrolls to the hash's row once it is there; a row rendered after the navigation
      // (the rig's document still syncing) is scrolled to the same way here.
      await row.evaluate((el) => el.scrollIntoView());
      expect(await p.evaluate(() => window.scrollY)).toBeGreaterThan(0);
      const header = (await p.locator("[data-testid=town-header]").boundingBox())!;
      expect((await row.boundingBox())!.y).toBeGreaterThanOrEqual(header.y + header.height);
    });

    it("the tab's title carries the lane's count on every view, and says when the town's connection is down", async () => {
      const { t } = get();
      const p = await get().page("about:blank");
      // Keep a handle on the page's sockets, so the test can cut them as a network failure would.
      await p.addInitScript(() => {
        const sockets: WebSocket[] = ((window as unknown as { sockets: WebSocket[] }).sockets = []);
        const Native = window.WebSocket;
        window.WebSocket = class extends Native {
          constructor(url: string | URL, protocols?: string | string[]) {
            super(url, protocols);
            sockets.push(this);
          }
        } as typeof WebSocket;
      });
      await p.goto(t.url());
      await live(p);
      await p.locator("[data-testid=attention-count]").waitFor();
      await p.waitForFunction(() => /^\(\d+\) overview · /.test(document.title));
      const { count, title } = await countAndTitle(p);
      expect(count).toBeGreaterThanOrEqual(10);
      expect(title).toBe(`(${count}) overview · ${t.town} — Townhall`);

      // A rig's page counts the town's lane too.
      await p.locator("[data-testid=attention-link]").first().waitFor();
      await p.goto(t.url("/rigs/lane-b"));
      await live(p, 2);
      await p.waitForFunction((town) => new RegExp(`^\\(\\d+\\) lane-b · ${town} — Townhall$`).test(document.title), t.town);

      await p.context().setOffline(true);
      await p.evaluate(() =>
        (window as unknown as { sockets: WebSocket[] }).sockets.forEach((s) => {
          s.dispatchEvent(new CloseEvent("close", { code: 1006, reason: "cut by the test" }));
          s.close();
        }),
      );
      await p.waitForFunction((town) => document.title === `⚠ Reconnecting · lane-b · ${town} — Townhall`, t.town);
      await p.context().setOffline(false);
      await live(p, 2);
      await p.waitForFunction((town) => new RegExp(`^\\(\\d+\\) lane-b · ${town} — Townhall$`).test(document.title), t.town);
    });

    it("snooze: a group leaves the lane, its count and the title for this browser, shows behind 'N snoozed', and an item raised again comes back", async () => {
      const { t, s } = get();
      const p = await get().page(t.url());
      await live(p);
      await showAll(p);
      const beads = group(p, "lane-a", "failed_bead", TITLE);
      await beads.waitFor();
      const before = await countAndTitle(p);
      await beads.locator("[data-testid=attention-snooze]").first().selectOption("1h");
      await beads.waitFor({ state: "detached" });
      const toggle = p.locator("[data-testid=attention-snoozed-toggle]");
      expect(await toggle.textContent()).toBe("3 snoozed (not counted)");
      await p.waitForFunction((n) => document.title.startsWith(`(${n}) overview`), before.count - 3);
      expect((await countAndTitle(p)).count).toBe(before.count - 3);

      // Kept in this browser: still snoozed after a reload.
      await p.reload();
      await live(p);
      await showAll(p); // the shared town's lane is longer than its first rows
      await toggle.waitFor();
      expect(await p.locator("[data-testid=attention-group][data-rig=lane-a][data-kind=failed_bead]").count()).toBe(0);
      await toggle.click();
      const snoozed = p.locator("[data-testid=attention-snoozed] [data-testid=attention-item][data-rig=lane-a][data-kind=failed_bead]");
      await snoozed.nth(2).waitFor();
      expect(await snoozed.locator("[data-testid=attention-snoozed-until]").first().textContent()).toMatch(/^snoozed until /);

      // The same bead changed (a new `at`): a new occurrence, not snoozed.
      const changed = s.failed[0]!;
      await t.rigCall(s.a, "gt_bead_update", { bead_id: changed.id, priority: "high" });
      await p.locator(`[data-testid=attention]>ul [data-testid=attention-item][data-id="${changed.id}"]`).waitFor();
      expect(await toggle.textContent()).toBe("Hide 2 snoozed");

      // Unsnoozed by hand: back in the lane.
      await snoozed.first().locator("[data-testid=attention-unsnooze]").click();
      expect(await toggle.textContent()).toBe("Hide 1 snoozed");
    });

    it("bulk acknowledge: a group's escalations selected at once, acknowledged with one note, and the lane says how many succeeded and failed", async () => {
      const { t, s } = get();
      const p = await get().page(t.url());
      await live(p);
      await showAll(p);
      const flaky = group(p, "lane-b", "escalation", FLAKY);
      await flaky.waitFor();
      expect(await flaky.getAttribute("data-count")).toBe("3");
      await flaky.locator("[data-testid=attention-select-group]").check();
      expect(await p.locator("[data-testid=bulk-count]").textContent()).toBe("3 escalations selected");
      // One taken out by hand, then back in from the opened group.
      await flaky.locator("[data-testid=attention-expand]").click();
      await flaky.locator("[data-testid=attention-select]").first().uncheck();
      expect(await p.locator("[data-testid=bulk-count]").textContent()).toBe("2 escalations selected");
      expect(await flaky.locator("[data-testid=attention-select-group]").isChecked()).toBe(false);
      await flaky.locator("[data-testid=attention-select]").first().check();

      // One of the three calls fails (the room answers an error for it): the lane says 2 of 3, and
      // keeps that one selected to try again.
      const [unlucky] = s.flaky;
      await p.route("**/api/gt_escalation_ack", (route) =>
        route.request().postData()?.includes(unlucky!)
          ? route.fulfill({
              status: 500,
              contentType: "application/json",
              body: JSON.stringify({ ok: false, error: { code: "INTERNAL", message: "injected by the test" } }),
            })
          : route.continue(),
      );
      await p.locator("[data-testid=bulk-ack]").click();
      const dialog = p.locator("[data-testid=bulk-ack-dialog][open]");
      await dialog.locator("input[name=note]").fill("Quarantining the flaky suite");
      await dialog.locator("[data-testid=action-submit]").click();
      await dialog.locator("[data-testid=action-error]", { hasText: "Acknowledged 2 of 3; 1 failed (still selected): lane-b" }).waitFor();
      expect(await p.locator("[data-testid=bulk-result]").textContent()).toContain("Acknowledged 2 of 3; 1 failed");
      expect(await p.locator("[data-testid=bulk-count]").textContent()).toBe("1 escalation selected");
      const two = await escalations(t, s.b, (list) => s.flaky.filter((id) => list.find((e) => e.id === id)?.status === "acknowledged").length === 2);
      expect(two.find((e) => e.id === unlucky)?.status).toBe("open");

      await p.unroute("**/api/gt_escalation_ack");
      await dialog.locator("input[name=note]").fill("Quarantining the flaky suite");
      await dialog.locator("[data-testid=action-submit]").click();
      await p.locator("[data-testid=bulk-result]", { hasText: "Acknowledged 1 escalation." }).waitFor();
      const all = await escalations(t, s.b, (list) => s.flaky.every((id) => list.find((e) => e.id === id)?.status === "acknowledged"));
      for (const id of s.flaky) expect(all.find((e) => e.id === id)?.note).toBe("Quarantining the flaky suite");
      await flaky.waitFor({ state: "detached" });
      expect(await p.locator("[data-testid=bulk-bar]").count()).toBe(0);
    });

    it("notifications: off until the operator asks, then one per new item while the tab is hidden, none for items already there; a click opens the item", async () => {
      const { t, s } = get();
      const p = await get().page("about:blank");
      await p.context().grantPermissions(["notifications"]);
      // Record the notifications the page makes (the browser's own API underneath), and let the test
      // hide the tab as switching to another would (headless Chromium keeps every page visible).
      await p.addInitScript(() => {
        type W = { notes: { title: string; body?: string; tag?: string }[]; made: Notification[]; asked: number; hidden: boolean };
        const w = window as unknown as W;
        w.notes = [];
        w.made = [];
        w.asked = 0;
        w.hidden = false;
        const Native = window.Notification;
        const request = Native.requestPermission.bind(Native);
        class Recorded extends Native {
          constructor(title: string, options?: NotificationOptions) {
            super(title, options);
            w.notes.push({ title, body: options?.body, tag: options?.tag });
            w.made.push(this);
          }
        }
        Object.defineProperty(Recorded, "requestPermission", {
          value: () => {
            w.asked++;
            return request();
          },
        });
        window.Notification = Recorded as typeof Notification;
        Object.defineProperty(Document.prototype, "visibilityState", { get: () => (w.hidden ? "hidden" : "visible") });
        Object.defineProperty(Document.prototype, "hidden", { get: () => w.hidden });
      });
      await p.goto(t.url());
      await live(p);
      const toggle = p.locator("[data-testid=notify-toggle]");
      await toggle.waitFor();
      expect(await toggle.getAttribute("data-state")).toBe("off");
      expect(await toggle.textContent()).toContain("Notify me");
      const asked = () => p.evaluate(() => (window as unknown as { asked: number }).asked);
      expect(await asked()).toBe(0);
      await toggle.click();
      await p.locator("[data-testid=notify-toggle][data-state=on]").waitFor();
      expect(await toggle.getAttribute("aria-pressed")).toBe("true");
      expect(await asked()).toBe(1);

      // Remembered in this browser; nothing for the items present when the page loaded, hidden or not.
      await p.reload();
      await live(p);
      await p.locator("[data-testid=notify-toggle][data-state=on]").waitFor();
      expect(await asked()).toBe(0);
      const hide = (hidden: boolean) =>
        p.evaluate((h) => {
          (window as unknown as { hidden: boolean }).hidden = h;
          document.dispatchEvent(new Event("visibilitychange"));
        }, hidden);
      const ours = () =>
        p.evaluate(() =>
          (window as unknown as { notes: { title: string; body?: string; tag?: string }[] }).notes.filter((n) => n.body?.startsWith("lane-c ·")),
        );

      // While the tab is shown, the lane says it: no notification.
      await t.rigCall(s.c, "gt_escalate", { title: "Raised while you look", severity: "high" }, s.cToken);
      await showAll(p);
      await p.locator("[data-testid=attention-item][data-rig=lane-c]", { hasText: "Raised while you look" }).waitFor();
      await hide(true);
      const away = await t.rigCall<Escalation>(s.c, "gt_escalate", { title: "Raised while you are away", severity: "high" }, s.cToken);
      await p.waitForFunction(() => (window as unknown as { notes: { body?: string }[] }).notes.some((n) => n.body?.startsWith("lane-c ·")));
      const notes = await ours();
      expect(notes).toHaveLength(1);
      expect(notes[0]!.title).toBe(`Townhall · ${t.town}: Raised while you are away`);
      expect(notes[0]!.tag).toBe(`${s.c.id}:escalation:${away.id}@${away.createdAt}`);

      // Clicking it opens the item.
      await hide(false);
      await p.evaluate((tag) => {
        const n = (window as unknown as { made: Notification[] }).made.find((m) => m.tag === tag)!;
        n.dispatchEvent(new Event("click"));
      }, notes[0]!.tag!);
      await p.waitForURL((url) => url.pathname === `/t/${t.town}/rigs/lane-c` && url.hash === `#escalation-${away.id}`);

      // Turned off: no more, and remembered.
      await p.goto(t.url());
      await live(p);
      await p.locator("[data-testid=notify-toggle][data-state=on]").click();
      await p.locator("[data-testid=notify-toggle][data-state=off]").waitFor();
      expect(await p.evaluate((town) => localStorage.getItem(`townhall.notify.${town}`), t.town)).toBeNull();
    });
  },
});
