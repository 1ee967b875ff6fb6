/**
 * Beads closed per hour, as pure functions over a small record of counters (hour → count) that the
 * rig room keeps in storage and updates in the same write as the closing bead: the document drops
 * long-closed beads (GT_RETAIN_CLOSED), so the counts cannot be recomputed from it. Hours are UTC
 * hours since the epoch; only the last 24 are kept, so the record has at most 24 entries.
 */

export const HOUR_MS = 3_600_000;
export const HOURS_KEPT = 24;

/** Closings per hour: key the hour's number (ms since the epoch / HOUR_MS, floored). */
export type HourlyCounts = Record<string, number>;

export function hourOf(ms: number): number {
  return Math.floor(ms / HOUR_MS);
}

/** When the hour after `now` begins. */
export function nextHourAt(now: number): number {
  return (hourOf(now) + 1) * HOUR_MS;
}

/** The counts with `n` more closings at `at`, hours older than the last 24 (as of `now`) dropped. */
export function countClosed(counts: HourlyCounts, at: number, now: number = at, n = 1): HourlyCounts {
  const next = recent(counts, now);
  const hour = hourOf(at);
  if (hour <= hourOf(now) - HOURS_KEPT || n <= 0) return next;
  next[hour] = (next[hour] ?? 0) + n;
  return next;
}

/** The last 24 hours' counts, oldest first: [23] is the hour of `now`, [0] the hour 23 hours before. */
export function last24(counts: HourlyCounts, now: number): number[] {
  const current = hourOf(now);
  return Array.from({ length: HOURS_KEPT }, (_, i) => counts[current - (HOURS_KEPT - 1) + i] ?? 0);
}

/**
 * When the summary must be sent again although nothing changed: at the next hour while the last
 * 24 hours hold a closing (the chart shifts by one hour), else never.
 */
export function hourlyWake(counts: HourlyCounts, now: number): number | null {
  return last24(counts, now).some((n) => n > 0) ? nextHourAt(now) : null;
}

function recent(counts: HourlyCounts, now: number): HourlyCounts {
  const oldest = hourOf(now) - (HOURS_KEPT - 1);
  const kept: HourlyCounts = {};
  for (const [hour, n] of Object.entries(counts)) if (Number(hour) >= oldest && Number.isFinite(n) && n > 0) kept[hour] = n;
  return kept;
}
