/**
 * The keys agents are given (`--agent-env`, `--agent-secrets`): the operator names what agents get,
 * the container holds the values, and hands them to a run in its environment only. A value is
 * never put on a command line (the container's, the agent's, npm's: every local user can read
 * /proc/<pid>/cmdline), never logged, never sent to a room, and is added to the run's set of secret
 * values, which the output path redacts by value in any form (party/secret-values.ts).
 *
 *   --agent-env ANTHROPIC_API_KEY,OPENAI_API_KEY   names of the container's own environment
 *                                                  variables every rig's agents get
 *   --agent-env <rig>=VAR,VAR                      those for one rig's agents (by the rig's name)
 *   --agent-secrets <rig>=<file>                   KEY=VALUE lines for one rig's agents; the file
 *                                                  must be of mode 0600 (or stricter), else refused
 *
 * The container reads the named variables once at start and then removes them from its own
 * environment, so nothing it starts later (git, npm, a probe) inherits them by accident.
 */
import { readFileSync, statSync } from "node:fs";
import { SLUG_RE } from "../party/protocol.ts";

/** A variable's name as a shell takes it. */
const VAR_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Variables the container sets for every agent itself: a key may not take their place. */
const RESERVED = /^(GT_[A-Z0-9_]*|PATH|HOME|TMPDIR|LANG|USER|LOGNAME|SHELL|GIT_[A-Z0-9_]*)$/;

export class AgentKeyError extends Error {}

/** The keys of the town's agents and of each rig's (by rig name), as values: kept in this process only. */
export type AgentKeys = { town: Record<string, string>; rigs: Record<string, Record<string, string>> };

function checkName(name: string, where: string): void {
  if (!VAR_RE.test(name)) throw new AgentKeyError(`${where}: ${JSON.stringify(name)} is not a variable name`);
  if (RESERVED.test(name)) throw new AgentKeyError(`${where}: ${name} is set by the container itself and cannot be given as a key`);
}

/**
 * Reads `--agent-env` entries against `source` (the container's environment). A named variable that
 * is not set is an error (a key the operator meant to give and did not is better said at start).
 */
export function readAgentEnv(entries: readonly string[], source: Record<string, string | undefined>): { keys: AgentKeys; names: Set<string> } {
  const keys: AgentKeys = { town: {}, rigs: {} };
  const names = new Set<string>();
  for (const entry of entries) {
    const eq = entry.indexOf("=");
    const rig = eq >= 0 ? entry.slice(0, eq) : null;
    const list = eq >= 0 ? entry.slice(eq + 1) : entry;
    if (rig !== null && !SLUG_RE.test(rig)) throw new AgentKeyError(`--agent-env takes VAR,… or <rig>=VAR,… (a rig's name), got ${entry}`);
    const vars = list
      .split(",")
      .map((v) => v.trim())
      .filter(Boolean);
    if (!vars.length) throw new AgentKeyError(`--agent-env ${entry}: name at least one variable`);
    for (const name of vars) {
      checkName(name, "--agent-env");
      const value = source[name];
      if (value === undefined || value === "") throw new AgentKeyError(`--agent-env names ${name}, which is not set in the container's environment`);
      const into = rig === null ? keys.town : (keys.rigs[rig] ??= {});
      into[name] = value;
      names.add(name);
    }
  }
  return { keys, names };
}

/** Parses a secrets file's text: KEY=VALUE lines; blank lines and `#` comments skipped; a value may be quoted. */
export function parseSecrets(text: string, where: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const eq = line.indexOf("=");
    // The line itself is never quoted back: it holds a secret.
    if (eq <= 0) throw new AgentKeyError(`${where}: line ${i + 1} is not KEY=VALUE`);
    const name = line
      .slice(0, eq)
      .replace(/^export\s+/, "")
      .trim();
    checkName(name, `${where}: line ${i + 1}`);
    let value = line.slice(eq + 1).trim();
    if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.at(-1) === value[0]) value = value.slice(1, -1);
    out[name] = value;
  }
  return out;
}

/** Reads `--agent-secrets <rig>=<file>` entries into `keys` (over --agent-env's for the same name). */
export function readAgentSecrets(entries: readonly string[], keys: AgentKeys): void {
  for (const entry of entries) {
    const eq = entry.indexOf("=");
    const rig = eq > 0 ? entry.slice(0, eq) : "";
    const file = eq > 0 ? entry.slice(eq + 1) : "";
    if (!SLUG_RE.test(rig) || !file) throw new AgentKeyError(`--agent-secrets takes <rig>=<file>, got ${entry}`);
    let mode: number;
    try {
      const st = statSync(file);
      if (!st.isFile()) throw new AgentKeyError(`--agent-secrets ${rig}=${file}: not a file`);
      mode = st.mode & 0o777;
    } catch (error) {
      if (error instanceof AgentKeyError) throw error;
      throw new AgentKeyError(
        `--agent-secrets ${rig}=${file}: ${(error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (error as Error).message}`,
      );
    }
    if (mode & 0o077)
      throw new AgentKeyError(
        `--agent-secrets ${rig}=${file}: its mode is ${mode.toString(8).padStart(4, "0")}; a secrets file must be readable by its owner only (chmod 600 ${file})`,
      );
    Object.assign((keys.rigs[rig] ??= {}), parseSecrets(readFileSync(file, "utf8"), `--agent-secrets ${rig}=${file}`));
  }
}

/** What one rig's agents get: the town's keys, then the rig's over them. */
export function keysFor(keys: AgentKeys, rigName: string): Record<string, string> {
  return { ...keys.town, ...(keys.rigs[rigName] ?? {}) };
}

/** Every value handed out, for redaction by value (any run may print any key it was given). */
export function keyValues(keys: Record<string, string>): string[] {
  return Object.values(keys).filter((v) => v.length > 0);
}
