/**
 * The Townhall wire protocol: every frame, tool argument list, record and error code that crosses a
 * socket or an HTTP boundary. This module is a leaf: it imports only zod (and the name patterns of
 * patterns.ts), so the rooms, the dashboard, the container and the tests all share one definition.
 * Parse once at the boundary with these schemas; code behind the boundary only ever sees the parsed
 * types.
 *
 * Protocol history:
 *   1 — tool calls over JSON text frames and HTTP, Yjs sync over binary frames, mail and beads.
 *   2 — the town container: dispatch, commands to the container, done/merge, witness, escalations.
 *   3 — convoys, slinging with the Mayor's distribution, gt_rig_update, the Mayor as an agent.
 *   4 — the work lifecycle: container leases (epochs, renewals, standbys, 4408), runs in agent
 *       tokens and acknowledgements, merge deadlines and failures, hung agents, mail acknowledged
 *       with gt_mail_ack.
 *   5 — least privilege: HS256 JWT tokens (aud, jti, rig/rigs, view); document sockets at
 *       /docs/<name> (y-protocols only) and the town's mail as a document of its own; share links
 *       for one view, listed and revoked; expiry and revocation close open sockets; per-token rate
 *       limits (RATE_LIMITED with retry_after); long bodies as previews; gt_mail_read;
 *       gt_token_refresh; 4205, 4420.
 *       Since, within 5 (additions only): agents' output (gt_agent_output, gt_agent_log, output
 *       sockets at /output/<identity>, OutputFrame); the operator's actions (gt_bead_retry,
 *       gt_agent_stop, gt_agent_restart, gt_escalation_ack, notes on gt_escalation_resolve,
 *       gt_bead_move; escalation status `acknowledged`, movedTo/movedFrom); rig summaries'
 *       polecats, attention and closedByHour; feed tones; ConvoyBead.doneAt. NOT_FOUND and
 *       METHOD_NOT_ALLOWED for HTTP routes (were BAD_FRAME); the never-sent events nudge and hook
 *       removed (EVENT_TYPES); idempotent repeats of gt_done and gt_merge_result (docs/protocol.md).
 *       Document lineages for standard Yjs providers (a step 2 hands a replica over from an earlier
 *       lineage; 4409 for one holding refused writes; awareness answered with no one); beads'
 *       historyCount (the document holds the last LIMITS.historyInDoc status changes). Refused since:
 *       tokens living over 30 days or issued over 60 s ahead (4401), a viewer token's 17th and a
 *       share link's 65th socket in a room (4429), a rig room the registry does not know, at the
 *       gate (404 UNKNOWN_RIG, 4404).
 *   6 — the rig boundary: gt_rig_ready says what of it the container enforces (`boundary`), and
 *       rig summaries carry it.
 */
import { z } from "zod";
import { AGENT_ROLES, MAX_SUBJECT, parseAddress, POLECAT_NAME_RE, SLUG_RE, ULID_RE, type Address, type AgentRole } from "./protocol/patterns.ts";

export const PROTOCOL_VERSION = 6;

// ---------------------------------------------------------------------------------------------
// Limits (every buffer is bounded; tests check each bound)

