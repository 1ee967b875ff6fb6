/**
 * The real Codex CLI the tests run, pinned, installed once into the agent CLIs' cache outside
 * node_modules (its native binary is over 300 MB, too heavy for every `npm ci`, and rig users must
 * be able to execute it, so not under a 0700 home either): `<cache>/codex-<version>/node_modules/.bin/codex`,
 * where <cache> is GT_AGENT_CLI_CACHE, else /var/cache/townhall/agent-clis as root, else
 * ~/.cache/townhall/agent-clis. An install goes into a directory beside the final one and is
 * renamed into place only once the binary answers `--version`. Only the npm registry is needed.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

export const CODEX_PACKAGE = "@openai/codex";
export const CODEX_VERSION = "0.171.0";

function cacheDir(): string {
  if (process.env.GT_AGENT_CLI_CACHE) return process.env.GT_AGENT_CLI_CACHE;
  return process.getuid?.() === 0 ? "/var/cache/townhall/agent-clis" : join(homedir(), ".cache", "townhall", "agent-clis");
}

export function codexBinary(cache = cacheDir()): string {
  return join(cache, `codex-${CODEX_VERSION}`, "node_modules", ".bin", "codex");
}

function answers(binary: string): boolean {
  try {
    return execFileSync(binary, ["--version"], { encoding: "utf8", timeout: 60_000, stdio: ["ignore", "pipe", "ignore"] }).includes(CODEX_VERSION);
  } catch {
    return false;
  }
}

/** The pinned `codex`, installed from the npm registry first when the cache lacks it. */
export function ensureCodex(cache = cacheDir(), log: (line: string) => void = () => {}): string {
  const binary = codexBinary(cache);
  if (existsSync(binary) && answers(binary)) return binary;
  const dir = join(cache, `codex-${CODEX_VERSION}`);
  mkdirSync(cache, { recursive: true, mode: 0o755 });
  chmodSync(cache, 0o755);
  const staging = `${dir}.installing-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { mode: 0o755 });
  writeFileSync(join(staging, "package.json"), `${JSON.stringify({ dependencies: { [CODEX_PACKAGE]: CODEX_VERSION } }, null, 2)}\n`);
  log(`installing ${CODEX_PACKAGE}@${CODEX_VERSION} into ${dir}…`);
  try {
    // The platform's native binary comes as an optional dependency of the package (no install script).
    execFileSync("npm", ["install", "--no-audit", "--no-fund", "--save-exact", "--loglevel=error"], { cwd: staging, stdio: ["ignore", "inherit", "inherit"] });
    const staged = join(staging, "node_modules", ".bin", "codex");
    if (!answers(staged)) throw new Error(`${staged} --version does not answer ${CODEX_VERSION} after npm install`);
    rmSync(dir, { recursive: true, force: true });
    renameSync(staging, dir);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    throw error;
  }
  return binary;
}
