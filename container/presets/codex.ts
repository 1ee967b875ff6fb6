/**
 * Codex (`@openai/codex`) as a polecat, run as its users run it unattended:
 *
 *   codex exec --json --dangerously-bypass-approvals-and-sandbox --ephemeral --skip-git-repo-check
 *     --color never -C <worktree> [-m <model>]
 *     -c mcp_servers.gt={command=<gt>, args=["mcp"], env_vars=[GT_HOST, GT_TOKEN, …], …}
 *     -c check_for_update_on_startup=false
 *     -- <what gt prime prints>
 *
 * - `exec`: one task, no terminal, then exit; stdin is closed (the launcher's), so it reads no more
 *   input than the prompt.
 * - `--dangerously-bypass-approvals-and-sandbox`: no approval prompt can stall it, and its own
 *   sandbox (bubblewrap) stays off: the rig's user and our PID namespace and network rule are the
 *   boundary (container/sandbox.ts).
 * - `--json`: one JSON event a line (thread.started, turn.started, item.started/updated/completed of
 *   agent messages, reasoning, commands, file changes, MCP tool calls, web searches, then
 *   turn.completed with the turn's usage, or turn.failed, and top-level error events).
 * - `--ephemeral`: no session files pile up in the rig's HOME (its polecats share it). Codex keeps
 *   its login and its own config there (`~/.codex`), which is why CODEX_HOME is left alone.
 * - `gt mcp` is registered on the command line (`-c` takes TOML), not in a file: the entry names the
 *   GT_* variables (`env_vars`) that Codex passes to the server from its own environment, so no
 *   value (the run's token) is written anywhere or appears in an argument. Codex offers an MCP
 *   server's tools to the model as the namespace `mcp__gt`.
 * - Codex has hooks in Claude Code's form: a PostToolUse hook (`-c hooks.PostToolUse=…`) runs
 *   `gt mail check --inject PostToolUse` after every tool call, whose JSON puts new mail and the
 *   witness's nudge in front of the model before its next request (`additionalContext`). Codex runs
 *   a hook only once its user trusted it; `--dangerously-bypass-hook-trust` trusts the run's own
 *   (the command line is ours, and Codex warns of it in an event, which the parser leaves out).
 * - The prompt comes last, after `--`, so a prompt that starts with `-` is not taken for an option.
 *
 * Codex reports tokens (turn.completed.usage: input including cached, cached, output including
 * reasoning) and no cost, and names no model in its events: the run's usage takes the model the run
 * asked for (RunSpec.model), and an operator's prices file (--prices) gives its cost.
 */
import type { Usage } from "../../party/protocol.ts";
import { count, jsonObject, record, short, shortInput, text } from "./events.ts";
import type { AgentEvent, Launch, Preset, RunSpec } from "./types.ts";

/** Silence the witness waits out (docs/lifecycle.md W8): Codex prints nothing while the model thinks or a command runs. */
const IDLE_MS = 15 * 60_000;
/** How long a `gt` tool may take over MCP (Codex's default of 60 s is short for `gt done` on a busy rig). */
const GT_TOOL_TIMEOUT_S = 600;

const HOOK_TRUST_FLAG = "`--dangerously-bypass-hook-trust`";

/** A TOML basic string (JSON's escapes are TOML's for these). */
const toml = (value: string): string => JSON.stringify(value);
const tomlList = (values: readonly string[]): string => `[${values.map(toml).join(", ")}]`;

