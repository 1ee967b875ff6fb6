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
 * not hold the old bead (never, or replaced already: a repeated move notice). Whether the convoy is
 * open again is `settle`'s to say (an unfinished successor reopens it).
 */
export function replaceBead(convoy: Convoy, oldBeadId: string, successor: ConvoyBead): Convoy | null {
  const index = convoy.beads.findIndex((b) => b.beadId === oldBeadId);
  if (index < 0 || convoy.beads.some((b) => b.beadId === successor.beadId)) return null;
  const beads = [...convoy.beads];
  beads[index] = successor;
  return { ...convoy, beads };
}

/**
 * The rule of a convoy's state, from its beads alone: `open` while any bead is unfinished;
 * `landed` when every bead is closed (a moved bead's place is taken by its successor, so a move
 * counts as its successor does); `stuck` when every bead is closed or failed and at least one
 * failed: finished, but not done, and someone has to retry, move or close the failed ones.
 */
export function convoyStateOf(beads: readonly Pick<ConvoyBead, "status">[]): "open" | "landed" | "stuck" {
  let failed = false;
  for (const b of beads) {
    if (!TERMINAL.has(b.status)) return "open";
    if (b.status === "failed") failed = true;
  }
  return failed ? "stuck" : "landed";
}

/** What `settle` changed: the convoy landed, got stuck, or is open again (a retry, a move, a reopened bead). */
export type Settled = { convoy: Convoy; landed: boolean; stuck: boolean; reopened: boolean };

/**
 * The convoy with the state its beads say (convoyStateOf). `landedAt` is when it last became
 * landed or stuck; a convoy that gets unfinished work back (a retried or reopened bead, a moved
 * bead's successor) is open again and loses it, so it lands again only when it truly lands. A
 * `closed` convoy is left as it is.
 */
export function settle(convoy: Convoy, now: number): Settled {
  const none = { convoy, landed: false, stuck: false, reopened: false };
  if (convoy.status === "closed") return none;
  const state = convoyStateOf(convoy.beads);
  if (state === convoy.status) return none;
  if (state === "open") {
    const next: Convoy = { ...convoy, status: "open" };
    delete next.landedAt;
    return { ...none, convoy: next, reopened: true };
  }
  return { convoy: { ...convoy, status: state, landedAt: now }, landed: state === "landed", stuck: state === "stuck", reopened: false };
}

/** Counts as people read them: `done` is closed beads only; a failed bead is `failed`, never done. */
export type Counts = { done: number; failed: number; total: number };

export function progress(convoy: Convoy): Counts & { byRig: Record<string, Counts> } {
  const byRig: Record<string, Counts> = {};
  let done = 0;
  let failed = 0;
  for (const bead of convoy.beads) {
    const rig = (byRig[bead.rigName] ??= { done: 0, failed: 0, total: 0 });
    rig.total += 1;
    if (bead.status === "closed") {
      rig.done += 1;
      done += 1;
    } else if (bead.status === "failed") {
      rig.failed += 1;
      failed += 1;
    }
  }
  return { done, failed, total: convoy.beads.length, byRig };
}

/** "2 done, 1 failed of 3", or "2/3 done" when nothing failed: the words every convoy view uses. */
export function progressText(p: Counts): string {
  return p.failed ? `${p.done} done, ${p.failed} failed of ${p.total}` : `${p.done}/${p.total} done`;
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
 * The convoy's change for a move: the successor in the old bead's place (a landed or stuck convoy
 * open again when the successor is unfinished); with the target rig gone, the old bead's entry
 * fails instead. Null when nothing changes.
 */
export function moveInConvoy(convoy: Convoy, move: { oldBeadId: string; successor: ConvoyBead; targetExists: boolean }, now: number): Settled | null {
  const next = move.targetExists
    ? replaceBead(convoy, move.oldBeadId, move.successor)
    : failBead(convoy, move.oldBeadId, `moved to rig ${move.successor.rigName}, which was removed`);
  if (!next) return null;
  return settle(next, now);
}

/**
 * The finished convoys to move out of the document so that at most `kept` stay: landed ones
 * first, the longest landed first, then stuck ones (they still need someone, so they stay longest).
 * Open convoys always stay.
 */
export function toRetire(convoys: readonly Convoy[], kept: number): Convoy[] {
  const finished = convoys.filter((c) => c.status !== "open");
  const excess = finished.length - kept;
  if (excess <= 0) return [];
  const stuck = (c: Convoy) => (c.status === "stuck" ? 1 : 0);
  return finished.sort((a, b) => stuck(a) - stuck(b) || (a.landedAt ?? a.createdAt) - (b.landedAt ?? b.createdAt)).slice(0, excess);
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
