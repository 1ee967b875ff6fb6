/**
 * The work lifecycle of one rig as one pure state machine: beads, the polecats that work them, and
 * the lease of the container that runs the polecats. `step(state, event, now)` returns the records
 * that change and the effects to carry out (commands owed to the container, feed lines,
 * escalations, nudges, lease frames, closes); the rig room only feeds events in and carries effects
 * out. The rules are numbered (W0…) as in docs/lifecycle.md, and the property tests are named after
 * them.
 *
 * Every state that is not final has an owner and a deadline, so nothing waits forever:
 *
 *   state                     owner                     deadline                          then
 *   bead open                 the dispatcher            —  (waits for a polecat)          in_progress
 *   bead in_progress          its polecat's run         the run's deadlines (below)       in_review / open / failed
 *   bead in_review            the lease holder          `until` (GT_MERGE_TIMEOUT_MS)     merge sent again; after
 *                                                                                         the last try failed + escalation
 *   run starting / running    the lease holder          heartbeat (GT_WITNESS_TIMEOUT_MS) stalled at ½, dead at 1
 *   run running               the agent                 progress (GT_AGENT_IDLE_MS)       nudged at 1, stopped at 2
 *   run stopping              the lease holder          GT_STOP_TIMEOUT_MS                given up
 *   lease held                its container             renewBy (GT_LEASE_TTL_MS)         expired: runs void, standby promoted
 *   standby                   its container             renewBy                           dropped
 *
 * Clocks are the room's own: when the room itself did not run for a while (a paused process, a
 * clock jump), nobody is blamed for the gap and every deadline starts again from now (W12).
 */
import { branchName, planDispatch, withStatus } from "./dispatch.ts";
import { CLOSE, ToolError, type Agent, type AgentRun, type Bead, type BeadStatus, type FeedTone, type MergeFailure, type Severity } from "./protocol.ts";

// ---------------------------------------------------------------------------------------------
// State

export type WorkConfig = {
  rigName: string;
  rigId: string;
  /** The clone is ready (the rig's status): nothing is dispatched before. */
  ready: boolean;
  maxPolecats: number;
  /** Silent (no heartbeat) for half of this: stalled; for all of it: dead. */
  heartbeatTimeoutMs: number;
  /** No progress (output or tool call) for this long: nudged; for twice as long: stopped. */
  idleMs: number;
  /** Time the refinery has to report one merge try. */
  mergeTimeoutMs: number;
  /** Merge tries before the bead fails with an escalation. */
  mergeTries: number;
  /** A lease not renewed for this long is lost. */
  leaseTtlMs: number;
  /** A stop the container does not acknowledge in this long is given up. */
  stopTimeoutMs: number;
  /** Runs of one bead that may fail before the bead fails. */
  maxRuns: number;
};

/** What the room knows of a run's process between heartbeats: in memory only, never in the document. */
export type Liveness = { heartbeatAt: number; progressAt: number; nudgedAt?: number };

export type Holder = {
  /** The container's lasting id (its workspace's) and this process's session. */
  container: string;
  session: string;
  /** Its socket, or null while it reconnects (it keeps the lease until `renewBy`). */
  connection: string | null;
  epoch: number;
  renewBy: number;
  since: number;
};
export type Standby = { container: string; session: string; connection: string; renewBy: number };
export type LeaseState = {
  holder: Holder | null;
  /** The last epoch granted: epochs only grow, so a stale container's acknowledgements are refused. */
  epoch: number;
  standbys: Standby[];
  /** When the room last ran a step (pause detection, W12). */
  lastSeen: number | null;
};

/** Read access to records (a Y.Map, or a Map in tests). */
export type Lookup<T> = { get(key: string): T | undefined; values(): IterableIterator<T> };

export type WorkState = {
  beads: Lookup<Bead>;
  agents: Lookup<Agent>;
  lease: LeaseState;
  liveness: ReadonlyMap<string, Liveness>;
  config: WorkConfig;
};

// ---------------------------------------------------------------------------------------------
// Events and effects

/** `quietMs`: how long ago the agent last printed, by the container's clock (so no clocks are compared). */
export type AgentReport = { identity: string; run?: string | undefined; quietMs?: number | undefined };

export type WorkEvent =
  | { type: "room_started" }
  | { type: "tick" }
  /** Beads were created or the rig's readiness or size changed: dispatch what can be. */
  | { type: "dispatch" }
  | { type: "container_connected"; connection: string; container: string; session: string }
  | { type: "container_disconnected"; connection: string }
  /** The container's ping: renews its lease and vouches for the runs it lists (W4). */
  | { type: "container_renew"; connection: string | null; epoch: number | null; agents: AgentReport[] }
  | { type: "container_release"; connection: string | null; epoch: number }
  /** `run`: an agent's own heartbeat names the run of its token; one of an earlier run is ignored. */
  | { type: "agent_heartbeat"; identity: string; epoch: number | null; run?: string | undefined }
  /** A tool call made by the agent itself: it is alive and making progress. */
  | { type: "agent_activity"; identity: string; run?: string | undefined }
  | { type: "agent_started"; identity: string; beadId: string; run?: string | undefined; epoch: number; pid?: number | undefined }
  | {
      type: "agent_exited";
      identity: string;
      beadId?: string | undefined;
      run?: string | undefined;
      epoch: number;
      exit: string;
      /** The process was lost with its supervisor, not failed by its bead. */
      lost?: boolean | undefined;
    }
  | { type: "done"; identity: string; run?: string | undefined; branch: string; summary?: string | undefined }
  | {
      type: "merge_result";
      beadId: string;
      epoch: number;
      ok: boolean;
      mergeCommit?: string | undefined;
      failure?: MergeFailure | undefined;
      error?: string | undefined;
      conflictFiles?: string[] | undefined;
    }
  | { type: "operator_set_status"; beadId: string; status: "open" | "closed" | "failed" }
  /** An operator retries a failed bead: open again with its attempts reset (W14); `note` goes into its history. */
  | { type: "operator_retry"; beadId: string; note?: string | undefined }
  /** An operator stops an agent's run: its bead fails, no attempt counted (W15). */
  | { type: "operator_stop_agent"; identity: string; reason?: string | undefined }
  /** An operator restarts an agent's run: its bead goes back to open, no attempt counted, and is dispatched again (W15). */
  | { type: "operator_restart_agent"; identity: string; reason?: string | undefined }
  /**
   * An operator moves a bead to another rig (W16): it closes here with `movedTo` (its run stopped).
   * `toRigId` and `newBeadId` are the town's: they only pass through to the `moved` effect.
   */
  | { type: "operator_move"; beadId: string; toRig: string; toRigId: string; newBeadId: string };