export const LIMITS = {
  /** Largest text frame or HTTP body a tool call may have; larger gets TOO_LARGE and no effect. */
  maxFrameBytes: 64 * 1024,
  /**
   * A frame this large is not even answered: the socket is closed with 4413. Below the runtime's
   * own 1 MiB message cap, past which the platform closes with 1009 before we see the frame.
   */
  hardFrameBytes: 512 * 1024,
  /** Bad frames within `abuseWindowMs` before the socket is closed with 4400. */
  abuseStrikes: 20,
  abuseWindowMs: 10_000,
  /** Sockets one room accepts (GT_MAX_CONNECTIONS); the next is closed with ROOM_FULL. */
  maxConnections: 2_000,
  /** Document updates after which a room rebuilds its document compactly (clients resync). */
  rebuildAfterUpdates: 5_000,
  /** Events kept in a live document's bounded feed. */
  eventsKept: 500,
  /** A rig summary's attention list: at most this many items, worst first, their texts cut to these lengths. */
  attentionItems: 20,
  attentionTitle: 120,
  attentionDetail: 160,
  /** A feed event's text is cut to this length (titles and failures quoted in it are agents' words). */
  feedText: 300,
  maxTitle: 200,
  maxBody: 32 * 1024,
  maxSubject: MAX_SUBJECT,
  /** An escalation is an alarm, not a report: its body stays short (details go by mail). */
  maxEscalationBody: 4 * 1024,
  /**
   * A body longer than this (mail, bead, escalation) is kept whole in room storage; the document
   * holds its first `previewChars` and its size, and the tools that read it return it whole.
   */
  longTextBytes: 2 * 1024,
  previewChars: 512,
  /**
   * A bead's status history: the document holds its last `historyInDoc` entries (what a board and a
   * bead page show at a glance); room storage holds the last `historyKept`, which the tools that
   * read a bead return.
   */
  historyInDoc: 2,
  historyKept: 20,
  /**
   * One gt_mail_check (or gt_prime) hands out at most this many unread mails, oldest first, and stops
   * before their bodies pass `mailBytesPerCheck` (one mail always): acknowledge them, then check again.
   */
  mailPerCheck: 50,
  mailBytesPerCheck: 256 * 1024,
  /** Mail kept live per mailbox (one recipient's inbox, or one sender's copies); older mail moves to storage. */
  mailboxKept: 200,
  /** Escalations kept live per rig (open ones first); older ones move to storage. */
  escalationsKept: 200,
  /** An operator's note on an escalation (acknowledge, resolve). */
  maxOperatorNote: 2_000,
  /** Why an operator retried a bead or stopped or restarted an agent: it goes into a bead's history, kept short. */
  maxOperatorReason: 200,
  /** Beads the town remembers placing (bead id → rig, for gt_bead_move); past this the oldest ids are forgotten. */
  beadIndexKept: 20_000,
  /** Landed convoys kept live per town; older ones move to storage. */
  landedConvoysKept: 50,
  /** Beads in open convoys per town: past this, new convoys and slings are refused. */
  openConvoyBeads: 5_000,
  /** Open (not yet closed or failed) beads per rig (GT_MAX_OPEN_BEADS): past this, new beads are refused. */
  openBeadsPerRig: 10_000,
  rigsPerTown: 500,
  /** Share of GT_MAX_CONNECTIONS that viewers (dashboards on links) may hold, so the container, operators and agents always get in. */
  viewerShare: 0.5,
  /** Share of GT_MAX_CONNECTIONS kept for the container and operators: agents and viewers together get the rest. */
  reservedShare: 0.1,
  /** Sockets one agent (identity and run) may hold in a room. */
  socketsPerAgent: 16,
  /** Sockets one viewer token may hold in a room (GT_MAX_VIEWER_CONNECTIONS): a person's tabs. */
  socketsPerViewer: 16,
  /**
   * Sockets one share link may hold in a room (GT_MAX_LINK_CONNECTIONS): a team may open one link
   * together. A page holds one per room (an agent's or a bead's page two in its rig's room).
   */
  socketsPerLink: 64,
  /** Full syncs a document socket may ask for in a minute beyond its first, before it is closed with 4420. */
  syncsPerMinute: 2,
  /**
   * Agent output (party/agent-output.ts): a line is at most this many UTF-8 bytes (longer ones are
   * cut and marked); a run keeps its last `outputRingLines` lines or `outputRingBytes` bytes,
   * whichever is reached first (older lines are dropped and counted); the last `outputRunsKept` runs
   * of each agent are kept in room storage; a watcher's first frame holds the last
   * `outputBacklogLines` lines; one gt_agent_output carries at most `outputBatchLines` lines.
   */
  outputLineBytes: 4 * 1024,
  outputRingLines: 2_000,
  outputRingBytes: 256 * 1024,
  outputRunsKept: 20,
  outputBacklogLines: 500,
  outputBatchLines: 200,
} as const;

// ---------------------------------------------------------------------------------------------
// Names and identities

export { SLUG_RE, ULID_RE };
export const slug = z.string().regex(SLUG_RE, "must be a slug: a-z, 0-9 and '-', 1-40 chars, not starting with '-'");
/** Generated ids: ULIDs (sortable by time, collision-free). */
export const ulidString = z.string().regex(ULID_RE, "must be a ULID");

export { AGENT_ROLES, parseAddress, POLECAT_NAME_RE, type Address, type AgentRole };

export function polecatIdentity(rigName: string, name: string): string {
  return `${rigName}/polecats/${name}`;
}

/**
 * Why a git URL is refused, or null. Allowed: https://, ssh:// or scp-like `user@host:path`,
 * git://, file:// and absolute local paths. Remote helpers (`ext::`, `fd::`, any `<x>::`) run
 * commands or hang; plain http sends credentials in clear; a leading `-` would be an option to git.
 */
