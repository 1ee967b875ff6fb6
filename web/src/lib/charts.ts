/** The numbers behind the dashboard's small charts, as pure functions (the SVG is in ui/charts.tsx). */
import type { ConvoyBead } from "../../../party/protocol.ts";

export type BurnPoint = { at: number; remaining: number };

/**
 * A convoy's burn-down: beads not closed yet over time, one step down per bead at its `doneAt`
 * (set when it reached `closed`). A failed bead never steps down: it is not done work (`failed` says
 * how many; a convoy holding one is stuck, not landed). Beads closed before `doneAt` was recorded
 * have no place on the time axis; they are counted apart (`undated`) so the steps drawn stay true.
 */
export function burnDown(createdAt: number, beads: ConvoyBead[]): { total: number; points: BurnPoint[]; undated: number; failed: number } {
  const total = beads.length;
  const times = beads
    .filter((b) => b.status === "closed" && b.doneAt !== undefined)
    .map((b) => Math.max(createdAt, b.doneAt!))
    .sort((a, b) => a - b);
  const undated = beads.filter((b) => b.status === "closed" && b.doneAt === undefined).length;
  const failed = beads.filter((b) => b.status === "failed").length;
  const points: BurnPoint[] = [{ at: createdAt, remaining: total }];
  times.forEach((at, i) => points.push({ at, remaining: total - i - 1 }));
  return { total, points, undated, failed };
}

/** 24 hourly counts, oldest first, whatever the server sent (missing hours count 0, extra ones are dropped). */
export function hourly(counts: readonly number[] | undefined): number[] {
  const hours = Array.from({ length: 24 }, (_, i) => {
    const v = counts?.[counts.length - 24 + i];
    return typeof v === "number" && Number.isFinite(v) && v > 0 ? v : 0;
  });
  return hours;
}

/** The start of the hour `hoursAgo` hours before `now`'s hour (for a bar's label). */
export function hourStart(now: number, hoursAgo: number): number {
  const d = new Date(now);
  d.setMinutes(0, 0, 0);
  return d.getTime() - hoursAgo * 3600_000;
}

/**
 * A count axis from 0: integer ticks evenly spaced (a step of 1, 2 or 5 × 10^n), from 0 up to the
 * first tick at or above `max`, at most `most` of them. "0 1 2 3" for 3, never "3 2 0".
 */
export function countTicks(max: number, most = 6): number[] {
  const top = Number.isFinite(max) && max > 0 ? Math.ceil(max) : 1;
  let step = 1;
  for (let magnitude = 1; ; magnitude *= 10) {
    const fit = [1, 2, 5].map((m) => m * magnitude).find((s) => Math.ceil(top / s) + 1 <= Math.max(2, most));
    if (fit) {
      step = fit;
      break;
    }
  }
  const ticks: number[] = [];
  for (let v = 0; v < top + step; v += step) ticks.push(v);
  return ticks;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** Round steps for a time axis, smallest first. */
const TIME_STEPS = [1, 2, 5, 10, 15, 30]
  .map((s) => s * SECOND)
  .concat(
    [1, 2, 5, 10, 15, 30].map((m) => m * MINUTE),
    [1, 2, 3, 6, 12].map((h) => h * HOUR),
    [1, 2, 7, 14, 30].map((d) => d * DAY),
  );
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const two = (n: number) => String(n).padStart(2, "0");

export type TimeTick = { at: number; label: string };

/**
 * A time axis over [start, end]: ticks on a round step (the smallest that gives at most `most`),
 * on local clock boundaries, labelled as finely as the step needs ("14:05:30", "14:05", "Dec 8").
 * An axis whose ticks fall on more than one day dates each of them ("Dec 8 18:00"), and on more
 * than one year, years them. So labels are distinct and increase, whatever the span: the same
 * minute is never printed at both ends.
 */
export function timeTicks(start: number, end: number, most = 6): TimeTick[] {
  if (!(end > start)) return [{ at: start, label: clock(start, SECOND) }];
  const span = end - start;
  const room = Math.max(2, most);
  const step = TIME_STEPS.find((s) => Math.floor(span / s) + 1 <= room) ?? Math.ceil(span / (room - 1) / (30 * DAY)) * 30 * DAY;
  // From local midnight of the start's day, so hours and days fall on the clock's own boundaries.
  const midnight = new Date(start);
  midnight.setHours(0, 0, 0, 0);
  const origin = midnight.getTime();
  const times: number[] = [];
  if (step < DAY) for (let at = origin + Math.ceil((start - origin) / step) * step; at <= end; at += step) times.push(at);
  else {
    // By calendar days, not by 24 h: a day with a clock change is 23 or 25 hours long.
    const d = new Date(origin);
    if (d.getTime() < start) d.setDate(d.getDate() + 1);
    for (; d.getTime() <= end; d.setDate(d.getDate() + step / DAY)) times.push(d.getTime());
  }
  const days = new Set(times.map((at) => new Date(at).toDateString())).size;
  const years = new Set(times.map((at) => new Date(at).getFullYear())).size;
  return times.map((at) => {
    const d = new Date(at);
    const date = `${MONTHS[d.getMonth()]} ${d.getDate()}${years > 1 ? ` ${d.getFullYear()}` : ""}`;
    const label = step >= DAY ? date : days > 1 ? `${date} ${clock(at, step)}` : clock(at, step);
    return { at, label };
  });
}

/** A time of day as finely as `step` needs (24-hour clock: short, and the same in every locale). */
function clock(at: number, step: number): string {
  const d = new Date(at);
  const hm = `${two(d.getHours())}:${two(d.getMinutes())}`;
  return step < MINUTE ? `${hm}:${two(d.getSeconds())}` : hm;
}
