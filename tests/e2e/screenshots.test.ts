/**
 * Screenshots of the main views, dark and light, desktop and phone. With SCREENSHOTS=1 they are
 * written to docs/screenshots/ (committed, so a reader sees the dashboard); otherwise to a temp dir,
 * so the run still checks every view renders without errors.
 */
import { mkdirSync, mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import type { Browser } from "playwright-core";
import { launch, open } from "./browser.ts";
import { e2eTown } from "./fixtures.ts";
import { demoTown } from "./scenario.ts";

const OUT = process.env.SCREENSHOTS === "1" ? resolve(import.meta.dirname, "../../docs/screenshots") : mkdtempSync(join(tmpdir(), "townhall-shots-"));
let browser: Browser;
beforeAll(async () => {
  mkdirSync(OUT, { recursive: true });
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

it("screenshots of the overview, rig board, convoy and bead views, dark and light, desktop and phone", async () => {
  const t = await e2eTown(inject("e2eHost"), inject("e2eSecret"), "acme");
  const demo = await demoTown(t);
  try {
    const shots: { name: string; path: string; ready: string; dark: boolean; width?: number; height?: number; fullPage?: boolean }[] = [
      { name: "overview-dark", path: "", ready: "[data-testid=rig-card][data-rig=backend][data-attention=yes]", dark: true },
      { name: "overview-light", path: "", ready: "[data-testid=rig-card][data-rig=backend][data-attention=yes]", dark: false },
      { name: "rig-board-dark", path: "/rigs/frontend", ready: "[data-testid=agent-row][data-status=working]", dark: true },
      { name: "convoy-light", path: `/convoys/${demo.convoy.id}`, ready: "[data-testid=convoy-rig-progress]:has-text('1/2')", dark: false },
      { name: "bead-dark", path: `/rigs/frontend/beads/${demo.beads.frontend![0]!.id}`, ready: "[data-testid=bead-history] li", dark: true },
      {
        name: "overview-phone-dark",
        path: "",
        ready: "[data-testid=rig-card][data-rig=backend][data-attention=yes]",
        dark: true,
        width: 390,
        height: 844,
        fullPage: false,
      },
    ];
    for (const shot of shots) {
      const o = await open(browser, t.url(shot.path), { dark: shot.dark, width: shot.width ?? 1280, height: shot.height ?? 860 });
      await o.page.locator(shot.ready).first().waitFor({ timeout: 15_000 });
      await o.page.locator("[data-testid=sync-status][data-status=live]").first().waitFor();
      // Live badges pulse; freeze animations so the picture is stable.
      await o.page.addStyleTag({ content: "*,*::before,*::after{animation:none!important;transition:none!important}" });
      const file = join(OUT, `${shot.name}.png`);
      await o.page.screenshot({ path: file, fullPage: shot.fullPage ?? false });
      expect(o.errors).toEqual([]);
      expect(statSync(file).size, `${shot.name}.png stays small`).toBeLessThan(200 * 1024);
      await o.context.close();
    }
  } finally {
    demo.stop();
    t.closeAll();
  }
}, 120_000);