export function gitUrlProblem(url: string): string | null {
  if (url.startsWith("-")) return "must not start with '-'";
  if (/^[\w+.-]+::/.test(url)) return "remote helpers (<transport>::…) are not allowed: use https, ssh, git or a local path";
  if (/[\s\x00-\x1f\x7f]/.test(url)) return "must not contain spaces or control characters";
  if (/^(https|ssh|git|file):\/\//i.test(url)) return null;
  if (/^[A-Za-z][\w+.-]*:\/\//.test(url)) return `the ${url.split(":")[0]} protocol is not allowed: use https, ssh, git or a local path`;
  if (url.startsWith("/")) return null;
  if (/^[\w.-]+@[\w.-]+:[^/]/.test(url) || /^[\w.-]+@[\w.-]+:\//.test(url)) return null; // scp-like ssh
  return "must be an https://, ssh://, git:// or file:// URL, user@host:path, or an absolute path";
}

/** A git URL as people may see it: any password or token in it replaced by `***`. */
export function redactGitUrl(url: string): string {
  return url
    .replace(/^([a-z][\w+.-]*:\/\/)([^@/?#]*)@/i, (_whole, scheme: string, userinfo: string) => {
      const colon = userinfo.indexOf(":");
      if (colon >= 0) return `${scheme}${userinfo.slice(0, colon)}:***@`;
      return `${scheme}${userinfo.length >= 20 ? "***" : userinfo}@`;
    })
    .replace(/([?&][^=&#]*(?:token|key|secret|password|auth)[^=&#]*=)[^&#]*/gi, "$1***");
}

export const address = z.string().max(120).refine((s) => parseAddress(s) !== null, {
  message: "must be mayor, operator, <rig>/witness, <rig>/refinery or <rig>/polecats/<name>",
});

// ---------------------------------------------------------------------------------------------
// Tokens: HS256 JWTs (party/auth.ts signs and verifies them); these are their claims.

export const TOKEN_ROLES = ["operator", "viewer", "agent", "container"] as const;
export type TokenRole = (typeof TOKEN_ROLES)[number];

/** Rig ids are ULIDs: a removed and re-added rig of the same name does not accept old tokens. */
const rigId = z.string().regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, "must be a rig id");

/**
 * The one dashboard view a share link was made for: it grants exactly the documents that view
 * reads (see party/access.ts) and nothing else.
 */
export const shareView = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("town") }),
  z.strictObject({ kind: z.literal("rig"), rig: rigId }),
  z.strictObject({ kind: z.literal("bead"), rig: rigId, bead: z.string().regex(ULID_RE) }),
  z.strictObject({ kind: z.literal("agent"), rig: rigId, agent: z.string().regex(/^[a-z][a-z0-9-]{0,39}$/) }),
  z.strictObject({ kind: z.literal("convoy"), convoy: z.string().regex(ULID_RE) }),
  z.strictObject({ kind: z.literal("mail") }),
]);
export type ShareView = z.infer<typeof shareView>;

export const tokenClaims = z.strictObject({
  /** Who: an agent's identity, `link` for a share link, else the role. */
  sub: z.string().min(1).max(120),
  /** The town. */
  aud: slug,
  iat: z.number().int().positive(),
  /** Expiry, seconds since the epoch. */
  exp: z.number().int().positive(),
  /** The token's own id: what a revocation names. */
  jti: z.string().min(1).max(64),
  role: z.enum(TOKEN_ROLES),
  /** Scoped to one rig (its id). */
  rig: rigId.optional(),
  /** A sharded container's rigs (ids). */
  rigs: z.array(rigId).min(1).max(1000).optional(),
  /** The identity an agent token acts as, e.g. `a/polecats/toast`, or `mayor`. */
  agent: address.optional(),
  /** The run an agent token was minted for: a stopped run's process can no longer hand work in. */
  run: z.string().min(1).max(80).optional(),
  /** A share link's view. */
  view: shareView.optional(),
});
export type TokenClaims = z.infer<typeof tokenClaims>;

/**
 * The longest a token may live (`exp - iat`): the rooms refuse longer-lived ones, `npm run token`
 * and `gt_share` mint none, and a renewal keeps a token's lifetime within it.
 */
export const MAX_TOKEN_LIFETIME_S = 30 * 24 * 3600;
/** How far ahead of the rooms' clock a token's `iat` may be (clock skew); further ahead is refused. */
export const MAX_TOKEN_ISSUED_AHEAD_S = 60;

/** A verified token as the rooms use it: the claims, with the town (`aud`) named `town`. */
export type TokenPayload = Omit<TokenClaims, "aud"> & { town: string };

/** What signToken takes: `sub`, `iat` and `jti` are filled in when absent. */
export type TokenInput = Omit<TokenPayload, "sub" | "iat" | "jti"> & Partial<Pick<TokenPayload, "sub" | "iat" | "jti">>;

// ---------------------------------------------------------------------------------------------
// Errors and close codes

/** Tool error codes and the HTTP status each one maps to. */
export const ERROR_STATUS = {
  BAD_FRAME: 400,
  INVALID_ARGS: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  UNKNOWN_TOOL: 404,
  UNKNOWN_RECIPIENT: 404,
  UNKNOWN_RIG: 404,
  UNKNOWN_BEAD: 404,
  UNKNOWN_AGENT: 404,
  UNKNOWN_CONVOY: 404,
  /** HTTP: no such route (a tool route that names no tool is UNKNOWN_TOOL). */
  NOT_FOUND: 404,
  /** HTTP: the route exists but not for this method; the `Allow` header names the one that is. */
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  /** A container acted with a lease epoch that is not the rig's current one (it lost the rig). */
  LEASE_LOST: 409,
  /** No rig is ready with the capabilities a bead requires; the message names each rig and why. */
  NO_ELIGIBLE_RIG: 409,
  TOO_LARGE: 413,
  RATE_LIMITED: 429,
  INTERNAL: 500,
} as const;
export type ErrorCode = keyof typeof ERROR_STATUS;

export class ToolError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** RATE_LIMITED: seconds until the call would be accepted. */
    readonly retryAfter?: number,
  ) {
    super(message);
    this.name = "ToolError";
  }
}

