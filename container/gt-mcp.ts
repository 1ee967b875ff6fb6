/**
 * What an agent process may do, in one place: the agent's environment, its tools (input schemas,
 * defaults and retry policy), and an MCP server exposing them on stdio. A rig agent has the eight
 * agent tools of its rig room; the Mayor (GT_AGENT=mayor) has the nine town tools of the town room
 * (slinging, convoys, rigs, mail). `gt` (container/gt.ts) is the same tools as shell commands; both
 * go through `callAgentTool`.
 *
 * MCP mode owns stdout: it carries the protocol and nothing else, so every diagnostic goes to stderr.
 */
import { execFileSync } from "node:child_process";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import { callHttp, ToolCallError } from "../client/tools.ts";
import { newId } from "../party/ids.ts";
import { describeIssues, rigToolArgs, SLUG_RE, townToolArgs, ULID_RE, type RigTool, type TownTool } from "../party/protocol.ts";

// ---------------------------------------------------------------------------------------------
// Environment (the container gives every agent these)

/** `rig`: an agent of one rig, in its rig room; `mayor`: the Mayor, in the town room. */
export type GtMode = "rig" | "mayor";

export type GtEnv = {
  mode: GtMode;
  /** `host:port` of the Townhall server. */
  host: string;
  secure: boolean;
  town: string;
  /** The rig id (not its name); null for the Mayor. */
  rig: string | null;
  /** The agent's identity as the container announced it, e.g. `alpha/polecats/toast`; informative only. */
  agent: string | null;
  token: string;
  /** The hooked bead, when the agent was started for one. */
  bead: string | null;
  /** The rig's default branch (GT_DEFAULT_BRANCH), which `done` checks the branch has commits beyond. */
  defaultBranch: string | null;
};

/** The Mayor's identity: GT_AGENT=mayor puts `gt` in Mayor mode. */
export const MAYOR = "mayor";

/** The mode GT_AGENT asks for (the rest of the environment is checked by readGtEnv). */
export function gtMode(source: Record<string, string | undefined> = process.env): GtMode {
  return source.GT_AGENT?.trim() === MAYOR ? "mayor" : "rig";
}

/** Bad invocation: a missing or invalid variable, option or argument. `gt` exits 2. */
export class GtUsageError extends Error {
  override name = "GtUsageError";
}

/** The server could not be reached (or answered something that is not a tool reply). `gt` exits 4. */
export class GtUnreachableError extends Error {
  override name = "GtUnreachableError";
}

/**
 * Reads and checks the agent's environment; throws GtUsageError naming the first bad variable.
 * In Mayor mode (GT_AGENT=mayor) GT_RIG and GT_BEAD are not used; `needsRig: false` (an
 * operator's command in the town room) leaves GT_RIG optional in rig mode too.
 */
export function readGtEnv(source: Record<string, string | undefined> = process.env, needsRig = true): GtEnv {
  const need = (name: string): string => {
    const value = source[name]?.trim();
    if (!value) throw new GtUsageError(`environment variable ${name} is not set`);
    return value;
  };
  const host = need("GT_HOST");
  if (!/^[^\s/:]+(:\d{1,5})?$|^\[[0-9a-fA-F:]+\](:\d{1,5})?$/.test(host)) {
    throw new GtUsageError(`environment variable GT_HOST must be host:port without a scheme or path, got ${JSON.stringify(host)}`);
  }
  const town = need("GT_TOWN");
  if (!SLUG_RE.test(town)) throw new GtUsageError(`environment variable GT_TOWN must be a town slug, got ${JSON.stringify(town)}`);
  const mode = gtMode(source);
  const rig = mode === "mayor" ? null : needsRig ? need("GT_RIG") : source.GT_RIG?.trim() || null;
  const token = need("GT_TOKEN");
  const secureText = (source.GT_SECURE ?? "").trim();
  if (!["", "0", "1", "false", "true"].includes(secureText)) {
    throw new GtUsageError(`environment variable GT_SECURE must be 1 (https) or 0 (http), got ${JSON.stringify(secureText)}`);
  }
  const bead = mode === "mayor" ? null : source.GT_BEAD?.trim() || null;
  if (bead !== null && !ULID_RE.test(bead)) throw new GtUsageError(`environment variable GT_BEAD must be a bead id (a ULID), got ${JSON.stringify(bead)}`);
  const defaultBranch = source.GT_DEFAULT_BRANCH?.trim() || null;
  return { mode, host, secure: secureText === "1" || secureText === "true", town, rig, agent: source.GT_AGENT?.trim() || null, token, bead, defaultBranch };
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
  if (ahead === "0") throw new GtUsageError(`nothing to merge: ${branch} has no commits that ${defaultBranch} lacks; commit your work first (git add -A && git commit), then run gt done again`);
}

