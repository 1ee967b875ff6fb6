/**
 * One run of a preset runtime (a coding-agent CLI: container/presets), made ready to start through
 * the one launcher (container/sandbox.ts): its role prompt (what `gt prime` prints, asked of the rig
 * room with the run's own token), its per-run directory owned by the rig's user with the files the
 * preset asks for (an MCP config registering `gt mcp`, settings and hooks), and the agent's
 * environment: Gas Town's variables, the run's token, and the keys the operator gave this rig
 * (container/agent-keys.ts): values in the environment only, never in a file or an argument.
 */
import { chownSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { PrimeResult } from "../party/protocol.ts";
import { callHttp } from "../client/tools.ts";
import { primeText } from "./gt/prime.ts";
import type { Launch, Preset, RunSpec } from "./presets/types.ts";

/** Who and where an agent is: the variables every runtime's agents get (Gas Town's names, and the rig's id beside them). */
export type AgentIdentity = {
  host: string;
  secure: boolean;
  town: string;
  rig: { id: string; name: string; defaultBranch: string };
  identity: string;
  name: string;
  token: string;
  beadId: string;
};

/**
 * The GT_* variables: GT_ROLE, GT_RIG (the rig's *name*) and GT_POLECAT as Gas Town sets them, so
 * prompts written for it work unchanged; GT_RIG_ID, the rig's id, which gt prefers (an agent's
 * token cannot read the registry to turn a name into an id).
 */
export function gtVariables(who: AgentIdentity): Record<string, string> {
  return {
    GT_HOST: who.host,
    GT_SECURE: who.secure ? "1" : "0",
    GT_TOWN: who.town,
    GT_ROLE: "polecat",
    GT_RIG: who.rig.name,
    GT_RIG_ID: who.rig.id,
    GT_POLECAT: who.name,
    GT_AGENT: who.identity,
    GT_TOKEN: who.token,
    GT_BEAD: who.beadId,
    GT_DEFAULT_BRANCH: who.rig.defaultBranch,
  };
}

/**
 * Everything an agent process gets: its PATH, HOME and TMPDIR, the GT_* variables, its git identity,
 * the keys given to its rig, and what its preset adds. Nothing of the supervisor's environment.
 * Keys go last but one: a preset's own variables (none is a key) cannot be overridden by a key
 * named like them, and a key cannot replace a GT_ variable (agent-keys.ts refuses such names).
 */
export function agentEnvironment(
  who: AgentIdentity,
  places: { path: string; home: string; tmpDir: string },
  keys: Record<string, string>,
  presetEnv: Record<string, string> = {},
): Record<string, string> {
  const email = `${who.name}@${who.rig.name}.townhall.local`;
  return {
    PATH: places.path,
    HOME: places.home,
    TMPDIR: places.tmpDir,
    LANG: process.env.LANG ?? "C.UTF-8",
    ...gtVariables(who),
    GIT_AUTHOR_NAME: who.identity,
    GIT_AUTHOR_EMAIL: email,
    GIT_COMMITTER_NAME: who.identity,
    GIT_COMMITTER_EMAIL: email,
    ...keys,
    ...presetEnv,
  };
}

/**
 * The model of a run: the one its start_agent command names (the bead's: gt sling --model), else
 * the bead's own field, else the rig's (the registry), else none: the CLI's default.
 */
export function modelOfRun(command: { model?: string | undefined; bead: { model?: string | undefined } }, rig: { model?: string | undefined }): string | null {
  return command.model || command.bead.model || rig.model || null;
}

/** What the prompt says when the room could not be asked: the agent asks itself, first thing. */
export const FALLBACK_PROMPT =
  "You are a polecat of Gas Town: a coding agent with one bead (task) on your hook. Run `gt prime` first: it prints who you are, your bead, your mail and what to do. Then do the bead's work in this worktree, commit it, and run `gt done`.";

/** The role prompt with the bead: what `gt prime` prints for this run's agent (its own token), or the fallback. */
export async function rolePrompt(who: AgentIdentity, log: (line: string) => void): Promise<string> {
  try {
    const prime = await callHttp<PrimeResult>(
      { host: who.host, secure: who.secure, party: "rig", room: `${who.town}.${who.rig.id}`, token: who.token },
      "gt_prime",
      {},
    );
    return primeText(prime, { town: who.town, agent: who.identity });
  } catch (error) {
    log(`${who.identity}: gt_prime failed (${error instanceof Error ? error.message : error}); its prompt tells it to run gt prime`);
    return FALLBACK_PROMPT;
  }
}

/**
 * Writes the preset's per-run files into `spec.runDir` (made afresh, mode 0700, owned by the rig's
 * user, as is each file, mode 0600), and returns what to start. The files hold no secret: the MCP
 * config names the GT_* variables for the CLI to expand from its own environment.
 */
export function prepareRun(preset: Preset, spec: RunSpec, binary: string, owner: { uid: number; gid: number } | null): Launch {
  const launch = preset.launch(spec, binary);
  rmSync(spec.runDir, { recursive: true, force: true });
  for (const dir of [dirname(spec.runDir), spec.runDir]) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (owner) chownSync(dir, owner.uid, owner.gid);
  }
  for (const file of launch.files) {
    if (dirname(file.path) !== spec.runDir && !file.path.startsWith(`${spec.runDir}/`))
      throw new Error(`${preset.name}: its file ${file.path} is outside the run's directory`);
    mkdirSync(dirname(file.path), { recursive: true, mode: 0o700 });
    writeFileSync(file.path, file.content, { mode: 0o600 });
    if (owner) chownSync(file.path, owner.uid, owner.gid);
  }
  return launch;
}

/** A run's directory: beside the rig's worktrees, one per polecat (a polecat's runs never overlap). */
export function runDirOf(rigDir: string, polecat: string): string {
  return join(rigDir, "runs", polecat);
}

export function removeRunDir(runDir: string): void {
  rmSync(runDir, { recursive: true, force: true });
}
