/**
 * The per-file frame of a dashboard test: one Chromium for the file, fresh contexts per page, towns
 * and pages cleaned up after each test, and no error thrown in any page.
 */
import { afterAll, afterEach, beforeAll, expect, inject } from "vitest";
import type { Browser, Page } from "playwright-core";
import { launch, open, type Opened } from "./browser.ts";
import { e2eTown, type E2ETown } from "./fixtures.ts";

export function harness() {
  const host = inject("e2eHost");
  const secret = inject("e2eSecret");
  let browser: Browser;
  const opened: Opened[] = [];
  const towns: E2ETown[] = [];
  const cleanups: (() => void)[] = [];
  beforeAll(async () => {
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0)) c();
    for (const o of opened.splice(0)) {
      expect(o.errors, "errors thrown in the page").toEqual([]);
      await o.context.close();
    }
    for (const t of towns.splice(0)) t.closeAll();
  });
  return {
    host,
    async town(prefix: string): Promise<E2ETown> {
      const t = await e2eTown(host, secret, prefix);
      towns.push(t);
      return t;
    },
    async page(url: string, options?: Parameters<typeof open>[2]): Promise<Page> {
      const o = await open(browser, url, options);
      opened.push(o);
      return o.page;
    },
    /** Runs `fn` after the test (before its pages close): stops stand-ins and timers. */
    later(fn: () => void) {
      cleanups.push(fn);
    },
  };
}

/** Waits for the page's town (and rig, on rig views) data to be live. */
export async function live(p: Page, count = 1): Promise<void> {
  await p
    .locator("[data-testid=sync-status][data-status=live]")
    .nth(count - 1)
    .waitFor();
}