export type OwedCommand =
  | { kind: "start_agent"; id: string; identity: string; beadId: string; run: string }
  | { kind: "merge"; id: string; identity: string; beadId: string; branch: string; attempt: number }
  | { kind: "stop_agent"; id: string; identity: string; beadId: string; run: string; reason: string };

export type EscalationSpec = { from: string; title: string; body: string; severity: Severity; beadId: string };

export type LeaseFrameSpec = { state: "held"; epoch: number } | { state: "standby" };

export type Effect =
  | { kind: "command"; command: OwedCommand }
  /** Tell this socket its lease state; when held, send it every owed command. */
  | { kind: "lease"; connection: string; frame: LeaseFrameSpec }
  | { kind: "close"; connection: string; code: number; reason: string }
  /** A feed line; `tone` when it is not the kind's (party/feed.ts), `bead` and `agent` what it is about. */
  | { kind: "feed"; feed: FeedKind; text: string; tone?: FeedTone; bead?: string; agent?: string }
  | { kind: "escalate"; escalation: EscalationSpec }
  | { kind: "nudge"; identity: string; subject: string; body: string }
  /** The lease's lasting part (holder, epoch) changed: store it with this step's records. */
  | { kind: "persist_lease" }
  /** A bead was closed as moved (W16): the town must hear of it, in the same write (its successor is created there). */
  | { kind: "moved"; beadId: string; toRig: string; toRigId: string; newBeadId: string };

/** `failed`, `stalled`, `hung` and `dead` are failures: the rig room also tells the town's feed (party/feed.ts). */
export type FeedKind = "bead" | "agent" | "witness" | "lease" | "merge" | "failed" | "stalled" | "hung" | "dead";

export type FeedAbout = { tone?: FeedTone; bead?: string | undefined; agent?: string | undefined };

export type Transition<R = unknown> = {
  beads: Bead[];
  agents: Agent[];
  lease: LeaseState;
  /** Changed liveness entries; null removes one. */
  liveness: Map<string, Liveness | null>;
  effects: Effect[];
  /** What the tool that fed the event answers. */
  reply: R;
};

// ---------------------------------------------------------------------------------------------
// Step

/** Applies one event. Throws ToolError, changing nothing, when the event is refused. */
export function step(state: WorkState, event: WorkEvent, now: number): Transition {
  const tx = new Tx(state, now);
  tx.observe(); // W12: a room that did not run blames nobody for the gap
  const reply = apply(tx, event);
  if (!NO_DISPATCH.has(event.type)) tx.dispatch();
  return tx.result(reply);
}

/** Events that can neither free a polecat nor add work: dispatch would find nothing new. */
const NO_DISPATCH: ReadonlySet<WorkEvent["type"]> = new Set(["container_renew", "agent_heartbeat", "agent_activity", "agent_started"]);

function apply(tx: Tx, event: WorkEvent): unknown {
  switch (event.type) {
    case "room_started":
      tx.resetClocks(true);
      return null;
    case "tick":
      tx.deadlines();
      return null;
    case "dispatch":
      return null;
    case "container_connected":
      return tx.connect(event.connection, event.container, event.session);
    case "container_disconnected":
      tx.disconnect(event.connection);
      return null;
    case "container_renew":
      return tx.renew(event.connection, event.epoch, event.agents);
    case "container_release":
      tx.release(event.connection, event.epoch);
      return null;
    case "agent_heartbeat":
      if (event.epoch !== null) tx.requireEpoch(event.epoch);
      tx.heard(event.identity, false, event.run);
      return null;
    case "agent_activity":
      tx.heard(event.identity, true, event.run);
      return null;
    case "agent_started":
      return tx.started(event);
    case "agent_exited":
      return tx.exited(event);
    case "done":
      return tx.done(event);
    case "merge_result":
      return tx.mergeResult(event);
    case "operator_set_status":
      return tx.setStatus(event.beadId, event.status);
    case "operator_retry":
      return tx.retry(event.beadId, event.note);
    case "operator_stop_agent":
      return tx.stopAgent(event.identity, "stop", event.reason);
    case "operator_restart_agent":
      return tx.stopAgent(event.identity, "restart", event.reason);
    case "operator_move":
      return tx.moveOut(event);
  }
}