/** WebSocket close codes: 4xxx mirroring HTTP statuses. */
export const CLOSE = {
  /** Sustained bad frames. */
  ABUSE: 4400,
  UNAUTHORIZED: 4401,
  /** Wrong role or scope, or a client tried to write a live document. */
  FORBIDDEN: 4403,
  /** The room's rig was removed. */
  GONE: 4404,
  /** The container missed its lease deadline (no renewal in time): it no longer serves the rig. */
  LEASE_EXPIRED: 4408,
  TOO_LARGE: 4413,
  /** The room is at its connection cap (or its viewers' share of it); try again later. */
  ROOM_FULL: 4429,
  /** A document socket asked for the whole document too often. */
  TOO_MANY_SYNCS: 4420,
  /** The room replaced the document (a compacting rebuild): connect again and sync a fresh Y.Doc. */
  DOC_REPLACED: 4205,
  /**
   * A document socket's replica holds writes the room refused (or history no lineage of the room
   * wrote): no sync can bring it to the room's document. Start a fresh Y.Doc.
   */
  DOC_DIVERGED: 4409,
} as const;
export type CloseCode = (typeof CLOSE)[keyof typeof CLOSE];

// ---------------------------------------------------------------------------------------------
// Records: the values of the live documents' maps

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
};
export const ATTENTION_KINDS = ["failed_bead", "escalation", "agent", "waiting_mail", "rig_error"] as const;
export type AttentionKind = (typeof ATTENTION_KINDS)[number];

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
};

export type BeadHistoryEntry = { at: number; status: BeadStatus; note?: string };

export type Bead = {
  id: string;
  title: string;
  body: string;
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

export const CONVOY_STATUSES = ["open", "landed", "closed"] as const;
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
  /** When it entered its current `status` (stamped by the rig room on every status change). */
  statusSince?: number;
  /** The run it is on, if any. */
  run?: AgentRun;
};

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
  createdAt: number;
  status: "open" | "acknowledged" | "resolved";
  /** The operator's last note (≤ LIMITS.maxOperatorNote characters). */
  note?: string;
  acknowledgedAt?: number;
  resolvedAt?: number;
};

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
export type FeedEvent = { id: string; at: number; kind: string; text: string; tone?: FeedTone; rig?: string; bead?: string; agent?: string };

// Agent output: what agents print, kept per run in the rig room's storage (never in a document).

/** One line an agent printed: `seq` counts from 1 within its run; `at` is when the container read it. */
export type OutputLine = { seq: number; at: number; stream: "out" | "err"; text: string };
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
};
/** gt_agent_log: the chosen run, the runs it was chosen from (newest first), its lines after `after`. */
export type AgentLogResult = { run: RunInfo | null; runs: RunInfo[]; lines: OutputLine[]; next: number };

/** Names of the top-level shared types of each live document. */
export const TOWN_DOC = { rigs: "rigs", convoys: "convoys", mail: "mail", events: "events" } as const;
export const RIG_DOC = { meta: "meta", beads: "beads", agents: "agents", mail: "mail", escalations: "escalations", events: "events" } as const;

// ---------------------------------------------------------------------------------------------
// Tool arguments. Every schema is strict: an unknown field is an INVALID_ARGS error.

const title = z.string().trim().min(1).max(LIMITS.maxTitle);
const body = z.string().max(LIMITS.maxBody);
const capability = slug;
const empty = z.strictObject({});

