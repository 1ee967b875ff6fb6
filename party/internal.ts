/**
 * Room-to-room messages (`POST /internal/<op>`, authenticated by the internal key). Not part of the
 * public contract, but parsed like any other boundary.
 */
import { z } from "zod";
import {
  AGENT_STATUSES,
  ATTENTION_KINDS,
  BEAD_STATUSES,
  boundarySchema,
  budgetSchema,
  FEED_TONES,
  modelName,
  LIMITS,
  MAIL_STATES,
  PRIORITIES,
  RIG_STATUSES,
  SEVERITIES,
  slug,
  ulidString,
  type BeadStatus,
  type UsageTotals,
} from "./protocol.ts";

const count = z.number().int().min(0);

/** Usage summed over runs (UsageTotals). */
export const usageTotals = z.strictObject({
  runs: count,
  inputTokens: count,
  outputTokens: count,
  cacheReadTokens: count,
  cacheWriteTokens: count,
  costUsd: z.number().min(0),
  unpriced: count,
});
const utcDay = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);
const budgetHold = z.strictObject({ by: z.enum(["rig", "town"]), since: z.number(), reason: z.string().max(500) });

export const rigInit = z.strictObject({
  town: slug,
  rig_id: ulidString,
  name: slug,
  created_at: z.number().int(),
  git_url: z.string().min(1).max(1000),
  default_branch: z.string().min(1).max(100),
  max_polecats: z.number().int().min(1).max(64),
});

export const mailRecord = z.object({
  id: ulidString,
  from: z.string().max(120),
  to: z.string().max(120),
  subject: z.string().max(1000),
  body: z.string().max(64 * 1024),
  sentAt: z.number(),
  deliveredAt: z.number().optional(),
  readAt: z.number().optional(),
  state: z.enum(MAIL_STATES),
  error: z.string().optional(),
});

export const mailEnvelope = z.strictObject({ mail: mailRecord });

export const summaryPush = z.strictObject({
  rig_id: ulidString,
  summary: z.strictObject({
    status: z.enum(RIG_STATUSES).optional(),
    openEscalations: count.optional(),
    beads: z.record(z.enum(BEAD_STATUSES), count),
    agents: z.record(z.enum(AGENT_STATUSES), count),
    queuedMail: count,
    lastActivity: z.number().nullable(),
    diskBytes: z.number().nullable(),
    updatedAt: z.number(),
    polecats: z.record(z.enum(AGENT_STATUSES), count).optional(),
    attention: z
      .array(
        z.strictObject({
          kind: z.enum(ATTENTION_KINDS),
          id: z.string().min(1).max(120),
          title: z.string().max(LIMITS.attentionTitle),
          detail: z.string().max(LIMITS.attentionDetail),
          severity: z.enum(SEVERITIES).optional(),
          at: z.number(),
          beadId: z.string().min(1).max(120).optional(),
        }),
      )
      .max(LIMITS.attentionItems)
      .optional(),
    closedByHour: z.array(count).length(24).optional(),
    boundary: boundarySchema.optional(),
    usage: z
      .strictObject({
        day: utcDay,
        today: usageTotals,
        costByHour: z.array(z.number().min(0)).length(24),
        tokensByHour: z.array(count).length(24),
        budget: budgetSchema.optional(),
        hold: budgetHold.optional(),
        townReached: z.boolean().optional(),
      })
      .optional(),
  }),
});

/**
 * Rig → town (through the rig's outbox): the rig's usage sums of one UTC day (W22). Whole-day sums,
 * so a notice sent again or out of order counts nothing twice: the town keeps the one with most runs.
 */
export const usageNotice = z.strictObject({ rig_id: ulidString, day: utcDay, totals: usageTotals });

/** Town → rig: an operator set, raised or cleared (null) the rig's daily budget (W22). */
export const budgetSet = z.strictObject({ budget: budgetSchema.nullable() });

/** Town → rig: the town's budget is reached today (`day`), or no longer; `at` orders the notices (W22). */
export const townBudgetNotice = z.strictObject({ reached: z.boolean(), day: utcDay, at: z.number(), reason: z.string().max(500) });

/**
 * Rig → town: one of the rig's failures for the town's feed (through the rig's outbox; the town
 * stores each event id once and names the rig from its registry).
 */
