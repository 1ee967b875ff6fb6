import type { Convoy, ConvoyBead } from "../../../party/protocol.ts";

/** A bead is done once it is closed; a failed bead is failed, never done (it makes its convoy stuck, not landed). */
export const isDone = (b: ConvoyBead) => b.status === "closed";

/** "2/3 done", or "2 done, 1 failed of 3" once something failed: the words the town's feed and `gt` use too. */
export const progressText = (p: { done: number; failed: number; total: number }, short = false) =>
  p.failed ? `${p.done} done, ${p.failed} failed of ${p.total}` : `${p.done}/${p.total}${short ? "" : " done"}`;

export type RigProgress = { rigName: string; rigId: string; done: number; failed: number; total: number; beads: ConvoyBead[] };

export function convoyProgress(convoy: Convoy): { done: number; failed: number; total: number; byRig: RigProgress[] } {
  const byRig = new Map<string, RigProgress>();
  let done = 0;
  let failed = 0;
  for (const bead of convoy.beads) {
    let rig = byRig.get(bead.rigName);
    if (!rig) byRig.set(bead.rigName, (rig = { rigName: bead.rigName, rigId: bead.rigId, done: 0, failed: 0, total: 0, beads: [] }));
    rig.total++;
    rig.beads.push(bead);
    if (isDone(bead)) (rig.done++, done++);
    else if (bead.status === "failed") (rig.failed++, failed++);
  }
  return { done, failed, total: convoy.beads.length, byRig: [...byRig.values()].sort((a, b) => a.rigName.localeCompare(b.rigName)) };
}
