/**
 * Bundles the agents' `gt` CLI (container/gt.ts) and the scripted agent (container/agents/scripted.ts)
 * to JavaScript in container/dist/ (git-ignored): every `gt` call used to compile TypeScript through
 * tsx on start (about 0.8 s wall, 1.3 s CPU), and agents call gt constantly.
 *
 * The MCP server (container/gt/mcp-server.ts) and the tools' zod schemas (container/gt/schemas.ts)
 * are imported dynamically, so they land in chunks that only `gt mcp` (or a failed call) loads; a
 * unit test (tests/unit/gt-bundle.test.ts) holds gt's own code to that.
 *
 * Built by `npm ci` (prepare), `npm test` (the test projects' global setup), `npm start`, the benches
 * and the container's Dockerfile. container/bin/gt and the container's runtimes use a bundle only
 * while no source is newer than it (container/bundle.ts), and otherwise the sources through tsx: an
 * edit never runs stale code, only slower code until the next build.
 *
 *   npx tsx scripts/build-gt.ts [--if-stale]
 */
import { renameSync, rmSync, utimesSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build, type Metafile } from "esbuild";
import { BUNDLE_DIR, ENTRIES, freshBundle, type BundleName } from "../container/bundle.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/**
 * Bundles both entries into `outdir` (default container/dist, replaced whole once the build
 * succeeded); resolves with esbuild's metafile (which inputs went into which output file).
 */
export async function buildGt(outdir = BUNDLE_DIR): Promise<Metafile> {
  const staging = `${outdir}.build-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  try {
    const result = await build({
      absWorkingDir: ROOT,
      entryPoints: ENTRIES,
      outdir: staging,
      bundle: true,
      splitting: true, // dynamic imports (gt mcp's server, the zod schemas) become chunks loaded on demand
      format: "esm",
      platform: "node",
      target: "node20",
      chunkNames: "chunks/[name]-[hash]",
      // Packages written as CommonJS (ws, simple-git) require() node's modules: give ESM a require.
      banner: { js: 'import { createRequire as __townhallRequire } from "node:module"; const require = __townhallRequire(import.meta.url);' },
      external: ["bufferutil", "utf-8-validate"], // ws's optional native helpers, not installed
      metafile: true,
      logLevel: "warning",
      legalComments: "none",
    });
    rmSync(outdir, { recursive: true, force: true });
    renameSync(staging, outdir);
    // Newer than every source read above, even where the file system's clock is coarse.
    const now = new Date();
    for (const name of Object.keys(ENTRIES)) utimesSync(join(outdir, `${name}.js`), now, now);
    return result.metafile;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** Builds unless both bundles are fresh; returns whether it built. */
export async function buildGtIfStale(): Promise<boolean> {
  if ((Object.keys(ENTRIES) as BundleName[]).every((name) => freshBundle(name))) return false;
  await buildGt();
  return true;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const started = performance.now();
  const built = process.argv.includes("--if-stale") ? await buildGtIfStale() : (await buildGt(), true);
  console.log(
    built
      ? `built ${Object.keys(ENTRIES)
          .map((n) => `container/dist/${n}.js`)
          .join(", ")} in ${Math.round(performance.now() - started)} ms`
      : "container/dist is up to date",
  );
}
