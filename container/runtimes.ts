/** Agent runtimes: the built-in scripted agent, or any shell command. */
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

export type Runtime = { kind: "scripted" } | { kind: "command"; command: string };
/** The town-wide runtime, and per-rig overrides by rig name. */
export type RuntimeConfig = { town: Runtime; rigs: Record<string, Runtime> };

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

export function runtimeOf(config: RuntimeConfig, rigName: string): Runtime {
  return config.rigs[rigName] ?? config.town;
}

/**
 * What an agent of `rigName` runs (before the sandbox wraps it: container/sandbox.ts). `files`: the
 * node and scripted agent agents run (container/agent-files.ts's AgentFiles, which imports this module).
 */
export function agentCommand(config: RuntimeConfig, rigName: string, files: { node: string; scripted: readonly string[] }): { file: string; args: string[] } {
  const runtime = runtimeOf(config, rigName);
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