const slingArgs = {
  title,
  body: body.optional(),
  /** A rig name; when absent the Mayor's distribution picks one. */
  rig: slug.optional(),
  requires: z.array(capability).max(32).optional(),
  priority: z.enum(PRIORITIES).optional(),
};

/** A branch name git accepts (the rules of `git check-ref-format` that matter here). */
const branch = z
  .string()
  .regex(/^[A-Za-z0-9._/-]{1,100}$/, "must be a branch name: letters, digits, . _ / -")
  .refine((b) => !b.startsWith("-") && !b.startsWith("/") && !b.endsWith("/") && !b.endsWith(".") && !b.endsWith(".lock") && !/\.\.|\/\/|(^|\/)\./.test(b), {
    message: "is not a valid git branch name",
  });

export const townToolArgs = {
  gt_rig_add: z.strictObject({
    name: slug,
    /** https, ssh (`ssh://` or `user@host:path`), git, or a local path (`/…`, `file://`); never a remote helper (`ext::`, `fd::`) nor an option. */
    git_url: z.string().min(1).max(1000).superRefine((u, ctx) => {
      const problem = gitUrlProblem(u);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    }),
    default_branch: branch.optional(),
    capabilities: z.array(capability).max(32).optional(),
    max_polecats: z.number().int().min(1).max(64).optional(),
  }),
  gt_rig_remove: z.strictObject({ name: slug }),
  gt_list_rigs: empty,
  gt_rig_status: z.strictObject({ name: slug }),
  gt_mail_send: z.strictObject({
    to: address,
    subject: z.string().min(1).max(LIMITS.maxSubject),
    body: body,
    /** Sender `mayor` or `operator`; operators may send as either, defaults to `operator`. */
    from: z.enum(["mayor", "operator"]).optional(),
    /** Client-chosen mail id, so a retried send is stored once. */
    id: ulidString.optional(),
  }),
  /** Unread mail, left unread until gt_mail_ack (at least once: a lost reply loses nothing). */
  gt_mail_check: z.strictObject({ as: z.enum(["mayor", "operator"]).optional() }),
  gt_mail_ack: z.strictObject({ ids: z.array(ulidString).min(1).max(500), as: z.enum(["mayor", "operator"]).optional() }),
  /** One mail of the inbox, with its whole body (the document may hold only a preview). */
  gt_mail_read: z.strictObject({ id: ulidString, as: z.enum(["mayor", "operator"]).optional() }),
  gt_rig_update: z.strictObject({
    name: slug,
    capabilities: z.array(capability).max(32).optional(),
    max_polecats: z.number().int().min(1).max(64).optional(),
  }),
  /** Creates one bead in the rig the Mayor picks (or `rig`). `id`: client-chosen bead id, for retries. */
  gt_sling: z.strictObject({ ...slingArgs, id: ulidString.optional() }),
  gt_convoy_create: z.strictObject({
    title,
    beads: z.array(z.strictObject(slingArgs)).min(1).max(200),
    /** Client-chosen convoy id, so a retried create makes one convoy. */
    id: ulidString.optional(),
  }),
  gt_convoy_status: z.strictObject({ id: ulidString }),
  gt_list_convoys: z.strictObject({ status: z.enum(CONVOY_STATUSES).optional() }),
  /**
   * Operator: a read-only link to one dashboard view of this town (the overview, a rig, a bead, an
   * agent, a convoy or the town's mail): a viewer token that grants what that view reads, and expires.
   */
  gt_share: z.strictObject({
    path: z.string().max(500),
    ttl_s: z.number().int().min(60).max(MAX_TOKEN_LIFETIME_S),
  }),
  /** Operator: the share links of this town, newest first (expired ones are forgotten). */
  gt_share_list: z.strictObject({}),
  /** Operator: revokes a share link: it opens nothing from now on, and its open pages are closed. */
  gt_share_revoke: z.strictObject({ id: z.string().min(1).max(64) }),
  /**
   * Operator: moves a bead to another rig: a new bead there (`movedFrom`), the old one closed with
   * `movedTo`, its run stopped; a convoy counts the new bead in its place. `from`: the source rig's
   * name, needed only when the town did not place the bead (gt_sling, gt_convoy_create).
   */
  gt_bead_move: z.strictObject({ bead_id: ulidString, rig: slug, from: slug.optional() }),
  /** Container: an agent token for the `mayor` identity, to run the Mayor as an agent. */
  gt_mayor_token: empty,
  /** Container, the Mayor: the caller's token again with a fresh expiry (see TokenRefreshResult). */
  gt_token_refresh: empty,
} as const;

/** A container's lease epoch (see the lease frame). */
const epoch = z.number().int().min(1);
/** A run id: `<bead id>.<n>`. */
const runId = z.string().regex(/^[0-9A-HJKMNP-TV-Z]{26}\.[0-9]{1,6}$/, "must be a run id");

