import type { Convoy, ConvoyBead } from "../../../party/protocol.ts";

/** A bead counts as done once it is closed or failed: the same rule that lands a convoy. */
export const isDone = (b: ConvoyBead) => b.status === "closed" || b.status === "failed";

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
    if (bead.status === "failed") (rig.failed++, failed++);
  }
  return { done, failed, total: convoy.beads.length, byRig: [...byRig.values()].sort((a, b) => a.rigName.localeCompare(b.rigName)) };
}
