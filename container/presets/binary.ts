/**
 * Where a preset's CLI is: the path the operator gave (`--agent-bin <runtime>=<path>`), else the
 * first of its binary names found on the container's PATH, then in npm's global prefix (`npm install
 * -g` puts CLIs in `<prefix>/bin`, which is often not on a service's PATH). The agent runs the path
 * found, as the rig's user: whether that user can execute it is checked when the container takes the
 * rig on (rig-worker.ts runtimeProblem), since a CLI installed under a home directory (~/.local/bin,
 * an npm prefix in a home) is usually out of other users' reach.
 */
import { execFile } from "node:child_process";
import { accessSync, constants, statSync } from "node:fs";
import { delimiter, isAbsolute, join } from "node:path";
import type { Preset, PresetName } from "./types.ts";

export type Resolved = { path: string } | { problem: string };

export type BinaryOptions = {
  /** `--agent-bin`: a path per runtime, used as given. */
  overrides?: Partial<Record<PresetName, string>>;
  /** The directories searched first (the container's PATH). */
  searchPath?: string;
  /** npm's global prefix (its `bin` is searched next); asked of npm once when not given and needed. */
  npmPrefix?: () => Promise<string | null>;
};

/** npm's global prefix: from `npm run`'s environment, else `npm prefix -g` (null when npm is not there). */
export async function npmGlobalPrefix(): Promise<string | null> {
  const known = process.env.npm_config_global_prefix ?? process.env.npm_config_prefix;
  if (known && isAbsolute(known)) return known;
  return new Promise((resolve) => {
    execFile("npm", ["prefix", "-g"], { timeout: 15_000, encoding: "utf8" }, (error, stdout) => {
      const prefix = stdout?.trim();
      resolve(!error && prefix && isAbsolute(prefix) ? prefix : null);
    });
  });
}

function executableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Finds presets' binaries, each once (the answer is kept: a CLI installed later needs a restart, or --agent-bin). */
export class PresetBinaries {
  private readonly found = new Map<PresetName, Promise<Resolved>>();
  private prefix: Promise<string | null> | null = null;

  constructor(private readonly options: BinaryOptions = {}) {}

  resolve(preset: Preset): Promise<Resolved> {
    let answer = this.found.get(preset.name);
    if (!answer) {
      answer = this.look(preset);
      this.found.set(preset.name, answer);
    }
    return answer;
  }

  private async look(preset: Preset): Promise<Resolved> {
    const given = this.options.overrides?.[preset.name];
    if (given) {
      if (!isAbsolute(given)) return { problem: `--agent-bin ${preset.name}=${given}: give an absolute path` };
      return executableFile(given) ? { path: given } : { problem: `--agent-bin ${preset.name}=${given}: no executable file there` };
    }
    const dirs = (this.options.searchPath ?? process.env.PATH ?? "").split(delimiter).filter((d) => isAbsolute(d));
    for (const dir of dirs) for (const name of preset.binaries) if (executableFile(join(dir, name))) return { path: join(dir, name) };
    this.prefix ??= (this.options.npmPrefix ?? npmGlobalPrefix)();
    const prefix = await this.prefix;
    if (prefix) for (const name of preset.binaries) if (executableFile(join(prefix, "bin", name))) return { path: join(prefix, "bin", name) };
    const where = [
      `the container's PATH (${dirs.join(":") || "empty"})`,
      prefix ? `npm's global bin (${join(prefix, "bin")})` : "npm's global bin (npm not found)",
    ];
    return {
      problem: `${preset.binaries.join(" or ")} not found in ${where.join(" or ")}: install it where rig users can run it (e.g. npm install -g), or give --agent-bin ${preset.name}=<path>`,
    };
  }
}