/** An empty note or reason is the same as none (a form left blank). */
const operatorNote = z.string().trim().max(LIMITS.maxOperatorNote);
const operatorReason = z.string().trim().max(LIMITS.maxOperatorReason);

/** `as`: operators and the container may act as a rig identity; an agent only as itself. */
const actingAs = { as: address.optional() };

export const rigToolArgs = {
  gt_prime: z.strictObject({ ...actingAs }),
  gt_mail_send: z.strictObject({
    to: address,
    subject: z.string().min(1).max(LIMITS.maxSubject),
    body: body,
    id: ulidString.optional(),
    ...actingAs,
  }),
  /** Unread mail, left unread until gt_mail_ack (at least once: a lost reply loses nothing). */
  gt_mail_check: z.strictObject({ ...actingAs }),
  /** Marks mail read once it was handed over; unknown or already read ids are ignored. */
  gt_mail_ack: z.strictObject({ ids: z.array(ulidString).min(1).max(500), ...actingAs }),
  /** One mail to or from the caller, with its whole body (the document may hold only a preview). */
  gt_mail_read: z.strictObject({ id: ulidString, ...actingAs }),
  gt_bead_create: z.strictObject({
    title,
    body: body.optional(),
    priority: z.enum(PRIORITIES).optional(),
    requires: z.array(capability).max(32).optional(),
    id: ulidString.optional(),
  }),
  gt_bead_status: z.strictObject({ bead_id: ulidString }),
  gt_bead_update: z.strictObject({
    bead_id: ulidString,
    status: z.enum(BEAD_STATUSES).optional(),
    priority: z.enum(PRIORITIES).optional(),
    title: title.optional(),
    body: body.optional(),
    assignee: address.nullable().optional(),
  }),
  gt_list_beads: z.strictObject({ status: z.enum(BEAD_STATUSES).optional() }),
  gt_list_agents: empty,
  /** Container: registers a polecat (idle) so it can be hooked and mailed. */
  gt_agent_register: z.strictObject({ name: z.string().regex(POLECAT_NAME_RE) }),
  /** An agent's own heartbeat, or the container's for one agent (with its lease epoch). */
  gt_heartbeat: z.strictObject({ ...actingAs, epoch: epoch.optional() }),
  /**
   * Container: the lease's ping, every `renew_ms` (from the lease frame). It vouches for the runs
   * it lists: each is alive, and `quiet_ms` says how long ago it last printed (progress).
   */
  gt_lease_renew: z.strictObject({
    /** The epoch held; a standing-by container sends none. */
    epoch: epoch.optional(),
    /** `quiet_ms`: how long ago the agent last printed (its progress), by the container's own clock. */
    agents: z.array(z.strictObject({ identity: address, run: runId.optional(), quiet_ms: z.number().int().min(0).optional() })).max(256).optional(),
  }),
  /** Container: gives the rig up (a clean shutdown, its agents stopped); a standby takes over at once. */
  gt_lease_release: z.strictObject({ epoch }),
  /** The agent finished its hooked bead on `branch`: the bead goes to review and the refinery merges. */
  gt_done: z.strictObject({ branch: z.string().min(1).max(200), summary: z.string().max(4000).optional(), ...actingAs }),
  gt_escalate: z.strictObject({
    title,
    body: z.string().max(LIMITS.maxEscalationBody).optional(),
    severity: z.enum(SEVERITIES),
    bead_id: ulidString.optional(),
    /** Client-chosen escalation id, so a retried escalation is recorded once. */
    id: ulidString.optional(),
    ...actingAs,
  }),
  /** Saves the agent's working notes; returned by its next gt_prime. */
  gt_checkpoint: z.strictObject({ data: z.string().max(16 * 1024), ...actingAs }),
  /** Container: the clone is ready (or failed); call again to update the disk figure. */
  /** Without `epoch` a container may only report that it cannot serve the rig (`error`). */
  gt_rig_ready: z.strictObject({ disk_bytes: z.number().int().min(0).optional(), error: z.string().max(2000).optional(), boundary: boundarySchema.optional(), epoch: epoch.optional() }),
  /** Container: an agent process started for its run (acknowledges start_agent). */
  gt_agent_started: z.strictObject({ as: address, bead_id: ulidString, run: runId, epoch, pid: z.number().int().positive().optional() }),
  /**
   * Container: an agent process ended (acknowledges stop_agent; returns unfinished work). `lost`:
   * the process died with its supervisor, not because of its bead (no attempt is counted).
   */
  gt_agent_exited: z.strictObject({
    as: address,
    bead_id: ulidString.optional(),
    run: runId,
    epoch,
    code: z.number().int().nullable().optional(),
    signal: z.string().max(20).nullable().optional(),
    reason: z.string().max(500).optional(),
    lost: z.boolean().optional(),
  }),
  /** Container: the refinery's merge of a bead's branch (acknowledges merge). */
  gt_merge_result: z.strictObject({
    bead_id: ulidString,
    epoch,
    ok: z.boolean(),
    failure: z.enum(MERGE_FAILURES).optional(),
    merge_commit: z.string().regex(/^[0-9a-f]{40}$/).optional(),
    error: z.string().max(4000).optional(),
    conflict_files: z.array(z.string().max(500)).max(100).optional(),
  }),
  /** Operator: a failed bead open again with its attempts reset (W14); `note` goes into its history. */
  gt_bead_retry: z.strictObject({ bead_id: ulidString, note: operatorReason.optional() }),
  /** Operator: stops the agent's run; its bead fails ("stopped by the operator: …"), to retry or move later. */
  gt_agent_stop: z.strictObject({ identity: address, reason: operatorReason.optional() }),
  /** Operator: stops the agent's run; its bead goes back to open without an attempt counted, and is dispatched again. */
  gt_agent_restart: z.strictObject({ identity: address, reason: operatorReason.optional() }),
  /** Operator: open → acknowledged (someone is on it). */
  gt_escalation_ack: z.strictObject({ id: ulidString, note: operatorNote.optional() }),
  /**
   * Container (the lease holder, with its epoch): lines one of its agents printed, already redacted.
   * `first`: the container's own number of the first line within the run (from 0), so a batch sent
   * again after a lost reply is stored once, and lines the container had to drop show as a gap.
   */
  gt_agent_output: z.strictObject({
    epoch,
    run: runId,
    identity: address,
    first: z.number().int().min(0).optional(),
    lines: z
      .array(z.strictObject({ at: z.number().int().min(0), stream: z.enum(["out", "err"]), text: z.string().max(LIMITS.outputLineBytes) }))
      .min(1)
      .max(LIMITS.outputBatchLines),
  }),
  /**
   * Operators, and share links whose view names that agent or bead: an agent's output. `runs`: the
   * identity's or the bead's runs, newest first; `lines`: of `run`, else the identity's current or
   * latest run, else the bead's latest, with seq > `after` (the first `limit`), or without `after`
   * the last `limit` lines.
   */
  gt_agent_log: z.strictObject({
    identity: address.optional(),
    run: runId.optional(),
    bead_id: ulidString.optional(),
    after: z.number().int().min(0).optional(),
    limit: z.number().int().min(1).max(LIMITS.outputRingLines).optional(),
  }),
  /** Operator: marks an escalation resolved. */
  gt_escalation_resolve: z.strictObject({ id: ulidString, note: operatorNote.optional() }),
  /** Container, agents (while their run is current): the caller's token again with a fresh expiry. */
  gt_token_refresh: empty,
} as const;

