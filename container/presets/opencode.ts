/**
 * opencode (`opencode-ai`) as a polecat, run as its users run it unattended:
 *
 *   OPENCODE_CONFIG=<run>/opencode.json OPENCODE_PERMISSION='{"*":"allow"}'
 *   opencode run --format json --auto [-m <provider/model>] -- <what gt prime prints>
 *
 * - `OPENCODE_PERMISSION` allows every tool (no rule asks), and `--auto` approves whatever would
 *   still ask: no permission prompt can stall it (without them `run` rejects what asks). The rig's
 *   user and our PID namespace and network rule are the boundary (container/sandbox.ts).
 * - `--format json`: one JSON event a line: step_start, text (a whole text part, once it ended),
 *   tool_use (a tool call once it completed or failed, with its input and output), step_finish (the
 *   step's tokens and cost), error. It prints no final summary: the run's usage is the sum of its
 *   steps, made by the run's parser (runParser), and its result is the step that finished for a
 *   reason other than calling tools.
 * - `opencode.json` (OPENCODE_CONFIG, merged over the user's and the project's config) registers
 *   `gt mcp` as a local MCP server whose environment names the GT_* variables as `{env:NAME}`:
 *   opencode fills them from its own environment, so the file holds no value (the run's token).
 *   It also turns off the updater, sharing (a session must not be published) and its undo
 *   snapshots (a git copy of each worktree kept in the rig's HOME, which its polecats share).
 * - The prompt comes last, after `--`, so a prompt that starts with `-` is not taken for an option.
 *
 * The model is opencode's `provider/model` (`anthropic/claude-sonnet-4-5`, `openai/gpt-5`); its
 * login (`opencode auth login`) is kept in the rig's HOME (~/.local/share/opencode/auth.json), or a
 * provider's variable (ANTHROPIC_API_KEY, OPENAI_API_KEY, …) gives the key. It reports each step's
 * cost from its model catalog; where that is 0 (a model it has no price for) the cost is unknown.
 */
import { join } from "node:path";
import type { Usage } from "../../party/protocol.ts";
import { count, jsonObject, record, text, shortInput } from "./events.ts";
import type { AgentEvent, Launch, Preset, RunSpec } from "./types.ts";

/** Silence the witness waits out (docs/lifecycle.md W8): opencode prints a text or a tool call only once it is whole. */
const IDLE_MS = 15 * 60_000;
/** How long opencode waits for gt mcp to list its tools (its default of 5 s is short on a busy machine). */
const MCP_TIMEOUT_MS = 30_000;

/** The tokens and cost of one step (a step_finish part): input without cache reads; output with reasoning, as both are billed. */
function stepUsage(part: Record<string, unknown>): Omit<Usage, "model" | "turns"> {
  const tokens = record(part.tokens);
  const cache = record(tokens.cache);
  const cost = part.cost;
  return {
    inputTokens: count(tokens.input),
    outputTokens: count(tokens.output) + count(tokens.reasoning),
    cacheReadTokens: count(cache.read),
    cacheWriteTokens: count(cache.write),
    costUsd: typeof cost === "number" && Number.isFinite(cost) && cost > 0 ? cost : null,
  };
}

function errorMessage(error: unknown): string {
  const e = record(error);
  return text(record(e.data).message) ?? text(e.message) ?? text(e.name) ?? "opencode reported an error";
}

/** A run's parser: sums its steps' usage, so its result carries the whole run's. */
export class OpencodeRun {
  private usage: Usage;

  constructor(model: string | null) {
    this.usage = { model, turns: 0, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, costUsd: null };
  }

  line = (line: string): AgentEvent[] => {
    const event = jsonObject(line);
    if (!event || typeof event.type !== "string") return [];
    const part = record(event.part);
    switch (event.type) {
      case "text": {
        const said = text(part.text);
        return said ? [{ kind: "text", text: said.trim() }] : [{ kind: "progress" }];
      }
      case "tool_use": {
        const state = record(part.state);
        const id = typeof part.callID === "string" ? { id: part.callID } : {};
        // Its shell tool completes whatever the command's exit code: a non-zero one (metadata.exit) is a failure.
        const exit = record(state.metadata).exit;
        const ok = state.status === "completed" && !(typeof exit === "number" && exit !== 0);
        const said = text(state.error) ?? text(state.output);
        const failure = ok
          ? null
          : typeof exit === "number" && exit !== 0
            ? `exit ${exit}${said ? `: ${said}` : ""}`
            : (said ?? String(state.status ?? "failed"));
        return [
          { kind: "tool", name: String(part.tool ?? "tool"), input: shortInput(state.input), ...id },
          { kind: "tool_result", ok, ...id, ...(failure ? { text: failure } : {}) },
        ];
      }
      case "step_finish": {
        const step = stepUsage(part);
        const u = this.usage;
        this.usage = {
          ...u,
          turns: (u.turns ?? 0) + 1,
          inputTokens: u.inputTokens + step.inputTokens,
          outputTokens: u.outputTokens + step.outputTokens,
          cacheReadTokens: u.cacheReadTokens + step.cacheReadTokens,
          cacheWriteTokens: u.cacheWriteTokens + step.cacheWriteTokens,
          costUsd: step.costUsd === null ? u.costUsd : Math.round(((u.costUsd ?? 0) + step.costUsd) * 1e10) / 1e10,
        };
        // A step that called tools is followed by another; any other reason (stop, length, …) ends the run.
        if (part.reason === "tool-calls") return [{ kind: "progress" }];
        const ok = part.reason === "stop" || part.reason === undefined;
        return [{ kind: "result", ok, ...(ok ? {} : { text: `stopped: ${String(part.reason)}` }), usage: { ...this.usage } }];
      }
      case "error": {
        // opencode ends the run on a session error: the run's result, with what it used until then.
        const said = errorMessage(event.error);
        return [
          { kind: "error", text: said },
          { kind: "result", ok: false, text: said, usage: { ...this.usage } },
        ];
      }
      default:
        return [{ kind: "progress" }]; // step_start, reasoning, whatever a later version adds: the agent is at work
    }
  };
}

export const opencode: Preset = {
  name: "opencode",
  binaries: ["opencode"],
  keyVars: ["ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GOOGLE_GENERATIVE_AI_API_KEY", "OPENROUTER_API_KEY", "OPENCODE_API_KEY"],
  idleMs: IDLE_MS,
  launch(spec: RunSpec, binary: string): Launch {
    const config = join(spec.runDir, "opencode.json");
    const environment = Object.fromEntries(Object.keys(spec.gtEnv).map((name) => [name, `{env:${name}}`]));
    const content = {
      $schema: "https://opencode.ai/config.json",
      autoupdate: false,
      share: "disabled",
      // Its undo snapshots (a git repository per worktree, kept in the rig's shared HOME) would pile up; the worktree is git already.
      snapshot: false,
      mcp: { gt: { type: "local", command: [spec.gt, "mcp"], environment, enabled: true, timeout: MCP_TIMEOUT_MS } },
    };
    return {
      file: binary,
      args: ["run", "--format", "json", "--auto", ...(spec.model ? ["-m", spec.model] : []), "--", spec.prompt],
      env: { OPENCODE_CONFIG: config, OPENCODE_PERMISSION: JSON.stringify({ "*": "allow" }), OPENCODE_DISABLE_AUTOUPDATE: "1" },
      files: [{ path: config, content: `${JSON.stringify(content, null, 2)}\n` }],
    };
  },
  parse: (line) => new OpencodeRun(null).line(line),
  runParser: (spec) => new OpencodeRun(spec.model).line,
};
