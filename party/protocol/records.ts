/** Records: the values of the live documents' maps, and what the tools return of them. */
import { z } from "zod";
import type { AgentRole } from "./patterns.ts";

export const RIG_STATUSES = ["cloning", "ready", "error", "removing"] as const;
export const BEAD_STATUSES = ["open", "in_progress", "in_review", "closed", "failed"] as const;
export const PRIORITIES = ["low", "medium", "high", "critical"] as const;
/**
 * `stalled`: its heartbeats are late; `hung`: alive but no progress, nudged; `stopping`: its run is
 * being stopped; `dead`: its last run ended without heartbeats.
 */
export const AGENT_STATUSES = ["idle", "working", "stalled", "hung", "stopping", "dead"] as const;
export const MAIL_STATES = ["queued", "delivered", "read", "failed"] as const;
export type RigStatus = (typeof RIG_STATUSES)[number];
export type BeadStatus = (typeof BEAD_STATUSES)[number];
export type Priority = (typeof PRIORITIES)[number];
export type AgentStatus = (typeof AGENT_STATUSES)[number];
export type MailState = (typeof MAIL_STATES)[number];

export type RigSummary = {
  /** The rig's readiness as the rig room knows it (the container reports clones). */
  status?: RigStatus;
  openEscalations?: number;
  beads: Record<BeadStatus, number>;
  agents: Record<AgentStatus, number>;
  /** Mail of this rig not yet in its recipient's inbox (still in the outbox) or not yet read. */
  queuedMail: number;
  lastActivity: number | null;
  diskBytes: number | null;
  updatedAt: number;
  /** Polecats only, per status (the witness and the refinery left out): what "agents working" counts. */
  polecats?: Record<AgentStatus, number>;
  /** What needs the operator in this rig, worst first, at most LIMITS.attentionItems (see party/attention.ts). */
  attention?: AttentionItem[];
  /** Beads closed per hour over the last 24 hours (UTC hours): [23] is the hour of `updatedAt`. */
  closedByHour?: number[];
  /** What of the agents' boundary the serving container enforces (absent until a container says). */
  boundary?: Boundary;
  /** What the rig's runs used today (UTC), by hour over the last 24 hours, its budget and whether dispatch is held. */
  usage?: RigUsage;
};

/**
 * What of the rig boundary holds for a rig's agents, as its container reports it: their own PID
 * namespaces, the network rule, and what is missing and why (docs/security.md says what then holds).
 */
export type Boundary = { processes: boolean; network: boolean; missing: string[] };
export const boundarySchema = z.strictObject({ processes: z.boolean(), network: z.boolean(), missing: z.array(z.string().max(300)).max(8) });

/** One thing in a rig that needs the operator, as the overview's attention lane shows it. */
export type AttentionItem = {
  kind: AttentionKind;
  /** bead id | escalation id | agent identity | rig id */
  id: string;
  /** bead title | escalation title | agent identity | rig name (≤ LIMITS.attentionTitle) */
  title: string;
  /** Why: the failure, severity and sender, the agent's state, "2 unread mails", the clone error (≤ LIMITS.attentionDetail). */
  detail: string;
  /** Escalations only. */
  severity?: Severity;
  /** Since when (ms since the epoch). */
  at: number;
  /**
   * The bead it is about, where there is one: a failed bead's id, an escalation's bead, the bead a
   * troubled agent's run holds, a stuck convoy's one failed bead. Tells apart items with the same title.
   */
  beadId?: string;
};
/** `stuck_convoy`: a town's convoy whose beads all finished with at least one failed (party/attention.ts convoyAttention). */
export const ATTENTION_KINDS = ["failed_bead", "escalation", "agent", "waiting_mail", "rig_error", "budget", "stuck_convoy"] as const;
export type AttentionKind = (typeof ATTENTION_KINDS)[number];

/**
 * How a rig's agents run: the built-in scripted agent, a shell command the container is given
 * (--command, --rig-command), or the preset of a coding-agent CLI (container/presets/).
 */
export const AGENT_RUNTIMES = ["scripted", "command", "claude", "codex", "gemini", "opencode"] as const;
export type AgentRuntime = (typeof AGENT_RUNTIMES)[number];

