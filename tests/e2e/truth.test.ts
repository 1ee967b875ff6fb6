/**
 * "Nothing the dashboard says is false": one row per finding of issue 21, each in Chromium against
 * one seeded town on the shared `partykit dev` (not the living demo's random timing). The parts in
 * tests/e2e/truth/ seed the town once and register their rows.
 */
import { afterAll, afterEach, beforeAll, describe, expect, inject } from "vitest";
import type { Browser } from "playwright-core";
import { launch, open, type Opened } from "./browser.ts";
import { e2eTown, type E2ETown } from "./fixtures.ts";
import type { TruthContext, TruthPart } from "./truth/part.ts";
import lane from "./truth/lane.ts";
import links from "./truth/links.ts";
import small from "./truth/small.ts";
import pages from "./truth/pages.ts";
import work from "./truth/work.ts";

const parts: TruthPart<any>[] = [lane, links, small, pages, work];

const host = inject("e2eHost");
const secret = inject("e2eSecret");
let browser: Browser;
let town: E2ETown;
const seeded = new Map<string, unknown>();
const cleanups: (() => void)[] = [];
const opened: Opened[] = [];

beforeAll(async () => {
  browser = await launch();
  town = await e2eTown(host, secret, "truth");
  for (const p of parts) seeded.set(p.name, await p.seed(town, (fn) => cleanups.push(fn)));
}, 240_000);

afterEach(async () => {
  for (const o of opened.splice(0)) {
    expect(o.errors, "errors thrown in the page").toEqual([]);
    await o.context.close();
  }
});

afterAll(async () => {
  for (const fn of cleanups.splice(0)) fn();
  town?.closeAll();
  await browser?.close();
});

for (const p of parts) {
  describe(p.name, () =>
    p.rows((): TruthContext<unknown> => ({
      t: town,
      s: seeded.get(p.name),
      async page(url, options) {
        const o = await open(browser, url, options);
        opened.push(o);
        return o.page;
      },
      later: (fn) => cleanups.push(fn),
    })),
  );
}
