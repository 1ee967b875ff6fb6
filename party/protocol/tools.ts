/**
 * Tool arguments, one strict schema a tool: an unknown field is an INVALID_ARGS error. And the
 * results of the tools whose shape clients depend on.
 */
import { z } from "zod";
import { LIMITS, MAX_TOKEN_LIFETIME_S } from "./limits.ts";
import { address, gitUrlProblem, slug, ulidString } from "./names.ts";
import { MODEL_RE, POLECAT_NAME_RE } from "./patterns.ts";
import {
  AGENT_RUNTIMES,
  BEAD_STATUSES,
  type Budget,
  type BudgetHold,
  type UsageTotals,
  boundarySchema,
  CONVOY_STATUSES,
  MERGE_FAILURES,
  OUTPUT_KINDS,
  PRIORITIES,
  SEVERITIES,
  type Agent,
  type Bead,
  type BeadHistoryEntry,
  type BeadStatus,
  type Convoy,
  type Mail,
} from "./records.ts";
import type { ShareView } from "./tokens.ts";

const title = z.string().trim().min(1).max(LIMITS.maxTitle);
const body = z.string().max(LIMITS.maxBody);
const capability = slug;
const empty = z.strictObject({});

/** Outgoing webhooks' body formats and events (docs/protocol.md, "Webhooks"). */
export const WEBHOOK_FORMATS = ["slack", "json"] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];
export const WEBHOOK_EVENTS = ["bead_failed", "escalation_opened", "agent_hung", "convoy_landed", "budget_reached", "rig_error", "test"] as const;
export type WebhookEventName = (typeof WEBHOOK_EVENTS)[number];

/** A model's name as CLIs take it (patterns.ts MODEL_RE). */
export const modelName = z.string().regex(MODEL_RE, "must be a model name: letters, digits and . _ : @ / -");

const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
/** What one run used (records.ts Usage), as the container reports it with the run's exit. */
export const usageSchema = z.strictObject({
  model: modelName.nullable(),
  turns: count.nullable(),
  inputTokens: count,
  outputTokens: count,
  cacheReadTokens: count,
  cacheWriteTokens: count,
  costUsd: z.number().min(0).max(1_000_000).nullable(),
});

/** A daily budget (records.ts Budget): whole tokens, or USD. */
export const budgetSchema = z.discriminatedUnion("unit", [
  z.strictObject({ unit: z.literal("tokens"), daily: z.number().int().min(1).max(1_000_000_000_000) }),
  z.strictObject({ unit: z.literal("usd"), daily: z.number().positive().max(1_000_000) }),
]);