export const feedNotice = z.strictObject({
  rig_id: ulidString,
  event: z.strictObject({
    id: z.string().min(1).max(64),
    at: z.number(),
    kind: z.string().regex(/^[a-z_]{1,20}$/),
    text: z.string().max(LIMITS.feedText),
    tone: z.enum(FEED_TONES).optional(),
    rig: slug.optional(),
    bead: ulidString.optional(),
    agent: z.string().max(120).optional(),
  }),
});

/** Test-only tool (GT_TEST_HOOKS=1): make the next N room-to-room hops fail. */
export const testFault = z.strictObject({
  fail_hops: z.number().int().min(0).max(10_000).optional(),
  /** Convoy notifications to drop (reported delivered, never sent): the reconciliation must cope. */
  drop_notices: z.number().int().min(0).max(10_000).optional(),
});

/** Town → rig: create a bead the town placed (idempotent by id). */
export const beadCreate = z.strictObject({
  id: ulidString,
  title: z.string().min(1).max(200),
  body: z.string().max(32 * 1024),
  priority: z.enum(PRIORITIES),
  requires: z.array(slug).max(32),
  convoy_id: ulidString.optional(),
  reason: z.string().max(2000),
  /** It takes the place of a bead moved here from another rig (gt_bead_move). */
  moved_from: z.strictObject({ rig: slug, bead_id: ulidString }).optional(),
  /** The model the bead asks for (over its rig's). */
  model: modelName.optional(),
});

/** Town → rig: the current status of some beads (the convoy reconciliation). */
export const beadStates = z.strictObject({ ids: z.array(ulidString).max(500) });
export type BeadState = {
  id: string;
  status: BeadStatus;
  assignee?: string;
  rev: number;
  title: string;
  failure?: string;
  movedTo?: { rig: string; beadId: string };
  usage?: UsageTotals;
};

/**
 * Town → rig: close this bead as moved to `to_rig` (its run stopped), under the id the town chose for
 * its successor. Idempotent: a bead moved already answers where it went (which may be elsewhere).
 * Refused with CONFLICT when the bead is closed (done) or in review (its merge is under way).
 */
export const beadMoveOut = z.strictObject({
  bead_id: ulidString,
  to_rig: slug,
  to_rig_id: ulidString,
  new_bead_id: ulidString,
  /** The operator who asked (party/audit.ts auditWho), for the rig's audit trail. */
  by: z.strictObject({ role: z.string().max(20), sub: z.string().max(120), jti: z.string().max(64), rig: z.string().max(26).optional() }).optional(),
});

/**
 * Rig → town (and the answer to bead_move_out): a bead was closed as moved; the town creates its
 * successor in the target rig and puts it in the old one's place in its convoy. Sent through the
 * rig's durable outbox in the same write that closed the bead, so a town that crashed meanwhile
 * still completes the move; the town applies it once.
 */
export const beadMoved = z.strictObject({
  bead_id: ulidString,
  from_rig: slug,
  from_rig_id: ulidString,
  to_rig: slug,
  to_rig_id: ulidString,
  new_bead_id: ulidString,
  title: z.string().min(1).max(200),
  body: z.string().max(32 * 1024),
  priority: z.enum(PRIORITIES),
  requires: z.array(slug).max(32),
  convoy_id: ulidString.optional(),
  /** The model the bead asked for: its successor asks for it too. */
  model: modelName.optional(),
});

/** Town → rig: registry changes the rig room acts on. */
export const rigUpdate = z.strictObject({ max_polecats: z.number().int().min(1).max(64) });

/** Rig → town: a convoy bead changed (through the rig's outbox; ordered by `rev`). */
export const convoyBeadNotice = z.strictObject({
  convoy_id: ulidString,
  bead_id: ulidString,
  rig_id: ulidString,
  status: z.enum(BEAD_STATUSES),
  assignee: z.string().max(120).optional(),
  rev: z.number().int().min(0),
  /** Why it failed (status failed): the convoy keeps it, so it says why even after its rig is gone. */
  failure: z.string().max(300).optional(),
  /** What its runs used (W22). */
  usage: usageTotals.optional(),
});

/** Town → rig: a share link was revoked; its sockets close and it opens nothing any more. */
export const revokeToken = z.strictObject({ jti: z.string().min(1).max(64), exp: z.number().int().positive() });

/** Town → the gate: the ids of the town's rigs (its registry), so a made-up rig room is never started. */
export const rigIdsReply = z.strictObject({ ok: z.literal(true), value: z.array(ulidString).max(LIMITS.rigsPerTown) });
