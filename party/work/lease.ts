/**
 * The container lease (W1–W6): one holder serves the rig under an epoch, standbys wait, renewals
 * keep both, and whoever holds an older epoch is refused (LEASE_LOST). When the lease changes hands
 * every run of the earlier epoch is void (W5).
 */
import { CLOSE, ToolError, type Agent } from "../protocol.ts";
import type { Overlay } from "./overlay.ts";
import { clearRun, reopen } from "./records.ts";
import { heard, progressed } from "./runs.ts";
import type { AgentReport, Holder, LeaseFrameSpec, LeaseState } from "./types.ts";
import { lease as say } from "./words.ts";

export function emptyLease(): LeaseState {
  return { holder: null, epoch: 0, standbys: [], lastSeen: null };
}

/**
 * Every acknowledgement from the container carries the epoch it holds: an earlier one belongs to a
 * container that lost the rig (W5). `undefined`: a call that named none.
 */
export function requireEpoch(lease: LeaseState, epoch: number | undefined): Holder {
  const holder = lease.holder;
  if (epoch === undefined || !holder || holder.epoch !== epoch) {
    const serving = holder ? ` (the rig's container holds epoch ${holder.epoch})` : " (no container holds this rig)";
    throw new ToolError("LEASE_LOST", `lease epoch ${epoch ?? "(none)"} is not current${serving}`);
  }
  return holder;
}

/** W1: one holder; its restart takes over at once; anyone else stands by. */
export function connect(tx: Overlay, connection: string, container: string, session: string): LeaseFrameSpec {
  const { now, config } = tx;
  const holder = tx.holder;
  if (holder && holder.container === container && holder.session === session) {
    // Reconnected: its runs go on, and their clocks start again (nothing could arrive meanwhile).
    tx.setLease({ ...tx.lease, holder: { ...holder, connection, renewBy: now + config.leaseTtlMs } });
    for (const agent of tx.allAgents()) {
      const live = agent.run && agent.run.state !== "stopping" ? tx.liveness(agent.identity) : undefined;
      if (live) tx.setLive(agent.identity, { ...live, heartbeatAt: now });
    }
    tx.effect({ kind: "lease", connection, frame: { state: "held", epoch: holder.epoch } });
    return { state: "held", epoch: holder.epoch };
  }
  const restart = holder !== null && holder.container === container && holder.connection === null;
  if (holder === null || restart) {
    if (restart) tx.feed("lease", say.restarted(container));
    return grant(tx, connection, container, session);
  }
  const others = tx.lease.standbys.filter((s) => s.connection !== connection);
  tx.setLease({ ...tx.lease, standbys: [...others, { container, session, connection, renewBy: now + config.leaseTtlMs }] });
  tx.effect({ kind: "lease", connection, frame: { state: "standby" } });
  return { state: "standby" };
}

function grant(tx: Overlay, connection: string, container: string, session: string): LeaseFrameSpec {
  const epoch = tx.lease.epoch + 1;
  voidRuns(tx, say.voidChanged(epoch));
  tx.setLease({
    ...tx.lease,
    epoch,
    holder: { container, session, connection, epoch, renewBy: tx.now + tx.config.leaseTtlMs, since: tx.now },
    standbys: tx.lease.standbys.filter((s) => s.connection !== connection),
  });
  // A merge that was owed to the last holder is owed to this one, with a full deadline.
  for (const bead of tx.allBeads()) if (bead.status === "in_review") tx.setBead({ ...bead, until: tx.now + tx.config.mergeTimeoutMs });
  tx.effect({ kind: "persist_lease" });
  tx.effect({ kind: "lease", connection, frame: { state: "held", epoch } });
  tx.feed("lease", say.granted(container, epoch));
  return { state: "held", epoch };
}

/** W2: a holder that drops keeps the rig until its deadline, unless its own restart stands by (W1). */
export function disconnect(tx: Overlay, connection: string): void {
  const holder = tx.holder;
  if (holder?.connection !== connection) {
    tx.setLease({ ...tx.lease, standbys: tx.lease.standbys.filter((s) => s.connection !== connection) });
    return;
  }
  const restarted = tx.lease.standbys.find((s) => s.container === holder.container);
  if (restarted) {
    tx.feed("lease", say.restarted(holder.container));
    grant(tx, restarted.connection, restarted.container, restarted.session);
    return;
  }
  tx.setLease({ ...tx.lease, holder: { ...holder, connection: null } });
}

/**
 * W4: the ping. The holder renews (over its own socket, or over HTTP with the epoch) and vouches
 * for its runs; a standby just renews.
 */
