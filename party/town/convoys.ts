/**
 * Convoy bookkeeping in the town as pure functions. Rigs report each tracked
 * bead's changes with the bead's `rev`; only a newer rev changes the convoy, so duplicated or
 * reordered notices never double count, and progress only moves when a bead really moved.
 */
import type { BeadStatus, Convoy, ConvoyBead } from "../protocol.ts";

export const TERMINAL: ReadonlySet<BeadStatus> = new Set(["closed", "failed"]);

export type BeadNotice = { beadId: string; status: BeadStatus; assignee?: string | undefined; rev: number; title?: string; failure?: string | undefined };

/**
 * The convoy with the notice applied, or null when the notice is old news. `now`: when the town
 * learnt it; a bead that reaches `closed` keeps it as `doneAt` (the convoy's burn-down).
 */
export function applyNotice(convoy: Convoy, notice: BeadNotice, now: number = Date.now()): Convoy | null {
  const index = convoy.beads.findIndex((b) => b.beadId === notice.beadId);
  const current = convoy.beads[index];
  if (!current || notice.rev <= current.rev || current.note) return null; // unknown, stale, or failed by the town
  const next: ConvoyBead = { ...current, status: notice.status, rev: notice.rev, ...(notice.title ? { title: notice.title } : {}) };
  if (notice.assignee) next.assignee = notice.assignee;
  else delete next.assignee;
  if (notice.status === "failed" && notice.failure) next.failure = notice.failure;
  else delete next.failure;
  if (notice.status !== "closed") delete next.doneAt;
  else if (current.status !== "closed" || next.doneAt === undefined) next.doneAt = now;
  const beads = [...convoy.beads];
  beads[index] = next;
  return { ...convoy, beads };
}

/** Fails every unfinished bead of a removed rig, visibly. */
export function failRigBeads(convoy: Convoy, rigId: string, note: string): Convoy | null {
  let changed = false;
  const beads = convoy.beads.map((b) => {
    if (b.rigId !== rigId || TERMINAL.has(b.status)) return b;
    changed = true;
    return { ...b, status: "failed" as const, note };
  });
  return changed ? { ...convoy, beads } : null;
}

/** Fails one unfinished bead the town cannot get a status for (never created, or lost). */
export function failBead(convoy: Convoy, beadId: string, note: string): Convoy | null {
  const index = convoy.beads.findIndex((b) => b.beadId === beadId);
  const current = convoy.beads[index];
  if (!current || TERMINAL.has(current.status)) return null;
  const beads = [...convoy.beads];
  beads[index] = { ...current, status: "failed", note };
  return { ...convoy, beads };
}

/**
 * A bead of the convoy was moved to another rig: its successor takes its place (same position,
 * attempts from zero, `rev` 0 so the successor's first notice applies). Null when the convoy does
 * not hold the old bead (never, or replaced already: a repeated move notice). A landed convoy that
 * gets unfinished work back is open again when `reopen` (the town decides whether it has room).
 */
export function replaceBead(convoy: Convoy, oldBeadId: string, successor: ConvoyBead, reopen: boolean): Convoy | null {
  const index = convoy.beads.findIndex((b) => b.beadId === oldBeadId);
  if (index < 0 || convoy.beads.some((b) => b.beadId === successor.beadId)) return null;
  const beads = [...convoy.beads];
  beads[index] = successor;
  const next: Convoy = { ...convoy, beads };
  if (reopen && convoy.status === "landed" && !TERMINAL.has(successor.status)) {
    next.status = "open";
    delete next.landedAt;
  }
  return next;
}

/** An open convoy lands when every bead is closed or failed. */
export function landIfDone(convoy: Convoy, now: number): { convoy: Convoy; landed: boolean } {
  if (convoy.status !== "open" || !convoy.beads.every((b) => TERMINAL.has(b.status))) return { convoy, landed: false };
  return { convoy: { ...convoy, status: "landed", landedAt: now }, landed: true };
}

export function progress(convoy: Convoy): { done: number; total: number; byRig: Record<string, { done: number; total: number }> } {
  const byRig: Record<string, { done: number; total: number }> = {};
  let done = 0;
  for (const bead of convoy.beads) {
    const rig = (byRig[bead.rigName] ??= { done: 0, total: 0 });
    rig.total += 1;
    if (TERMINAL.has(bead.status)) {
      rig.done += 1;
      done += 1;
    }
  }
  return { done, total: convoy.beads.length, byRig };
}
