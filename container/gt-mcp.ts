/**
 * What an agent process may do in its rig room, in one place: the agent's environment, the seven
 * agent tools (their input schemas, defaults and retry policy), and an MCP server exposing them on
 * stdio. `gt` (container/gt.ts) is the same tools as shell commands; both go through `callAgentTool`.
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
import { describeIssues, rigToolArgs, SLUG_RE, ULID_RE, type RigTool } from "../party/protocol.ts";

// ---------------------------------------------------------------------------------------------
// Environment (DESIGN §9: the container gives every agent these)

export type GtEnv = {
  /** `host:port` of the Townhall server. */
  host: string;
  secure: boolean;
  town: string;
  /** The rig id (not its name). */
  rig: string;
  /** The agent's identity as the container announced it, e.g. `alpha/polecats/toast`; informative only. */
  agent: string | null;
  token: string;
  /** The hooked bead, when the agent was started for one. */
  bead: string | null;
};

/** Bad invocation: a missing or invalid variable, option or argument. `gt` exits 2. */
export class GtUsageError extends Error {
  override name = "GtUsageError";
}

/** The server could not be reached (or answered something that is not a tool reply). `gt` exits 4. */
export class GtUnreachableError extends Error {
  override name = "GtUnreachableError";
}

/** Reads and checks the agent's environment; throws GtUsageError naming the first bad variable. */
export function readGtEnv(source: Record<string, string | undefined> = process.env): GtEnv {
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
  const rig = need("GT_RIG");
  const token = need("GT_TOKEN");
  const secureText = (source.GT_SECURE ?? "").trim();
  if (!["", "0", "1", "false", "true"].includes(secureText)) {
    throw new GtUsageError(`environment variable GT_SECURE must be 1 (https) or 0 (http), got ${JSON.stringify(secureText)}`);
  }
  const bead = source.GT_BEAD?.trim() || null;
  if (bead !== null && !ULID_RE.test(bead)) throw new GtUsageError(`environment variable GT_BEAD must be a bead id (a ULID), got ${JSON.stringify(bead)}`);
  return { host, secure: secureText === "1" || secureText === "true", town, rig, agent: source.GT_AGENT?.trim() || null, token, bead };
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
// The agent tools

type AgentTool<S extends z.ZodObject = z.ZodObject> = {
  /** One line an LLM can act on. */
  description: string;
  /** What the agent passes: the protocol's schema without `as` (an agent always acts as itself). */
  input: S;
  /** Fills what the agent may leave out (hooked bead, git branch, mail id); runs once per call, before any retry. */
  complete?: (args: z.infer<S>, env: GtEnv) => Record<string, unknown>;
  /**
   * Safe to send again after a network failure mid-request (the server stores it once). Every tool
   * is retried when the connection was refused, since then nothing reached the server.
   */
  idempotent: boolean;
  readOnly?: boolean;
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
    description: "Fetch your unread mail and mark it read: each mail is returned once, so act on it or note it in a checkpoint.",
    input: rigToolArgs.gt_mail_check.omit({ as: true }),
    idempotent: false,
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
    complete: (args) => ({ ...args, branch: args.branch ?? currentGitBranch() }),
    idempotent: true, // a repeated done of the bead handed in answers the same
  }),
  gt_escalate: agentTool({
    description: "Ask a person for help with a problem you cannot resolve alone; it stays open on the dashboard until resolved.",
    // No `id`: chosen here once per call, so a resend after a network failure is recorded once.
    input: describeFields(rigToolArgs.gt_escalate.omit({ as: true, id: true }), {
      severity: "low, medium, high or critical (critical: work is blocked)",
      bead_id: "the bead it is about (a ULID); default: your hooked bead, if any",
    }),
    complete: (args, env) => {
      const bead = args.bead_id ?? env.bead;
      return { ...args, id: newId(), ...(bead ? { bead_id: bead } : {}) };
    },
    idempotent: true,
  }),
  gt_checkpoint: agentTool({
    description: "Save your working notes (replacing the previous ones); gt_prime returns them, so a restarted session resumes where you were.",
    input: describeFields(rigToolArgs.gt_checkpoint.omit({ as: true }), { data: "free text, up to 16 KiB" }),
    idempotent: true,
  }),
} satisfies Partial<Record<RigTool, AgentTool<any>>>;

export type AgentToolName = keyof typeof AGENT_TOOLS;

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
 * defaults, and calls the rig room over HTTP with the agent token. Resolves with the tool's value;
 * rejects with ToolCallError (the tool answered an error), GtUsageError or GtUnreachableError.
 * Network failures are retried up to 3 times with the same arguments (so the same mail id).
 */
export async function callAgentTool<T = unknown>(env: GtEnv, name: AgentToolName, args: Record<string, unknown> = {}): Promise<T> {
  const tool = AGENT_TOOLS[name] as AgentTool;
  const parsed = tool.input.safeParse(args);
  if (!parsed.success) throw new GtUsageError(describeIssues(parsed.error));
  const wire = tool.complete ? tool.complete(parsed.data, env) : parsed.data;
  const address = { host: env.host, secure: env.secure, party: "rig" as const, room: `${env.town}.${env.rig}`, token: env.token };
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
 * Serves the agent tools over MCP on stdin/stdout until stdin closes, then exits the process.
 * Resolves with the server once it is connected.
 */
export async function startMcpServer(env: GtEnv): Promise<McpServer> {
  // stdout is the transport: keep stray logging of any module off it.
  console.log = console.info = console.debug = (...args: unknown[]) => console.error(...args);
  const who = env.agent ?? "this rig's agent";
  const server = new McpServer(
    { name: "gt", version: "1.0.0" },
    {
      instructions:
        `Gas Town tools for ${who} (town ${env.town}). Call gt_prime first: it shows your hooked bead (your task), ` +
        "unread mail and checkpoint. Commit your work, then call gt_done. Use gt_mail_send to talk to other agents, " +
        "gt_checkpoint to save notes, gt_escalate when you are blocked.",
    },
  );
  for (const name of Object.keys(AGENT_TOOLS) as AgentToolName[]) {
    const tool = AGENT_TOOLS[name] as AgentTool;
    server.registerTool(
      name,
      {
        description: tool.description,
        inputSchema: tool.input,
        annotations: { readOnlyHint: tool.readOnly ?? false, destructiveHint: false, idempotentHint: tool.idempotent, openWorldHint: false },
      },
      (args: Record<string, unknown>) => mcpToolResult(env, name, args),
    );
  }
  const transport = new StdioServerTransport();
  transport.onerror = (error) => console.error("gt mcp: transport error:", error);
  process.stdin.once("end", () => {
    void server.close().finally(() => process.exit(0));
  });
  await server.connect(transport);
  return server;
}