/** `/usr/bin/bash -lc 'git status'` → `git status`: the command the model asked for, without the shell Codex wraps it in. */
export function commandOf(command: string): string {
  const wrapped = /^(?:\S*\/)?(?:ba|z|da)?sh -l?c (?:'([\s\S]*)'|"([\s\S]*)")$/.exec(command);
  if (!wrapped) return command;
  // Quoted as a POSIX shell reads it: in single quotes nothing is escaped but the quote itself; in double quotes \ " $ ` are.
  return wrapped[1] !== undefined ? wrapped[1].replace(/'\\''|'"'"'/g, "'") : wrapped[2]!.replace(/\\([\\"$`])/g, "$1");
}

/** Codex's usage (turn.completed) as a run's: input without the cached part, which is counted apart. */
export function usageOf(usage: unknown, model: string | null): Usage {
  const u = record(usage);
  const input = count(u.input_tokens);
  const cached = Math.min(count(u.cached_input_tokens), input);
  return {
    model,
    turns: null, // codex exec is one turn of the conversation; it does not say how many model calls it made
    inputTokens: input - cached,
    outputTokens: count(u.output_tokens),
    cacheReadTokens: cached,
    cacheWriteTokens: count(u.cache_write_input_tokens),
    costUsd: null,
  };
}

function mcpResultText(result: Record<string, unknown>): string {
  const content = Array.isArray(result.content) ? result.content : [];
  return content
    .map((c) => text(record(c).text) ?? "")
    .filter(Boolean)
    .join("\n");
}

function itemEvents(phase: "started" | "updated" | "completed", item: Record<string, unknown>): AgentEvent[] {
  const id = typeof item.id === "string" ? { id: item.id } : {};
  switch (item.type) {
    case "agent_message": {
      const said = phase === "completed" ? text(item.text) : null;
      return said ? [{ kind: "text", text: said }] : [{ kind: "progress" }];
    }
    case "command_execution": {
      if (phase === "started") return [{ kind: "tool", name: "shell", input: short(commandOf(String(item.command ?? ""))), ...id }];
      if (phase === "updated") return [{ kind: "progress" }];
      const ok = item.status === "completed" && (item.exit_code === 0 || item.exit_code === undefined);
      const output = text(item.aggregated_output);
      const exit = typeof item.exit_code === "number" ? `exit ${item.exit_code}` : String(item.status ?? "failed");
      return [{ kind: "tool_result", ok, ...id, ...(ok ? {} : { text: output ? `${exit}: ${output}` : exit }) }];
    }
    case "mcp_tool_call": {
      const name = `mcp__${String(item.server ?? "mcp")}__${String(item.tool ?? "tool")}`;
      if (phase === "started") return [{ kind: "tool", name, input: shortInput(item.arguments), ...id }];
      if (phase === "updated") return [{ kind: "progress" }];
      const result = record(item.result);
      const error = text(record(item.error).message);
      const ok = item.status === "completed" && !error && result.is_error !== true && result.isError !== true;
      const said = error ?? mcpResultText(result);
      return [{ kind: "tool_result", ok, ...id, ...(ok || !said ? {} : { text: said }) }];
    }
    case "file_change": {
      // Reported once, when the patch is applied (or not).
      if (phase !== "completed") return [{ kind: "progress" }];
      const changes = Array.isArray(item.changes) ? item.changes.map(record) : [];
      const input = short(changes.map((c) => `${String(c.kind ?? "update")} ${String(c.path ?? "?")}`).join(", "));
      const ok = item.status === "completed";
      return [
        { kind: "tool", name: "apply_patch", input, ...id },
        { kind: "tool_result", ok, ...id, ...(ok ? {} : { text: String(item.status ?? "failed") }) },
      ];
    }
    case "web_search": {
      if (phase === "started") return [{ kind: "tool", name: "web_search", input: short(String(item.query ?? "")), ...id }];
      if (phase === "completed") return [{ kind: "tool_result", ok: true, ...id }];
      return [{ kind: "progress" }];
    }
    case "error": {
      const said = text(item.message);
      // The notice of the flag this preset gives (see above), not a problem of the run.
      if (said?.startsWith(HOOK_TRUST_FLAG)) return [{ kind: "progress" }];
      return said ? [{ kind: "error", text: said }] : [{ kind: "progress" }];
    }
    default:
      return [{ kind: "progress" }]; // reasoning, todo_list, whatever a later version adds: the agent is at work
  }
}

/** One line of `codex exec --json`; `model` is the run's (Codex's events do not name it). */
export function parseCodexLine(line: string, model: string | null = null): AgentEvent[] {
  const event = jsonObject(line);
  if (!event || typeof event.type !== "string") return [];
  switch (event.type) {
    case "item.started":
    case "item.updated":
    case "item.completed":
      return itemEvents(event.type.slice(5) as "started" | "updated" | "completed", record(event.item));
    case "turn.completed":
      return [{ kind: "result", ok: true, usage: usageOf(event.usage, model) }];
    case "turn.failed": {
      const said = text(record(event.error).message) ?? "the turn failed";
      return [{ kind: "result", ok: false, text: said, ...(event.usage ? { usage: usageOf(event.usage, model) } : {}) }];
    }
    case "error": {
      const said = text(event.message);
      return said ? [{ kind: "error", text: said }] : [{ kind: "progress" }];
    }
    default:
      return [{ kind: "progress" }]; // thread.started, turn.started
  }
}

export const codex: Preset = {
  name: "codex",
  binaries: ["codex"],
  keyVars: ["OPENAI_API_KEY", "CODEX_API_KEY"],
  idleMs: IDLE_MS,
  launch(spec: RunSpec, binary: string): Launch {
    const gt = [
      `command=${toml(spec.gt)}`,
      `args=${tomlList(["mcp"])}`,
      `env_vars=${tomlList(Object.keys(spec.gtEnv))}`,
      `startup_timeout_sec=30`,
      `required=true`,
      `tool_timeout_sec=${GT_TOOL_TIMEOUT_S}`,
    ].join(", ");
    return {
      file: binary,
      args: [
        "exec",
        "--json",
        "--dangerously-bypass-approvals-and-sandbox",
        "--dangerously-bypass-hook-trust",
        "--ephemeral",
        "--skip-git-repo-check",
        "--color",
        "never",
        "-C",
        spec.cwd,
        ...(spec.model ? ["-m", spec.model] : []),
        "-c",
        `mcp_servers.gt={${gt}}`,
        "-c",
        `hooks.PostToolUse=[{matcher="*", hooks=[{type="command", command=${toml(`${shellQuote(spec.gt)} mail check --inject PostToolUse`)}}]}]`,
        // Its update check would reach out at every start: versions are the operator's to choose.
        "-c",
        "check_for_update_on_startup=false",
        "--",
        spec.prompt,
      ],
      env: {},
      files: [],
    };
  },
  parse: (line) => parseCodexLine(line),
  runParser: (spec) => (line) => parseCodexLine(line, spec.model),
};

/** A word for the shell that runs a hook's command. */
function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:@%+=-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
