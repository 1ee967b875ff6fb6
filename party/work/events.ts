/**
 * What the work machine is fed (WorkEvent) and what each event answers (Replies): one union each,
 * so a new event does not compile until step.ts has a handler and a reply for it.
 */
import type { Agent, Bead, BeadStatus, Boundary, Budget, Escalation, MergeFailure, Priority, Usage } from "../protocol.ts";
import type { AgentReport, EscalationSpec, LeaseFrameSpec, StepResult } from "./types.ts";

/** A bead as its creator gives it (W17): the town's beads carry their convoy, the Mayor's reason, a move's origin. */
export type NewBead = Pick<Bead, "id" | "title" | "body" | "priority" | "requires"> & {
  /** The model the bead asks for (over its rig's): the start_agent command's bead carries it. */
  model?: string | undefined;
  convoyId?: string;
  reason?: string | undefined;
  movedFrom?: Bead["movedFrom"];
};

/** The fields of a bead an operator edits freely (W18). */
export type BeadEdits = { priority?: Priority | undefined; title?: string | undefined; body?: string | undefined };

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
  /**
   * `epoch`: the container's heartbeat carries the epoch it holds (none is LEASE_LOST), an agent's
   * own carries null and names the run of its token (one of an earlier run is ignored).
   */
  | { type: "agent_heartbeat"; identity: string; epoch: number | null | undefined; run?: string | undefined }
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
      /** What the run used, as its CLI reported it (W22: counted once per run). */
      usage?: Usage | undefined;
      /** The run's usage was counted already (a repeated report, read from the run's record): not again. */
      counted?: boolean | undefined;
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
   * `archived`: the bead as retention stored it, when it is no longer in the document.
   */
  | { type: "operator_move"; beadId: string; toRig: string; toRigId: string; newBeadId: string; archived?: Bead | undefined }
  /** A bead is created (W17); `archived`: a bead of that id retention stored (a retried create). */
  | { type: "bead_create"; bead: NewBead; archived?: Bead | undefined }
  /** An operator edits a bead (W18); `status` only as dispatch or gt_done set it, `assignee` null clears it. */
  | { type: "bead_edit"; beadId: string; status?: "in_progress" | "in_review" | undefined; edits: BeadEdits; assignee?: string | null | undefined }
  /** The container registers a polecat, idle. */
  | { type: "agent_register"; name: string }
  /** An agent (or an operator or the container as one) raises an escalation (W19), with the id it chose. */
  | { type: "escalate"; escalation: EscalationSpec & { id: string } }
  /** An operator acknowledges or resolves an escalation (W19); `stored`: the one retention moved to storage, if not in the document. */
  | { type: "escalation_update"; id: string; to: "acknowledged" | "resolved"; note?: string | undefined; stored?: Escalation | undefined }
  /** The container reports its clone (W20): ready, or the error that keeps it from serving the rig. */
  | { type: "clone_reported"; epoch?: number | undefined; error?: string | undefined; diskBytes?: number | undefined; boundary?: Boundary | undefined }
  /** The town changed how many polecats the rig runs at most. */
  | { type: "rig_resize"; maxPolecats: number }
  /** An operator set, raised or cleared (null) the rig's daily budget (W22), through the town. */
  | { type: "budget_set"; budget: Budget | null }
  /** The town tells the rig that its budget is reached today (`day`), or no longer (W22); `at` orders its notices. */
  | { type: "town_budget"; reached: boolean; day: string; at: number; reason: string };

export type WorkEventType = WorkEvent["type"];
export type EventOf<K extends WorkEventType> = Extract<WorkEvent, { type: K }>;

/** What each event answers (the tool that fed it returns it, or reads the stored record again). */
export type Replies = {
  room_started: null;
  tick: null;
  dispatch: null;
  container_connected: LeaseFrameSpec;
  container_disconnected: null;
  container_renew: LeaseFrameSpec;
  container_release: null;
  agent_heartbeat: null;
  agent_activity: null;
  agent_started: { stale: boolean };
  agent_exited: { agent: Agent; bead_status: BeadStatus | null };
  done: { bead_id: string; status: BeadStatus };
  merge_result: Bead;
  operator_set_status: Bead;
  operator_retry: Bead;
  operator_stop_agent: Agent;
  operator_restart_agent: Agent;
  operator_move: Bead;
  bead_create: Bead;
  bead_edit: Bead;
  agent_register: Agent;
  escalate: Escalation;
  escalation_update: Escalation;
  clone_reported: { status: "ready" | "error"; diskBytes: number | null };
  rig_resize: null;
  budget_set: null;
  town_budget: null;
};

export type Reply = Replies[WorkEventType];
export type ReplyOf<E extends WorkEvent> = Replies[E["type"]];

/** A step's result; `R` the reply of the event it applied. */
export type Transition<R = Reply> = StepResult<R>;
