/**
 * The Mayor's distribution as a pure function: which rig gets a new bead, and a
 * one-line reason a person can check.
 */
import type { Rig } from "../protocol.ts";

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
