/**
 * Gemini CLI (`@google/gemini-cli`) as a polecat, run as its users run it unattended:
 *
 *   GEMINI_CLI_HOME=<run> GEMINI_CLI_TRUST_WORKSPACE=true
 *   gemini --approval-mode yolo --output-format stream-json --allowed-mcp-server-names gt
 *     [-m <model>] --prompt=<what gt prime prints>
 *
 * - `--approval-mode yolo`: every tool call is approved, no prompt can stall it; the worktree is
 *   trusted for the run (an untrusted folder would turn yolo down). The rig's user and our PID
 *   namespace and network rule are the boundary (container/sandbox.ts); its own sandbox stays off.
 * - `--output-format stream-json`: one JSON event a line: init (session, model), message (the
 *   user's prompt, then the model's text in pieces, `delta: true`), tool_use, tool_result, error,
 *   and a last result with the run's token counts per model. The run's parser (runParser) joins
 *   the pieces of a message into whole lines.
 * - The run's settings are Gemini's user settings in a Gemini home of the run's own
 *   (GEMINI_CLI_HOME=<run>: `<run>/.gemini/settings.json`). A system settings file would outrank
 *   the user's without hiding them, but Gemini reads one only when it and every directory above it
 *   are owned by root, and the run's directory is the rig user's. They register `gt mcp` with the
 *   GT_* variables written `$NAME` (Gemini fills them from its own environment, so the file holds
 *   no value: the run's token), trusted (no confirmation); they select the API key as the way to
 *   authenticate (GEMINI_API_KEY, given to the rig with --agent-env or its secrets file; a gateway
 *   with GOOGLE_GEMINI_BASE_URL too), and turn off the updater and usage statistics.
 *   `--allowed-mcp-server-names gt` loads no other MCP server (the repository's). An AfterTool hook
 *   runs `gt mail check --inject AfterTool` after every tool call: its JSON's `additionalContext`
 *   (new mail, the witness's nudge) goes to the model with the tool's result.
 *   Its session files go there as well, and are deleted with the run.
 * - The prompt is given as `--prompt=<text>`, one argument, so a prompt that starts with `-` is not
 *   taken for an option.
 *
 * Gemini reports tokens (input, of which cached, and output) and no cost: an operator's prices
 * file (--prices) gives it.
 */
import { join } from "node:path";
import type { Usage } from "../../party/protocol.ts";
import { count, jsonObject, record, shortInput, text } from "./events.ts";
import type { AgentEvent, Launch, Preset, RunSpec } from "./types.ts";

/** Silence the witness waits out (docs/lifecycle.md W8): a tool such as a long test run prints nothing until it ends. */
const IDLE_MS = 15 * 60_000;
/** How long a `gt` tool may take over MCP (`gt done` on a busy rig). */
const GT_TOOL_TIMEOUT_MS = 600_000;

/** The run's usage from a result event's stats: input without its cached part, which is counted apart; the main model is the one that wrote most. */
export function usageOfStats(stats: unknown, fallbackModel: string | null): Usage {
  const s = record(stats);
  const models = Object.entries(record(s.models)).map(([name, m]) => [name, record(m)] as const);
  const main = models.sort(([, a], [, b]) => count(b.output_tokens) - count(a.output_tokens))[0]?.[0] ?? fallbackModel;
  const cached = count(s.cached);
  const input = typeof s.input === "number" ? count(s.input) : Math.max(0, count(s.input_tokens) - cached);
  return { model: main, turns: null, inputTokens: input, outputTokens: count(s.output_tokens), cacheReadTokens: cached, cacheWriteTokens: 0, costUsd: null };
}

/** A run's parser: joins the model's text pieces into whole messages (shown when something else happens), and knows the run's model. */
export class GeminiRun {
  private pending = "";

  constructor(private model: string | null) {}

  line = (line: string): AgentEvent[] => {
    const event = jsonObject(line);
    if (!event || typeof event.type !== "string") return [];
    if (event.type === "message" && event.role === "assistant" && event.delta === true) {
      this.pending += typeof event.content === "string" ? event.content : "";
      return [{ kind: "progress" }];
    }
    const said = this.flush();
    const events = this.of(event);
    return said ? [said, ...events] : events;
  };

