/**
 * The room's own clocks (W12, W13): a room that did not run for a while blames nobody for the gap,
 * and wakes for the earliest deadline while it watches anything.
 */
import type { Overlay } from "./overlay.ts";
import type { WorkConfig, WorkState } from "./types.ts";
import { lease as say } from "./words.ts";

/** How often a room that watches something looks at least (pause detection needs a steady beat). */
export function tickMs(config: WorkConfig): number {
  return Math.min(5_000, Math.max(250, Math.min(config.leaseTtlMs, config.heartbeatTimeoutMs, config.idleMs, config.mergeTimeoutMs) / 4));
}

/** A gap between steps longer than this means the room itself did not run (W12). */
export function pauseMs(config: WorkConfig): number {
  return 3 * tickMs(config) + 1_000;
}

/** W12: the pause check every lifecycle step starts with. */
export function observe(tx: Overlay): void {
  const last = tx.lease.lastSeen;
  // Only a room that watches something ticks steadily; a quiet room's long gap means nothing.
  const watching = tx.lease.holder !== null || tx.lease.standbys.length > 0 || tx.state.liveness.size > 0;
  if (last !== null && watching && tx.now - last > pauseMs(tx.config)) {
    tx.feed("lease", say.paused(tx.now - last));
    resetClocks(tx, false);
  }
}

/** Gives every deadline its full length from now; at start, sockets are gone too. */
export function resetClocks(tx: Overlay, started: boolean): void {
  const { now, config } = tx;
  const holder = tx.holder;
  tx.setLease({
    ...tx.lease,
    holder: holder ? { ...holder, renewBy: now + config.leaseTtlMs, ...(started ? { connection: null } : {}) } : null,
    standbys: started ? [] : tx.lease.standbys.map((s) => ({ ...s, renewBy: now + config.leaseTtlMs })),
  });
  for (const agent of tx.allAgents()) {
    const run = agent.run;
    if (!run) continue;
    if (run.state === "stopping") tx.setAgent({ ...agent, run: { ...run, since: now } });
    else {
      const live = tx.liveness(agent.identity);
      // A nudged run keeps its nudge (and its delivery), from now.
      const nudge = live?.nudgedAt !== undefined ? { nudgedAt: now, ...(live.deliveredAt !== undefined ? { deliveredAt: now } : {}) } : {};
      tx.setLive(agent.identity, { heartbeatAt: now, progressAt: now, ...nudge });
      if (agent.status === "stalled") tx.setAgent({ ...agent, status: "working" });
    }
  }
  for (const bead of tx.allBeads()) {
    if (bead.status === "in_review" && (bead.until ?? 0) < now + config.mergeTimeoutMs) tx.setBead({ ...bead, until: now + config.mergeTimeoutMs });
  }
}

/** When the room must look again (W13): the earliest deadline, and at least every tick. */
export function nextWake(state: WorkState, now: number): number | null {
  const { config, lease } = state;
  let wake = Infinity;
  const at = (t: number) => (wake = Math.min(wake, t));
  if (lease.holder) at(lease.holder.renewBy + 1);
  for (const s of lease.standbys) at(s.renewBy + 1);
  let watching = lease.holder !== null || lease.standbys.length > 0;
  for (const agent of state.agents.values()) {
    const run = agent.run;
    if (!run) continue;
    watching = true;
    if (run.state === "stopping") {
      at(run.since + config.stopTimeoutMs + 1);
      continue;
    }
    const live = state.liveness.get(agent.identity);
    if (!live) continue;
    at(live.heartbeatAt + (agent.status === "stalled" ? config.heartbeatTimeoutMs : config.heartbeatTimeoutMs / 2) + 1);
    if (run.state !== "running") continue;
    // W8: the nudge, the ceiling, and a delivered nudge's time to be answered.
    at(live.progressAt + config.ceilingMs + 1);
    if (live.nudgedAt === undefined) at(live.progressAt + config.idleMs + 1);
    else if (live.deliveredAt !== undefined) at(live.deliveredAt + config.idleMs + 1);
  }
  for (const bead of state.beads.values()) {
    if (bead.status !== "in_review") continue;
    watching = true;
    if (bead.until !== undefined) at(bead.until + 1);
  }
  if (!watching) return null;
  at((lease.lastSeen ?? now) + tickMs(config));
  return Math.max(now + 1, wake);
}