const slingArgs = {
  title,
  body: body.optional(),
  /** The model the bead asks for (over its rig's). */
  model: modelName.optional(),
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

/**
 * `gt_audit`, in either room (operators): who did what, newest first. `bead_id` or `agent` keep the
 * entries about that bead or agent; `before` is the `older` cursor of the page before; `limit` per page.
 */
const auditArgs = z.strictObject({
  bead_id: ulidString.optional(),
  agent: address.optional(),
  before: z.number().int().min(1).optional(),
  limit: z.number().int().min(1).max(LIMITS.auditPage).optional(),
});

export const townToolArgs = {
  gt_rig_add: z.strictObject({
    name: slug,
    /** https, ssh (`ssh://` or `user@host:path`), git, or a local path (`/…`, `file://`); never a remote helper (`ext::`, `fd::`) nor an option. */
    git_url: z
      .string()
      .min(1)
      .max(1000)
      .superRefine((u, ctx) => {
        const problem = gitUrlProblem(u);
        if (problem) ctx.addIssue({ code: "custom", message: problem });
      }),
    default_branch: branch.optional(),
    capabilities: z.array(capability).max(32).optional(),
    max_polecats: z.number().int().min(1).max(64).optional(),
    runtime: z.enum(AGENT_RUNTIMES).optional(),
    model: modelName.optional(),
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
    /** null: back to the container's default. */
    runtime: z.enum(AGENT_RUNTIMES).nullable().optional(),
    model: modelName.nullable().optional(),
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
  /**
   * Operator: sets, raises or clears (null) a daily budget (UTC days): the town's, or with `rig` that
   * rig's (a rig-scoped operator: its own rig's only). When reached, no new run starts (lifecycle W22).
   */
  gt_budget_set: z.strictObject({ rig: slug.optional(), budget: budgetSchema.nullable() }),
  /** Town-wide operators, the Mayor, the container: what the town's runs used today and earlier days, and per rig today. */
  gt_costs: z.strictObject({ days: z.number().int().min(0).max(LIMITS.usageDaysKept).optional() }),
  /**
   * Town-wide operators: an outgoing webhook of the town (docs/protocol.md, "Webhooks"): `url`
   * http(s), `format` Slack-compatible (`slack`, the default) or the plain JSON payload (`json`).
   * The result carries the hook's signing secret, this once.
   */
  gt_webhook_add: z.strictObject({ url: z.string().trim().min(1).max(2000), format: z.enum(WEBHOOK_FORMATS).optional() }),
  /** Town-wide operators: the town's webhooks with their delivery status (never their secrets). */
  gt_webhook_list: empty,
  /** Town-wide operators: removes a webhook; deliveries still waiting for it are dropped. */
  gt_webhook_remove: z.strictObject({ id: z.string().min(1).max(64) }),
  /** Town-wide operators: sends a `test` event to a webhook through the outbox (signed, retried like any other). */
  gt_webhook_test: z.strictObject({ id: z.string().min(1).max(64) }),
  /** Container: an agent token for the `mayor` identity, to run the Mayor as an agent. */
  gt_mayor_token: empty,
  /** Container, the Mayor: the caller's token again with a fresh expiry (see TokenRefreshResult). */
  gt_token_refresh: empty,
  /** Town-wide operators: the town's audit trail (slings, convoys, rigs, budgets, links, town mail). */
  gt_audit: auditArgs,
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
    model: modelName.optional(),
    priority: z.enum(PRIORITIES).optional(),
    requires: z.array(capability).max(32).optional(),
    id: ulidString.optional(),
  }),
  gt_bead_status: z.strictObject({ bead_id: ulidString }),
  /**
   * A bead's whole status history, a page at a time (room storage keeps LIMITS.historyStored
   * entries): the `limit` entries before entry number `before` (default: the newest), newest last.
   */
  gt_bead_history: z.strictObject({
    bead_id: ulidString,
    before: z.number().int().min(0).optional(),
    limit: z.number().int().min(1).max(100).optional(),
  }),
  /**
   * The rig's escalations (those the document keeps) with every note written on them, newest first:
   * an agent gets those it raised (an operator or the container, with `as`, an agent's).
   */
  gt_escalation_list: z.strictObject({
    bead_id: ulidString.optional(),
    status: z.enum(["open", "acknowledged", "resolved"]).optional(),
    ...actingAs,
  }),
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
    agents: z
      .array(z.strictObject({ identity: address, run: runId.optional(), quiet_ms: z.number().int().min(0).optional() }))
      .max(256)
      .optional(),
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
  gt_rig_ready: z.strictObject({
    disk_bytes: z.number().int().min(0).optional(),
    error: z.string().max(2000).optional(),
    boundary: boundarySchema.optional(),
    epoch: epoch.optional(),
  }),
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
    /** What the run used, when its agent reported it (preset runtimes). */
    usage: usageSchema.optional(),
  }),
  /** Container: the refinery's merge of a bead's branch (acknowledges merge). */
  gt_merge_result: z.strictObject({
    bead_id: ulidString,
    epoch,
    ok: z.boolean(),
    failure: z.enum(MERGE_FAILURES).optional(),
    merge_commit: z
      .string()
      .regex(/^[0-9a-f]{40}$/)
      .optional(),
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
      .array(
        z.strictObject({
          at: z.number().int().min(0),
          stream: z.enum(["out", "err"]),
          text: z.string().max(LIMITS.outputLineBytes),
          kind: z.enum(OUTPUT_KINDS).optional(),
          ok: z.boolean().optional(),
        }),
      )
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
  /** Operators of the rig: the rig's audit trail (operators' actions on its beads, agents, escalations, mail). */
  gt_audit: auditArgs,
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
/** Outgoing webhooks (docs/protocol.md, "Webhooks"). */
/** The plain JSON body (format `json`); `id` is the delivery's stable id (also the X-Townhall-Delivery header). */
export type WebhookPayload = {
  id: string;
  event: WebhookEventName;
  town: string;
  rig?: string;
  bead?: string;
  agent?: string;
  title: string;
  detail: string;
  /** When it happened (ms since the epoch): the attention item's `at`, the convoy's landing. */
  at: number;
  url?: string;
};
/** A hook's last outcome: `ok` true after a 2xx, false after a failure (`error`), with when. */
export type WebhookDelivery = { ok: boolean; at: number; event: WebhookEventName; id: string; error?: string; attempts: number };
/** A webhook as gt_webhook_list shows it (never its secret). */
export type Webhook = {
  id: string;
  url: string;
  format: WebhookFormat;
  createdAt: number;
  /** Turned off by a 410 Gone from the receiver: it gets no more events. */
  disabledAt?: number;
  disabledWhy?: string;
  /** Deliveries waiting in the outbox (being retried, or about to go). */
  pending: number;
  /** Events not queued because `pending` was at its bound, and deliveries dropped at their deadline. */
  dropped: number;
  last: WebhookDelivery | null;
  /** The last successful delivery's time, when the last one failed. */
  lastOkAt?: number;
};
/** `gt_webhook_add`: the hook, and its signing secret, shown this once. */
export type WebhookAddResult = Webhook & { secret: string };
/** `gt_webhook_test`: the test delivery's id (it leaves through the outbox at once). */
export type WebhookTestResult = { id: string; hook: string };
/** `done`: closed beads; `failed`: failed beads (never counted as done). */
export type ConvoyCounts = { done: number; failed: number; total: number };
export type ConvoyProgress = Convoy & { progress: ConvoyCounts & { byRig: Record<string, ConvoyCounts> } };
export type PrimeResult = { agent: Agent; hook: Bead | null; mail: Mail[]; checkpoint: string | null };
export type DoneResult = { bead_id: string; status: BeadStatus };
/** `gt_bead_history`: entries numbered from 0 (the bead's first status), oldest first; `before` of the next older page, null at the first. */
export type BeadHistoryPage = { bead_id: string; total: number; entries: (BeadHistoryEntry & { seq: number })[]; before: number | null };
/** `gt_bead_status`: the bead, and while it waits open because a budget holds its rig's dispatch (W22), that hold. */
export type BeadStatusResult = Bead & { hold?: BudgetHold };
/** `gt_budget_set`: the budget now set (null: none), the town's or the named rig's (which learns it through the town's outbox). */
export type BudgetSetResult = { rig: string | null; budget: Budget | null };
/** `gt_costs`: today (UTC) for the town and each rig, and the town's earlier days (newest first, as many as asked). */
export type CostsResult = {
  day: string;
  town: { today: UsageTotals; budget: Budget | null; reached: BudgetHold | null };
  days: { day: string; totals: UsageTotals }[];
  rigs: { name: string; today: UsageTotals; budget: Budget | null; hold: BudgetHold | null; costByHour: number[] }[];
};

/** What an audit entry says an operator did (docs/protocol.md lists each and where it is kept). */
export const AUDIT_ACTIONS = [
  "bead_create",
  "bead_update",
  "bead_close",
  "bead_fail",
  "bead_reopen",
  "bead_retry",
  "bead_move",
  "escalation_ack",
  "escalation_resolve",
  "agent_stop",
  "agent_restart",
  "mail_send",
  "sling",
  "convoy_create",
  "rig_add",
  "rig_update",
  "rig_remove",
  "budget_set",
  "budget_clear",
  "link_mint",
  "link_revoke",
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];
/**
 * Who did it, as the acting token carries it: its role, subject (`sub`), id (`jti`: what a
 * revocation names, not a secret) and rig scope. Never the token itself.
 */
export type AuditWho = { role: string; sub: string; jti: string; rig?: string };
/** One action in a room's audit trail. `seq` counts up per room; `text` says what was done, plainly. */
export type AuditEntry = {
  seq: number;
  at: number;
  who: AuditWho;
  action: AuditAction;
  text: string;
  note?: string;
  rig?: string;
  bead?: string;
  agent?: string;
  convoy?: string;
  link?: string;
};
/**
 * `gt_audit`: a page, newest first. `older`: pass it as `before` for the next page (null: no more
 * kept). `kept`: how many entries the room keeps at most; `dropped`: whether older ones were dropped
 * past that bound (they are gone, not paged).
 */
export type AuditPage = { entries: AuditEntry[]; older: number | null; kept: number; dropped: boolean };
