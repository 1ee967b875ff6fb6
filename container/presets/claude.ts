/**
 * Claude Code (`@anthropic-ai/claude-code`) as a polecat, run as its users run it unattended:
 *
 *   claude -p --dangerously-skip-permissions --output-format stream-json --verbose
 *     --include-partial-messages --no-session-persistence
 *     --mcp-config <run>/mcp.json --strict-mcp-config --settings <run>/settings.json
 *     [--model <m>] -- <what gt prime prints>
 *
 * - `--dangerously-skip-permissions`: no permission prompt can stall it; Claude Code refuses it as
 *   root, and agents run as their rig's user. Its own sandbox stays off (`sandbox.enabled: false` in
 *   the run's settings, which outrank the user's and the repository's): the rig's user and our PID
 *   namespace and network rule are the boundary (container/sandbox.ts).
 * - `--output-format stream-json --verbose`: one JSON event a line (`system`, `assistant`, `user`,
 *   `result`); `--include-partial-messages` adds a `stream_event` line for every piece of the model's
 *   stream, so a model that thinks for minutes still shows signs of life (each is progress).
 * - `--no-session-persistence`: no transcript piles up in the rig's HOME (its polecats share it).
 * - `mcp.json` registers `gt mcp` with the GT_* variables named one by one (`${GT_TOKEN}` and so
 *   on: Claude Code expands them from its own environment, so no token is written to disk);
 *   `--strict-mcp-config` loads no other MCP server (a user's or the repository's).
 * - `settings.json` hooks `gt mail check --inject <event>` after every tool call, successful
 *   (PostToolUse) or not (PostToolUseFailure): new mail, and the witness's nudge, reach the model
 *   before its next request, as the hook's `additionalContext`.
 * - No SessionStart or UserPromptSubmit hook: the prompt is already what `gt prime` prints (the role,
 *   the bead, unread mail), and in print mode the one prompt is submitted at the start.
 * - The prompt comes last, after `--`, so a prompt that starts with `-` is not taken for an option.
 */
import { join } from "node:path";
import type { Usage } from "../../party/protocol.ts";
import type { AgentEvent, Launch, Preset, RunSpec } from "./types.ts";

/** Silence the witness waits out (docs/lifecycle.md W8): a tool such as a long test run prints nothing to the stream until it ends. */
const IDLE_MS = 15 * 60_000;

/** A tool's input in a line: the field that says most, else its JSON, cut short. */
const INPUT_KEYS = ["command", "file_path", "path", "pattern", "url", "query", "prompt", "description"];
const SHORT_INPUT = 200;

function shortInput(input: unknown): string {
  if (input === null || typeof input !== "object") return short(String(input ?? ""));
  const record = input as Record<string, unknown>;
  const key = INPUT_KEYS.find((k) => typeof record[k] === "string" && record[k]);
  return short(key ? (record[key] as string) : JSON.stringify(record));
}

function short(text: string, max = SHORT_INPUT): string {
  const one = text.replace(/\s*\n\s*/g, " ⏎ ").trim();
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}

/** The text of a tool result's content (a string, or text blocks). */
function resultText(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content))
    return content
      .map((b) => (b && typeof b === "object" && typeof (b as { text?: unknown }).text === "string" ? (b as { text: string }).text : ""))
      .filter(Boolean)
      .join("\n");
  return "";
}

const count = (value: unknown): number => (typeof value === "number" && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0);

/**
 * The run's usage from the `result` event: its tokens, turns, main model (the one that wrote most)
 * and cost. Claude Code prices a model it does not know all the same (`costBasis: "unknown"` in
 * `modelUsage`): such a cost is a guess, so it is reported as none, and the operator's prices file
 * (--prices) prices the run instead.
 */
export function usageOfResult(event: Record<string, unknown>): Usage {
  const usage = (event.usage ?? {}) as Record<string, unknown>;
  const models = Object.entries((event.modelUsage ?? {}) as Record<string, Record<string, unknown>>);
  const main = models.sort(([, a], [, b]) => count(b?.outputTokens) - count(a?.outputTokens))[0]?.[0] ?? null;
  const guessed = models.some(([, m]) => m?.costBasis === "unknown");
  const cost = event.total_cost_usd;
  return {
    model: main,
    turns: typeof event.num_turns === "number" ? count(event.num_turns) : null,
    inputTokens: count(usage.input_tokens),
    outputTokens: count(usage.output_tokens),
    cacheReadTokens: count(usage.cache_read_input_tokens),
    cacheWriteTokens: count(usage.cache_creation_input_tokens),
    costUsd: typeof cost === "number" && Number.isFinite(cost) && cost >= 0 && !guessed ? cost : null,
  };
}

