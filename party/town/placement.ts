/**
 * Placement, pure: which rig gets each new bead, and a one-line reason a person can check. The
 * Mayor's distribution (`choose`) picks among the ready rigs with the capabilities a bead requires,
 * by load; `place` places a batch (one sling, or a convoy's beads) one bead after another, each
 * counting for the next; `beadEntries` are the outbox entries that create the placed beads.
 */
import type { z } from "zod";
import { newId } from "../ids.ts";
import type { OutboxEntry } from "../outbox.ts";
import { ToolError, type Rig, type townToolArgs } from "../protocol.ts";
import { beadEntry } from "./entries.ts";

/** A rig as the Mayor sees it: the registry entry plus beads placed since its last summary. */
export type Candidate = Pick<Rig, "id" | "name" | "status" | "capabilities" | "maxPolecats"> & {
  /** open + in_progress + in_review beads. */
  active: number;
  /** Beads of every status. */
  total: number;
};

export type Decision = { ok: true; rig: Candidate; reason: string } | { ok: false; refusals: { rig: string; why: string }[]; message: string };

export function load(rig: Candidate): number {
  return rig.active / rig.maxPolecats;
}

/**
 * Eligible: ready, and its capabilities include every required one. Pick the least loaded
 * (active beads per polecat slot); ties by fewer total beads, then by name.
 */
export function choose(rigs: readonly Candidate[], requires: readonly string[]): Decision {
  const refusals: { rig: string; why: string }[] = [];
  const eligible: Candidate[] = [];
  for (const rig of [...rigs].sort((a, b) => a.name.localeCompare(b.name))) {
    const missing = requires.filter((c) => !rig.capabilities.includes(c));
    if (rig.status !== "ready") refusals.push({ rig: rig.name, why: `status ${rig.status}` });
    else if (missing.length) refusals.push({ rig: rig.name, why: `lacks ${missing.join(", ")}` });
    else eligible.push(rig);
  }
  const needs = requires.length ? ` requiring ${requires.join(", ")}` : "";
  if (eligible.length === 0) {
    const why = refusals.length ? refusals.map((r) => `${r.rig}: ${r.why}`).join("; ") : "the town has no rigs";
    return { ok: false, refusals, message: `no eligible rig for a bead${needs}: ${why}` };
  }
  const ranked = [...eligible].sort((a, b) => load(a) - load(b) || a.total - b.total || a.name.localeCompare(b.name));
  const pick = ranked[0]!;
  const runnerUp = ranked[1];
  const loads = ranked.map((r) => `${r.name} ${load(r).toFixed(2)} (${r.active}/${r.maxPolecats})`).join(", ");
  let why = "the only eligible rig";
  if (runnerUp) {
    if (load(pick) < load(runnerUp)) why = "least loaded";
    else if (pick.total < runnerUp.total) why = `tied on load with ${runnerUp.name}, fewer beads (${pick.total} vs ${runnerUp.total})`;
    else why = `tied on load and beads with ${runnerUp.name}, first by name`;
  }
  const skipped = refusals.length ? `; not eligible: ${refusals.map((r) => `${r.rig} (${r.why})`).join(", ")}` : "";
  return { ok: true, rig: pick, reason: `${pick.name}: ${why}${needs}; loads ${loads}${skipped}` };
}

/** A bead placed recently, counted in its rig's load until the rig's summary includes it. */
export type RecentPlacement = { rigId: string; at: number };

/** How long a placement is counted at most: summaries arrive within a second. */
const RECENT_MS = 60_000;

/** The recent placements with `rigIds` placed at `now`, those older than RECENT_MS forgotten. */
export function remember(recent: readonly RecentPlacement[], rigIds: readonly string[], now: number): RecentPlacement[] {
  return [...recent, ...rigIds.map((rigId) => ({ rigId, at: now }))].filter((p) => now - p.at < RECENT_MS);
}

/**
 * Every rig as a placement candidate: its summary's active and total beads, plus the beads placed
 * since that summary. Those are counted in one pass over the recent placements (one pass per rig
 * made a convoy of B beads in a town of N rigs cost B × N × placements).
 */
export function candidates(rigs: readonly Rig[], recent: readonly RecentPlacement[]): Candidate[] {
  const summarizedAt = new Map(rigs.map((rig) => [rig.id, rig.summary.updatedAt]));
  const since = new Map<string, number>();
  for (const p of recent) if (p.at > (summarizedAt.get(p.rigId) ?? Infinity)) since.set(p.rigId, (since.get(p.rigId) ?? 0) + 1);
  return rigs.map((rig) => {
    const extra = since.get(rig.id) ?? 0;
    const { open, in_progress, in_review } = rig.summary.beads;
    const total = Object.values(rig.summary.beads).reduce((a, b) => a + b, 0);
    return {
      id: rig.id,
      name: rig.name,
      status: rig.status,
      capabilities: rig.capabilities,
      maxPolecats: rig.maxPolecats,
      active: open + in_progress + in_review + extra,
      total: total + extra,
    };
  });
}

/** A bead to place: gt_sling's arguments, or one bead of gt_convoy_create (no id: the town makes one). */
export type BeadSpec = z.infer<typeof townToolArgs.gt_sling>;

export type Placement = { spec: BeadSpec; rigId: string; rigName: string; reason: string; beadId: string };

/**
 * Places beads one after another (each placement counts for the next), or refuses them all. A bead
 * for a named rig is a lookup (UNKNOWN_RIG), an unnamed one the Mayor's choice among all the
 * candidates with the batch's earlier placements counted (NO_ELIGIBLE_RIG). `town` names the town
 * in the refusal.
 */
export function place(specs: readonly BeadSpec[], base: readonly Candidate[], town: string, newBeadId: () => string = newId): Placement[] {
  const placed: Placement[] = [];
  const byName = new Map(base.map((c) => [c.name, c]));
  const pending = new Map<string, number>();
  const withPending = (c: Candidate): Candidate => {
    const extra = pending.get(c.id) ?? 0;
    return extra ? { ...c, active: c.active + extra, total: c.total + extra } : c;
  };
  for (const spec of specs) {
    let rig: Candidate;
    let reason: string;
    if (spec.rig) {
      const named = byName.get(spec.rig);
      if (!named) throw new ToolError("UNKNOWN_RIG", `no rig named ${spec.rig} in town ${town}`);
      rig = named;
      reason = `${named.name}: chosen by the caller`;
    } else {
      const decision = choose(base.map(withPending), spec.requires ?? []);
      if (!decision.ok) throw new ToolError("NO_ELIGIBLE_RIG", decision.message);
      rig = decision.rig;
      reason = decision.reason;
    }
    pending.set(rig.id, (pending.get(rig.id) ?? 0) + 1);
    placed.push({ spec, rigId: rig.id, rigName: rig.name, reason, beadId: spec.id ?? newBeadId() });
  }
  return placed;
}

/** The outbox entries that create placed beads in their rigs (of `convoyId`, for a convoy's). */
export function beadEntries(placed: readonly Placement[], now: number, convoyId?: string): OutboxEntry[] {
  return placed.map((p) =>
    beadEntry(
      p.rigId,
      {
        id: p.beadId,
        title: p.spec.title,
        body: p.spec.body ?? "",
        priority: p.spec.priority ?? "medium",
        requires: p.spec.requires ?? [],
        reason: p.reason,
        ...(convoyId ? { convoy_id: convoyId } : {}),
        ...(p.spec.model ? { model: p.spec.model } : {}),
      },
      now,
    ),
  );
}
