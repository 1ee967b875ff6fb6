/**
 * #14 gt start: how long an agent's `gt` call takes, the old way (`node --import <tsx loader>
 * container/gt.ts`, compiling TypeScript on each start) and bundled (container/bin/gt running
 * container/dist/gt.js, scripts/build-gt.ts), beside a bare `node -e 0`. Wall and CPU (user + sys,
 * from /usr/bin/time: 10 ms resolution) of each child, medians of 7 rounds that run every case once,
 * after a warm-up round (tsx's compile cache is warm for every measured run).
 *
 * `gt prime` runs against a stub room: a local HTTP server answering POST
 * /parties/rig/<town>.<rig>/api/gt_prime with a canned reply, so the figure is gt's whole call (start,
 * one HTTP round trip, printing) without a partykit dev on the shared machine.
 *
 * The tsx rows run today's sources (what bin/gt falls back to when the bundle is stale). `--base
 * <rev>` (or GT_START_BASE) adds rows for gt as it was at that git revision, through tsx: e.g. the
 * commit before the bundle, when gt's start also loaded zod and the MCP SDK.
 *
 *   npx tsx bench/metrics/m14-gt-start.ts [--base <rev>]     (or: npx tsx bench/run.ts --only 14)
 */
import { execSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildGtIfStale } from "../../scripts/build-gt.ts";
import type { Metric, SummaryRow } from "../lib/report.ts";
import { fmt, type Cell } from "../lib/table.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const TSX_LOADER = join(ROOT, "node_modules/tsx/dist/loader.mjs");
const GT_TS = join(ROOT, "container/gt.ts");
const GT_BIN = join(ROOT, "container/bin/gt");
const RUNS = 7;
/** The bar: a `gt --help` through container/bin/gt. */
const HELP_BAR_MS = 150;

type Sample = { wallMs: number; cpuMs: number; code: number | null };

