/**
 * What an agent passes to each of its tools: the protocol's schemas without `as`/`from`/`id` (an
 * agent always acts as itself; gt chooses record ids), with the descriptions an LLM reads. Loaded by
 * `gt mcp`, and by the other commands only once a call failed (call.ts, callAgentTool): this module
 * is where zod comes in, and `gt` starts on every call an agent makes. It imports only types of gt's
 * other modules and its errors: nothing of gt's comes back here at runtime.
 */
import { z } from "zod";
import { describeIssues, rigToolArgs, townToolArgs } from "../../party/protocol.ts";
import type { GtMode } from "./env.ts";
import { GtUsageError } from "./errors.ts";
import type { AGENT_TOOLS, AgentToolName, MAYOR_TOOLS, OPERATOR_TOOLS } from "./tools.ts";

/** `schema` with the description of some fields set (what JSON Schema alone does not say). */
function describeFields<S extends z.ZodObject>(schema: S, descriptions: Partial<Record<keyof S["shape"] & string, string>>): S {
  const shape: Record<string, z.ZodType> = {};
  for (const [key, text] of Object.entries(descriptions)) shape[key] = (schema.shape[key] as z.ZodType).describe(text as string);
  return schema.extend(shape) as unknown as S;
}

const beadId = rigToolArgs.gt_bead_status.shape.bead_id;

export const AGENT_INPUTS = {
  gt_prime: rigToolArgs.gt_prime.omit({ as: true }),
  // No `id`: gt chooses it, once per call, and resends with the same id after a network failure.
  gt_mail_send: describeFields(rigToolArgs.gt_mail_send.omit({ as: true, id: true }), {
    to: "recipient: mayor, operator, <rig>/witness, <rig>/refinery or <rig>/polecats/<name> (rig by name)",
    body: "the message; may be empty",
  }),
  gt_mail_check: rigToolArgs.gt_mail_check.omit({ as: true }),
  gt_mail_read: describeFields(rigToolArgs.gt_mail_read.omit({ as: true }), { id: "the mail's id (a ULID), from gt_prime or gt_mail_check" }),
  gt_bead_status: rigToolArgs.gt_bead_status.extend({ bead_id: beadId.optional().describe("bead id (a ULID); default: your hooked bead") }),
  gt_bead_history: describeFields(rigToolArgs.gt_bead_history.extend({ bead_id: beadId.optional() }), {
    bead_id: "bead id (a ULID); default: your hooked bead",
    before: "the `before` of the page you read last: older entries",
    limit: "entries per page, 1 to 100 (default 20)",
  }),
  gt_escalation_list: describeFields(rigToolArgs.gt_escalation_list.omit({ as: true }), {
    bead_id: "only those about this bead (a ULID)",
    status: "only open, acknowledged or resolved ones",
  }),
  gt_done: describeFields(rigToolArgs.gt_done.omit({ as: true }).extend({ branch: rigToolArgs.gt_done.shape.branch.optional() }), {
    branch: "the branch holding your commits; default: the current git branch of your worktree",
    summary: "a few lines on what you changed, for the reviewer",
  }),
  // No `id`: chosen by gt once per call, so a resend after a network failure is recorded once.
  gt_escalate: describeFields(rigToolArgs.gt_escalate.omit({ as: true, id: true }).extend({ severity: rigToolArgs.gt_escalate.shape.severity.optional() }), {
    severity: "low, medium (default), high or critical (critical: work is blocked)",
    bead_id: "the bead it is about (a ULID); default: your hooked bead, if any",
  }),
  gt_checkpoint: describeFields(rigToolArgs.gt_checkpoint.omit({ as: true }), { data: "free text, up to 16 KiB" }),
} satisfies Record<keyof typeof AGENT_TOOLS, z.ZodObject>;

const slingFields = {
  title: "one line: what is to be done",
  body: "the details the worker needs (it sees only this bead)",
  rig: "a rig name to place it in; omit it to let the Mayor's distribution pick the least loaded ready rig with the required capabilities",
  requires: 'capabilities the rig must have (see gt_list_rigs), e.g. ["ts"]',
  priority: "low, medium (default), high or critical",
} as const;
const slingBead = describeFields(townToolArgs.gt_convoy_create.shape.beads.element, slingFields);

