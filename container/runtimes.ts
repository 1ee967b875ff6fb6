/** Agent runtimes: the built-in scripted agent, any shell command, or a coding-agent CLI's preset (container/presets). */
import { fileURLToPath } from "node:url";
import type { AgentRuntime } from "../party/protocol.ts";
import type { PresetName } from "./presets/types.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

export type Runtime = { kind: "scripted" } | { kind: "command"; command: string } | { kind: "preset"; name: PresetName };
/**
 * The container's runtimes: its default (`--runtime`, for rigs whose registry entry names none),
 * per-rig overrides by rig name (`--rig-command`), and the shell command a rig the registry puts on
 * `command` runs (its --rig-command, else --command).
 */
export type RuntimeConfig = { town: Runtime; rigs: Record<string, Runtime>; command?: string };
/** A rig's runtime as the container can run it, or why it cannot. */
export type RigRuntime = Runtime | { kind: "unavailable"; problem: string };

/**
 * Loads TypeScript into a plain `node` process. Agents run as `node --import <loader> file.ts`, one
 * process, so the pid the container reports and signals is the agent itself (the `tsx` CLI would
 * put a wrapper process in between that a SIGKILL leaves orphaned). The scripted agent and `gt` run
 * from their JavaScript bundles (container/bundle.ts) instead, and through it only while those are
 * missing or older than the sources.
 */
export const TS_LOADER = `${ROOT}node_modules/tsx/dist/loader.mjs`;

/** Where `gt` lives, for the PATH of agent processes (container/bin/gt runs its bundle, or its source through tsx). */
export const GT_BIN_DIR = `${ROOT}container/bin`;

/** The system's directories: the PATH of what runs as a rig user on the supervisor's behalf. */
export const USER_PATH = "/usr/local/bin:/usr/bin:/bin";

/**
 * The runtime of a rig's next run: the registry's (Rig.runtime, read at each run, so a change
 * applies to the next run), else the container's for that rig (--rig-command), else its default.
 */
export function runtimeOf(config: RuntimeConfig, rig: { name: string; runtime?: AgentRuntime | undefined }): RigRuntime {
  const own = config.rigs[rig.name];
  switch (rig.runtime) {
    case undefined:
      return own ?? config.town;
    case "scripted":
      return { kind: "scripted" };
    case "command": {
      const command = own?.kind === "command" ? own.command : config.command;
      return command
        ? { kind: "command", command }
        : {
            kind: "unavailable",
            problem: `the registry gives this rig the command runtime, and this container has no command for it (--command or --rig-command ${rig.name}=<shell>)`,
          };
    }
    default:
      return { kind: "preset", name: rig.runtime };
  }
}

/**
 * What an agent of a scripted or command runtime runs (before the sandbox wraps it:
 * container/sandbox.ts). `files`: the node and scripted agent agents run (container/agent-files.ts's
 * AgentFiles, which imports this module). A preset's command is its own (container/preset-run.ts).
 */
export function agentCommand(
  runtime: Runtime & { kind: "scripted" | "command" },
  files: { node: string; scripted: readonly string[] },
): { file: string; args: string[] } {
  switch (runtime.kind) {
    case "scripted":
      return { file: files.node, args: [...files.scripted] };
    case "command":
      return { file: "/bin/sh", args: ["-c", runtime.command] };
  }
}

/**
 * The program a command runtime starts first, when the command begins with a plain one (after any
 * `NAME=value` assignments): what the container checks, as the rig's user, before any bead is
 * given to the rig. Null when the command starts with shell syntax it cannot judge.
 */
export function leadingProgram(command: string): string | null {
  const words = command.trim().split(/\s+/);
  while (words.length && /^[A-Za-z_][A-Za-z0-9_]*=\S*$/.test(words[0]!)) words.shift();
  const first = words[0];
  if (!first || !/^[A-Za-z0-9_./+-]+$/.test(first)) return null;
  if (["exec", "env", "nice", "timeout", "command", "time", "sh", "bash", "if", "for", "while", "case", "test", "["].includes(first)) return null;
  return first;
}