function parseLine(line: string): AgentEvent[] {
  let event: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(line);
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) return [];
    event = parsed as Record<string, unknown>;
  } catch {
    return []; // not one of its events: the container shows the line as it is
  }
  switch (event.type) {
    case "assistant": {
      const content = (event.message as { content?: unknown } | undefined)?.content;
      const events: AgentEvent[] = [];
      for (const block of Array.isArray(content) ? content : []) {
        if (block?.type === "text" && typeof block.text === "string" && block.text.trim()) events.push({ kind: "text", text: block.text });
        else if (block?.type === "tool_use")
          events.push({ kind: "tool", name: String(block.name ?? "tool"), input: shortInput(block.input), ...(block.id ? { id: String(block.id) } : {}) });
      }
      if (typeof event.error === "string") events.push({ kind: "error", text: event.error });
      return events.length ? events : [{ kind: "progress" }];
    }
    case "user": {
      const content = (event.message as { content?: unknown } | undefined)?.content;
      const events: AgentEvent[] = [];
      for (const block of Array.isArray(content) ? content : []) {
        if (block?.type !== "tool_result") continue;
        const text = resultText(block.content);
        events.push({
          kind: "tool_result",
          ok: block.is_error !== true,
          ...(block.tool_use_id ? { id: String(block.tool_use_id) } : {}),
          ...(text ? { text } : {}),
        });
      }
      return events.length ? events : [{ kind: "progress" }];
    }
    case "result": {
      const ok = event.subtype === "success" && event.is_error !== true;
      const errors = Array.isArray(event.errors) ? event.errors.filter((e): e is string => typeof e === "string") : [];
      const text = typeof event.result === "string" && event.result ? event.result : errors.join("; ") || (ok ? undefined : String(event.subtype ?? "error"));
      return [{ kind: "result", ok, ...(text ? { text } : {}), usage: usageOfResult(event) }];
    }
    case "system": {
      if (event.subtype === "api_retry") {
        const status = event.error_status ? ` ${event.error_status}` : "";
        return [{ kind: "error", text: `model API error${status} (${event.error ?? "unknown"}): retrying, attempt ${event.attempt} of ${event.max_retries}` }];
      }
      if (event.subtype === "init") {
        const servers = Array.isArray(event.mcp_servers) ? (event.mcp_servers as { name?: unknown; status?: unknown }[]) : [];
        const failed = servers.filter((s) => s?.status !== "connected" && s?.status !== "pending");
        if (failed.length) return failed.map((s) => ({ kind: "error", text: `MCP server ${String(s.name)} is ${String(s.status)}` }));
      }
      return [{ kind: "progress" }];
    }
    default:
      return [{ kind: "progress" }]; // stream_event and whatever a later version adds: the agent is at work
  }
}

export const claude: Preset = {
  name: "claude",
  binaries: ["claude"],
  keyVars: ["ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN"],
  idleMs: IDLE_MS,
  launch(spec: RunSpec, binary: string): Launch {
    const mcpConfig = join(spec.runDir, "mcp.json");
    const settings = join(spec.runDir, "settings.json");
    const env = Object.fromEntries(Object.keys(spec.gtEnv).map((name) => [name, `\${${name}}`]));
    const inject = (event: string) => ({
      matcher: "*",
      hooks: [{ type: "command", command: `${shellQuote(spec.gt)} mail check --inject ${event}`, timeout: 30 }],
    });
    return {
      file: binary,
      args: [
        "-p",
        "--dangerously-skip-permissions",
        "--output-format",
        "stream-json",
        "--verbose",
        "--include-partial-messages",
        "--no-session-persistence",
        "--mcp-config",
        mcpConfig,
        "--strict-mcp-config",
        "--settings",
        settings,
        ...(spec.model ? ["--model", spec.model] : []),
        "--",
        spec.prompt,
      ],
      // Its updater would write into the shared install as the rig's user (and fail): versions are the operator's to choose.
      // Its non-essential traffic (telemetry, error reports, the gateway's hello) would leave the machine for no work of the bead's.
      env: { DISABLE_AUTOUPDATER: "1", CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1" },
      files: [
        { path: mcpConfig, content: `${JSON.stringify({ mcpServers: { gt: { type: "stdio", command: spec.gt, args: ["mcp"], env } } }, null, 2)}\n` },
        {
          path: settings,
          content: `${JSON.stringify({ sandbox: { enabled: false }, hooks: { PostToolUse: [inject("PostToolUse")], PostToolUseFailure: [inject("PostToolUseFailure")] } }, null, 2)}\n`,
        },
      ],
    };
  },
  parse: parseLine,
};

function shellQuote(text: string): string {
  return /^[A-Za-z0-9_./:@%+=-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
