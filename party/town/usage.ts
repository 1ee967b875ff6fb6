/**
 * The town's usage as pure functions (W22): its daily totals (the town document's `usage` map, key
 * `town`: sums, never a run's row) made of what each rig told of its day, its budget, and when that
 * budget is reached or no longer. usage-tools.ts carries them out.
 */
import { LIMITS, type Budget, type BudgetHold, type TownUsage, type UsageTotals } from "../protocol.ts";
import { budgetWords, emptyTotals, reached, spendOf, sumTotals, tokenCount, tokensOf, usdText, utcDay } from "../work/index.ts";

/** What each rig told of one UTC day (its whole-day sums), by rig id: kept in storage, one record per day. */
export type DayByRig = Record<string, UsageTotals>;

export function emptyTownUsage(now: number): TownUsage {
  return { day: utcDay(now), today: emptyTotals(), days: [], budget: null, reached: null, updatedAt: now };
}

/**
 * A rig's notice of its day applied: the day's record keeps, per rig, the sums with the most runs
 * (a notice sent again, or overtaken by a later one, counts nothing twice). Null when it is old news.
 */
export function withRigDay(byRig: DayByRig, rigId: string, totals: UsageTotals): DayByRig | null {
  const known = byRig[rigId];
  if (known && (known.runs > totals.runs || (known.runs === totals.runs && known.costUsd >= totals.costUsd))) return null;
  return { ...byRig, [rigId]: totals };
}

/** A day's sums over its rigs. */
export function dayTotals(byRig: DayByRig): UsageTotals {
  return Object.values(byRig).reduce((sum, t) => sumTotals(sum, t), emptyTotals());
}

/**
 * The town's usage as of `now`: the day moved on when a new UTC day began (the day before kept in
 * `days`, newest first, at most LIMITS.usageDaysKept), and a day's sums set (`day`, `totals`).
 */
export function withDay(usage: TownUsage, now: number, day?: string, totals?: UsageTotals): TownUsage {
  let next = usage;
  const today = utcDay(now);
  if (next.day < today) {
    const days = [{ day: next.day, totals: next.today }, ...next.days.filter((d) => d.day !== next.day)];
    next = { ...next, day: today, today: emptyTotals(), days: days.slice(0, LIMITS.usageDaysKept), reached: null };
  }
  if (day !== undefined && totals) {
    if (day === next.day) next = { ...next, today: totals };
    else if (day < next.day) {
      const days = [...next.days.filter((d) => d.day !== day), { day, totals }].sort((a, b) => (a.day < b.day ? 1 : -1));
      next = { ...next, days: days.slice(0, LIMITS.usageDaysKept) };
    }
  }
  return next;
}

/** The budget's figures in words: "$5.02 of $5.00", "1,200 of 1,000 tokens". */
export function figures(budget: Budget, totals: UsageTotals): string {
  return budgetWords.figures(budget, spendOf(budget, totals));
}

/** Whether the town's budget is reached now, as a hold with its reason (the rigs show it), or null. */
export function townHold(usage: TownUsage, now: number): BudgetHold | null {
  if (!usage.budget || !reached(usage.budget, usage.today)) return null;
  return { by: "town", since: usage.reached?.since ?? now, reason: `the town's daily budget is reached (${figures(usage.budget, usage.today)} today, UTC)` };
}

/** The rigs must hear of it when the town's budget became reached, or stopped being so. */
export function holdChanged(before: TownUsage, after: TownUsage): boolean {
  return (before.reached === null) !== (after.reached === null) || (before.reached !== null && before.day !== after.day);
}

/** A day's line for the feed when the day is over: "2026-12-07 (UTC): 12 runs, $3.40, 1,234,567 tokens". */
export function dayLine(day: string, totals: UsageTotals): string {
  const unpriced = totals.unpriced ? ` (${totals.unpriced} without a cost)` : "";
  return `usage on ${day} (UTC): ${totals.runs} run${totals.runs === 1 ? "" : "s"}, ${usdText(totals.costUsd)}${unpriced}, ${tokenCount(tokensOf(totals))} tokens`;
}