/** The current git branch of `cwd` (the agent's worktree); GtUsageError when there is none. */
export function currentGitBranch(cwd = process.cwd()): string {
  let branch: string;
  try {
    branch = execFileSync("git", ["rev-parse", "--abbrev-ref", "HEAD"], { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? "").trim().split("\n")[0] || (error as Error).message;
    throw new GtUsageError(`no branch given and ${cwd} has no current git branch (${stderr}); give the branch explicitly`);
  }
  if (!branch || branch === "HEAD") throw new GtUsageError(`no branch given and ${cwd} is on a detached HEAD; give the branch explicitly`);
  return branch;
}

// ---------------------------------------------------------------------------------------------
// The tools: a rig agent's (AGENT_TOOLS, rig room) and the Mayor's (MAYOR_TOOLS, town room)

type AgentTool<S extends z.ZodObject = z.ZodObject> = {
  /** One line an LLM can act on. */
  description: string;
  /** What the agent passes: the protocol's schema without `as`/`from` (an agent always acts as itself). */
  input: S;
  /** Fills what the agent may leave out (hooked bead, git branch, record ids); runs once per call, before any retry. */
  complete?: (args: z.infer<S>, env: GtEnv) => Record<string, unknown>;
  /**
   * Safe to send again after a network failure mid-request (the server stores it once). Every tool
   * is retried when the connection was refused, since then nothing reached the server.
   */
  idempotent: boolean;
  readOnly?: boolean;
  /** Returns mail (a list, or one) that stays unread until acknowledged (gt_mail_ack), once the result was handed over. */
  acknowledges?: boolean;
};

const agentTool = <S extends z.ZodObject>(tool: AgentTool<S>): AgentTool<S> => tool;

/** `schema` with the description of some fields set (what JSON Schema alone does not say). */
function describeFields<S extends z.ZodObject>(schema: S, descriptions: Partial<Record<keyof S["shape"] & string, string>>): S {
  const shape: Record<string, z.ZodType> = {};
  for (const [key, text] of Object.entries(descriptions)) shape[key] = (schema.shape[key] as z.ZodType).describe(text as string);
  return schema.extend(shape) as unknown as S;
}

const beadId = rigToolArgs.gt_bead_status.shape.bead_id;

export const AGENT_TOOLS = {
  gt_prime: agentTool({
    description: "Start here: who you are, your hooked bead (the work to do: title, body, status), your unread mail and your last checkpoint.",
    input: rigToolArgs.gt_prime.omit({ as: true }),
    idempotent: true,
    readOnly: true,
  }),
  gt_mail_send: agentTool({
    description: "Send durable mail to an agent or person of the town; the reply says delivered (in their inbox) or queued (will be delivered).",
    // No `id`: this server chooses it, once per call, and resends with the same id after a network failure.
    input: describeFields(rigToolArgs.gt_mail_send.omit({ as: true, id: true }), {
      to: "recipient: mayor, operator, <rig>/witness, <rig>/refinery or <rig>/polecats/<name> (rig by name)",
      body: "the message; may be empty",
    }),
    complete: (args) => ({ ...args, id: newId() }),
    idempotent: true,
  }),
  gt_mail_check: agentTool({
    description: "Fetch your unread mail; it is marked read once it has been handed to you, so act on it or note it in a checkpoint.",
    input: rigToolArgs.gt_mail_check.omit({ as: true }),
    idempotent: true, // nothing changes until the acknowledgement, sent after the reply was handed over
    acknowledges: true,
  }),
  gt_mail_read: agentTool({
    description: "Read one mail of yours by id, whole (to you or from you); a mail to you is marked read once it has been handed to you.",
    input: describeFields(rigToolArgs.gt_mail_read.omit({ as: true }), { id: "the mail's id (a ULID), from gt_prime or gt_mail_check" }),
    idempotent: true,
    acknowledges: true,
  }),
  gt_bead_status: agentTool({
    description: "Read a bead (an issue of this rig) by id: title, body, status, assignee, branch; without bead_id, your hooked bead.",
    input: rigToolArgs.gt_bead_status.extend({ bead_id: beadId.optional().describe("bead id (a ULID); default: your hooked bead") }),
    complete: (args, env) => ({ bead_id: args.bead_id ?? hookedBead(env) }),
    idempotent: true,
    readOnly: true,
  }),
  gt_done: agentTool({
    description: "Call once your hooked bead's work is committed on your branch: the bead goes to review and the refinery merges the branch.",
    input: describeFields(rigToolArgs.gt_done.omit({ as: true }).extend({ branch: rigToolArgs.gt_done.shape.branch.optional() }), {
      branch: "the branch holding your commits; default: the current git branch of your worktree",
      summary: "a few lines on what you changed, for the reviewer",
    }),
    complete: (args, env) => {
      const branch = args.branch ?? currentGitBranch();
      requireWorkToMerge(branch, env.defaultBranch);
      return { ...args, branch };
    },
    idempotent: true, // a repeated done of the bead handed in answers the same
  }),
  gt_escalate: agentTool({
    description: "Ask a person for help with a problem you cannot resolve alone; it stays open on the dashboard until resolved.",
    // No `id`: chosen here once per call, so a resend after a network failure is recorded once.
    input: describeFields(rigToolArgs.gt_escalate.omit({ as: true, id: true }).extend({ severity: rigToolArgs.gt_escalate.shape.severity.optional() }), {
      severity: "low, medium (default), high or critical (critical: work is blocked)",
      bead_id: "the bead it is about (a ULID); default: your hooked bead, if any",
    }),
    complete: (args, env) => {
      const bead = args.bead_id ?? env.bead;
      return { ...args, severity: args.severity ?? "medium", id: newId(), ...(bead ? { bead_id: bead } : {}) };
    },
    idempotent: true,
  }),
  gt_checkpoint: agentTool({
    description: "Save your working notes (replacing the previous ones); gt_prime returns them, so a restarted session resumes where you were.",
    input: describeFields(rigToolArgs.gt_checkpoint.omit({ as: true }), { data: "free text, up to 16 KiB" }),
    idempotent: true,
  }),
} satisfies Partial<Record<RigTool, AgentTool<any>>>;

const slingFields = {
  title: "one line: what is to be done",
  body: "the details the worker needs (it sees only this bead)",
  rig: "a rig name to place it in; omit it to let the Mayor's distribution pick the least loaded ready rig with the required capabilities",
  requires: "capabilities the rig must have (see gt_list_rigs), e.g. [\"ts\"]",
  priority: "low, medium (default), high or critical",
} as const;
const slingBead = describeFields(townToolArgs.gt_convoy_create.shape.beads.element, slingFields);

export const MAYOR_TOOLS = {
  gt_sling: agentTool({
    description:
      "Create one bead (a unit of work) in a rig, where a polecat picks it up. Without `rig`, the Mayor's distribution picks " +
      "the least loaded ready rig whose capabilities include `requires`; the result names the rig and the reason for the pick.",
    // No `id`: chosen here once per call, so a resend after a network failure creates one bead.
    input: describeFields(townToolArgs.gt_sling.omit({ id: true }), slingFields),
    complete: (args) => ({ ...args, id: newId() }),
    idempotent: true,
  }),
  gt_convoy_create: agentTool({
    description:
      "Create a convoy: several beads, possibly across rigs, tracked together until every one is closed or failed (landed). " +
      "Each bead without `rig` is placed by the Mayor's distribution (capabilities, then load; each placement counts for the next); " +
      "the result has every bead's rig and reason. All beads are placed or none (NO_ELIGIBLE_RIG names each rig and why).",
    // No `id`: chosen here once per call, so a resend after a network failure creates one convoy.
    input: describeFields(townToolArgs.gt_convoy_create.omit({ id: true }).extend({ beads: z.array(slingBead).min(1).max(200) }), {
      title: "the convoy's name, e.g. the feature or release it delivers",
      beads: "the beads, 1 to 200: {title, body?, rig?, requires?, priority?} each",
    }),
    complete: (args) => ({ ...args, id: newId() }),
    idempotent: true,
  }),
  gt_convoy_status: agentTool({
    description: "A convoy's beads (rig, status, assignee, placement reason) and its progress: done/total overall and per rig.",
    input: describeFields(townToolArgs.gt_convoy_status, { id: "the convoy id (a ULID) from gt_convoy_create or gt_list_convoys" }),
    idempotent: true,
    readOnly: true,
  }),
  gt_list_convoys: agentTool({
    description: "The town's convoys, newest first, each with its progress; filter by status open, landed or closed.",
    input: townToolArgs.gt_list_convoys,
    idempotent: true,
    readOnly: true,
  }),
  gt_list_rigs: agentTool({
    description: "The town's rigs: name, status (only ready rigs get work), capabilities, max polecats, and a summary of bead and agent counts (their load).",
    input: townToolArgs.gt_list_rigs,
    idempotent: true,
    readOnly: true,
  }),
  gt_rig_status: agentTool({
    description: "One rig by name: status, capabilities, max polecats, bead counts per status, agents, queued mail, open escalations.",
    input: describeFields(townToolArgs.gt_rig_status, { name: "the rig's name" }),
    idempotent: true,
    readOnly: true,
  }),
  gt_mail_send: agentTool({
    description: "Send durable mail as the Mayor to a person or an agent of the town; the reply says delivered (in their inbox) or queued (will be delivered).",
    // No `id` (chosen here, as for the rig agents) and no `from`: the Mayor always sends as mayor.
    input: describeFields(townToolArgs.gt_mail_send.omit({ from: true, id: true }), {
      to: "recipient: operator (the person at the dashboard), <rig>/witness, <rig>/refinery or <rig>/polecats/<name> (rig by name)",
      body: "the message; may be empty",
    }),
    complete: (args) => ({ ...args, id: newId() }),
    idempotent: true,
  }),
  gt_mail_check: agentTool({
    description: "Fetch the Mayor's unread mail (requests, reports); it is marked read once it has been handed over.",
    input: townToolArgs.gt_mail_check.omit({ as: true }),
    idempotent: true,
    acknowledges: true,
  }),
  gt_mail_read: agentTool({
    description: "Read one mail of the Mayor's by id, whole (to or from mayor); a mail to the Mayor is marked read once it has been handed over.",
    input: describeFields(townToolArgs.gt_mail_read.omit({ as: true }), { id: "the mail's id (a ULID), from gt_mail_check" }),
    idempotent: true,
    acknowledges: true,
  }),
} satisfies Partial<Record<TownTool, AgentTool<any>>>;

/**
 * An operator's tools, for `gt` run with an operator token (GT_TOKEN): the dashboard's actions on
 * beads, agents and escalations, and agents' output. Never served by `gt mcp` (agents may not call
 * them; the rooms refuse agent tokens); `room` says where each is called: the rig room of GT_RIG, or
 * the town room. An agent does not read agents' output: its own it printed itself, and another's
 * could carry what that agent was given (the rig is one trust boundary, but output is for people).
 */
type OperatorTool = AgentTool & { room: "rig" | "town" };

export const OPERATOR_TOOLS: Record<"gt_bead_retry" | "gt_agent_stop" | "gt_agent_restart" | "gt_escalation_ack" | "gt_escalation_resolve" | "gt_bead_move" | "gt_agent_log", OperatorTool> = {
  gt_bead_retry: {
    description: "Open a failed bead again with its attempts reset; the note goes into its history.",
    input: rigToolArgs.gt_bead_retry,
    idempotent: false, // a second retry of a bead open again is CONFLICT: resent only when nothing reached the server
    room: "rig",
  },
  gt_agent_stop: {
    description: "Stop an agent's run; its bead fails (stopped by the operator), to retry or move later.",
    input: rigToolArgs.gt_agent_stop,
    idempotent: false,
    room: "rig",
  },
  gt_agent_restart: {
    description: "Stop an agent's run; its bead goes back to open without an attempt counted and is dispatched again.",
    input: rigToolArgs.gt_agent_restart,
    idempotent: false,
    room: "rig",
  },
  gt_escalation_ack: {
    description: "Acknowledge an open escalation (someone is on it), with an optional note.",
    input: rigToolArgs.gt_escalation_ack,
    idempotent: true, // a repeat answers the same
    room: "rig",
  },
  gt_escalation_resolve: {
    description: "Resolve an escalation, with an optional note.",
    input: rigToolArgs.gt_escalation_resolve,
    idempotent: true,
    room: "rig",
  },
  gt_bead_move: {
    description: "Move an unfinished bead to another rig: a new bead there, the old one closed as moved; its convoy counts the new one.",
    input: townToolArgs.gt_bead_move,
    idempotent: true, // a retried move answers the same new bead
    room: "town",
  },
  gt_agent_log: {
    description: "What an agent printed (stdout and stderr, redacted): its runs, newest first, and the lines of one run.",
    input: rigToolArgs.gt_agent_log,
    idempotent: true,
    readOnly: true,
    room: "rig",
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

// ---------------------------------------------------------------------------------------------
// Calling the rig room

const RETRY_DELAYS_MS = [250, 500, 1000];
const ATTEMPT_TIMEOUT_MS = 30_000;

/** A failure of the request itself (no tool reply); `refused` when nothing reached the server. */
function networkFailure(error: unknown): { refused: boolean; detail: string } {
  const cause = (error as { cause?: { code?: string; errors?: { code?: string }[]; message?: string } }).cause;
  const code = cause?.code ?? cause?.errors?.[0]?.code;
  if (error instanceof SyntaxError) return { refused: false, detail: `the reply was not a tool reply (${error.message})` };
  return { refused: code === "ECONNREFUSED", detail: code ?? cause?.message ?? (error as Error).message ?? String(error) };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`no reply in ${ms} ms`), { cause: { code: "ETIMEDOUT" } })), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Validates `args` against the tool's agent schema (GtUsageError naming each field), fills its
 * defaults, and calls the agent's room over HTTP with the agent token: the rig room, or the town
 * room in Mayor mode. Resolves with the tool's value; rejects with ToolCallError (the tool answered
 * an error), GtUsageError (also for a tool of the other mode) or GtUnreachableError. Network
 * failures are retried up to 3 times with the same arguments (so the same mail, bead or convoy id).
 */