/**
 * What one run of an agent used, as its CLI reported it: its model, its turns, its tokens and its
 * cost in USD (null where the CLI reports none and no prices file gives one).
 */
export type Usage = {
  model: string | null;
  turns: number | null;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  costUsd: number | null;
};

/**
 * Usage summed over runs (a bead's runs, a rig's day, the town's day). Tokens by kind as the CLIs
 * report them; `costUsd` sums the runs whose cost is known, and `unpriced` counts those whose cost
 * is not (their tokens count, their USD does not).
 */
export type UsageTotals = {
  runs: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  costUsd: number;
  unpriced: number;
};

export const BUDGET_UNITS = ["tokens", "usd"] as const;
export type BudgetUnit = (typeof BUDGET_UNITS)[number];
/**
 * A daily budget (a UTC day), in tokens (input, output, cache read and cache write together) or in
 * USD. Reached when the day's spend is at or past `daily`: then no new run starts (lifecycle W22).
 */
export type Budget = { unit: BudgetUnit; daily: number };
/** Dispatch held by a budget reached (W22): whose budget (the rig's, or the town's), since when, and why in words with the figures. */
export type BudgetHold = { by: "rig" | "town"; since: number; reason: string };

/** A rig's usage in its summary: today's sums (UTC), the last 24 hours by hour, its budget and hold. */
export type RigUsage = {
  /** The UTC day the sums are of, `YYYY-MM-DD`. */
  day: string;
  today: UsageTotals;
  /** USD and tokens per UTC hour over the last 24 hours, oldest first: [23] is the hour of the summary's `updatedAt`. */
  costByHour: number[];
  tokensByHour: number[];
  budget?: Budget;
  /** Set while no new run starts in the rig (W22). */
  hold?: BudgetHold;
  /** The rig holds for the town's budget, reached today (what the town last told it). */
  townReached?: boolean;
};

/** The town's usage (the town document's `usage` map, key `town`): daily sums only, never a run's row. */
export type TownUsage = {
  /** Today, UTC (`YYYY-MM-DD`), and the sums of every rig's runs today (a rig removed today included). */
  day: string;
  today: UsageTotals;
  /** Earlier days' sums, newest first (LIMITS.usageDaysKept). */
  days: { day: string; totals: UsageTotals }[];
  budget: Budget | null;
  /** Since when the town's budget is reached today (every rig holds dispatch), or null. */
  reached: BudgetHold | null;
  updatedAt: number;
};

export type Rig = {
  id: string;
  name: string;
  gitUrl: string;
  defaultBranch: string;
  capabilities: string[];
  maxPolecats: number;
  status: RigStatus;
  createdAt: number;
  summary: RigSummary;
  /** How its agents run, when the registry says (else the container's default); applies to the next run. */
  runtime?: AgentRuntime;
  /** The model its agents ask for, when the registry says (else the runtime's default). */
  model?: string;
};

export type BeadHistoryEntry = { at: number; status: BeadStatus; note?: string };

export type Bead = {
  id: string;
  title: string;
  body: string;
  /** The model this bead asks for (over its rig's). */
  model?: string;
  /** What its runs used, summed (each run counted once, when its exit reported its usage). */
  usage?: UsageTotals;
  status: BeadStatus;
  priority: Priority;
  requires: string[];
  assignee?: string;
  convoyId?: string;
  branch?: string;
  mergeCommit?: string;
  createdAt: number;
  updatedAt: number;
  closedAt?: number;
  /**
   * Status changes, oldest first: in the document the last LIMITS.historyInDoc; from the tools that
   * read a bead (gt_bead_status, gt_prime) the last LIMITS.historyKept.
   */
  history?: BeadHistoryEntry[];
  /** Status changes ever recorded (so a reader knows how many `history` leaves out). */
  historyCount?: number;
  /** Why the Mayor placed it in this rig (beads slung through the town). */
  reason?: string;
  /** Bumped on every change, so the town can order notifications about it. */
  rev?: number;
  /** Runs that failed (ended before gt_done, hung, dead, merge refused); at GT_MAX_RUNS (3) the bead fails. */
  attempts?: number;
  /** Runs dispatched so far (run ids are `<bead id>.<n>`). */
  runs?: number;
  /** In review: the merge try in progress, and when its report is due. */
  mergeTries?: number;
  until?: number;
  /** Why it failed (status `failed`). */
  failure?: string;
  /** Set when `body` is only a preview: the whole body's size in bytes (gt_bead_status, gt_prime return it whole). */
  bodyBytes?: number;
  /** The bead was moved to another rig (gt_bead_move): rig = rig *name*; this bead is `closed`. */
  movedTo?: { rig: string; beadId: string };
  /** This bead took the place of one moved here from another rig (rig = rig *name*). */
  movedFrom?: { rig: string; beadId: string };
};

