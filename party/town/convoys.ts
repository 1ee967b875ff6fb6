/**
 * Convoy bookkeeping in the town as pure functions. Rigs report each tracked
 * bead's changes with the bead's `rev`; only a newer rev changes the convoy, so duplicated or
 * reordered notices never double count, and progress only moves when a bead really moved.
 */
import type { BeadState } from "../internal.ts";
import { LIMITS, ToolError, type BeadStatus, type Convoy, type ConvoyBead, type ConvoyProgress, type UsageTotals } from "../protocol.ts";
import type { Placement } from "./placement.ts";

export const TERMINAL: ReadonlySet<BeadStatus> = new Set(["closed", "failed"]);

export type BeadNotice = {
  beadId: string;
  status: BeadStatus;
  assignee?: string | undefined;
  rev: number;
  title?: string;
  failure?: string | undefined;
  /** What the bead's runs used (W22): the convoy keeps the last its rig told. */
  usage?: UsageTotals | undefined;
};

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
  if (notice.usage) next.usage = notice.usage;
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

export function withProgress(convoy: Convoy): ConvoyProgress {
  return { ...convoy, progress: progress(convoy) };
}

/** A new convoy of placed beads. Each bead's reason is kept short in it (it names every rig's load in a big town). */
export function newConvoy(id: string, title: string, placed: readonly Placement[], now: number): Convoy {
  return {
    id,
    title,
    status: "open",
    createdAt: now,
    beads: placed.map((p) => ({
      rigId: p.rigId,
      rigName: p.rigName,
      beadId: p.beadId,
      title: p.spec.title,
      status: "open",
      reason: p.reason.slice(0, 300),
      rev: 0,
    })),
  };
}

/** Beads in the town's open convoys (what LIMITS.openConvoyBeads bounds). */
export function openBeads(convoys: Iterable<Convoy>): number {
  let open = 0;
  for (const c of convoys) if (c.status === "open") open += c.beads.length;
  return open;
}

/** Refuses a new convoy of `n` beads past the town's bound on beads in open convoys (a sling is held by its rig's bound on unfinished beads). */
export function requireRoomForBeads(convoys: Iterable<Convoy>, n: number): void {
  const open = openBeads(convoys);
  if (open + n > LIMITS.openConvoyBeads)
    throw new ToolError("CONFLICT", `the town has ${open} beads in open convoys; at most ${LIMITS.openConvoyBeads} at once`);
}

/**
 * The convoy's change for a move: the successor in the old bead's place (a landed convoy open
 * again when `reopen`: the town's bound on beads in open convoys leaves room); with the target rig
 * gone, the old bead's entry fails instead. Null when nothing changes.
 */
export function moveInConvoy(
  convoy: Convoy,
  move: { oldBeadId: string; successor: ConvoyBead; targetExists: boolean; reopen: boolean },
  now: number,
): { convoy: Convoy; landed: boolean; reopened: boolean } | null {
  const next = move.targetExists
    ? replaceBead(convoy, move.oldBeadId, move.successor, move.reopen)
    : failBead(convoy, move.oldBeadId, `moved to rig ${move.successor.rigName}, which was removed`);
  if (!next) return null;
  const reopened = convoy.status !== "open" && next.status === "open";
  return { ...landIfDone(next, now), reopened };
}

/**
 * The landed convoys to move out of the document so that at most `kept` stay: the longest landed
 * first. Open convoys always stay.
 */
export function toRetire(convoys: readonly Convoy[], kept: number): Convoy[] {
  const landed = convoys.filter((c) => c.status !== "open");
  const excess = landed.length - kept;
  if (excess <= 0) return [];
  return landed.sort((a, b) => (a.landedAt ?? a.createdAt) - (b.landedAt ?? b.createdAt)).slice(0, excess);
}

/**
 * The reconciliation's question: an open convoy's unfinished beads, by rig, leaving out those whose
 * creation is still on its way (`pending`: their rig may not know them yet).
 */
export function unfinishedByRig(convoy: Convoy, pending: (beadId: string) => boolean): Map<string, string[]> {
  const byRig = new Map<string, string[]>();
  for (const b of convoy.beads) if (!TERMINAL.has(b.status) && !pending(b.beadId)) byRig.set(b.rigId, [...(byRig.get(b.rigId) ?? []), b.beadId]);
  return byRig;
}

/** What a rig's answer about some beads says: notices for those it knows, and the ids it does not. */
export function answerOf(states: readonly BeadState[], ids: readonly string[]): { notices: BeadNotice[]; missing: string[] } {
  const notices: BeadNotice[] = [];
  // A moved bead's convoy entry is replaced by its rig's move notice (in its outbox), never closed by it.
  for (const state of states)
    if (!state.movedTo)
      notices.push({
        beadId: state.id,
        status: state.status,
        assignee: state.assignee,
        rev: state.rev,
        title: state.title,
        failure: state.failure,
        usage: state.usage,
      });
  return { notices, missing: ids.filter((id) => !states.some((s) => s.id === id)) };
}

/**
 * The convoy with what the reconciliation learnt: beads of removed rigs failed, the rigs' notices
 * applied, beads their rig does not know failed. The same object when nothing changed.
 */
export function reconciled(
  convoy: Convoy,
  found: { removedRigs: readonly string[]; notices: readonly BeadNotice[]; missing: readonly string[] },
  now: number,
): Convoy {
  let next = convoy;
  for (const rigId of found.removedRigs) next = failRigBeads(next, rigId, "its rig was removed") ?? next;
  for (const notice of found.notices) next = applyNotice(next, notice, now) ?? next;
  for (const beadId of found.missing) next = failBead(next, beadId, "missing from its rig") ?? next;
  return next;
}
