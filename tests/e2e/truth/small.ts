/**
 * Phone and small things: the board's columns stack on a phone and its header keeps every control
 * in two short rows; the app's own dialogs (revoke), cancel buttons that cannot be read as the
 * action, the Move dialog's warning for a rig without the bead's capabilities, an error that goes
 * once the server answers again, and the rig picker inside the viewport at 1440 px.
 */
import { expect, it } from "vitest";
import type { Page } from "playwright-core";
import type { Bead, Rig } from "../../../party/protocol.ts";
import { part } from "./part.ts";

/** The phone of the finding: 360 × 740. */
const PHONE = { width: 360, height: 740 };
/** Two rows of 28 px controls, 2 px apart, 2 px above and below, and the border: 63 px (today 118). */
const HEADER_MAX = 64;

type Seed = { a: Rig; b: Rig; guide: Bead; failed: Bead[] };

async function live(p: Page, count = 1) {
  await p
    .locator("[data-testid=sync-status][data-status=live]")
    .nth(count - 1)
    .waitFor();
}

/** A box's horizontal extent is inside [0, width]. */
async function inside(p: Page, selector: string, width: number) {
  const box = await p.locator(selector).first().boundingBox();
  expect(box, selector).not.toBeNull();
  expect(box!.x, `${selector} left edge`).toBeGreaterThanOrEqual(0);
  expect(box!.x + box!.width, `${selector} right edge`).toBeLessThanOrEqual(width + 0.5);
  return box!;
}

