/** What each metric returns, and the markdown/JSON it becomes. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { CpuReading } from "./cpu.ts";
import type { Summary } from "./stats.ts";
import { fmt, fmtRatio, mdTable, type Cell } from "./table.ts";

export type Section = { title: string; headers: string[]; rows: Cell[][] };

export type SummaryRow = {
  metric: string;
  result: string;
  baseline: string;
  /** result ÷ baseline (for latency: p50 ÷ baseline p50). */
  ratio: number | null;
  bar: string;
  met: boolean | null;
};

export type MetricResult = {
  id: number;
  name: string;
  title: string;
  params: Record<string, unknown>;
  sections: Section[];
  summary: SummaryRow[];
  notes: string[];
  /** Raw figures for the JSON file. */
  data: Record<string, unknown>;
  durationMs: number;
  /** The machine's load average (1, 5, 15 min) before and after: it is shared and noisy. */
  loadavg?: { before: number[]; after: number[] };
  /** When the run that produced this metric started, and the server code it measured. */
  runAt?: string;
  serverCode?: unknown;
  error?: string;
};

export type Ctx = { smoke: boolean; log: (message: string) => void };

export type Metric = { id: number; name: string; title: string; run: (ctx: Ctx) => Promise<Omit<MetricResult, "id" | "name" | "title" | "durationMs">> };

/** The standard latency table: one row per case, with CPU of both sides and a ratio to a baseline. */
export const LATENCY_HEADERS = ["case", "n", "p50 ms", "p95 ms", "p99 ms", "max ms", "drops", "errors", "server CPU s (%)", "generator CPU s (%)", "p50 ratio"];

export function latencyRow(
  label: string,
  s: Summary,
  drops: number,
  errors: number,
  cpu: CpuReading | null,
  baselineP50: number | null,
  serverLabel?: string,
): Cell[] {
  const cpuCell = (sec: number | undefined, pct: number | undefined) => (sec === undefined ? "–" : `${fmt(sec)} (${fmt(pct ?? 0, 0)}%)`);
  return [
    label,
    s.n,
    s.p50,
    s.p95,
    s.p99,
    s.max,
    drops,
    errors,
    cpu ? (serverLabel ?? "") + cpuCell(cpu.serverS, cpu.serverPct) : "–",
    cpu ? cpuCell(cpu.genS, cpu.genPct) : "–",
    baselineP50 ? fmtRatio(s.p50 / baselineP50) : "1×",
  ];
}

export function renderMetric(r: MetricResult): string {
  const out = [`## #${r.id} ${r.title}`, ""];
  if (r.error) out.push(`**failed:** ${r.error}`, "");
  const load = r.loadavg ? `; load average ${r.loadavg.before[0]} → ${r.loadavg.after[0]}` : "";
  const when = r.runAt ? `; run ${r.runAt}` : "";
  out.push(
    `parameters: ${Object.entries(r.params)
      .map(([k, v]) => `${k}=${typeof v === "object" ? JSON.stringify(v) : String(v)}`)
      .join(", ")}; ${(r.durationMs / 1000).toFixed(1)} s${load}${when}`,
    "",
  );
  for (const s of r.sections) out.push(`### ${s.title}`, "", mdTable(s.headers, s.rows), "");
  if (r.notes.length) out.push(...r.notes.map((n) => `- ${n}`), "");
  return out.join("\n");
}

export function renderSummary(results: MetricResult[]): string {
  const rows = results.flatMap((r) =>
    r.summary.length
      ? r.summary.map((s) => [s.metric, s.result, s.baseline, fmtRatio(s.ratio), s.bar, s.met])
      : [[`#${r.id} ${r.title}`, r.error ? `failed: ${r.error}` : "–", "–", "–", "–", null]],
  );
  return ["## Summary", "", mdTable(["metric", "result", "baseline", "ratio", "bar", "met?"], rows), ""].join("\n");
}

/**
 * Writes each metric's JSON and the combined latest.json / latest.md. A partial run (--only)
 * replaces its metrics in the existing latest.json and keeps the others, each with its own run's
 * time and server code.
 */
export function writeResults(dir: string, fresh: MetricResult[], meta: Record<string, unknown>, partial: boolean): { md: string } {
  mkdirSync(dir, { recursive: true });
  const stamp = { runAt: meta.startedAt as string, serverCode: meta.serverCode };
  for (const r of fresh) Object.assign(r, stamp);
  for (const r of fresh) writeFileSync(join(dir, `${String(r.id).padStart(2, "0")}-${r.name}.json`), JSON.stringify(r, null, 2) + "\n");
  let results = fresh;
  const latest = join(dir, "latest.json");
  if (partial && existsSync(latest)) {
    const previous = JSON.parse(readFileSync(latest, "utf8")) as { results: MetricResult[] };
    const ids = new Set(fresh.map((r) => r.id));
    results = [...previous.results.filter((r) => !ids.has(r.id)), ...fresh].sort((a, b) => a.id - b.id);
    meta = {
      ...meta,
      partialRun: [...ids],
      note: "latest.json merges this partial run into the previous results; each metric has its own runAt and serverCode",
    };
  }
  return { md: renderAll(dir, results, meta) };
}

/** latest.md from results and run metadata (also used by `run.ts --render` on latest.json). */
export function renderAll(dir: string, results: MetricResult[], meta: Record<string, unknown>): string {
  const header = [
    `# Townhall benchmark results${meta.smoke ? " (smoke)" : ""}`,
    "",
    `${meta.startedAt} · ${meta.host} (${meta.cpus} CPUs) · node ${process.version} · ${(Number(meta.durationMs) / 1000).toFixed(0)} s total · server code: party/ snapshot ${(meta.serverCode as { hash: string }).hash} of ${(meta.serverCode as { git: string }).git}`,
    ...(meta.partialRun
      ? [
          "",
          `This file merges a partial run (metrics ${(meta.partialRun as number[]).join(", ")}) into the previous results; each metric's header shows when it ran.`,
        ]
      : []),
    "",
    "Loopback only; server = real `partykit dev` in its own process group; load generator = this process. CPU: server = utime+stime of the server's process group, generator = process.cpuUsage(). Latencies are measured on the observer's own clock.",
    "",
    ...(existsSync(join(dir, "town-scale.md"))
      ? ["The big town (10, 30 and 100 rigs, and sharded; `npm run bench -- --town-scale`) is measured on its own: [town-scale.md](town-scale.md).", ""]
      : []),
  ].join("\n");
  const md = [header, renderSummary(results), ...results.map(renderMetric)].join("\n");
  writeFileSync(join(dir, "latest.md"), md);
  writeFileSync(join(dir, "latest.json"), JSON.stringify({ ...meta, results }, null, 2) + "\n");
  return md;
}
