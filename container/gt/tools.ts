/**
 * What an agent process may do: its tools with their defaults and retry policy. A rig agent has the
 * ten agent tools of its rig room; the Mayor (GT_AGENT=mayor) has the nine town tools of the town
 * room (slinging, convoys, rigs, mail); an operator's token adds the dashboard's actions. `gt`
 * (container/gt.ts) is the same tools as shell commands, `gt mcp` (mcp-server.ts) serves them over
 * MCP; both call them through call.ts.
 *
 * Nothing here loads zod or the MCP SDK (a test holds the bundle of gt to it): gt starts on every
 * call an agent makes. The tools' input schemas are in schemas.ts, loaded by `gt mcp` and, for the
 * other commands, only once a call failed (see callAgentTool).
 */
import { execFileSync } from "node:child_process";
import { newId } from "../../party/ids.ts";
import type { RigTool, TownTool } from "../../party/protocol.ts";
import type { GtEnv, GtMode } from "./env.ts";
import { GtUsageError } from "./errors.ts";

/** A tool's arguments as the agent gave them (checked against the tool's schema only on failure: see callAgentTool). */
type ToolArgs = Record<string, unknown>;

/** A tool's policy; what the agent passes (its input schema) is in schemas.ts, which needs zod. */
export type AgentTool = {
  /** One line an LLM can act on. */
  description: string;
  /** Fills what the agent may leave out (hooked bead, git branch, record ids); runs once per call, before any retry. */
  complete?: (args: ToolArgs, env: GtEnv) => ToolArgs;
  /**
   * Safe to send again after a network failure mid-request (the server stores it once). Every tool
   * is retried when the connection was refused, since then nothing reached the server.
   */
  idempotent: boolean;
  readOnly?: boolean;
  /** Returns mail (a list, or one) that stays unread until acknowledged (gt_mail_ack), once the result was handed over. */
  acknowledges?: boolean;
};

const agentTool = (tool: AgentTool): AgentTool => tool;

export const AGENT_TOOLS = {
  gt_prime: agentTool({
    description: "Start here: who you are, your hooked bead (the work to do: title, body, status), your unread mail and your last checkpoint.",
    idempotent: true,
    readOnly: true,
  }),
  gt_mail_send: agentTool({
    description: "Send durable mail to an agent or person of the town; the reply says delivered (in their inbox) or queued (will be delivered).",
    // No `id`: this server chooses it, once per call, and resends with the same id after a network failure.
    complete: (args) => ({ ...args, id: newId() }),
    idempotent: true,
  }),
  gt_mail_check: agentTool({
    description: "Fetch your unread mail; it is marked read once it has been handed to you, so act on it or note it in a checkpoint.",
    idempotent: true, // nothing changes until the acknowledgement, sent after the reply was handed over
    acknowledges: true,
  }),
  gt_mail_read: agentTool({
    description: "Read one mail of yours by id, whole (to you or from you); a mail to you is marked read once it has been handed to you.",
    idempotent: true,
    acknowledges: true,
  }),
  gt_bead_status: agentTool({
    description: "Read a bead (an issue of this rig) by id: title, body, status, assignee, branch; without bead_id, your hooked bead.",
    complete: (args, env) => ({ bead_id: args.bead_id ?? hookedBead(env) }),
    idempotent: true,
    readOnly: true,
  }),
  gt_bead_history: agentTool({
    description:
      "Read a bead's whole status history, a page at a time (each change with its note): without bead_id your hooked bead's; `before` from the last page for older ones.",
    complete: (args, env) => ({ ...args, bead_id: args.bead_id ?? hookedBead(env) }),
    idempotent: true,
    readOnly: true,
  }),
  gt_escalation_list: agentTool({
    description: "List the escalations you raised, newest first, with the notes operators wrote when they acknowledged or resolved them (their answer).",
    idempotent: true,
    readOnly: true,
  }),
  gt_done: agentTool({
    description: "Call once your hooked bead's work is committed on your branch: the bead goes to review and the refinery merges the branch.",
    complete: (args, env) => {
      const branch = (args.branch as string | undefined) ?? currentGitBranch();
      requireWorkToMerge(branch, env.defaultBranch);
      return { ...args, branch };
    },
    idempotent: true, // a repeated done of the bead handed in answers the same
  }),
  gt_escalate: agentTool({
    description: "Ask a person for help with a problem you cannot resolve alone; it stays open on the dashboard until resolved.",
    // No `id`: chosen here once per call, so a resend after a network failure is recorded once.
    complete: (args, env) => {
      const bead = args.bead_id ?? env.bead;
      return { ...args, severity: args.severity ?? "medium", id: newId(), ...(bead ? { bead_id: bead } : {}) };
    },
    idempotent: true,
  }),
  gt_checkpoint: agentTool({
    description: "Save your working notes (replacing the previous ones); gt_prime returns them, so a restarted session resumes where you were.",
    idempotent: true,
  }),
} satisfies Partial<Record<RigTool, AgentTool>>;