export const MERGE_FAILURES = ["conflict", "push_failed", "nothing_to_merge", "branch_missing"] as const;
/** Why a merge did not land: a conflict, a remote that refused the push, a branch with no commits of its own, a branch this container does not have. */
export type MergeFailure = (typeof MERGE_FAILURES)[number];

/** One run of a polecat on one bead, from dispatch until its process is gone. */
export type AgentRun = {
  id: string;
  bead: string;
  /** starting: owed to the container; running: acknowledged; stopping: a stop is owed. */
  state: "starting" | "running" | "stopping";
  /** When it entered this state. */
  since: number;
  /** Why it is being stopped. */
  reason?: string;
};

/**
 * `open` while any bead is unfinished; `landed` when every bead is closed (or moved: its successor
 * takes its place); `stuck` when every bead is closed or failed and at least one failed. A retried,
 * reopened or moved bead makes a landed or stuck convoy `open` again.
 */
export const CONVOY_STATUSES = ["open", "landed", "stuck", "closed"] as const;
export type ConvoyStatus = (typeof CONVOY_STATUSES)[number];

export type ConvoyBead = {
  rigId: string;
  rigName: string;
  beadId: string;
  title: string;
  status: BeadStatus;
  assignee?: string;
  /** The Mayor's reason for the placement. */
  reason: string;
  /** The bead's `rev` this entry reflects; older notifications are ignored. */
  rev: number;
  /** Why it failed, when the town failed it (its rig was removed). */
  note?: string;
  /** Why it failed in its rig (the rig's reason, kept here so it outlives the rig). */
  failure?: string;
  /** When the town learnt that it reached `closed` (a convoy's burn-down). */
  doneAt?: number;
  /** What its runs used, as its rig last told the town. */
  usage?: UsageTotals;
};

export type Convoy = {
  id: string;
  title: string;
  status: ConvoyStatus;
  createdAt: number;
  landedAt?: number;
  beads: ConvoyBead[];
};

export type Agent = {
  identity: string;
  role: AgentRole;
  name: string;
  status: AgentStatus;
  hook?: string;
  branch?: string;
  worktree?: string;
  startedAt?: number;
  /** OS process id of the running agent, as the container reported it. */
  pid?: number;
  /** How its last run ended, e.g. "exit 0", "signal SIGKILL", "no heartbeat for 90 s". */
  lastExit?: string;
  /** The run `lastExit` is about: only that run's exit report may change it (a late report of an earlier run does not). */
  lastRun?: string;
  /** When it entered its current `status` (stamped by the rig room on every status change). */
  statusSince?: number;
  /** The run it is on, if any. */
  run?: AgentRun;
  /** What its runs used on `day` (UTC), each run counted once when its exit reported its usage; a day other than today means nothing yet today. */
  usage?: AgentUsage;
};

/** An agent's usage of one UTC day (`YYYY-MM-DD`): the first run counted on a new day starts the sum again. */
export type AgentUsage = { day: string; today: UsageTotals };

export const SEVERITIES = ["low", "medium", "high", "critical"] as const;
export type Severity = (typeof SEVERITIES)[number];

/**
 * Something an agent or the refinery could not resolve alone; open until a person resolves it.
 * `acknowledged`: someone is on it (still unresolved, but no longer waiting for anyone).
 */
