/**
 * Usage as numbers: a run's usage summed into totals, a budget's spend and whether it is reached,
 * and the UTC day a moment falls in. Pure arithmetic the work machine (W22), the rig room's store
 * and the town share; days are UTC days, `YYYY-MM-DD`.
 */
import type { AgentUsage, Budget, Usage, UsageTotals } from "../protocol.ts";

export const DAY_MS = 86_400_000;

export function emptyTotals(): UsageTotals {
  return { runs: 0, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, costUsd: 0, unpriced: 0 };
}

/** `totals` with one more run's usage. */
export function addUsage(totals: UsageTotals | undefined, usage: Usage): UsageTotals {
  const t = totals ?? emptyTotals();
  return {
    runs: t.runs + 1,
    inputTokens: t.inputTokens + usage.inputTokens,
    outputTokens: t.outputTokens + usage.outputTokens,
    cacheReadTokens: t.cacheReadTokens + usage.cacheReadTokens,
    cacheWriteTokens: t.cacheWriteTokens + usage.cacheWriteTokens,
    costUsd: t.costUsd + (usage.costUsd ?? 0),
    unpriced: t.unpriced + (usage.costUsd === null ? 1 : 0),
  };
}

/** An agent's day with one more run's usage counted at `now`: a new UTC day starts again from this run. */
export function addAgentUsage(was: AgentUsage | undefined, usage: Usage, now: number): AgentUsage {
  const day = utcDay(now);
  return { day, today: addUsage(was?.day === day ? was.today : undefined, usage) };
}

/** What an agent's runs used on the UTC day of `now` (nothing when its sum is of an earlier day). */
export function agentToday(usage: AgentUsage | undefined, now: number): UsageTotals {
  return usage?.day === utcDay(now) ? usage.today : emptyTotals();
}

/** Two sums added. */
export function sumTotals(a: UsageTotals | undefined, b: UsageTotals | undefined): UsageTotals {
  const x = a ?? emptyTotals();
  const y = b ?? emptyTotals();
  return {
    runs: x.runs + y.runs,
    inputTokens: x.inputTokens + y.inputTokens,
    outputTokens: x.outputTokens + y.outputTokens,
    cacheReadTokens: x.cacheReadTokens + y.cacheReadTokens,
    cacheWriteTokens: x.cacheWriteTokens + y.cacheWriteTokens,
    costUsd: x.costUsd + y.costUsd,
    unpriced: x.unpriced + y.unpriced,
  };
}

/** Every token a usage or a sum counts: input, output, cache read and cache write (what a token budget counts). */
export function tokensOf(u: Pick<UsageTotals, "inputTokens" | "outputTokens" | "cacheReadTokens" | "cacheWriteTokens">): number {
  return u.inputTokens + u.outputTokens + u.cacheReadTokens + u.cacheWriteTokens;
}

/** What a budget counts of a sum: its tokens, or its USD. */
export function spendOf(budget: Budget, totals: UsageTotals): number {
  return budget.unit === "tokens" ? tokensOf(totals) : totals.costUsd;
}

/** A budget is reached when the day's spend is at or past it. */
export function reached(budget: Budget | null | undefined, totals: UsageTotals): boolean {
  return !!budget && spendOf(budget, totals) >= budget.daily;
}

/** The UTC day of `ms`, `YYYY-MM-DD`. */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** When the UTC day after `ms`'s begins. */
export function nextDayAt(ms: number): number {
  return (Math.floor(ms / DAY_MS) + 1) * DAY_MS;
}

/** When the UTC day of `ms` began. */
export function dayStartAt(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS;
}