export type TownTool = keyof typeof townToolArgs;
export type RigTool = keyof typeof rigToolArgs;
export type TownArgs<T extends TownTool> = z.infer<(typeof townToolArgs)[T]>;
export type RigArgs<T extends RigTool> = z.infer<(typeof rigToolArgs)[T]>;

/** Results of tools whose shape clients depend on. */
export type MailSendResult = { id: string; state: "delivered" | "queued" };
export type SlingResult = { bead_id: string; rig: string; reason: string };
/** `gt_bead_move`: the new bead, its rig (name), and where it came from. */
export type BeadMoveResult = { bead_id: string; rig: string; moved_from: { rig: string; bead_id: string } };
/**
 * `gt_token_refresh`: the same claims, a new `jti`, `iat` now and the same lifetime (`exp - iat`, at
 * most 30 days) from now. Clients that live long (the container, the Mayor, an agent's long run)
 * refresh before expiry and reconnect with the new token, so they never meet the 4401 of expiry.
 */
export type TokenRefreshResult = { token: string; expiresAt: number };

export type ShareResult = { id: string; path: string; token: string; expiresAt: number; view: ShareView };
/** A share link as gt_share_list shows it (its token is not kept). */
export type ShareLink = { id: string; path: string; view: ShareView; createdAt: number; expiresAt: number; revokedAt?: number };
export type ConvoyProgress = Convoy & { progress: { done: number; total: number; byRig: Record<string, { done: number; total: number }> } };
export type PrimeResult = { agent: Agent; hook: Bead | null; mail: Mail[]; checkpoint: string | null };
export type DoneResult = { bead_id: string; status: BeadStatus };

// ---------------------------------------------------------------------------------------------
// Frames