export const MAYOR_TOOLS = {
  gt_sling: agentTool({
    description:
      "Create one bead (a unit of work) in a rig, where a polecat picks it up. Without `rig`, the Mayor's distribution picks " +
      "the least loaded ready rig whose capabilities include `requires`; the result names the rig and the reason for the pick.",
    // No `id`: chosen here once per call, so a resend after a network failure creates one bead.
    complete: (args) => ({ ...args, id: newId() }),
    idempotent: true,
  }),
  gt_convoy_create: agentTool({
    description:
      "Create a convoy: several beads, possibly across rigs, tracked together until every one is closed (landed; stuck when every one is closed or failed and some failed). " +
      "Each bead without `rig` is placed by the Mayor's distribution (capabilities, then load; each placement counts for the next); " +
      "the result has every bead's rig and reason. All beads are placed or none (NO_ELIGIBLE_RIG names each rig and why).",
    // No `id`: chosen here once per call, so a resend after a network failure creates one convoy.
    complete: (args) => ({ ...args, id: newId() }),
    idempotent: true,
  }),
  gt_convoy_status: agentTool({
    description: "A convoy's beads (rig, status, assignee, placement reason) and its progress: done and failed of the total, overall and per rig.",
    idempotent: true,
    readOnly: true,
  }),
  gt_list_convoys: agentTool({
    description: "The town's convoys, newest first, each with its progress; filter by status open, landed, stuck or closed.",
    idempotent: true,
    readOnly: true,
  }),
  gt_list_rigs: agentTool({
    description: "The town's rigs: name, status (only ready rigs get work), capabilities, max polecats, and a summary of bead and agent counts (their load).",
    idempotent: true,
    readOnly: true,
  }),
  gt_rig_status: agentTool({
    description: "One rig by name: status, capabilities, max polecats, bead counts per status, agents, queued mail, open escalations.",
    idempotent: true,
    readOnly: true,
  }),
  gt_mail_send: agentTool({
    description: "Send durable mail as the Mayor to a person or an agent of the town; the reply says delivered (in their inbox) or queued (will be delivered).",
    // No `id` (chosen here, as for the rig agents) and no `from`: the Mayor always sends as mayor.
    complete: (args) => ({ ...args, id: newId() }),
    idempotent: true,
  }),
  gt_mail_check: agentTool({
    description: "Fetch the Mayor's unread mail (requests, reports); it is marked read once it has been handed over.",
    idempotent: true,
    acknowledges: true,
  }),
  gt_mail_read: agentTool({
    description: "Read one mail of the Mayor's by id, whole (to or from mayor); a mail to the Mayor is marked read once it has been handed over.",
    idempotent: true,
    acknowledges: true,
  }),
} satisfies Partial<Record<TownTool, AgentTool>>;

/**
 * An operator's tools, for `gt` run with an operator token (GT_TOKEN): the dashboard's actions on
 * beads, agents and escalations, and agents' output. Never served by `gt mcp` (agents may not call
 * them; the rooms refuse agent tokens); `room` says where each is called: the rig room of GT_RIG_ID (or GT_RIG), or
 * the town room. An agent does not read agents' output: its own it printed itself, and another's
 * could carry what that agent was given (the rig is one trust boundary, but output is for people).
 */
type OperatorTool = AgentTool & { room: "rig" | "town" };

export const OPERATOR_TOOLS: Record<
  | "gt_bead_retry"
  | "gt_agent_stop"
  | "gt_agent_restart"
  | "gt_escalation_ack"
  | "gt_escalation_resolve"
  | "gt_bead_move"
  | "gt_agent_log"
  | "gt_costs"
  | "gt_budget_set"
  | "gt_audit"
  | "gt_webhook_add"
  | "gt_webhook_list"
  | "gt_webhook_remove"
  | "gt_webhook_test",
  OperatorTool
