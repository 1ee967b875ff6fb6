/** Agent runtimes: the built-in scripted agent, or any shell command. */
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { freshBundle } from "./bundle.ts";

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

/**
 * Agents' PATH (never the supervisor's): gt's directory, node's (gt runs `node`, which may live
 * outside the system's directories, e.g. under nvm), then the system's.
 */
export const AGENT_PATH = [...new Set([GT_BIN_DIR, dirname(process.execPath), ...USER_PATH.split(":")])].join(":");

export function agentCommand(config: RuntimeConfig, rigName: string): { file: string; args: string[] } {
  const runtime = config.rigs[rigName] ?? config.town;
  switch (runtime.kind) {
    case "scripted": {
      // Its bundle (checked at each start: a source edited since the build runs as source).
      const bundle = freshBundle("scripted");
      return { file: process.execPath, args: bundle ? [bundle] : ["--import", TS_LOADER, `${ROOT}container/agents/scripted.ts`] };
    }
    case "command":
      return { file: "/bin/sh", args: ["-c", runtime.command] };
  }
}
