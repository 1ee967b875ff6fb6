/**
 * Runtime presets: coding-agent CLIs (Claude Code, Codex, Gemini CLI, opencode) run the way their
 * users run them, non-interactive and autonomous, as a rig's polecats. A preset knows how to find
 * its binary, how to start one run (its command line, its per-run files: an MCP config that
 * registers `gt mcp`, settings and hooks), how the role prompt and the bead reach it, and how to
 * read its structured output. Every run still starts through the one launcher (container/sandbox.ts):
 * a preset only says what to run.
 *
 * This file is the contract between the presets and the container; each preset is a module of its
 * own beside it (claude.ts, codex.ts, gemini.ts, opencode.ts).
 */
import type { AgentRuntime, Usage } from "../../party/protocol.ts";

export type PresetName = Exclude<AgentRuntime, "scripted" | "command">;

/** One run, as the container starts it. */
export type RunSpec = {
  /** The agent's worktree (its working directory). */
  cwd: string;
  /** Its HOME (the rig's) and TMPDIR. */
  home: string;
  tmpDir: string;
  /** A directory for this run's files (the MCP config, settings), owned by the rig's user, deleted with the run. */
  runDir: string;
  /** The role prompt with the bead, as `gt prime` prints it. */
  prompt: string;
  /** The model asked for (the bead's, else the rig's), or none: the CLI's default. */
  model: string | null;
  /** The `gt` agents run (an absolute path), and the GT_* variables `gt mcp` must be given explicitly (MCP clients pass servers only a safe list). */
  gt: string;
  gtEnv: Record<string, string>;
};

/** What to start: a program, its arguments, environment added to the agent's, and files to write first (into runDir). */
export type Launch = {
  file: string;
  args: string[];
  env: Record<string, string>;
  files: { path: string; content: string }[];
};

/** What one line of a preset's structured output means. */
export type AgentEvent =
  | { kind: "text"; text: string }
  | { kind: "tool"; name: string; input: string; id?: string }
  | { kind: "tool_result"; id?: string; ok: boolean; text?: string }
  | { kind: "error"; text: string }
  | { kind: "result"; ok: boolean; text?: string; usage?: Usage }
  /** Any other event: the agent is alive and working (a thinking model streams these). */
  | { kind: "progress" };

export interface Preset {
  readonly name: PresetName;
  /** Names of its binary, looked for on the container's PATH and npm's global prefix (or --agent-bin). */
  readonly binaries: readonly string[];
  /** The provider variables a key may be handed over in (what --agent-env names are meant for). */
  readonly keyVars: readonly string[];
  /** How long it may be silent before the witness nudges it (a model may think for minutes). */
  readonly idleMs: number;
  /** The command and files of one run. */
  launch(spec: RunSpec, binary: string): Launch;
  /** One whole line of its stdout: its events (none for a line that is not one). Never throws. */
  parse(line: string): AgentEvent[];
  /**
   * A parser of one run's lines, made when the run starts, for a CLI whose lines must be read
   * together: text that arrives in pieces (joined into whole lines), usage reported per step (summed
   * into the final `result`), a model named only on the command line (put in the usage). The
   * container uses it instead of `parse` when a preset has one; each call never throws.
   */
  runParser?(spec: Pick<RunSpec, "model">): (line: string) => AgentEvent[];
}
