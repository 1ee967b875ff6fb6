/**
 * Limits: every buffer is bounded, and tests check each bound. Numbers only (no zod), so code that
 * must start without zod (the agents' `gt`) may import them from here.
 */
import { MAX_SUBJECT } from "./patterns.ts";

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
   * bead page show at a glance); the tools that read a bead return the last `historyKept`; room
   * storage holds the last `historyStored` (gt_bead_history pages through them).
   */
  historyInDoc: 2,
  historyKept: 20,
  /** Status changes of a bead room storage keeps (its whole history, read a page at a time by gt_bead_history). */
  historyStored: 500,
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
  /** Audit entries each room keeps (its oldest dropped past it), and the most one gt_audit page holds. */
  auditKept: 2_000,
  auditPage: 200,
  /** Notes an escalation keeps (its `notes`), the latest ones. */
  escalationNotesKept: 10,
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
  /** Runs of each agent whose output aged out that are still remembered by how they ended (gt_agent_log's `aged`). */
  outputRunsRemembered: 200,
  outputBacklogLines: 500,
  outputBatchLines: 200,
  /** Earlier days' usage sums the town document keeps (TownUsage.days), newest first. */
  usageDaysKept: 30,
} as const;

// The tokens' lifetimes (tokens.ts has their claims).

/**
 * The longest a token may live (`exp - iat`): the rooms refuse longer-lived ones, `npm run token`
 * and `gt_share` mint none, and a renewal keeps a token's lifetime within it.
 */
export const MAX_TOKEN_LIFETIME_S = 30 * 24 * 3600;
/** How far ahead of the rooms' clock a token's `iat` may be (clock skew); further ahead is refused. */
export const MAX_TOKEN_ISSUED_AHEAD_S = 60;