export async function callAgentTool<T = unknown>(env: GtEnv, name: AgentToolName, args: Record<string, unknown> = {}): Promise<T> {
  const found = gtTool(env, name);
  if (!found) {
    throw new GtUsageError(env.mode === "mayor" ? `${name} is a rig agent's tool, and GT_AGENT=mayor is the Mayor` : `${name} is the Mayor's tool (GT_AGENT=mayor)`);
  }
  const { tool, room } = found;
  if (room === "rig" && !env.rig) throw new GtUsageError("environment variable GT_RIG is not set (the id of the rig to act in)");
  const parsed = tool.input.safeParse(args);
  if (!parsed.success) throw new GtUsageError(describeIssues(parsed.error));
  const wire = tool.complete ? tool.complete(parsed.data, env) : parsed.data;
  const address =
    room === "town"
      ? { host: env.host, secure: env.secure, party: "main" as const, room: env.town, token: env.token }
      : { host: env.host, secure: env.secure, party: "rig" as const, room: `${env.town}.${env.rig}`, token: env.token };
  for (let attempt = 0; ; attempt++) {
    try {
      return await withTimeout(callHttp<T>(address, name, wire), ATTEMPT_TIMEOUT_MS);
    } catch (error) {
      if (error instanceof ToolCallError) throw error;
      const failure = networkFailure(error);
      const delay = RETRY_DELAYS_MS[attempt];
      if (delay === undefined || !(tool.idempotent || failure.refused)) {
        throw new GtUnreachableError(`cannot reach ${env.host} (${failure.detail}) after ${attempt + 1} attempt${attempt ? "s" : ""}`);
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

/**
 * Marks handed-over mail read (gt_mail_ack). A failure is not the caller's: the mail is simply
 * handed out again next time (at least once), with the same ids.
 */
export async function acknowledgeMail(env: GtEnv, mail: readonly { id: string }[]): Promise<string | null> {
  if (!mail.length) return null;
  const address =
    env.mode === "mayor"
      ? { host: env.host, secure: env.secure, party: "main" as const, room: env.town, token: env.token }
      : { host: env.host, secure: env.secure, party: "rig" as const, room: `${env.town}.${env.rig}`, token: env.token };
  try {
    await withTimeout(callHttp(address, "gt_mail_ack", { ids: mail.map((m) => m.id) }), ATTEMPT_TIMEOUT_MS);
    return null;
  } catch (error) {
    return `could not mark ${mail.length} mail read (${(error as Error).message}); it will be handed out again`;
  }
}

// ---------------------------------------------------------------------------------------------
// MCP server

function errorResult(code: string, message: string): CallToolResult {
  return { isError: true, content: [{ type: "text", text: `${code}: ${message}` }] };
}

/** Runs one tool for MCP: the JSON value as text, or an error result (never a protocol error). */
export async function mcpToolResult(env: GtEnv, name: AgentToolName, args: Record<string, unknown>): Promise<CallToolResult> {
  try {
    const value = await callAgentTool(env, name, args);
    return { content: [{ type: "text", text: JSON.stringify(value ?? null, null, 2) }] };
  } catch (error) {
    if (error instanceof ToolCallError) return errorResult(error.code, error.message.slice(error.code.length + 2));
    if (error instanceof GtUsageError) return errorResult("INVALID_ARGS", error.message);
    if (error instanceof GtUnreachableError) return errorResult("UNREACHABLE", error.message);
    console.error(`gt mcp: ${name} failed:`, error);
    return errorResult("INTERNAL", (error as Error).message ?? String(error));
  }
}

/**
 * Serves the agent's tools (a rig agent's, or the Mayor's in Mayor mode) over MCP on stdin/stdout
 * until stdin closes, then exits the process. Resolves with the server once it is connected.
 */
export async function startMcpServer(env: GtEnv): Promise<McpServer> {
  // stdout is the transport: keep stray logging of any module off it.
  console.log = console.info = console.debug = (...args: unknown[]) => console.error(...args);
  const instructions =
    env.mode === "mayor"
      ? `Gas Town tools for the Mayor of town ${env.town}: you turn requests into beads (units of work) and place them in rigs ` +
        "(git repositories with their own worker agents). Check gt_mail_check for requests and gt_list_rigs for the rigs, their " +
        "capabilities and load. Use gt_sling for one bead, gt_convoy_create for work that belongs together (possibly across rigs), " +
        "then follow it with gt_convoy_status. Leave `rig` out to let the distribution pick by capabilities and load (it says why). " +
        "Report with gt_mail_send (e.g. to operator)."
      : `Gas Town tools for ${env.agent ?? "this rig's agent"} (town ${env.town}). Call gt_prime first: it shows your hooked bead (your task), ` +
        "unread mail and checkpoint. Commit your work, then call gt_done. Use gt_mail_send to talk to other agents, " +
        "gt_checkpoint to save notes, gt_escalate when you are blocked.";
  const server = new McpServer({ name: "gt", version: "1.0.0" }, { instructions });
  const tools = toolsOf(env.mode);
  // Mail handed out by a tool is acknowledged once its reply is written to the client, not before.
  const afterReply = new Map<string | number, () => Promise<unknown>>();
  // The next call waits for those acknowledgements: a client that checks mail twice sees it once.
  let acknowledging: Promise<unknown> = Promise.resolve();
  for (const name of Object.keys(tools) as AgentToolName[]) {
    const tool = tools[name]!;
    server.registerTool(
      name,
      {
        description: tool.description,
        inputSchema: tool.input,
        annotations: { readOnlyHint: tool.readOnly ?? false, destructiveHint: false, idempotentHint: tool.idempotent, openWorldHint: false },
      },
      async (args: Record<string, unknown>, extra: { requestId: string | number }) => {
        await acknowledging;
        const result = await mcpToolResult(env, name, args);
        if (tool.acknowledges && !result.isError) {
          const value = JSON.parse((result.content[0] as { text: string }).text) as { id: string }[] | { id: string };
          const mail = Array.isArray(value) ? value : [value];
          afterReply.set(extra.requestId, () => acknowledgeMail(env, mail).then((problem) => problem && console.error(`gt mcp: ${problem}`)));
        }
        return result;
      },
    );
  }
  const transport = new StdioServerTransport();
  const send = transport.send.bind(transport);
  transport.send = async (message) => {
    await send(message);
    const id = (message as { id?: string | number }).id;
    const after = id === undefined ? undefined : afterReply.get(id);
    if (after) {
      afterReply.delete(id!);
      acknowledging = after();
    }
  };
  transport.onerror = (error) => console.error("gt mcp: transport error:", error);
  process.stdin.once("end", () => {
    void server.close().finally(() => process.exit(0));
  });
  await server.connect(transport);
  return server;
}