export function renew(tx: Overlay, connection: string | null, epoch: number | null, reports: AgentReport[]): LeaseFrameSpec {
  const standby = connection === null ? undefined : tx.lease.standbys.find((s) => s.connection === connection);
  if (standby) {
    tx.setLease({ ...tx.lease, standbys: tx.lease.standbys.map((s) => (s === standby ? { ...s, renewBy: tx.now + tx.config.leaseTtlMs } : s)) });
    return { state: "standby" };
  }
  if (epoch === null) throw new ToolError("LEASE_LOST", "this socket neither holds the rig nor stands by for it");
  const holder = requireEpoch(tx.lease, epoch);
  if (connection !== null && holder.connection !== connection) throw new ToolError("LEASE_LOST", "another socket holds this lease");
  tx.setLease({ ...tx.lease, holder: { ...holder, renewBy: tx.now + tx.config.leaseTtlMs } });
  for (const report of reports) {
    const agent = tx.agent(report.identity);
    if (!agent?.run || agent.run.state === "stopping" || (report.run !== undefined && report.run !== agent.run.id)) continue;
    heard(tx, agent.identity, false);
    if (report.quietMs !== undefined && agent.run.state === "running") progressed(tx, tx.agent(agent.identity)!, tx.now - Math.max(0, report.quietMs));
  }
  return { state: "held", epoch: holder.epoch };
}

/** A clean shutdown: the holder stopped its agents; a standby takes over at once. */
export function release(tx: Overlay, connection: string | null, epoch: number): void {
  const holder = requireEpoch(tx.lease, epoch);
  if (connection !== null && holder.connection !== null && holder.connection !== connection)
    throw new ToolError("LEASE_LOST", "another socket holds this lease");
  tx.feed("lease", say.released(holder.container));
  tx.setLease({ ...tx.lease, holder: null });
  voidRuns(tx, say.voidReleased);
  tx.effect({ kind: "persist_lease" });
  promote(tx);
}

/** W3: the first standby still alive takes the rig; the others keep waiting. */
function promote(tx: Overlay): void {
  const alive = tx.lease.standbys.filter((s) => s.renewBy >= tx.now);
  for (const s of tx.lease.standbys)
    if (s.renewBy < tx.now) tx.effect({ kind: "close", connection: s.connection, code: CLOSE.LEASE_EXPIRED, reason: say.closeStandby });
  tx.setLease({ ...tx.lease, standbys: alive });
  const next = alive[0];
  if (next) grant(tx, next.connection, next.container, next.session);
}

/**
 * W5: runs of an earlier epoch are void. Their processes belong to a container that lost the rig
 * (or to the restarted one's predecessor): their beads go back to open without an attempt.
 */
function voidRuns(tx: Overlay, why: string): void {
  for (const agent of tx.allAgents()) {
    const run = agent.run;
    if (!run) continue;
    const next: Agent = { ...agent, status: "idle", lastExit: say.lostExit(why), lastRun: run.id };
    clearRun(next);
    tx.setAgent(next);
    tx.setLive(agent.identity, null);
    const bead = tx.bead(run.bead);
    if (run.state !== "stopping" && bead?.status === "in_progress" && bead.assignee === agent.identity) {
      tx.setBead(reopen(bead, tx.now, say.runLost(agent.identity, why)));
      tx.feed("bead", say.beadBack(bead.id, agent.identity, why), { bead: bead.id, agent: agent.identity });
    }
  }
}

/**
 * W3: a holder past its deadline loses the rig (its socket closed 4408) and the first live standby
 * takes it; standbys past theirs are dropped. Returns whether a connected holder now serves the rig,
 * the condition for judging anything else (W6).
 */
export function leaseDeadlines(tx: Overlay): boolean {
  const now = tx.now;
  const holder = tx.holder;
  if (holder && now > holder.renewBy) {
    if (holder.connection) tx.effect({ kind: "close", connection: holder.connection, code: CLOSE.LEASE_EXPIRED, reason: say.closeExpired });
    tx.feed("lease", say.expired(holder.container), { tone: "warn" });
    tx.setLease({ ...tx.lease, holder: null });
    voidRuns(tx, say.voidExpired);
    tx.effect({ kind: "persist_lease" });
    promote(tx);
  } else if (tx.lease.standbys.some((s) => s.renewBy < now)) {
    for (const s of tx.lease.standbys)
      if (s.renewBy < now) tx.effect({ kind: "close", connection: s.connection, code: CLOSE.LEASE_EXPIRED, reason: say.closeStandby });
    tx.setLease({ ...tx.lease, standbys: tx.lease.standbys.filter((s) => s.renewBy >= now) });
  }
  // W6: nobody is blamed while no container serves the rig, nor for what could not arrive while
  // its holder was reconnecting (its deadline covers that; a reconnect restarts the clocks).
  return Boolean(tx.holder?.connection);
}
