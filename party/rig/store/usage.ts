/**
 * The rig's usage as the store keeps it (W22): each run's usage under a key of its own (so a repeated
 * exit report is counted once), and one record of sums, written in the same write as the bead's sum:
 * today's totals (UTC) and USD and tokens per hour over the last 24 hours. The summary shows them
 * (RigUsage), the work machine judges budgets on them, and the town hears the day's totals.
 */
import { HOURS_KEPT, hourOf } from "../../hours.ts";
import type { Budget, BudgetHold, RigUsage, Usage, UsageTotals } from "../../protocol.ts";
import { addUsage, emptyTotals, tokensOf, utcDay, type Spent } from "../../work/index.ts";

/** One run's usage as stored (`runusage:<run>`): what it used, whose run it was, when it was counted. */
export type RunUsage = { run: string; identity: string; beadId: string; at: number; usage: Usage };

/** The rig's sums (`usage`): today's totals and the last 24 hours' spend per hour (key: the hour's number). */
export type StoredUsage = { day: string; totals: UsageTotals; hours: Record<string, { usd: number; tokens: number }> };

export function emptyUsage(now: number): StoredUsage {
  return { day: utcDay(now), totals: emptyTotals(), hours: {} };
}

/** The sums with one more run's usage counted at `now` (a new UTC day starts from nothing). */
export function countRun(stored: StoredUsage, usage: Usage, now: number): StoredUsage {
  const day = utcDay(now);
  const totals = addUsage(stored.day === day ? stored.totals : emptyTotals(), usage);
  const oldest = hourOf(now) - (HOURS_KEPT - 1);
  const hours: StoredUsage["hours"] = {};
  for (const [hour, spend] of Object.entries(stored.hours)) if (Number(hour) >= oldest) hours[hour] = spend;
  const hour = String(hourOf(now));
  const was = hours[hour] ?? { usd: 0, tokens: 0 };
  hours[hour] = { usd: was.usd + (usage.costUsd ?? 0), tokens: was.tokens + tokensOf(usage) };
  return { day, totals, hours };
}

/** What the budgets are judged on: today's spend (nothing when the sums are of an earlier day). */
export function spentOf(stored: StoredUsage, now: number): Spent {
  const day = utcDay(now);
  return { day, totals: stored.day === day ? stored.totals : emptyTotals() };
}

/** The summary's usage: today's sums, the last 24 hours oldest first ([23] is the hour of `now`), the budget and the hold. */
export function rigUsage(
  stored: StoredUsage,
  rig: { budget?: Budget | undefined; hold?: BudgetHold | undefined; townReached?: boolean },
  now: number,
): RigUsage {
  const current = hourOf(now);
  const at = (i: number) => stored.hours[String(current - (HOURS_KEPT - 1) + i)];
  const usage: RigUsage = {
    day: utcDay(now),
    today: spentOf(stored, now).totals,
    costByHour: Array.from({ length: HOURS_KEPT }, (_, i) => at(i)?.usd ?? 0),
    tokensByHour: Array.from({ length: HOURS_KEPT }, (_, i) => at(i)?.tokens ?? 0),
  };
  if (rig.budget) usage.budget = rig.budget;
  if (rig.hold) usage.hold = rig.hold;
  if (rig.townReached) usage.townReached = true;
  return usage;
}

/** When the summary must be sent again though nothing changed: at the next hour while the last 24 hours hold any spend. */
export function usageWake(stored: StoredUsage, now: number): number | null {
  const oldest = hourOf(now) - (HOURS_KEPT - 1);
  const any = Object.entries(stored.hours).some(([hour, s]) => Number(hour) >= oldest && (s.usd > 0 || s.tokens > 0));
  return any ? (hourOf(now) + 1) * 3_600_000 : null;
}