export const MAYOR_INPUTS = {
  // No `id`: chosen by gt once per call, so a resend after a network failure creates one bead.
  gt_sling: describeFields(townToolArgs.gt_sling.omit({ id: true }), slingFields),
  // No `id`: chosen by gt once per call, so a resend after a network failure creates one convoy.
  gt_convoy_create: describeFields(townToolArgs.gt_convoy_create.omit({ id: true }).extend({ beads: z.array(slingBead).min(1).max(200) }), {
    title: "the convoy's name, e.g. the feature or release it delivers",
    beads: "the beads, 1 to 200: {title, body?, rig?, requires?, priority?} each",
  }),
  gt_convoy_status: describeFields(townToolArgs.gt_convoy_status, { id: "the convoy id (a ULID) from gt_convoy_create or gt_list_convoys" }),
  gt_list_convoys: townToolArgs.gt_list_convoys,
  gt_list_rigs: townToolArgs.gt_list_rigs,
  gt_rig_status: describeFields(townToolArgs.gt_rig_status, { name: "the rig's name" }),
  // No `id` (chosen by gt, as for the rig agents) and no `from`: the Mayor always sends as mayor.
  gt_mail_send: describeFields(townToolArgs.gt_mail_send.omit({ from: true, id: true }), {
    to: "recipient: operator (the person at the dashboard), <rig>/witness, <rig>/refinery or <rig>/polecats/<name> (rig by name)",
    body: "the message; may be empty",
  }),
  gt_mail_check: townToolArgs.gt_mail_check.omit({ as: true }),
  gt_mail_read: describeFields(townToolArgs.gt_mail_read.omit({ as: true }), { id: "the mail's id (a ULID), from gt_mail_check" }),
} satisfies Record<keyof typeof MAYOR_TOOLS, z.ZodObject>;

export const OPERATOR_INPUTS = {
  gt_bead_retry: rigToolArgs.gt_bead_retry,
  gt_agent_stop: rigToolArgs.gt_agent_stop,
  gt_agent_restart: rigToolArgs.gt_agent_restart,
  gt_escalation_ack: rigToolArgs.gt_escalation_ack,
  gt_escalation_resolve: rigToolArgs.gt_escalation_resolve,
  gt_bead_move: townToolArgs.gt_bead_move,
  gt_agent_log: rigToolArgs.gt_agent_log,
  gt_costs: townToolArgs.gt_costs,
  gt_budget_set: townToolArgs.gt_budget_set,
  gt_audit: rigToolArgs.gt_audit,
  gt_webhook_add: townToolArgs.gt_webhook_add,
  gt_webhook_list: townToolArgs.gt_webhook_list,
  gt_webhook_remove: townToolArgs.gt_webhook_remove,
  gt_webhook_test: townToolArgs.gt_webhook_test,
} satisfies Record<keyof typeof OPERATOR_TOOLS, z.ZodObject>;

/** The input schema of the tool `gt` calls by that name in that mode (as gtTool picks it), or null. */
export function inputOf(mode: GtMode, name: string): z.ZodObject | null {
  if (Object.hasOwn(OPERATOR_INPUTS, name)) return OPERATOR_INPUTS[name as keyof typeof OPERATOR_INPUTS];
  const inputs: Record<string, z.ZodObject> = mode === "mayor" ? MAYOR_INPUTS : AGENT_INPUTS;
  return Object.hasOwn(inputs, name) ? inputs[name]! : null;
}

/** GtUsageError naming each field the tool's agent schema refuses in `args` (and carrying the schema's fields). */
export function checkToolArgs(env: { mode: GtMode }, name: AgentToolName, args: Record<string, unknown>): void {
  const input = inputOf(env.mode, name);
  if (!input) return;
  const parsed = input.safeParse(args);
  if (!parsed.success) throw new GtUsageError(describeIssues(parsed.error), Object.keys(input.shape));
}