export const callFrame = z.strictObject({
  type: z.literal("call"),
  id: z.string().min(1).max(64),
  tool: z.string().min(1).max(64),
  args: z.record(z.string(), z.unknown()).optional(),
});
export type CallFrame = z.infer<typeof callFrame>;

export type ErrorBody = { code: ErrorCode; message: string; retry_after?: number };
export type ResultFrame =
  | { type: "result"; id: string; ok: true; value: unknown }
  | { type: "result"; id: string | null; ok: false; error: ErrorBody };

/** Sent once to every socket after it is authorised. */
export type HelloFrame = {
  type: "hello";
  protocol: number;
  room: { party: "main" | "rig"; id: string };
  role: TokenRole;
  identity?: string;
};

/** Every `event` an EventFrame may carry (docs/protocol.md documents each; tests/unit/protocol-docs.test.ts checks). */
export const EVENT_TYPES = ["mail"] as const;
/**
 * Pushed to the sockets of one identity. Only mail: the witness's nudge is mail from `<rig>/witness`,
 * and an agent learns of its bead from `start_agent` and gt_prime.
 */
export type EventFrame = { type: "event"; event: "mail"; mail: Mail };
/** EVENT_TYPES and EventFrame name the same events (a compile error otherwise). */
const _eventTypesComplete: [EventFrame["event"], (typeof EVENT_TYPES)[number]] extends [(typeof EVENT_TYPES)[number], EventFrame["event"]] ? true : never = true;
void _eventTypesComplete;

/** What a rig room tells its agent process to work on (everything the container needs). */
export type StartAgentCommand = {
  type: "command";
  command: "start_agent";
  id: string;
  /** The lease epoch: acknowledgements carry it back. */
  epoch: number;
  run: string;
  identity: string;
  name: string;
  bead: Bead;
  branch: string;
  rig: { id: string; name: string; defaultBranch: string };
  /** A fresh agent token for this run. */
  token: string;
};
/** `attempt`: the room asks again when a merge is not reported in time; merges are idempotent per bead. */
export type MergeCommand = { type: "command"; command: "merge"; id: string; epoch: number; bead_id: string; branch: string; identity: string; title: string; attempt: number };
/** Stops one run; the container reports the exit with its run id. */
export type StopAgentCommand = { type: "command"; command: "stop_agent"; id: string; epoch: number; identity: string; bead_id: string; run: string; reason: string };
export type CommandFrame = StartAgentCommand | MergeCommand | StopAgentCommand;

/**
 * A container socket's standing in its rig room, sent after the hello and on every change:
 * `held` (commands follow; renew every `renew_ms`, or lose the rig after `ttl_ms`) or `standby`
 * (renew too; the rig is handed over when its holder misses its deadline or releases it).
 */
export type LeaseFrame =
  | { type: "lease"; state: "held"; epoch: number; renew_ms: number; ttl_ms: number }
  | { type: "lease"; state: "standby"; renew_ms: number; ttl_ms: number };

/**
 * Frames of an output socket (`…/output/<identity>`), server → client only: `output` first with the
 * last lines of the current or latest run (run null when there is none), then with each batch of
 * new lines; `run` when a run of that agent starts or ends.
 */
export type OutputFrame = { type: "output"; run: RunInfo | null; lines: OutputLine[] } | { type: "run"; run: RunInfo };

export type ServerFrame = ResultFrame | HelloFrame | EventFrame | CommandFrame | LeaseFrame | OutputFrame;

/** Server → client frames, for clients that parse what they receive. */
export const serverFrame = z.union([
  z.object({ type: z.literal("result"), id: z.string().nullable(), ok: z.literal(true), value: z.unknown() }),
  z.object({
    type: z.literal("result"),
    id: z.string().nullable(),
    ok: z.literal(false),
    error: z.object({ code: z.string(), message: z.string(), retry_after: z.number().optional() }),
  }),
  z.object({ type: z.literal("hello"), protocol: z.number(), room: z.object({ party: z.string(), id: z.string() }), role: z.string(), identity: z.string().optional() }),
  z.object({ type: z.literal("event"), event: z.string() }).passthrough(),
  z.object({ type: z.literal("command"), command: z.enum(["start_agent", "merge", "stop_agent"]), id: z.string() }).passthrough(),
  z.object({ type: z.literal("lease"), state: z.enum(["held", "standby"]), epoch: z.number().optional(), renew_ms: z.number(), ttl_ms: z.number() }),
]);

/** Turns zod issues into one line a person can act on. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length ? i.path.join(".") : "args"}: ${i.message}`)
    .join("; ");
}

/** Exhaustiveness guard for switches over unions. */
export function unreachable(value: never): never {
  throw new Error(`unhandled case: ${JSON.stringify(value)}`);
}
