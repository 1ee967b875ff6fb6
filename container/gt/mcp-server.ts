/**
 * `gt mcp`: the agent's tools (a rig agent's, or the Mayor's in Mayor mode; tools.ts)
 * served over MCP on stdio. gt loads this module, the MCP SDK and zod only for `gt mcp`.
 *
 * MCP mode owns stdout: it carries the protocol and nothing else, so every diagnostic goes to stderr.
 */
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { ToolCallError } from "../../client/tool-http.ts";
import { acknowledgeMail, callAgentTool } from "./call.ts";
import type { GtEnv } from "./env.ts";
import { GtUnreachableError, GtUsageError } from "./errors.ts";
import { toolsOf, type AgentToolName } from "./tools.ts";
import { inputOf } from "./schemas.ts";
import { nudgeText, takeNudges } from "./nudge.ts";

function errorResult(code: string, message: string): CallToolResult {
  return { isError: true, content: [{ type: "text", text: `${code}: ${message}` }] };
}

/** Runs one tool for MCP: the JSON value as text, or an error result (never a protocol error). */
export async function mcpToolResult(env: GtEnv, name: AgentToolName, args: Record<string, unknown>): Promise<CallToolResult> {
  const result = await toolResult(env, name, args);
  // The witness's nudge rode on this call's reply: the model reads it with the result (after the value, which stays first).
  const nudges = takeNudges();
  return nudges.length ? { ...result, content: [...result.content, ...nudges.map((n) => ({ type: "text" as const, text: nudgeText(n) }))] } : result;
}

async function toolResult(env: GtEnv, name: AgentToolName, args: Record<string, unknown>): Promise<CallToolResult> {
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
        inputSchema: inputOf(env.mode, name)!,
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
