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
