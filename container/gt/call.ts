/**
 * Calling an agent's tools: over HTTP to its room (the rig room, or the town room for the Mayor and
 * an operator's town tools), with the tool's defaults filled in, retried after a network failure,
 * and the handed-over mail acknowledged afterwards. gt's commands and `gt mcp` both call through here.
 */
import { ToolCallError } from "../../client/tool-http.ts";
import type { GtEnv } from "./env.ts";
import { GtUnreachableError, GtUsageError } from "./errors.ts";
import { postTool } from "./http.ts";
import { gtTool, type AgentToolName } from "./tools.ts";

const RETRY_DELAYS_MS = [250, 500, 1000];
const ATTEMPT_TIMEOUT_MS = 30_000;

/** A failure of the request itself (no tool reply); `refused` when nothing reached the server. */
function networkFailure(error: unknown): { refused: boolean; detail: string } {
  const cause = (error as { cause?: { code?: string; errors?: { code?: string }[]; message?: string } }).cause;
  const code = cause?.code ?? cause?.errors?.[0]?.code;
  if (error instanceof SyntaxError) return { refused: false, detail: `the reply was not a tool reply (${error.message})` };
  return { refused: code === "ECONNREFUSED", detail: code ?? cause?.message ?? (error as Error).message ?? String(error) };
}

/** The room a tool is called in: the town room (the main party), or the rig room of GT_RIG_ID (or GT_RIG). */
function roomAddress(env: GtEnv, room: "rig" | "town") {
  return room === "town"
    ? { host: env.host, secure: env.secure, party: "main" as const, room: env.town, token: env.token }
    : { host: env.host, secure: env.secure, party: "rig" as const, room: `${env.town}.${env.rig}`, token: env.token };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`no reply in ${ms} ms`), { cause: { code: "ETIMEDOUT" } })), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Fills the tool's defaults in `args` and calls the agent's room over HTTP with the agent token: the
 * rig room, or the town room in Mayor mode. Resolves with the tool's value; rejects with
 * ToolCallError (the tool answered an error), GtUsageError (arguments the tool's agent schema
 * refuses, naming each field; also a tool of the other mode) or GtUnreachableError. Network
 * failures are retried up to 3 times with the same arguments (so the same mail, bead or convoy id).
 *
 * The arguments are checked against the schema only once something failed (filling the defaults,
 * the first attempt, or the tool's answer), before that failure is reported: the room checks them
 * with the same schemas, so a call that succeeds never loads zod, and one with a bad argument still
 * ends in GtUsageError (exit 2), with or without a server.
 */
export async function callAgentTool<T = unknown>(
  env: GtEnv,
  name: AgentToolName,
  args: Record<string, unknown> = {},
  /** A tool both rooms have (gt_audit): the room to call it in, over the one gtTool names. */
  inRoom?: "rig" | "town",
): Promise<T> {
  const found = gtTool(env, name);
  if (!found) {
    throw new GtUsageError(
      env.mode === "mayor" ? `${name} is a rig agent's tool, and GT_AGENT=mayor is the Mayor` : `${name} is the Mayor's tool (GT_AGENT=mayor)`,
    );
  }
  const { tool } = found;
  const room = inRoom ?? found.room;
  if (room === "rig" && !env.rig)
    throw new GtUsageError("environment variables GT_RIG_ID and GT_RIG are not set (the id of the rig to act in: GT_RIG_ID, or GT_RIG when it holds the id)");
  let wire: Record<string, unknown>;
  try {
    wire = tool.complete ? tool.complete(args, env) : args;
  } catch (error) {
    await checkArgs(env, name, args); // a bad argument is the error to report, as when it was checked first
    throw error;
  }
  const address = roomAddress(env, room);
  for (let attempt = 0; ; attempt++) {
    try {
      return await withTimeout(postTool<T>(address, name, wire), ATTEMPT_TIMEOUT_MS);
    } catch (error) {
      if (attempt === 0) await checkArgs(env, name, args);
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

/** Throws GtUsageError when the tool's agent schema refuses `args`; loads zod (schemas.ts) to tell. */
async function checkArgs(env: Pick<GtEnv, "mode">, name: AgentToolName, args: Record<string, unknown>): Promise<void> {
  const { checkToolArgs } = await import("./schemas.ts");
  checkToolArgs(env, name, args);
}

/**
 * Marks handed-over mail read (gt_mail_ack). A failure is not the caller's: the mail is simply
 * handed out again next time (at least once), with the same ids.
 */
export async function acknowledgeMail(env: GtEnv, mail: readonly { id: string }[]): Promise<string | null> {
  if (!mail.length) return null;
  const address = roomAddress(env, env.mode === "mayor" ? "town" : "rig");
  try {
    await withTimeout(postTool(address, "gt_mail_ack", { ids: mail.map((m) => m.id) }), ATTEMPT_TIMEOUT_MS);
    return null;
  } catch (error) {
    return `could not mark ${mail.length} mail read (${(error as Error).message}); it will be handed out again`;
  }
}