export default part<Seed>({
  name: "small",
  async seed(t) {
    const a = await t.readyRig("small-a", { capabilities: ["docs"] });
    const b = await t.readyRig("small-b", { capabilities: ["go"] });
    const guide = await t.rigCall<Bead>(a, "gt_bead_create", { title: "Write the guide", requires: ["docs"] });
    await t.rigCall<Bead>(a, "gt_bead_create", { title: "Proofread the guide" });
    const done = await t.rigCall<Bead>(a, "gt_bead_create", { title: "Fix a typo" });
    await t.rigCall(a, "gt_bead_update", { bead_id: done.id, status: "closed" });
    const failed: Bead[] = [];
    for (const title of ["Render the diagrams", "Publish the site"]) {
      const bead = await t.rigCall<Bead>(a, "gt_bead_create", { title });
      await t.rigCall(a, "gt_bead_update", { bead_id: bead.id, status: "failed" });
      failed.push(bead);
    }
    // Many rigs for the picker, some needing attention (their option says why, at length).
    for (let i = 1; i <= 14; i++) {
      const rig = await t.readyRig(`small-pick-${String(i).padStart(2, "0")}-with-a-long-name`);
      if (i % 2) {
        const bead = await t.rigCall<Bead>(rig, "gt_bead_create", { title: `Pick ${i}` });
        await t.rigCall(rig, "gt_bead_update", { bead_id: bead.id, status: "failed" });
      }
    }
    return { a, b, guide, failed };
  },
  rows(get) {
    it("at 1440 px the rig picker shows the chosen rig's whole line, inside the viewport, with many rigs", async () => {
      const { t, page } = get();
      const p = await page(t.url("/rigs/small-pick-01-with-a-long-name"), { width: 1440, height: 900 });
      await live(p, 2);
      const picker = p.locator("[data-testid=rig-selector]");
      await picker.locator("option[value='small-pick-14-with-a-long-name']").waitFor({ state: "attached" });
      expect(await picker.locator("option").count()).toBeGreaterThanOrEqual(15);
      await inside(p, "[data-testid=rig-selector]", 1440);
      const box = (await picker.boundingBox())!;
      expect(box.y + box.height).toBeLessThanOrEqual(900);
      // The chosen option's text fits the box (a canvas measures it in the select's own font).
      const fit = await picker.evaluate((node) => {
        const el = node as HTMLElement;
        const style = getComputedStyle(el);
        const ctx = document.createElement("canvas").getContext("2d")!;
        ctx.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
        const text = (el as unknown as { selectedOptions: ArrayLike<{ text: string }> }).selectedOptions[0]!.text;
        const room = el.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
        return { text, need: Math.ceil(ctx.measureText(text).width), room };
      });
      expect(fit.text).toMatch(/^small-pick-01-with-a-long-name — 1 failed/);
      expect(fit.room, JSON.stringify(fit)).toBeGreaterThanOrEqual(fit.need);
    });

    it("on a 360 px phone the board's columns stack: nothing scrolls sideways and the failed column is on screen", async () => {
      const { t, s, page } = get();
      const p = await page(t.url(`/rigs/${s.a.name}`), PHONE);
      await live(p, 2);
      await p.locator("[data-testid=column-failed] [data-testid=bead-card]").first().waitFor();
      const widths = await p.evaluate(() => {
        const board = document.querySelector<HTMLElement>("[data-testid=board]")!;
        return { page: document.documentElement.scrollWidth, board: board.scrollWidth, boardBox: board.clientWidth };
      });
      expect(widths.page).toBeLessThanOrEqual(PHONE.width);
      expect(widths.board).toBeLessThanOrEqual(widths.boardBox);
      for (const status of ["open", "in_progress", "in_review", "closed", "failed"]) await inside(p, `[data-testid=column-${status}]`, PHONE.width);
      expect(await p.locator("[data-testid=column-failed] [data-testid=column-count]").textContent()).toBe("2");
      // A rig page's picker names the rig at length ("small-a — 2 failed"): the views stay beside it.
      await inside(p, "nav[aria-label=Town] a:text-is('Overview')", PHONE.width);
      expect((await p.locator("nav[aria-label=Town] a:text-is('Overview')").boundingBox())!.width).toBeGreaterThan(40);
    });

    it(`on a 360 px phone the header keeps every control, each visible and on screen, in at most ${HEADER_MAX} px`, async () => {
      const { t, page } = get();
      const p = await page(t.url(), PHONE);
      await live(p);
      await p.locator("[data-testid=share]").waitFor(); // the operator's Share button is loaded lazily
      const controls = [
        "[data-testid=town-name]",
        "nav[aria-label=Town] a:text-is('Overview')",
        "nav[aria-label=Town] a:text-is('Mail')",
        "nav[aria-label=Town] a:text-is('Audit')",
        "nav[aria-label=Town] [data-testid=webhooks]",
        "[data-testid=rig-selector]",
        "[data-testid=town-header] [data-testid=sync-status]",
        "[data-testid=share]",
        "[data-testid=whoami]",
        "[data-testid=shortcuts-hint]",
        "[data-testid=density-toggle]",
        "[data-testid=theme-toggle]",
      ];
      for (const control of controls) {
        expect(await p.locator(control).first().isVisible(), control).toBe(true);
        await inside(p, control, PHONE.width);
      }
      expect((await p.locator("[data-testid=town-name]").boundingBox())!.width, "some of the town's name shows").toBeGreaterThanOrEqual(32);
      expect((await p.locator("[data-testid=rig-selector]").boundingBox())!.width, "the rig picker is wide enough to read").toBeGreaterThanOrEqual(100);
      const header = (await p.locator("[data-testid=town-header]").boundingBox())!;
      expect(header.height).toBeLessThanOrEqual(HEADER_MAX);
      expect(await p.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
      // The ? button works there too.
      await p.locator("[data-testid=shortcuts-hint]").click();
      await p.getByRole("dialog").filter({ hasText: "Keyboard shortcuts" }).first().waitFor();
    });

    it("revoking a link asks in the app's own dialog, never the browser's confirm box", async () => {
      const { t, page } = get();
      const p = await page(t.url());
      const native: string[] = [];
      p.on("dialog", (d) => {
        native.push(d.message());
        void d.dismiss();
      });
      await live(p);
      await p.locator("[data-testid=share]").click();
      const share = p.locator("[data-testid=share-dialog]");
      await share.locator("[data-testid=action-submit]").click();
      const url = await share.locator("[data-testid=share-url]").inputValue();
      const id = await share
        .locator("[data-testid=share-link]", { hasText: new URL(url).pathname })
        .first()
        .getAttribute("data-link");
      const row = share.locator(`[data-testid=share-link][data-link="${id}"]`);
      await row.locator("[data-testid=share-revoke]").click();
      const confirm = p.locator("[data-testid=confirm-revoke][open]");
      await confirm.waitFor();
      expect(await confirm.locator("[data-testid=action-cancel]").textContent()).toBe("Cancel");
      await confirm.locator("[data-testid=action-submit]").click();
      await row.getByText("revoked").waitFor();
      await confirm.waitFor({ state: "detached" });
      expect(await share.isVisible()).toBe(true); // back in the Share dialog, which lists it revoked
      expect(native).toEqual([]);
    });

    it("the Close dialog's cancel button says Keep open, not Close beside Close bead", async () => {
      const { t, s, page } = get();
      const p = await page(t.url(`/rigs/${s.a.name}/beads/${s.guide.id}`));
      await p.locator("[data-testid=bead-close]").click();
      const dialog = p.locator("[data-testid=confirm-close][open]");
      await dialog.waitFor();
      expect(await dialog.locator("button").allTextContents()).toEqual(["Keep open", "Close bead"]);
      await dialog.locator("[data-testid=action-cancel]").click();
      await dialog.waitFor({ state: "detached" });
    });

    it("the Move dialog names the capabilities the target rig lacks and moves only once that is acknowledged", async () => {
      const { t, s, page } = get();
      const p = await page(t.url(`/rigs/${s.a.name}/beads/${s.guide.id}`));
      await p.locator("[data-testid=bead-move]").click();
      const dialog = p.locator("[data-testid=move-dialog][open]");
      await dialog.waitFor();
      await dialog.locator("select[name=rig]").selectOption(s.b.name);
      expect(await dialog.locator("[data-testid=move-missing-list]").textContent()).toBe("docs");
      const submit = dialog.locator("[data-testid=action-submit]");
      expect(await submit.isDisabled()).toBe(true);
      await dialog.locator("[data-testid=move-accept]").check();
      expect(await submit.isEnabled()).toBe(true);
      expect(await dialog.locator("[data-testid=action-cancel]").textContent()).toBe("Cancel");
      await dialog.locator("[data-testid=action-cancel]").click();
    });

    it("the runs' 'could not be reached' error goes once the server answers again", async () => {
      const { t, s, page } = get();
      const p = await page(t.url());
      await live(p);
      await p.route("**/api/gt_agent_log", (route) => route.abort("connectionrefused"));
      await p.goto(t.url(`/rigs/${s.a.name}/beads/${s.failed[0]!.id}`));
      const error = p.locator("[data-testid=bead-runs-error]");
      await error.getByText("could not be reached").waitFor();
      await p.unroute("**/api/gt_agent_log");
      await error.waitFor({ state: "detached" });
    });
  },
});