/** Every command the lease holder is owed in this state (sent again whenever a lease is granted). */
export function owedCommands(state: Pick<WorkState, "beads" | "agents">): OwedCommand[] {
  const owed: OwedCommand[] = [];
  for (const agent of state.agents.values()) {
    const command = runCommand(agent);
    if (command) owed.push(command);
  }
  for (const bead of state.beads.values()) if (bead.status === "in_review") owed.push(mergeCommand(bead));
  return owed;
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
    if (run.state === "running") at(live.progressAt + (live.nudgedAt === undefined ? config.idleMs : 2 * config.idleMs) + 1);
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

/** How often a room that watches something looks at least (pause detection needs a steady beat). */
export function tickMs(config: WorkConfig): number {
  return Math.min(5_000, Math.max(250, Math.min(config.leaseTtlMs, config.heartbeatTimeoutMs, config.idleMs, config.mergeTimeoutMs) / 4));
}

/** A gap between steps longer than this means the room itself did not run (W12). */
export function pauseMs(config: WorkConfig): number {
  return 3 * tickMs(config) + 1_000;
}

export function emptyLease(): LeaseState {
  return { holder: null, epoch: 0, standbys: [], lastSeen: null };
}

// ---------------------------------------------------------------------------------------------
// The transaction: reads see this step's own writes; nothing of the input is mutated.

const ERROR = { LEASE_LOST: "LEASE_LOST" } as const;

class Tx {
  private readonly beads = new Map<string, Bead>();
  private readonly agents = new Map<string, Agent>();
  private readonly live = new Map<string, Liveness | null>();
  private lease: LeaseState;
  private readonly effects: Effect[] = [];
  private readonly config: WorkConfig;

  constructor(
    private readonly state: WorkState,
    private readonly now: number,
  ) {
    this.lease = state.lease;
    this.config = state.config;
  }

  result(reply: unknown): Transition {
    this.lease = { ...this.lease, lastSeen: this.now };
    return { beads: [...this.beads.values()], agents: [...this.agents.values()], lease: this.lease, liveness: this.live, effects: this.effects, reply };
  }

  // ---------------------------------------------------------------- reads and writes

  bead(id: string): Bead | undefined {
    return this.beads.get(id) ?? this.state.beads.get(id);
  }

  agent(identity: string): Agent | undefined {
    return this.agents.get(identity) ?? this.state.agents.get(identity);
  }

  private *allAgents(): Iterable<Agent> {
    for (const a of this.state.agents.values()) yield this.agents.get(a.identity) ?? a;
    for (const a of this.agents.values()) if (!this.state.agents.get(a.identity)) yield a;
  }

  private *allBeads(): Iterable<Bead> {
    for (const b of this.state.beads.values()) yield this.beads.get(b.id) ?? b;
  }

  private liveness(identity: string): Liveness | undefined {
    const changed = this.live.get(identity);
    return changed === null ? undefined : (changed ?? this.state.liveness.get(identity));
  }

  private setBead(bead: Bead): void {
    this.beads.set(bead.id, bead);
  }

  private setAgent(agent: Agent): void {
    this.agents.set(agent.identity, agent);
  }

  private setLive(identity: string, value: Liveness | null): void {
    this.live.set(identity, value);
  }

  private feed(feed: FeedKind, text: string, about: FeedAbout = {}): void {
    const effect: Effect = { kind: "feed", feed, text };
    if (about.tone) effect.tone = about.tone;
    if (about.bead) effect.bead = about.bead;
    if (about.agent) effect.agent = about.agent;
    this.effects.push(effect);
  }

  private get holder(): Holder | null {
    return this.lease.holder;
  }

  // ---------------------------------------------------------------- clocks (W12)

  observe(): void {
    const last = this.lease.lastSeen;
    // Only a room that watches something ticks steadily; a quiet room's long gap means nothing.
    const watching = this.lease.holder !== null || this.lease.standbys.length > 0 || this.state.liveness.size > 0;
    if (last !== null && watching && this.now - last > pauseMs(this.config)) {
      this.feed("lease", `the rig room did not run for ${seconds(this.now - last)}; every deadline starts again`);
      this.resetClocks(false);
    }
  }

  /** Gives every deadline its full length from now; at start, sockets are gone too. */
  resetClocks(started: boolean): void {
    const { now, config } = this;
    const holder = this.holder;
    this.lease = {
      ...this.lease,
      holder: holder ? { ...holder, renewBy: now + config.leaseTtlMs, ...(started ? { connection: null } : {}) } : null,
      standbys: started ? [] : this.lease.standbys.map((s) => ({ ...s, renewBy: now + config.leaseTtlMs })),
    };
    for (const agent of this.allAgents()) {
      const run = agent.run;
      if (!run) continue;
      if (run.state === "stopping") this.setAgent({ ...agent, run: { ...run, since: now } });
      else {
        const live = this.liveness(agent.identity);
        this.setLive(agent.identity, { heartbeatAt: now, progressAt: now, ...(live?.nudgedAt !== undefined ? { nudgedAt: now } : {}) });
        if (agent.status === "stalled") this.setAgent({ ...agent, status: "working" });
      }
    }
    for (const bead of this.allBeads()) {
      if (bead.status === "in_review" && (bead.until ?? 0) < now + config.mergeTimeoutMs) this.setBead({ ...bead, until: now + config.mergeTimeoutMs });
    }
  }

  // ---------------------------------------------------------------- the lease (W1–W4)

  requireEpoch(epoch: number): Holder {
    const holder = this.holder;
    if (!holder || holder.epoch !== epoch) {
      throw new ToolError(ERROR.LEASE_LOST, `lease epoch ${epoch} is not current${holder ? ` (the rig's container holds epoch ${holder.epoch})` : " (no container holds this rig)"}`);
    }
    return holder;
  }

  /** W1: one holder; its restart takes over at once; anyone else stands by. */
  connect(connection: string, container: string, session: string): LeaseFrameSpec {
    const { now, config } = this;
    const holder = this.holder;
    if (holder && holder.container === container && holder.session === session) {
      // Reconnected: its runs go on, and their clocks start again (nothing could arrive meanwhile).
      this.lease = { ...this.lease, holder: { ...holder, connection, renewBy: now + config.leaseTtlMs } };
      for (const agent of this.allAgents()) {
        const live = agent.run && agent.run.state !== "stopping" ? this.liveness(agent.identity) : undefined;
        if (live) this.setLive(agent.identity, { ...live, heartbeatAt: now });
      }
      this.effects.push({ kind: "lease", connection, frame: { state: "held", epoch: holder.epoch } });
      return { state: "held", epoch: holder.epoch };
    }
    const restart = holder !== null && holder.container === container && holder.connection === null;
    if (holder === null || restart) {
      if (restart) this.feed("lease", `container ${short(container)} restarted; its earlier runs are void`);
      return this.grant(connection, container, session);
    }
    this.lease = { ...this.lease, standbys: [...this.lease.standbys.filter((s) => s.connection !== connection), { container, session, connection, renewBy: now + config.leaseTtlMs }] };
    this.effects.push({ kind: "lease", connection, frame: { state: "standby" } });
    return { state: "standby" };
  }

  private grant(connection: string, container: string, session: string): LeaseFrameSpec {
    const epoch = this.lease.epoch + 1;
    this.voidRuns(`its container changed (epoch ${epoch})`);
    this.lease = {
      ...this.lease,
      epoch,
      holder: { container, session, connection, epoch, renewBy: this.now + this.config.leaseTtlMs, since: this.now },
      standbys: this.lease.standbys.filter((s) => s.connection !== connection),
    };
    // A merge that was owed to the last holder is owed to this one, with a full deadline.
    for (const bead of this.allBeads()) if (bead.status === "in_review") this.setBead({ ...bead, until: this.now + this.config.mergeTimeoutMs });
    this.effects.push({ kind: "persist_lease" }, { kind: "lease", connection, frame: { state: "held", epoch } });
    this.feed("lease", `container ${short(container)} serves the rig (epoch ${epoch})`);
    return { state: "held", epoch };
  }

  disconnect(connection: string): void {
    const holder = this.holder;
    if (holder?.connection !== connection) {
      this.lease = { ...this.lease, standbys: this.lease.standbys.filter((s) => s.connection !== connection) };
      return;
    }
    // W1: the same container restarted and stood by while this old socket lingered: it takes over now.
    const restarted = this.lease.standbys.find((s) => s.container === holder.container);
    if (restarted) {
      this.feed("lease", `container ${short(holder.container)} restarted; its earlier runs are void`);
      this.grant(restarted.connection, restarted.container, restarted.session);
      return;
    }
    // W2: a holder that drops keeps the rig until its deadline; it may just be reconnecting.
    this.lease = { ...this.lease, holder: { ...holder, connection: null } };
  }

  /**
   * W4: the ping. The holder renews (over its own socket, or over HTTP with the epoch) and vouches
   * for its runs; a standby just renews.
   */
  renew(connection: string | null, epoch: number | null, reports: AgentReport[]): LeaseFrameSpec {
    const standby = connection === null ? undefined : this.lease.standbys.find((s) => s.connection === connection);
    if (standby) {
      this.lease = { ...this.lease, standbys: this.lease.standbys.map((s) => (s === standby ? { ...s, renewBy: this.now + this.config.leaseTtlMs } : s)) };
      return { state: "standby" };
    }
    if (epoch === null) throw new ToolError(ERROR.LEASE_LOST, "this socket neither holds the rig nor stands by for it");
    const holder = this.requireEpoch(epoch);
    if (connection !== null && holder.connection !== connection) throw new ToolError(ERROR.LEASE_LOST, "another socket holds this lease");
    this.lease = { ...this.lease, holder: { ...holder, renewBy: this.now + this.config.leaseTtlMs } };
    for (const report of reports) {
      const agent = this.agent(report.identity);
      if (!agent?.run || agent.run.state === "stopping" || (report.run !== undefined && report.run !== agent.run.id)) continue;
      this.heard(agent.identity, false);
      if (report.quietMs !== undefined && agent.run.state === "running") this.progressed(this.agent(agent.identity)!, this.now - Math.max(0, report.quietMs));
    }
    return { state: "held", epoch: holder.epoch };
  }

  /** A clean shutdown: the holder stopped its agents; a standby takes over at once. */
  release(connection: string | null, epoch: number): void {
    const holder = this.requireEpoch(epoch);
    if (connection !== null && holder.connection !== null && holder.connection !== connection) throw new ToolError(ERROR.LEASE_LOST, "another socket holds this lease");
    this.feed("lease", `container ${short(holder.container)} released the rig`);
    this.lease = { ...this.lease, holder: null };
    this.voidRuns(`its container released the rig`);
    this.effects.push({ kind: "persist_lease" });
    this.promote();
  }

  /** W3: the first standby still alive takes the rig; the others keep waiting. */
  private promote(): void {
    const alive = this.lease.standbys.filter((s) => s.renewBy >= this.now);
    for (const s of this.lease.standbys) if (s.renewBy < this.now) this.effects.push({ kind: "close", connection: s.connection, code: CLOSE.LEASE_EXPIRED, reason: "standby missed its deadline" });
    this.lease = { ...this.lease, standbys: alive };
    const next = alive[0];
    if (next) this.grant(next.connection, next.container, next.session);
  }

  /**
   * W5: runs of an earlier epoch are void. Their processes belong to a container that lost the rig
   * (or to the restarted one's predecessor): their beads go back to open without an attempt.
   */
  private voidRuns(why: string): void {
    for (const agent of this.allAgents()) {
      const run = agent.run;
      if (!run) continue;
      const next: Agent = { ...agent, status: "idle", lastExit: `lost: ${why}` };
      clearRun(next);
      this.setAgent(next);
      this.setLive(agent.identity, null);
      const bead = this.bead(run.bead);
      if (run.state !== "stopping" && bead?.status === "in_progress" && bead.assignee === agent.identity) {
        this.setBead(reopen(bead, this.now, `${agent.identity}'s run was lost: ${why}`));
        this.feed("bead", `bead ${short8(bead.id)} back to open: ${agent.identity}'s run was lost (${why})`, { bead: bead.id, agent: agent.identity });
      }
    }
  }

  // ---------------------------------------------------------------- deadlines (tick)

  deadlines(): void {
    const { now, config } = this;
    const holder = this.holder;
    if (holder && now > holder.renewBy) {
      // W3: a holder that missed its deadline loses the rig, with a typed close.
      if (holder.connection) this.effects.push({ kind: "close", connection: holder.connection, code: CLOSE.LEASE_EXPIRED, reason: "lease expired: no renewal in time" });
      this.feed("lease", `container ${short(holder.container)} missed its lease deadline and lost the rig`, { tone: "warn" });
      this.lease = { ...this.lease, holder: null };
      this.voidRuns("its container missed its lease deadline");
      this.effects.push({ kind: "persist_lease" });
      this.promote();
    } else if (this.lease.standbys.some((s) => s.renewBy < now)) {
      for (const s of this.lease.standbys) if (s.renewBy < now) this.effects.push({ kind: "close", connection: s.connection, code: CLOSE.LEASE_EXPIRED, reason: "standby missed its deadline" });
      this.lease = { ...this.lease, standbys: this.lease.standbys.filter((s) => s.renewBy >= now) };
    }
    // W6: nobody is blamed while no container serves the rig, nor for what could not arrive while
    // its holder was reconnecting (its deadline covers that; a reconnect restarts the clocks).
    if (!this.holder?.connection) return;

    for (const agent of [...this.allAgents()]) {
      const run = agent.run;
      if (!run) continue;
      if (run.state === "stopping") {
        if (now - run.since > config.stopTimeoutMs) {
          // W9: a stop never acknowledged is given up; the process is the container's to clean.
          const next: Agent = { ...agent, status: "dead", lastExit: `stop not acknowledged in ${seconds(config.stopTimeoutMs)}` };
          clearRun(next);
          this.setAgent(next);
          this.feed("dead", `${agent.identity}: stop not acknowledged; given up`, { agent: agent.identity, bead: run.bead });
        }
        continue;
      }
      const live = this.liveness(agent.identity);
      if (!live) continue;
      const silent = now - live.heartbeatAt;
      if (silent > config.heartbeatTimeoutMs) {
        // W7: the holder renews but no longer vouches for this run: its process is gone.
        const why = `no heartbeat for ${seconds(silent)}`;
        this.endRun(agent, "dead", why, run.state === "running", `witness: ${agent.identity} dead (${why})`);
        this.feed("dead", `${agent.identity} is dead (${why})`, { agent: agent.identity, bead: run.bead });
        continue;
      }
      if (silent > config.heartbeatTimeoutMs / 2 && agent.status === "working") {
        this.setAgent({ ...agent, status: "stalled" });
        this.feed("stalled", `${agent.identity} is stalled (no heartbeat for ${seconds(silent)})`, { agent: agent.identity, bead: run.bead });
      }
      if (run.state !== "running") continue;
      const idle = now - live.progressAt;
      if (idle > 2 * config.idleMs && live.nudgedAt !== undefined) {
        // W8: hung: alive, but no output and no tool call since the nudge.
        const why = `no progress for ${seconds(idle)}`;
        this.endRun(agent, "stopping", `hung: ${why}`, true, `hung: ${why}`);
        this.feed("hung", `${agent.identity} hung (${why}); stopped`, { tone: "bad", agent: agent.identity, bead: run.bead });
      } else if (idle > config.idleMs && live.nudgedAt === undefined) {
        this.setLive(agent.identity, { ...live, nudgedAt: now });
        this.setAgent({ ...(this.agent(agent.identity) ?? agent), status: "hung" });
        const bead = this.bead(run.bead);
        this.effects.push({
          kind: "nudge",
          identity: agent.identity,
          subject: `nudge: no progress for ${seconds(idle)}`,
          body: `You hold bead ${run.bead}${bead ? ` (${bead.title})` : ""} and have made no progress (no output, no tool call) for ${seconds(idle)}. Carry on, call gt done, or gt escalate; without progress your run is stopped in ${seconds(config.idleMs)}.`,
        });
        this.feed("hung", `${agent.identity} made no progress for ${seconds(idle)}; nudged`, { agent: agent.identity, bead: run.bead });
      }
    }

    for (const bead of [...this.allBeads()]) {
      if (bead.status !== "in_review" || bead.until === undefined || now <= bead.until) continue;
      const tries = bead.mergeTries ?? 1;
      if (tries < config.mergeTries) {
        // W10: the refinery did not report in time: ask again (merges are idempotent per bead).
        const next: Bead = { ...bead, mergeTries: tries + 1, until: now + config.mergeTimeoutMs };
        this.setBead(next);
        this.effects.push({ kind: "command", command: mergeCommand(next) });
        this.feed("merge", `merge of bead ${short8(bead.id)} not reported in ${seconds(config.mergeTimeoutMs)}; asked again (try ${tries + 1} of ${config.mergeTries})`, { bead: bead.id });
      } else {
        const why = `merge not reported after ${tries} tries`;
        this.setBead(failed(bead, now, why));
        this.escalate({ from: `${config.rigName}/refinery`, title: `Merge never reported: ${bead.title}`, body: `The refinery was asked to merge ${bead.branch ?? "the bead's branch"} ${tries} times and never answered. The bead failed; retry it once the container is healthy.`, severity: "high", beadId: bead.id });
        this.feed("failed", `bead ${short8(bead.id)} failed: ${why}`, { bead: bead.id });
      }
    }
  }

  // ---------------------------------------------------------------- agents

  /** A heartbeat (and, for the agent's own calls, progress) for the current run; `run` from the agent's token. */
  heard(identity: string, progress: boolean, run?: string): void {
    const agent = this.agent(identity);
    if (!agent?.run || agent.run.state === "stopping" || (run !== undefined && run !== agent.run.id)) return;
    const live = this.liveness(identity) ?? { heartbeatAt: this.now, progressAt: this.now };
    this.setLive(identity, { ...live, heartbeatAt: this.now });
    if (agent.status === "stalled") this.setAgent({ ...agent, status: "working" });
    if (progress && agent.run.state === "running") this.progressed(this.agent(identity)!, this.now);
  }

  private progressed(agent: Agent, at: number): void {
    const live = this.liveness(agent.identity)!;
    const next: Liveness = { heartbeatAt: live.heartbeatAt, progressAt: Math.max(live.progressAt, at) };
    this.setLive(agent.identity, next);
    if (agent.status === "hung") this.setAgent({ ...agent, status: "working" });
  }

  started(event: Extract<WorkEvent, { type: "agent_started" }>): { stale: boolean } {
    this.requireEpoch(event.epoch);
    const agent = this.requireAgent(event.identity);
    const run = agent.run;
    const current = run && run.state === "starting" && run.bead === event.beadId && (event.run === undefined || event.run === run.id);
    // A run the room took back while it started: the container stops that process itself.
    if (!current || !run) return { stale: true };
    const next: Agent = { ...agent, status: "working", run: { ...run, state: "running", since: this.now } };
    if (event.pid !== undefined) next.pid = event.pid;
    this.setAgent(next);
    this.setLive(agent.identity, { heartbeatAt: this.now, progressAt: this.now });
    return { stale: false };
  }

  /** W11: only the exit of the agent's current run touches it or its bead; an earlier run's exit is history. */
  exited(event: Extract<WorkEvent, { type: "agent_exited" }>): { agent: Agent; bead_status: BeadStatus | null } {
    this.requireEpoch(event.epoch);
    const agent = this.requireAgent(event.identity);
    const run = agent.run;
    const current = run && (event.run !== undefined ? event.run === run.id : event.beadId === undefined || event.beadId === run.bead);
    if (current && run) {
      if (run.state === "stopping") {
        const next: Agent = { ...agent, status: agent.status === "dead" ? "dead" : "idle", lastExit: `${event.exit} (stopped: ${run.reason ?? "stop"})` };
        clearRun(next);
        this.setAgent(next);
        this.setLive(agent.identity, null);
      } else {
        // Ended before gt_done: a failure of this bead's run, unless the process was lost with its supervisor.
        this.endRun(agent, "idle", event.exit, event.lost !== true, `${agent.identity} exited (${event.exit}) before done`, true);
        this.feed("agent", `${agent.identity} exited (${event.exit}) before finishing bead ${short8(run.bead)}`, { tone: "warn", agent: agent.identity, bead: run.bead });
      }
    }
    const beadId = event.beadId ?? run?.bead;
    const bead = beadId ? this.bead(beadId) : undefined;
    return { agent: this.agent(agent.identity)!, bead_status: bead?.status ?? null };
  }

  /**
   * Ends a run that did not finish: the bead goes back to open (an attempt counted when `counts`),
   * or fails at the last attempt. `acked`: the process is gone already; otherwise it is stopped.
   */
  private endRun(agent: Agent, status: "idle" | "dead" | "stopping", exit: string, counts: boolean, note: string, acked = false): void {
    const run = agent.run!;
    const next: Agent = { ...agent, status, lastExit: exit };
    if (acked) {
      clearRun(next);
      this.setLive(agent.identity, null);
    } else {
      next.run = { ...run, state: "stopping", since: this.now, reason: exit };
      delete next.hook;
      delete next.branch;
    }
    this.setAgent(next);
    const bead = this.bead(run.bead);
    if (bead?.status === "in_progress" && bead.assignee === agent.identity) this.returned(bead, note, counts);
    if (!acked) this.effects.push({ kind: "command", command: runCommand(next)! });
  }

  done(event: Extract<WorkEvent, { type: "done" }>): { bead_id: string; status: BeadStatus } {
    const agent = this.requireAgent(event.identity);
    const run = agent.run;
    const live = run && run.state !== "stopping" ? run : undefined;
    // Not the agent's live run: a retried gt_done after a lost reply gets the answer it got the first
    // time, also once the bead was merged or the agent went on to its next run.
    if (!live || (event.run !== undefined && event.run !== live.id) || (event.run === undefined && agent.branch !== undefined && event.branch !== agent.branch)) {
      const handedIn = this.handedIn(agent.identity, event.branch, event.run);
      if (handedIn) return { bead_id: handedIn.id, status: "in_review" };
    }
    if (!run || run.state === "stopping") {
      throw new ToolError("CONFLICT", run ? `${agent.identity}'s run of bead ${run.bead} was stopped (${run.reason ?? "stopped"})` : `${agent.identity} has no hooked bead`);
    }
    if (event.run !== undefined && event.run !== run.id) throw new ToolError("CONFLICT", `this run of ${agent.identity} is over; bead ${run.bead} belongs to run ${run.id}`);
    const bead = this.bead(run.bead);
    if (!bead || bead.status !== "in_progress") throw new ToolError("CONFLICT", `bead ${run.bead} is ${bead?.status ?? "gone"}, not in_progress`);
    if (agent.branch && event.branch !== agent.branch) throw new ToolError("CONFLICT", `${agent.identity} works on branch ${agent.branch}, not ${event.branch}`);
    const next: Agent = { ...agent, status: "idle" };
    clearRun(next);
    this.setAgent(next);
    this.setLive(agent.identity, null);
    const review: Bead = { ...withStatus(bead, "in_review", this.now, event.summary ? `done: ${event.summary.slice(0, 200)}` : "done"), branch: event.branch, mergeTries: 1, until: this.now + this.config.mergeTimeoutMs };
    this.setBead(review);
    this.effects.push({ kind: "command", command: mergeCommand(review) });
    this.feed("bead", `${agent.identity} finished bead ${short8(bead.id)}; merging ${event.branch}`, { bead: bead.id, agent: agent.identity });
    return { bead_id: bead.id, status: "in_review" };
  }

  /**
   * The bead `identity` handed in on `branch` (by `run`, when the call names one) that is still in
   * review or was merged since: what a repeated gt_done refers to. A bead reopened since (its merge
   * failed) or moved was not handed in for good: a repeat for it is refused.
   */
  private handedIn(identity: string, branch: string, run: string | undefined): Bead | undefined {
    const handed = (b: Bead | undefined) => b && b.assignee === identity && b.branch === branch && (b.status === "in_review" || (b.status === "closed" && !b.movedTo));
    if (run === undefined) return [...this.allBeads()].find(handed);
    const [beadId, n] = run.split(".");
    const bead = this.bead(beadId ?? "");
    return handed(bead) && bead!.runs === Number(n) ? bead : undefined;
  }

  /**
   * Whether a merge report for a bead no longer in review is a repeat of the one already applied (a
   * lost reply, or the report of an earlier try of the same merge): the same outcome, as the bead's
   * history recorded it. `ok`: the bead closed by that merge commit; a failure: the bead reopened (or
   * failed) with the note that failure wrote, and not handed in since.
   */
  private sameMergeReport(bead: Bead, event: Extract<WorkEvent, { type: "merge_result" }>): boolean {
    const history = bead.history ?? [];
    if (event.ok) return bead.status === "closed" && !bead.movedTo && bead.mergeCommit === event.mergeCommit && (history.at(-1)?.note ?? "").startsWith("merged");
    const failure: MergeFailure = event.failure ?? (event.conflictFiles?.length ? "conflict" : "push_failed");
    const error = (event.error ?? failure).slice(0, 200);
    const wrote = (note: string): boolean => {
      if (failure === "branch_missing") return note.startsWith("merge: branch ") && note.includes(` (${error}); redone`);
      if (failure === "nothing_to_merge") return note.startsWith("merge: nothing to merge");
      return note === `merge failed: ${error}` || note.startsWith(`merge failed: ${error}; gave up after `);
    };
    return (bead.status === "open" || bead.status === "in_progress" || bead.status === "failed") && history.some((h) => (h.status === "open" || h.status === "failed") && wrote(h.note ?? ""));
  }

  mergeResult(event: Extract<WorkEvent, { type: "merge_result" }>): Bead {
    this.requireEpoch(event.epoch);
    const bead = this.requireBead(event.beadId);
    const merged = (b: Bead, note: string): Bead => {
      const next: Bead = withStatus(b, "closed", this.now, note);
      delete next.until;
      delete next.failure;
      if (event.mergeCommit) next.mergeCommit = event.mergeCommit;
      return next;
    };
    if (bead.status === "failed" && event.ok && bead.failure?.startsWith("merge not reported")) {
      // The refinery did merge it after all: the remote is the truth (W10).
      this.setBead(merged(bead, `merged ${event.mergeCommit?.slice(0, 8) ?? ""} (reported late)`.trim()));
      this.feed("merge", `bead ${short8(bead.id)} merged after all (reported late)`, { tone: "good", bead: bead.id });
      return this.bead(bead.id)!;
    }
    if (bead.status !== "in_review") {
      // A repeated report (a lost reply) answers as the first did; any other report of a bead not in review is refused.
      if (this.sameMergeReport(bead, event)) return bead;
      throw new ToolError("CONFLICT", `bead ${bead.id} is ${bead.status}, not in review: no merge of it is awaited`);
    }
    if (event.ok) {
      this.setBead(merged(bead, `merged ${event.mergeCommit?.slice(0, 8) ?? ""}`.trim()));
      this.feed("bead", `bead ${short8(bead.id)} merged into the default branch`, { tone: "good", bead: bead.id, agent: bead.assignee });
      return this.bead(bead.id)!;
    }
    const failure: MergeFailure = event.failure ?? (event.conflictFiles?.length ? "conflict" : "push_failed");
    const error = (event.error ?? failure).slice(0, 200);
    switch (failure) {
      case "branch_missing":
        // Lost with the container that had it: redone, and not the bead's fault.
        this.returned(bead, `merge: branch ${bead.branch ?? ""} is not in the serving container's clone (${error}); redone`, false);
        this.feed("merge", `bead ${short8(bead.id)}: its branch was lost with its container; redone`, { bead: bead.id });
        break;
      case "nothing_to_merge":
        this.returned(bead, `merge: nothing to merge: the branch has no commits of its own`, true);
        this.feed("merge", `bead ${short8(bead.id)}: nothing to merge; back to open`, { tone: "warn", bead: bead.id, agent: bead.assignee });
        break;
      case "conflict":
      case "push_failed": {
        const files = event.conflictFiles?.length ? `\n\nConflicting files:\n${event.conflictFiles.map((f) => `- ${f}`).join("\n")}` : "";
        // At its last attempt the bead fails, with one escalation that says why (returned()).
        const last = (bead.attempts ?? 0) + 1 >= this.config.maxRuns;
        if (!last) this.escalate({
          from: `${this.config.rigName}/refinery`,
          title: `${failure === "conflict" ? "Merge conflict" : "Merge failed"}: ${bead.title}`.slice(0, 200),
          body: `${event.error ?? "The branch does not merge cleanly."}${files}\n\nThe bead is open again and will be redone from the current default branch.`,
          severity: "high",
          beadId: bead.id,
        });
        this.returned(bead, `merge failed: ${error}`, true);
        this.feed("merge", `merge of bead ${short8(bead.id)} failed (${failure}); bead reopened`, { tone: "warn", bead: bead.id, agent: bead.assignee });
        break;
      }
    }
    return this.bead(bead.id)!;
  }

  // ---------------------------------------------------------------- operators

  setStatus(beadId: string, status: "open" | "closed" | "failed"): Bead {
    const bead = this.requireBead(beadId);
    if (status === bead.status) return bead;
    if (bead.movedTo) throw new ToolError("CONFLICT", `bead ${bead.id} was moved to rig ${bead.movedTo.rig} (as bead ${bead.movedTo.beadId}); act on that one`);
    if (status === "open" && bead.status === "failed") return this.retry(beadId); // W14
    let next = withStatus(bead, status, this.now, "set by operator");
    delete next.until;
    if (status === "failed") next.failure = "set failed by the operator";
    else delete next.failure;
    const owner = this.owner(bead.id);
    if (owner) this.stopRun(owner, `bead ${bead.id} set ${status} by the operator`);
    if (status === "open") {
      delete next.assignee;
      delete next.branch;
      next = { ...next };
    }
    this.setBead(next);
    this.feed(status === "failed" ? "failed" : "bead", `bead ${short8(bead.id)} ${bead.status} → ${status} (operator)`, { bead: bead.id });
    return next;
  }

  retry(beadId: string, note?: string): Bead {
    const bead = this.requireBead(beadId);
    if (bead.status !== "failed") throw new ToolError("CONFLICT", `bead ${bead.id} is ${bead.status}; only a failed bead is retried`);
    const why = `retried by the operator (attempts ${bead.attempts ?? 0} → 0)${note ? `: ${note}` : ""}`;
    const next: Bead = { ...withStatus(bead, "open", this.now, why), attempts: 0 };
    delete next.failure;
    delete next.assignee;
    delete next.branch;
    delete next.until;
    delete next.mergeTries;
    this.setBead(next);
    this.feed("bead", `bead ${short8(bead.id)} retried by the operator`, { bead: bead.id });
    return next;
  }

  /**
   * W15: an operator ends an agent's live run. `stop`: its bead fails (to retry or move later);
   * `restart`: its bead goes back to open and is dispatched again. Neither counts an attempt (W11).
   */
  stopAgent(identity: string, how: "stop" | "restart", reason?: string): Agent {
    const agent = this.requireAgent(identity);
    const run = agent.run;
    if (!run) throw new ToolError("CONFLICT", `${identity} has no run to ${how}`);
    if (run.state === "stopping") throw new ToolError("CONFLICT", `${identity}'s run ${run.id} is being stopped already (${run.reason ?? "stop"})`);
    const why = `${how === "stop" ? "stopped" : "restarted"} by the operator${reason ? `: ${reason}` : ""}`;
    const bead = this.bead(run.bead);
    this.stopRun(agent, why);
    if (bead?.status === "in_progress" && bead.assignee === identity) {
      if (how === "stop") {
        this.setBead(failed(bead, this.now, why));
        this.feed("failed", `bead ${short8(bead.id)} failed: ${identity} ${why}`, { agent: identity, bead: bead.id });
      } else {
        this.setBead(reopen(bead, this.now, `${identity} ${why}`));
      }
    }
    this.feed("agent", `${identity} ${why}`, { agent: identity, bead: bead?.id });
    return this.agent(identity)!;
  }

  /**
   * W16: the bead leaves this rig for another: closed with `movedTo` and a history note, its run
   * stopped (no attempt counted). A bead closed (done, or moved already) or in review (its merge is
   * under way) is not moved; a bead moved already answers as it is, wherever it went, so the town
   * can tell a retry from a second move.
   */
  moveOut(event: Extract<WorkEvent, { type: "operator_move" }>): Bead {
    const bead = this.requireBead(event.beadId);
    if (bead.movedTo) return bead;
    if (bead.status === "closed") throw new ToolError("CONFLICT", `bead ${bead.id} is closed (done); only unfinished work is moved`);
    if (bead.status === "in_review") throw new ToolError("CONFLICT", `bead ${bead.id} is in review: its merge is under way`);
    const owner = this.owner(bead.id);
    if (owner) this.stopRun(owner, `bead ${bead.id} moved to rig ${event.toRig} by the operator`);
    const next: Bead = { ...withStatus(bead, "closed", this.now, `moved to ${event.toRig}`), movedTo: { rig: event.toRig, beadId: event.newBeadId } };
    delete next.until;
    delete next.mergeTries;
    delete next.failure;
    this.setBead(next);
    this.effects.push({ kind: "moved", beadId: bead.id, toRig: event.toRig, toRigId: event.toRigId, newBeadId: event.newBeadId });
    this.feed("bead", `bead ${short8(bead.id)} moved to rig ${event.toRig}${owner ? `; ${owner.identity} stopped` : ""}`, { bead: bead.id });
    return next;
  }

  private stopRun(agent: Agent, reason: string): void {
    const run = agent.run!;
    if (run.state === "stopping") return;
    const next: Agent = { ...agent, status: "stopping", run: { ...run, state: "stopping", since: this.now, reason } };
    delete next.hook;
    delete next.branch;
    this.setAgent(next);
    this.setLive(agent.identity, null);
    this.effects.push({ kind: "command", command: runCommand(next)! });
  }

  /** The agent whose live run works on this bead, if any (W0: at most one). */
  private owner(beadId: string): Agent | undefined {
    for (const agent of this.allAgents()) if (agent.run && agent.run.state !== "stopping" && agent.run.bead === beadId) return agent;
    return undefined;
  }

  // ---------------------------------------------------------------- beads

  /**
   * Unfinished work back to the queue: open again, or failed with an escalation once its runs
   * have failed maxRuns times (W11: only a real failure of this bead counts).
   */
  private returned(bead: Bead, note: string, counts: boolean): void {
    const attempts = (bead.attempts ?? 0) + (counts ? 1 : 0);
    if (counts && attempts >= this.config.maxRuns) {
      const why = `${note}; gave up after ${attempts} runs`;
      this.setBead({ ...failed(bead, this.now, why), attempts });
      this.escalate({
        from: `${this.config.rigName}/witness`,
        title: `Bead failed: ${bead.title}`.slice(0, 200),
        body: `Its runs failed ${attempts} times; the last time: ${note}.`,
        severity: "high",
        beadId: bead.id,
      });
      this.feed("failed", `bead ${short8(bead.id)} failed after ${attempts} runs: ${note}`, { bead: bead.id, agent: bead.assignee });
      return;
    }
    this.setBead({ ...reopen(bead, this.now, note), attempts });
  }

  private escalate(escalation: EscalationSpec): void {
    this.effects.push({ kind: "escalate", escalation });
  }

  private requireAgent(identity: string): Agent {
    const agent = this.agent(identity);
    if (!agent) throw new ToolError("UNKNOWN_AGENT", `no agent ${identity} in rig ${this.config.rigName}`);
    return agent;
  }

  private requireBead(id: string): Bead {
    const bead = this.bead(id);
    if (!bead) throw new ToolError("UNKNOWN_BEAD", `no bead ${id} in rig ${this.config.rigName}`);
    return bead;
  }

  // ---------------------------------------------------------------- dispatch (W0)

  /**
   * Hooks open beads to free polecats while a connected container holds the lease and the clone is
   * ready: with nobody to run them, beads wait open, which is the truth, not in_progress for no one.
   */
  dispatch(): void {
    const { config, now } = this;
    if (!config.ready || !this.holder?.connection) return;
    const plan = planDispatch({ rigName: config.rigName, beads: this.allBeads(), agents: this.allAgents(), maxPolecats: config.maxPolecats });
    for (const { beadId, identity, name } of plan) {
      const bead = this.bead(beadId)!;
      const existing = this.agent(identity);
      const runs = (bead.runs ?? 0) + 1;
      const run: AgentRun = { id: `${bead.id}.${runs}`, bead: bead.id, state: "starting", since: now };
      const branch = branchName(name, beadId);
      const agent: Agent = { ...(existing ?? { identity, role: "polecat", name }), status: "working", hook: beadId, branch, worktree: `rigs/${config.rigId}/worktrees/${name}`, startedAt: now, run };
      delete agent.pid;
      this.setAgent(agent);
      this.setBead({ ...withStatus(bead, "in_progress", now, `hooked to ${identity}`), assignee: identity, branch, runs });
      this.setLive(identity, { heartbeatAt: now, progressAt: now });
      this.effects.push({ kind: "command", command: runCommand(agent)! });
      this.feed("bead", `${identity} hooked bead ${short8(beadId)}: ${bead.title}`, { bead: beadId, agent: identity });
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers

function runCommand(agent: Agent): OwedCommand | null {
  const run = agent.run;
  if (!run) return null;
  if (run.state === "starting") return { kind: "start_agent", id: `start:${run.id}`, identity: agent.identity, beadId: run.bead, run: run.id };
  if (run.state === "stopping") return { kind: "stop_agent", id: `stop:${run.id}`, identity: agent.identity, beadId: run.bead, run: run.id, reason: run.reason ?? "stopped" };
  return null;
}

function mergeCommand(bead: Bead): OwedCommand {
  const attempt = bead.mergeTries ?? 1;
  return { kind: "merge", id: `merge:${bead.id}:${bead.runs ?? 0}:${attempt}`, identity: bead.assignee ?? "", beadId: bead.id, branch: bead.branch ?? "", attempt };
}

function clearRun(agent: Agent): void {
  delete agent.run;
  delete agent.hook;
  delete agent.branch;
  delete agent.pid;
}

function reopen(bead: Bead, now: number, note: string): Bead {
  const next = withStatus(bead, "open", now, note);
  delete next.assignee;
  delete next.branch;
  delete next.until;
  delete next.mergeTries;
  return next;
}

/** Failed with its reason; the last assignee stays, so the bead says who ran it last. */
function failed(bead: Bead, now: number, why: string): Bead {
  const next = withStatus(bead, "failed", now, why);
  next.failure = why;
  delete next.until;
  return next;
}

function seconds(ms: number): string {
  return `${Math.round(ms / 1000)} s`;
}

function short(id: string): string {
  return id.slice(0, 8);
}

function short8(id: string): string {
  return id.slice(-8);
}