  private flush(): AgentEvent | null {
    const said = this.pending.trim();
    this.pending = "";
    return said ? { kind: "text", text: said } : null;
  }

  private of(event: Record<string, unknown>): AgentEvent[] {
    switch (event.type) {
      case "init":
        if (typeof event.model === "string" && event.model) this.model = event.model;
        return [{ kind: "progress" }];
      case "message": {
        // The user's prompt is the run's own; a whole assistant message (not in pieces) is shown as it is.
        const said = event.role === "assistant" ? text(event.content) : null;
        return said ? [{ kind: "text", text: said.trim() }] : [{ kind: "progress" }];
      }
      case "tool_use":
        return [
          {
            kind: "tool",
            name: String(event.tool_name ?? "tool"),
            input: shortInput(event.parameters),
            ...(typeof event.tool_id === "string" ? { id: event.tool_id } : {}),
          },
        ];
      case "tool_result": {
        const ok = event.status === "success";
        const failure = ok ? null : (text(record(event.error).message) ?? text(event.output) ?? String(event.status ?? "error"));
        return [{ kind: "tool_result", ok, ...(typeof event.tool_id === "string" ? { id: event.tool_id } : {}), ...(failure ? { text: failure } : {}) }];
      }
      case "error": {
        const said = text(event.message);
        return said ? [{ kind: "error", text: event.severity === "warning" ? `warning: ${said}` : said }] : [{ kind: "progress" }];
      }
      case "result": {
        const ok = event.status === "success";
        const failure = ok ? null : (text(record(event.error).message) ?? String(event.status ?? "error"));
        return [{ kind: "result", ok, ...(failure ? { text: failure } : {}), usage: usageOfStats(event.stats, this.model) }];
      }
      default:
        return [{ kind: "progress" }];
    }
  }
}

export const gemini: Preset = {
  name: "gemini",
  binaries: ["gemini"],
  keyVars: ["GEMINI_API_KEY", "GOOGLE_API_KEY"],
  idleMs: IDLE_MS,
  launch(spec: RunSpec, binary: string): Launch {
    const settings = join(spec.runDir, ".gemini", "settings.json");
    const env = Object.fromEntries(Object.keys(spec.gtEnv).map((name) => [name, `$${name}`]));
    const content = {
      security: { auth: { selectedType: "gemini-api-key" } },
      general: { enableAutoUpdate: false, enableAutoUpdateNotification: false },
      privacy: { usageStatisticsEnabled: false },
      mcpServers: { gt: { command: spec.gt, args: ["mcp"], env, trust: true, timeout: GT_TOOL_TIMEOUT_MS } },
      hooks: { AfterTool: [{ matcher: "*", hooks: [{ type: "command", command: `${shellQuote(spec.gt)} mail check --inject AfterTool` }] }] },
    };
    return {
      file: binary,
      args: [
        "--approval-mode",
        "yolo",
        "--output-format",
        "stream-json",
        "--allowed-mcp-server-names",
        "gt",
        ...(spec.model ? ["-m", spec.model] : []),
        `--prompt=${spec.prompt}`,
      ],
      env: { GEMINI_CLI_HOME: spec.runDir, GEMINI_CLI_TRUST_WORKSPACE: "true" },
      files: [{ path: settings, content: `${JSON.stringify(content, null, 2)}\n` }],
    };
  },
  // Alone, a line's text piece is shown as it came (only a run's parser can join pieces).
  parse: (line) => {
    const event = jsonObject(line);
    if (event?.type === "message" && event.role === "assistant" && event.delta === true) {
      const said = text(event.content);
      return said ? [{ kind: "text", text: said }] : [{ kind: "progress" }];
    }
    return new GeminiRun(null).line(line);
  },
  runParser: (spec) => new GeminiRun(spec.model).line,
};

/** A word for the shell that runs a hook's command. */
function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:@%+=-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
