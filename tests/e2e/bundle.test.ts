/** BENCH #6: the dashboard's entry chunk (what every first visit downloads) stays ≤ 80 KB gzip. */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { expect, it } from "vitest";

const DIST = resolve(import.meta.dirname, "../../dist");
const LIMIT = 80 * 1024;

it("the built entry chunk is at most 80 KB gzip", () => {
  const html = readFileSync(join(DIST, "index.html"), "utf8"); // built by the e2e global setup
  const entry = /<script type="module"[^>]*src="\/([^"]+\.js)"/.exec(html)?.[1];
  expect(entry, "index.html names its entry chunk").toBeTruthy();
  const css = /<link rel="stylesheet"[^>]*href="\/([^"]+\.css)"/.exec(html)?.[1];
  const size = (file: string) => gzipSync(readFileSync(join(DIST, file)), { level: 9 }).length;
  const js = size(entry!);
  console.log(`entry chunk ${entry}: ${(js / 1024).toFixed(1)} KB gzip${css ? `; stylesheet ${(size(css) / 1024).toFixed(1)} KB gzip` : ""}`);
  expect(js).toBeLessThanOrEqual(LIMIT);
});
