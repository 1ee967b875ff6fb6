/**
 * The JavaScript bundles of the agents' `gt` and of the scripted agent (container/dist/, built by
 * scripts/build-gt.ts), and whether they may be used: only while no source is newer than them (the
 * same rule as container/bin/gt). Otherwise agents run the sources through tsx: an edit never runs
 * stale code, only slower code until the next build.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
export const BUNDLE_DIR = join(ROOT, "container/dist");
/** The entry points: container/dist/<name>.js. */
export const ENTRIES = { gt: "container/gt.ts", scripted: "container/agents/scripted.ts" } as const;
export type BundleName = keyof typeof ENTRIES;
/** Where the bundles' sources are: a .ts file under these (or the lockfile) newer than a bundle makes it stale. */
const SOURCE_DIRS = ["container", "party", "client"];

/** The newest modification time (ms) of the sources the bundles are built from, and of the lockfile. */
function newestSource(): number {
  let newest = statSync(join(ROOT, "package-lock.json")).mtimeMs;
  for (const dir of SOURCE_DIRS) {
    for (const file of readdirSync(join(ROOT, dir), { recursive: true, encoding: "utf8" })) {
      if (file.endsWith(".ts")) newest = Math.max(newest, statSync(join(ROOT, dir, file)).mtimeMs);
    }
  }
  return newest;
}

/** container/dist/<name>.js when it exists and no source is newer than it; null otherwise. */
export function freshBundle(name: BundleName): string | null {
  const file = join(BUNDLE_DIR, `${name}.js`);
  return existsSync(file) && statSync(file).mtimeMs > newestSource() ? file : null;
}
