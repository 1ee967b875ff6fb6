/**
 * W11 — attempts: unfinished work goes back to the queue, or fails with an escalation once its runs
 * have failed GT_MAX_RUNS times. Only a real failure of the bead's current run counts.
 */
import type { Bead } from "../protocol.ts";
import type { Overlay } from "./overlay.ts";
import { failed, reopen } from "./records.ts";
import { beads, escalations } from "./words.ts";

/** The bead back to open (an attempt counted when `counts`), or failed at its last attempt. */
export function returned(tx: Overlay, bead: Bead, note: string, counts: boolean): void {
  const attempts = (bead.attempts ?? 0) + (counts ? 1 : 0);
  if (counts && attempts >= tx.config.maxRuns) {
    tx.setBead({ ...failed(bead, tx.now, beads.gaveUp(note, attempts)), attempts });
    const title = escalations.failedTitle(bead.title);
    tx.escalate({
      from: `${tx.config.rigName}/witness`,
      title,
      body: escalations.failedBody(attempts, note),
      severity: "high",
      beadId: bead.id,
      cause: "bead_failed",
    });
    tx.feed("failed", beads.failedAfterLine(bead.id, attempts, note), { bead: bead.id, agent: bead.assignee });
    return;
  }
  tx.setBead({ ...reopen(bead, tx.now, note), attempts });
}
