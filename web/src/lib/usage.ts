/**
 * Usage and spend as the dashboard says them: tokens, dollars, budgets. A cost the CLI did not
 * report (and no prices file gave) is unknown, never $0: the words say how many runs it leaves out.
 */
import type { AgentUsage, Budget, Usage, UsageTotals } from "../../../party/protocol.ts";
import { plural } from "./words.ts";

export const EMPTY_TOTALS: UsageTotals = { runs: 0, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, costUsd: 0, unpriced: 0 };

/** Every token of a run or a sum: input, output, cache read and cache write (what a tokens budget counts). */
export const tokenCount = (u: Pick<Usage, "inputTokens" | "outputTokens" | "cacheReadTokens" | "cacheWriteTokens">): number =>
  u.inputTokens + u.outputTokens + u.cacheReadTokens + u.cacheWriteTokens;

/** "$0.42", "$12.30", "$1,204", "<$0.01" (a cost too small to show is still not nothing). */
export function usd(n: number): string {
  if (n > 0 && n < 0.005) return "<$0.01";
  if (n >= 1000) return `$${Math.round(n).toLocaleString("en-US")}`;
  return `$${n.toFixed(2)}`;
}

/** "840", "12.3k", "4.5M". */
export function tokens(n: number): string {
  if (n < 1000) return String(n);
  if (n < 1_000_000) return `${(n / 1000).toFixed(n < 10_000 ? 1 : 0).replace(/\.0$/, "")}k`;
  return `${(n / 1_000_000).toFixed(n < 10_000_000 ? 1 : 0).replace(/\.0$/, "")}M`;
}

/**
 * What runs cost, in words: "$1.20", "$1.20 + 2 runs unpriced", "cost unknown (3 runs unpriced)";
 * "no usage reported" when no run reported any: scripted and command agents run without reporting
 * usage, so "no runs" would be false while they work.
 */
const NO_USAGE = "no usage reported";

export function costText(t: UsageTotals | undefined): string {
  if (!t || t.runs === 0) return NO_USAGE;
  if (t.unpriced === 0) return usd(t.costUsd);
  if (t.unpriced >= t.runs) return `cost unknown (${plural(t.unpriced, "run")} unpriced)`;
  return `${usd(t.costUsd)} + ${plural(t.unpriced, "run")} unpriced`;
}

/** A sum in one line: "$1.20 · 45k tokens · 3 runs" (cost in costText's words). */
export function totalsLine(t: UsageTotals | undefined): string {
  if (!t || t.runs === 0) return NO_USAGE;
  return `${costText(t)} · ${tokens(tokenCount(t))} tokens · ${plural(t.runs, "run")}`;
}

/**
 * An agent's usage today (UTC) in one line: "today: $1.20 · 45k tokens · 2 runs" (cost in
 * costText's words), "today: no usage reported" when its sum is of an earlier day or it has none.
 */
export function agentTodayLine(usage: AgentUsage | undefined, now: number): string {
  const today = usage?.day === new Date(now).toISOString().slice(0, 10) ? usage.today : undefined;
  return `today: ${totalsLine(today)}`;
}

/** One run: "claude-sonnet-4-5 · 12.3k tokens · $0.05" (or "cost unknown"), with its turns when known. */
export function runLine(u: Usage): string {
  return [
    u.model ?? "model not reported",
    ...(u.turns !== null ? [plural(u.turns, "turn")] : []),
    `${tokens(tokenCount(u))} tokens`,
    u.costUsd === null ? "cost unknown" : usd(u.costUsd),
  ].join(" · ");
}

/** Adds sums (a convoy's beads, the town's rigs); a missing one counts nothing. */
export function addTotals(list: readonly (UsageTotals | undefined)[]): UsageTotals {
  const sum = { ...EMPTY_TOTALS };
  for (const t of list) {
    if (!t) continue;
    for (const key of Object.keys(sum) as (keyof UsageTotals)[]) sum[key] += t[key];
  }
  return sum;
}

/** A budget's figure: "USD 5.00" or "200k tokens" a day. */
export const budgetAmount = (b: Budget): string => (b.unit === "usd" ? usd(b.daily) : `${tokens(b.daily)} tokens`);

/** What a budget has used today: spent (in its unit), the share (0..), and in words "$1.20 of $5.00 today (24%)". */
export function budgetUse(b: Budget, today: UsageTotals | undefined): { spent: number; share: number; text: string } {
  const t = today ?? EMPTY_TOTALS;
  const spent = b.unit === "usd" ? t.costUsd : tokenCount(t);
  const share = b.daily > 0 ? spent / b.daily : 1;
  const figure = b.unit === "usd" ? `${usd(spent)} of ${usd(b.daily)}` : `${tokens(spent)} of ${tokens(b.daily)} tokens`;
  // A USD budget cannot count runs whose cost is unknown: say so rather than look under budget.
  const blind = b.unit === "usd" && t.unpriced ? `; ${plural(t.unpriced, "run")} unpriced not counted` : "";
  return { spent, share, text: `${figure} today (${Math.round(share * 100)}%)${blind}` };
}

/** A daily budget typed by a person: a positive number (USD with at most two decimals; tokens whole), or what is wrong. */
export function parseBudget(unit: Budget["unit"], text: string): { budget: Budget } | { problem: string } {
  const trimmed = text.trim().replace(/^\$/, "").replace(/_/g, "");
  if (unit === "usd") {
    if (!/^\d{1,7}(\.\d{1,2})?$/.test(trimmed) || Number(trimmed) <= 0) return { problem: "A daily amount in USD above 0, e.g. 5 or 12.50." };
    return { budget: { unit, daily: Number(trimmed) } };
  }
  const m = trimmed.match(/^(\d{1,12})([kKmM]?)$/);
  const n = m ? Number(m[1]) * (m[2] ? (m[2].toLowerCase() === "k" ? 1000 : 1_000_000) : 1) : 0;
  if (!m || n <= 0 || !Number.isSafeInteger(n)) return { problem: "A whole number of tokens above 0, e.g. 200000 or 200k." };
  return { budget: { unit, daily: n } };
}

/**
 * Gridlines for a chart whose bars reach `max`: 0 and up to three round steps (1, 2 or 5 × 10^n)
 * covering max, so an axis reads "$0 $0.50 $1.00" rather than "$0 $0.37 $0.74".
 */
export function axisTicks(max: number): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / 3;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let v = 0; v < max + step - 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}
