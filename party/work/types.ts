/**
 * What the work machine reads and returns: the rig's records and clocks (WorkState), its
 * configuration, the effects a step owes the world, and the step's result (Transition). Events and
 * their replies are in events.ts; the allowed transitions in table.ts.
 */
import type { Agent, Bead, Boundary, Budget, BudgetHold, Escalation, FeedTone, RigStatus, Severity, Usage, UsageTotals } from "../protocol.ts";

export type WorkConfig = {
  rigName: string;
  rigId: string;
  /** The clone is ready (the rig's status): nothing is dispatched before. */
  ready: boolean;
  maxPolecats: number;
  /** Silent (no heartbeat) for half of this: stalled; for all of it: dead. */
  heartbeatTimeoutMs: number;
  /** No progress (output or tool call) for this long: nudged; as long again after the nudge was delivered: stopped (W8). */
  idleMs: number;
  /** No progress for this long: stopped, whether or not a nudge reached it (W8's ceiling; at least idleMs). */
  ceilingMs: number;
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
  /** Unfinished beads the rig takes at most (GT_MAX_OPEN_BEADS; LIMITS.openBeadsPerRig when absent). */
  maxOpenBeads?: number;
};

/**
 * What the room knows of a run's process between heartbeats: in memory only, never in the document.
 * `nudgedAt`: the witness nudged it (W8) and no progress came since; `deliveredAt`: that nudge went
 * out on the reply to one of the agent's tool calls (until then it waits for the run).
 */
export type Liveness = { heartbeatAt: number; progressAt: number; nudgedAt?: number; deliveredAt?: number };

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

/** The rig's own lifecycle fields (in its meta record): the clone's status (W20) and its size. */
export type RigState = {
  status: RigStatus;
  error?: string;
  /** Since when the rig is in `error`. */
  errorAt?: number;
  diskBytes?: number;
  /** What of the agents' boundary the serving container enforces (its last gt_rig_ready). */
  boundary?: Boundary;
  maxPolecats: number;
  /** The rig's daily budget (W22), set by an operator through the town. */
  budget?: Budget;
  /** Dispatch held by a budget reached (W22): set and cleared by dispatch only. */
  hold?: BudgetHold;
  /** What the town last told the rig of the town's budget (W22); `at` orders its notices. */
  townBudget?: TownBudget;
};

/** The town's notice of its budget: reached (today, `day`) or not, with its words. */
export type TownBudget = { reached: boolean; day: string; at: number; reason: string };

/** What the rig's runs used on `day` (UTC), as the store counted it: the spend a budget is judged on (W22). */
export type Spent = { day: string; totals: UsageTotals };

export type WorkState = {
  beads: Lookup<Bead>;
  agents: Lookup<Agent>;
  lease: LeaseState;
  liveness: ReadonlyMap<string, Liveness>;
  config: WorkConfig;
  /** The escalations in the document (W19); none when the caller has none to show. */
  escalations?: Lookup<Escalation>;
  /** The rig's clone status and size (W20, rig_resize); the room always gives it. */
  rig?: RigState;
  /** Today's spend as stored (W22); none is nothing spent. */
  spent?: Spent;
};

// ---------------------------------------------------------------------------------------------
// Effects

/** `quietMs`: how long ago the agent last printed, by the container's clock (so no clocks are compared). */
export type AgentReport = { identity: string; run?: string | undefined; quietMs?: number | undefined };

export type OwedCommand =
  | { kind: "start_agent"; id: string; identity: string; beadId: string; run: string }
  | { kind: "merge"; id: string; identity: string; beadId: string; branch: string; attempt: number }
  | { kind: "stop_agent"; id: string; identity: string; beadId: string; run: string; reason: string };

/** An escalation to raise; the store gives it an id (unless it has one), `createdAt` and status `open`. */
export type EscalationSpec = {
  from: string;
  title: string;
  body: string;
  severity: Severity;
  beadId?: string | undefined;
  id?: string;
  /** The machine's own, raised because its bead failed (W23 resolves it). */
  cause?: "bead_failed";
};

export type LeaseFrameSpec = { state: "held"; epoch: number } | { state: "standby" };

/** `failed`, `stalled`, `hung`, `dead` and `escalation` are failures: the rig room also tells the town's feed (party/feed.ts). */
export type FeedKind =
  | "bead"
  | "agent"
  | "witness"
  | "lease"
  | "merge"
  | "failed"
  | "stalled"
  | "hung"
  | "dead"
  | "rig"
  | "escalation"
  | "escalation_acknowledged"
  | "escalation_resolved"
  /** A budget set, or dispatch held or released by one (W22). */
  | "budget";

export type FeedAbout = {
  tone?: FeedTone | undefined;
  bead?: string | undefined;
  agent?: string | undefined;
  /** A line about the witness's nudge of `agent` (W8): sent, or delivered. The store keeps one such line per agent. */
  nudge?: "sent" | "delivered" | undefined;
};

export type Effect =
  | { kind: "command"; command: OwedCommand }
  /** Tell this socket its lease state; when held, send it every owed command. */
  | { kind: "lease"; connection: string; frame: LeaseFrameSpec }
  | { kind: "close"; connection: string; code: number; reason: string }
  /** A feed line; `tone` when it is not the kind's (party/feed.ts), `bead` and `agent` what it is about. */
  | { kind: "feed"; feed: FeedKind; text: string; tone?: FeedTone; bead?: string; agent?: string; nudge?: "sent" | "delivered" }
  | { kind: "escalate"; escalation: EscalationSpec }
  /** The lease's lasting part (holder, epoch) changed: store it with this step's records. */
  | { kind: "persist_lease" }
  /** A bead was closed as moved (W16): the town must hear of it, in the same write (its successor is created there). */
  | { kind: "moved"; beadId: string; toRig: string; toRigId: string; newBeadId: string }
  /** The bead's convoy must hear of its new status or assignee: a notice stored with it (the store adds its rev). */
  | { kind: "convoy"; beadId: string }
  /** A bead was closed here (done, not moved): one more closing in this hour's count, stored with it. */
  | { kind: "closed"; beadId: string }
  /** A run began: its output's record says so. */
  | { kind: "run_started"; identity: string; run: string }
  /** A run's usage, counted once (W22): stored with the run's record, and in the rig's sums, in the step's write. */
  | { kind: "usage"; identity: string; run: string; beadId: string; usage: Usage }
  /** A run ended, with how (`create`: recorded even if it never printed). */
  | { kind: "run_ended"; identity: string; run: string; exit: string; create: boolean };

/** A step's result; events.ts names it Transition, with the replies typed per event. */
export type StepResult<R> = {
  beads: Bead[];
  agents: Agent[];
  lease: LeaseState;
  /** Changed liveness entries; null removes one. */
  liveness: Map<string, Liveness | null>;
  effects: Effect[];
  /** What the tool that fed the event answers. */
  reply: R;
  /** Escalations whose status or note changed (W19); new ones are `escalate` effects. */
  escalations: Escalation[];
  /** The rig's lifecycle fields, when this step changed them (W20, rig_resize). */
  rig: RigState | null;
  /** A dispatch owed as a step of its own, after this step's write (a new bead, a ready clone, a new size). */
  then: "dispatch" | null;
};
