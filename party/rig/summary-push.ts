/**
 * The rig's summary for the town's overview (party/summary.ts computes it): pushed, debounced, after
 * every write and when the hour rolls (the chart of closings shifts), retried with backoff while the
 * town fails.
 */
import { hourOf } from "../hours.ts";
import type { RigSummary } from "../protocol.ts";
import { computeSummary } from "../summary.ts";
import { utcDay } from "../work/index.ts";
import { rigUsage } from "./store/usage.ts";
import type { RigStore } from "./store/index.ts";

const SUMMARY_DEBOUNCE_MS = 250;

export class SummaryPush {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private failures = 0;
  /** The hour of the last summary the town stored: when the hour rolls, the chart must shift. */
  private hour: number | null = null;

  constructor(
    private readonly store: RigStore,
    private readonly send: (town: string, body: { rig_id: string; summary: RigSummary }) => Promise<{ status: number }>,
    private readonly roomId: () => string,
  ) {}

  schedule(delay = SUMMARY_DEBOUNCE_MS): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.push();
    }, delay);
  }

  /** Nothing changed, but the hour did: the town's chart of closings must move on by an hour. */
  scheduleIfHourRolled(now: number): void {
    if (this.hour !== null && this.hour !== hourOf(now)) this.schedule();
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
  }

  private async push(): Promise<void> {
    const meta = this.store.meta();
    if (!meta) return;
    const now = Date.now();
    const townReached = meta.townBudget?.reached === true && meta.townBudget.day === utcDay(now);
    const summary = computeSummary(
      {
        rigName: meta.name,
        rigId: meta.rigId,
        status: meta.status,
        error: meta.error,
        errorAt: meta.errorAt,
        beads: this.store.beads(),
        agents: this.store.agents(),
        mail: this.store.mails(),
        escalations: this.store.escalations(),
        archivedOpenEscalations: meta.archivedOpenEscalations ?? 0,
        archivedClosed: meta.archivedClosed ?? 0,
        closedHours: this.store.closedHours,
        lastActivity: this.store.lastActivity,
        diskBytes: meta.diskBytes ?? null,
        boundary: meta.boundary,
        usage: rigUsage(this.store.usage, { budget: meta.budget, hold: meta.hold, townReached }, now),
      },
      now,
    );
    try {
      const reply = await this.send(meta.town, { rig_id: meta.rigId, summary });
      if (reply.status >= 500) throw new Error(`town answered ${reply.status}`);
      // Refused (a summary the town's schema does not take): retrying the same cannot help, but it must not pass unseen.
      if (reply.status >= 400) console.error(`[rig/${this.roomId()}] the town refused the rig's summary (${reply.status})`);
      this.failures = 0;
      this.hour = hourOf(summary.updatedAt);
    } catch (error) {
      this.failures += 1;
      console.warn(`[rig/${this.roomId()}] summary push failed (${this.failures})`, error);
      this.schedule(Math.min(30_000, SUMMARY_DEBOUNCE_MS * 2 ** this.failures));
    }
  }
}