> = {
  gt_bead_retry: {
    description: "Open a failed bead again with its attempts reset; the note goes into its history.",
    idempotent: false, // a second retry of a bead open again is CONFLICT: resent only when nothing reached the server
    room: "rig",
  },
  gt_agent_stop: {
    description: "Stop an agent's run; its bead fails (stopped by the operator), to retry or move later.",
    idempotent: false,
    room: "rig",
  },
  gt_agent_restart: {
    description: "Stop an agent's run; its bead goes back to open without an attempt counted and is dispatched again.",
    idempotent: false,
    room: "rig",
  },
  gt_escalation_ack: {
    description: "Acknowledge an open escalation (someone is on it), with an optional note.",
    idempotent: true, // a repeat answers the same
    room: "rig",
  },
  gt_escalation_resolve: {
    description: "Resolve an escalation, with an optional note.",
    idempotent: true,
    room: "rig",
  },
  gt_bead_move: {
    description: "Move an unfinished bead to another rig: a new bead there, the old one closed as moved; its convoy counts the new one.",
    idempotent: true, // a retried move answers the same new bead
    room: "town",
  },
  gt_agent_log: {
    description: "What an agent printed (stdout and stderr, redacted): its runs, newest first, and the lines of one run.",
    idempotent: true,
    readOnly: true,
    room: "rig",
  },
  gt_costs: {
    description: "What the town's runs used today (UTC), per rig, and the earlier days; the budgets and what they hold.",
    idempotent: true,
    readOnly: true,
    room: "town",
  },
  gt_budget_set: {
    description: "Set, raise or clear (null) a daily budget in USD or tokens, the town's or a rig's; reached, no new run starts there.",
    idempotent: true, // setting the same budget again changes nothing
    room: "town",
  },
  gt_audit: {
    description: "Who did what: operators' actions with their notes, newest first, a rig's (or the town's), by bead or agent.",
    idempotent: true,
    readOnly: true,
    // The town's by default; `gt audit` calls the rig room's when it names a rig (callAgentTool's `room`).
    room: "town",
  },
  gt_webhook_add: {
    description: "Add an outgoing webhook to the town (http/https URL, slack or json format); returns its signing secret, once.",
    idempotent: false, // a resend would add a second hook with another secret
    room: "town",
  },
  gt_webhook_list: {
    description: "The town's webhooks and how each one's last delivery went.",
    idempotent: true,
    readOnly: true,
    room: "town",
  },
  gt_webhook_remove: {
    description: "Remove a webhook; its waiting deliveries are dropped.",
    idempotent: false, // a second remove is INVALID_ARGS: resent only when nothing reached the server
    room: "town",
  },
  gt_webhook_test: {
    description: "Send a test event to a webhook now, signed and retried like any delivery.",
    idempotent: false, // each test is a new delivery
    room: "town",
  },
};

export type OperatorToolName = keyof typeof OPERATOR_TOOLS;
export type AgentToolName = keyof typeof AGENT_TOOLS | keyof typeof MAYOR_TOOLS | OperatorToolName;

/** The tools of a mode, by name (an agent's or the Mayor's; an operator's are in OPERATOR_TOOLS). */
export function toolsOf(mode: GtMode): Record<string, AgentTool> {
  return mode === "mayor" ? MAYOR_TOOLS : AGENT_TOOLS;
}

/** The tool `gt` would call for a name, and the room it is called in. */
export function gtTool(env: Pick<GtEnv, "mode">, name: string): { tool: AgentTool; room: "rig" | "town" } | null {
  if (Object.hasOwn(OPERATOR_TOOLS, name)) {
    const tool = OPERATOR_TOOLS[name as OperatorToolName];
    return { tool, room: tool.room };
  }
  const tools = toolsOf(env.mode);
  return Object.hasOwn(tools, name) ? { tool: tools[name]!, room: env.mode === "mayor" ? "town" : "rig" } : null;
}

function hookedBead(env: GtEnv): string {
  if (!env.bead) throw new GtUsageError("no bead id given and GT_BEAD is not set (no hooked bead)");
  return env.bead;
}

/**
 * Refuses a `done` whose branch holds nothing the default branch lacks: the refinery would have
 * nothing to merge. Checked where git can tell (the agent's worktree, GT_DEFAULT_BRANCH set).
 */
export function requireWorkToMerge(branch: string, defaultBranch: string | null, cwd = process.cwd()): void {
  if (!defaultBranch) return;
  let ahead: string;
  try {
    ahead = execFileSync("git", ["rev-list", "--count", `${defaultBranch}..${branch}`], { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
  } catch {
    return; // not a worktree of the rig's clone: the refinery judges
  }
  if (ahead === "0")
    throw new GtUsageError(
      `nothing to merge: ${branch} has no commits that ${defaultBranch} lacks; commit your work first (git add -A && git commit), then run gt done again`,
    );
}

/** The current git branch of `cwd` (the agent's worktree); GtUsageError when there is none. */
export function currentGitBranch(cwd = process.cwd()): string {
  let branch: string;
  try {
    branch = execFileSync("git", ["rev-parse", "--abbrev-ref", "HEAD"], { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
  } catch (error) {
    const stderr =
      String((error as { stderr?: unknown }).stderr ?? "")
        .trim()
        .split("\n")[0] || (error as Error).message;
    throw new GtUsageError(`no branch given and ${cwd} has no current git branch (${stderr}); give the branch explicitly`);
  }
  if (!branch || branch === "HEAD") throw new GtUsageError(`no branch given and ${cwd} is on a detached HEAD; give the branch explicitly`);
  return branch;
}
