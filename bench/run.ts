/**
 * The benchmark suite of docs/benchmarks.md against real `partykit dev`.
 *   npm run bench              full run → bench/results/*.json, latest.json, latest.md
 *   npm run bench:smoke        small version of everything → bench/results/smoke/
 *   npx tsx bench/run.ts [--smoke] [--only 1,4]   (--only merges into latest.json / latest.md)
 *   npx tsx bench/run.ts [--smoke] --render        latest.md again from latest.json
 *   npm run bench -- --town-scale [--town-scale-sizes 10,30,100] [--town-scale-shards 4]
 *                              a big town, measured (bench/town-scale.ts) → bench/results/town-scale.md
 *                              (e.g. --town-scale-sizes 3 for a quick run)
 */
import { hostname, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import type { Metric, MetricResult } from "./lib/report.ts";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { renderAll, renderMetric, renderSummary, writeResults } from "./lib/report.ts";
import { STARTED, serverSnapshot } from "./lib/server.ts";
import { buildGtIfStale } from "../scripts/build-gt.ts";
import { fanout } from "./metrics/m01-fanout.ts";
import { mail } from "./metrics/m02-mail.ts";
import { sockets } from "./metrics/m03-sockets.ts";
import { docsize } from "./metrics/m04-docsize.ts";
import { initialSync } from "./metrics/m05-sync.ts";
import { bundle } from "./metrics/m06-bundle.ts";
import { storm } from "./metrics/m07-storm.ts";
import { crash } from "./metrics/m08-crash.ts";
import { throughput } from "./metrics/m09-throughput.ts";
import { fuzz } from "./metrics/m10-fuzz.ts";
import { flood } from "./metrics/m13-flood.ts";
import { gtStart } from "./metrics/m14-gt-start.ts";

const METRICS: Metric[] = [fanout, mail, sockets, docsize, initialSync, bundle, storm, crash, throughput, fuzz, flood, gtStart];

const args = process.argv.slice(2);
const smoke = args.includes("--smoke");
const onlyArg = args.find((a) => a.startsWith("--only"))?.split("=")[1] ?? (args.includes("--only") ? args[args.indexOf("--only") + 1] : undefined);
const only = onlyArg ? new Set(onlyArg.split(",").map(Number)) : null;
const outDir = fileURLToPath(new URL(smoke ? "./results/smoke" : "./results", import.meta.url));

if (args.includes("--render")) {
  // Rebuild latest.md from latest.json (e.g. after a change to the tables' layout).
  const { results: saved, ...meta } = JSON.parse(readFileSync(join(outDir, "latest.json"), "utf8")) as { results: MetricResult[] } & Record<string, unknown>;
  renderAll(outDir, saved, meta);
  console.log(`rendered ${join(outDir, "latest.md")}`);
  process.exit(0);
}

if (args.includes("--town-scale")) {
  const { townScaleMain } = await import("./town-scale.ts");
  const started = performance.now();
  const snap = serverSnapshot();
  await townScaleMain(args, (m) => console.error(`[town-scale +${((performance.now() - started) / 1000).toFixed(1)}s] ${m}`), {
    startedAt: new Date().toISOString(),
    serverCode: { hash: snap.hash, git: snap.git },
  });
  process.exit(process.exitCode ?? 0);
}

const t0 = performance.now();
const startedAt = new Date().toISOString();
const log = (message: string) => console.error(`[bench +${((performance.now() - t0) / 1000).toFixed(1)}s] ${message}`);
const results: MetricResult[] = [];
const snapshot = serverSnapshot();
log(`server code: snapshot ${snapshot.hash} of ${snapshot.git}`);
// The agents' gt and the scripted agent as the container runs them: bundled (container/dist).
if (await buildGtIfStale()) log("built gt and the scripted agent (container/dist)");
const load = () => loadavg().map((x) => Number(x.toFixed(2)));

for (const metric of METRICS) {
  if (only && !only.has(metric.id)) continue;
  log(`#${metric.id} ${metric.title}`);
  const m0 = performance.now();
  const servers0 = STARTED.length;
  const load0 = load();
  let result: MetricResult;
  try {
    const r = await metric.run({ smoke, log });
    result = { id: metric.id, name: metric.name, title: metric.title, ...r, durationMs: performance.now() - m0, loadavg: { before: load0, after: load() } };
  } catch (error) {
    log(`#${metric.id} failed: ${(error as Error).stack}`);
    for (const s of STARTED.slice(servers0)) log(`server log (last 3000 chars):\n${s.output().slice(-3000)}`);
    result = {
      id: metric.id,
      name: metric.name,
      title: metric.title,
      params: {},
      sections: [],
      summary: [],
      notes: [],
      data: {},
      durationMs: performance.now() - m0,
      error: String((error as Error).message ?? error)
        .split("\n")[0]!
        .slice(0, 300),
      loadavg: { before: load0, after: load() },
    };
  }
  results.push(result);
  console.log(renderMetric(result));
}

const durationMs = performance.now() - t0;
console.log(renderSummary(results));
const partial = only ? { only: [...only] } : {};
writeResults(
  outDir,
  results,
  { smoke, startedAt, durationMs, host: hostname(), cpus: (await import("node:os")).cpus().length, serverCode: snapshot, ...partial },
  only !== null,
);
log(`done in ${(durationMs / 1000).toFixed(0)} s; results in ${outDir}`);
process.exit(0);
