/**
 * The real Claude Code CLI the tests and the benchmark run, pinned, installed once into a cache
 * outside node_modules: its native binary is 428 MB (too heavy for every `npm ci`), and agents run
 * as rig users, who must be able to execute it, so it may not live under a home of mode 0700 either.
 *
 * Layout (kept as it is on the machines that already have it):
 *   <cache>/claude-code-<version>/package.json, node_modules/.bin/claude
 * where <cache> is GT_AGENT_CLI_CACHE, else /var/cache/townhall/agent-clis as root, else
 * ~/.cache/townhall/agent-clis (an unprivileged run has no rig users: its agents run as itself).
 *
 * An install goes into a directory beside the final one and is renamed into place only once the
 * binary answers `--version`, so an interrupted install never leaves a cache that looks complete.
 * Only the npm registry is needed (npm's own client, `npm install`).
 */
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

export const CLAUDE_CODE_PACKAGE = "@anthropic-ai/claude-code";
export const CLAUDE_CODE_VERSION = "2.1.337";

export function agentCliCache(): string {
  if (process.env.GT_AGENT_CLI_CACHE) return process.env.GT_AGENT_CLI_CACHE;
  return process.getuid?.() === 0 ? "/var/cache/townhall/agent-clis" : join(homedir(), ".cache", "townhall", "agent-clis");
}

/** Where the pinned CLI is (or would be) installed. */
export function claudeCodeDir(cache = agentCliCache()): string {
  return join(cache, `claude-code-${CLAUDE_CODE_VERSION}`);
}

/** The `claude` binary of the pinned install (for `--agent-bin claude=<path>`). */
export function claudeBinary(cache = agentCliCache()): string {
  return join(claudeCodeDir(cache), "node_modules", ".bin", "claude");
}

function answers(binary: string): boolean {
  try {
    return execFileSync(binary, ["--version"], { encoding: "utf8", timeout: 60_000, stdio: ["ignore", "pipe", "ignore"] }).includes(CLAUDE_CODE_VERSION);
  } catch {
    return false;
  }
}

/**
 * Installs the pinned CLI into the cache when it is not there yet; returns its binary and whether
 * this call installed it (and how long that took).
 */
export function ensureClaudeCode(cache = agentCliCache(), log: (line: string) => void = () => {}): { binary: string; installedMs: number | null } {
  const dir = claudeCodeDir(cache);
  const binary = claudeBinary(cache);
  if (existsSync(binary) && answers(binary)) return { binary, installedMs: null };
  const started = Date.now();
  // Every directory on the way must be passable by the rig users (0755), the cache's own included.
  mkdirSync(cache, { recursive: true, mode: 0o755 });
  chmodSync(cache, 0o755);
  const staging = `${dir}.installing-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { mode: 0o755 });
  writeFileSync(join(staging, "package.json"), `${JSON.stringify({ dependencies: { [CLAUDE_CODE_PACKAGE]: CLAUDE_CODE_VERSION } }, null, 2)}\n`);
  log(`installing ${CLAUDE_CODE_PACKAGE}@${CLAUDE_CODE_VERSION} into ${dir} (a 428 MB native binary, about 20 s)…`);
  try {
    // The package's postinstall puts the platform package's native binary in place of its placeholder.
    execFileSync("npm", ["install", "--no-audit", "--no-fund", "--save-exact", "--loglevel=error", "--foreground-scripts"], {
      cwd: staging,
      stdio: ["ignore", "inherit", "inherit"],
      env: { ...process.env, npm_config_ignore_scripts: "false" },
    });
    const staged = join(staging, "node_modules", ".bin", "claude");
    if (!answers(staged)) throw new Error(`${staged} --version does not answer ${CLAUDE_CODE_VERSION} after npm install`);
    rmSync(dir, { recursive: true, force: true }); // a broken earlier install
    renameSync(staging, dir);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    throw error;
  }
  return { binary, installedMs: Date.now() - started };
}