/** Runs `file args` to exit under /usr/bin/time; its wall time (measured here) and CPU time. */
function timed(file: string, args: string[], env: Record<string, string>): Promise<Sample> {
  const dir = mkdtempSync(join(tmpdir(), "gt-start-"));
  const out = join(dir, "time");
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn("/usr/bin/time", ["-o", out, "-f", "%U %S", file, ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "ignore"] });
    child.once("error", reject);
    child.once("close", (code) => {
      const wallMs = performance.now() - started;
      try {
        const [user, sys] = readFileSync(out, "utf8").trim().split("\n").at(-1)!.split(" ").map(Number) as [number, number];
        resolve({ wallMs, cpuMs: (user + sys) * 1000, code });
      } catch (error) {
        reject(error);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** A stub rig room: gt_prime answers a canned prime of an agent with no hooked bead and no mail. */
async function stubRoom(): Promise<{ host: string; server: Server }> {
  const prime = { agent: { identity: "alpha/polecats/toast", role: "polecat", name: "toast", status: "idle" }, hook: null, mail: [], checkpoint: null };
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      const ok = req.method === "POST" && req.url === "/parties/rig/t.r/api/gt_prime";
      res.writeHead(ok ? 200 : 404, { "content-type": "application/json" });
      res.end(JSON.stringify(ok ? { ok: true, value: prime } : { ok: false, error: { code: "INTERNAL", message: `stub: no ${req.url}` } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { host: `127.0.0.1:${(server.address() as { port: number }).port}`, server };
}

export type GtStartRow = { case: string; how: string; wallMs: number; cpuMs: number; exit: number | null };

/** gt's sources at git revision `rev` (container/, party/, client/), with this checkout's node_modules. */
function sourcesAt(rev: string, dir: string): string {
  mkdirSync(dir, { recursive: true });
  execSync(`git archive ${JSON.stringify(rev)} container party client package.json | tar -x -C ${JSON.stringify(dir)}`, {
    cwd: ROOT,
    stdio: ["ignore", "ignore", "pipe"],
  });
  symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"));
  return join(dir, "container/gt.ts");
}

export async function measureGtStart(log: (message: string) => void = () => {}, base = process.env.GT_START_BASE): Promise<GtStartRow[]> {
  if (await buildGtIfStale()) log("#14 built container/dist");
  const { host, server } = await stubRoom();
  const env = { GT_HOST: host, GT_TOWN: "t", GT_RIG: "r", GT_TOKEN: "x", GT_AGENT: "alpha/polecats/toast" };
  const baseDir = base ? mkdtempSync(join(tmpdir(), "gt-start-base-")) : null;
  const baseGt = base ? sourcesAt(base, baseDir!) : null;
  const tsx = (gt: string, args: string[]) => ["--import", TSX_LOADER, gt, ...args];
  const cases: [string, string, string, string[]][] = [["node -e 0", "bare node", process.execPath, ["-e", "0"]]];
  for (const [name, args] of [
    ["gt --help", ["--help"]],
    ["gt prime", ["prime"]],
  ] as const) {
    if (baseGt) cases.push([name, `tsx, sources at ${base}`, process.execPath, tsx(baseGt, [...args])]);
    cases.push([name, "tsx, today's sources", process.execPath, tsx(GT_TS, [...args])]);
    cases.push([name, "bundle: node container/dist/gt.js", process.execPath, [join(ROOT, "container/dist/gt.js"), ...args]]);
    cases.push([name, "bundle: container/bin/gt", GT_BIN, [...args]]);
  }
  const rows: GtStartRow[] = [];
  try {
    // Round by round, every case once per round: a burst of load on the shared machine then falls on
    // all of them, not on whichever case ran at the time. Round 0 warms up (tsx's compile cache, the
    // file system's) and is not counted.
    const samples: Sample[][] = cases.map(() => []);
    for (let round = 0; round <= RUNS; round++) {
      log(`#14 round ${round}${round ? "" : " (warm-up)"} of ${RUNS}`);
      for (const [i, [, , file, args]] of cases.entries()) {
        const sample = await timed(file, args, env);
        if (round) samples[i]!.push(sample);
      }
    }
    for (const [i, [name, how]] of cases.entries()) {
      const mine = samples[i]!;
      rows.push({
        case: name,
        how,
        wallMs: median(mine.map((s) => s.wallMs)),
        cpuMs: median(mine.map((s) => s.cpuMs)),
        exit: mine.find((s) => s.code !== 0)?.code ?? 0,
      });
    }
  } finally {
    server.close();
    if (baseDir) rmSync(baseDir, { recursive: true, force: true });
  }
  return rows;
}

export const gtStart: Metric = {
  id: 14,
  name: "gt-start",
  title: "gt start time",
  async run(ctx) {
    const rows = await measureGtStart(ctx.log);
    const node = rows[0]!;
    const help = rows.find((r) => r.case === "gt --help" && r.how === "bundle: container/bin/gt")!;
    const table: Cell[][] = rows.map((r) => [r.case, r.how, fmt(r.wallMs, 0), fmt(r.cpuMs, 0), fmt(r.wallMs / node.wallMs, 2), r.exit ?? "signal"]);
    const summary: SummaryRow[] = [
      {
        metric: "#14 gt --help (bin/gt, bundled), median of 7",
        result: `${fmt(help.wallMs, 0)} ms wall, ${fmt(help.cpuMs, 0)} ms CPU`,
        baseline: `node -e 0: ${fmt(node.wallMs, 0)} ms`,
        ratio: help.wallMs / node.wallMs,
        bar: `≤ ${HELP_BAR_MS} ms wall`,
        met: help.wallMs <= HELP_BAR_MS && rows.every((r) => r.exit === 0),
      },
    ];
    return {
      params: { runs: RUNS, warmup: 1 },
      sections: [{ title: "gt start (medians of 7)", headers: ["command", "how", "wall ms", "CPU ms (user+sys)", "wall ÷ node -e 0", "exit"], rows: table }],
      summary,
      notes: [
        "tsx: node --import <tsx loader> container/gt.ts, as container/bin/gt ran before the bundle (and now runs when the bundle is stale); bundle: node container/dist/gt.js, and container/bin/gt (its freshness check, then the same).",
        "gt prime talks to a stub HTTP room (canned reply), not partykit dev: gt's start, one round trip and printing.",
        "CPU from /usr/bin/time (user + sys, 10 ms resolution).",
      ],
      data: { rows },
    };
  },
};

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const at = process.argv.indexOf("--base");
  const rows = await measureGtStart((m) => console.error(m), at > 0 ? process.argv[at + 1] : undefined);
  console.log("| command | how | wall ms | CPU ms (user+sys) | exit |\n|---|---|---:|---:|---:|");
  for (const r of rows) console.log(`| ${r.case} | ${r.how} | ${Math.round(r.wallMs)} | ${Math.round(r.cpuMs)} | ${r.exit} |`);
}