export type Escalation = {
  id: string;
  from: string;
  title: string;
  body: string;
  severity: Severity;
  beadId?: string;
  /**
   * Why the machine raised it, when it did: `bead_failed` (its bead failed). The machine resolves
   * such an escalation itself when that bead is retried, closed or moved (lifecycle W23); an agent's
   * escalation never has one.
   */
  cause?: "bead_failed";
  createdAt: number;
  status: "open" | "acknowledged" | "resolved";
  /** The operator's last note (≤ LIMITS.maxOperatorNote characters). */
  note?: string;
  /** Every note written on it, oldest first (the last LIMITS.escalationNotesKept): an acknowledgement's note stays when it is resolved. */
  notes?: EscalationNote[];
  acknowledgedAt?: number;
  resolvedAt?: number;
};

/** A note an operator (or the work machine) wrote when acknowledging or resolving an escalation. */
export type EscalationNote = { at: number; status: "acknowledged" | "resolved"; note: string };

export type Mail = {
  id: string;
  from: string;
  to: string;
  subject: string;
  body: string;
  sentAt: number;
  deliveredAt?: number;
  readAt?: number;
  state: MailState;
  error?: string;
  /** Set when `body` is only a preview: the whole body's size in bytes (gt_mail_read, gt_mail_check return it whole). */
  bodyBytes?: number;
};

/** How a feed event reads at a glance: `bad` (a failure), `warn` (trouble that may pass), `good` (a landing), `info`. */
export const FEED_TONES = ["bad", "warn", "good", "info"] as const;
export type FeedTone = (typeof FEED_TONES)[number];
/** Feed kinds that are failures: a bead failed, an escalation, an agent stalled, hung or dead. */
export const FAILURE_KINDS = ["failed", "escalation", "stalled", "hung", "dead"] as const;
/**
 * One line of a live document's feed. `rig` (a rig *name*), `bead` (an id) and `agent` (an identity)
 * say what it is about, so a feed can be filtered and linked; the town's feed names the rig of every
 * failure a rig reported.
 */
export type FeedEvent = {
  id: string;
  at: number;
  kind: string;
  text: string;
  tone?: FeedTone;
  rig?: string;
  bead?: string;
  agent?: string;
  /**
   * A line about the witness's nudges of `agent`: how many nudges it stands for. The rig's feed holds
   * one such line per agent: a new nudge, or its delivery, replaces the agent's last one (at the end).
   */
  nudges?: number;
};

// Agent output: what agents print, kept per run in the rig room's storage (never in a document).

/** One line an agent printed: `seq` counts from 1 within its run; `at` is when the container read it. */
/**
 * What a line of a preset runtime's parsed event stream is (container/presets): the agent's text, a
 * tool call (its name and a short input), a tool's result (`ok` says whether it succeeded), an error,
 * or the run's final result. Absent: a plain line of a scripted or command agent's output.
 */
export const OUTPUT_KINDS = ["text", "tool", "tool_result", "error", "result"] as const;
export type OutputKind = (typeof OUTPUT_KINDS)[number];
export type OutputLine = { seq: number; at: number; stream: "out" | "err"; text: string; kind?: OutputKind; ok?: boolean };
/**
 * One run of an agent as its output knows it. `lines` and `bytes`: what its ring holds now;
 * `dropped`: lines it lost (the oldest, past the ring's bounds, or lost on the way from the container).
 */
export type RunInfo = {
  run: string;
  identity: string;
  beadId: string;
  startedAt: number;
  endedAt?: number;
  /** How it ended: "exit 4", "signal SIGKILL", "stopped: …", "lost: …". */
  exit?: string;
  lines: number;
  bytes: number;
  dropped: number;
  /** What the run used, when its agent reported it (preset runtimes). */
  usage?: Usage;
};
/**
 * gt_agent_log: the chosen run, the runs it was chosen from (newest first), its lines after `after`;
 * for a bead's read, `aged`: its runs whose output is no longer kept (newest first), how each ended.
 */
export type AgentLogResult = { run: RunInfo | null; runs: RunInfo[]; lines: OutputLine[]; next: number; aged?: RunInfo[] };

/** Names of the top-level shared types of each live document. */
export const TOWN_DOC = { rigs: "rigs", convoys: "convoys", mail: "mail", usage: "usage", events: "events" } as const;
export const RIG_DOC = { meta: "meta", beads: "beads", agents: "agents", mail: "mail", escalations: "escalations", events: "events" } as const;
