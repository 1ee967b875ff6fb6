/**
 * What one rig's agents run, apart from the rig worker's lifecycle: whether they can run at all
 * (checked as the rig's user before any bead is given to the rig), the hint when a preset's agents
 * get no key, and what one run starts (the scripted agent, a command, or a preset's CLI with its
 * role prompt, per-run files and model) before the launcher (sandbox.ts) wraps it. The rig is
 * passed in on each call: its runtime and model follow the registry.
 */
import { join } from "node:path";
import type { Rig, StartAgentCommand } from "../party/protocol.ts";
import { keysFor, type AgentKeys } from "./agent-keys.ts";
import { agentEnvironment, modelOfRun, prepareRun, rolePrompt, runDirOf, type AgentIdentity } from "./preset-run.ts";
import type { PresetBinaries } from "./presets/binary.ts";
import { presetOf } from "./presets/index.ts";
import { PresetStream } from "./presets/lines.ts";
import type { Prices } from "./presets/prices.ts";
import type { PresetName } from "./presets/types.ts";
import { runAs, type RigUser } from "./rig-user.ts";
import { agentCommand, leadingProgram, runtimeOf, type RuntimeConfig } from "./runtimes.ts";
import type { AgentSandbox } from "./sandbox.ts";

export type AgentRuntimeOptions = {
  /** The container's runtime, for rigs whose registry entry names none. */
  runtime: RuntimeConfig;
  sandbox: AgentSandbox;
  agentKeys?: AgentKeys | undefined;
  binaries?: PresetBinaries | undefined;
  prices?: Prices | null | undefined;
  /** The rig's directory (its runs' directories are made there), its user now (null: not isolating) and that user's HOME. */
  rigDir: string;
  user: () => RigUser | null;
  homeDir: string;
};

/** What a run starts, in what environment; for a preset, its parsed stdout and its per-run directory. */
export type AgentLaunch = { file: string; args: string[]; env: Record<string, string>; stream?: PresetStream; runDir?: string };

export class AgentRuntime {
  /** Preset runtimes already hinted about (once each). */
  private readonly hinted = new Set<PresetName>();

  constructor(private readonly options: AgentRuntimeOptions) {}

  /**
   * Why this rig's agents could not start, checked as the rig's user (a program not on the agents'
   * PATH, or one the rig's user may not run): one line, the rig's error, rather than every bead
   * failing three times with exit 127. Null: they can.
   */
  async problem(rig: Rig): Promise<string | null> {
    const runtime = runtimeOf(this.options.runtime, rig);
    const files = this.options.sandbox.files;
    let program: string | null;
    if (runtime.kind === "unavailable") return `this rig cannot be served: ${runtime.problem}`;
    if (runtime.kind === "preset") {
      const found = await this.binary(runtime.name);
      if ("problem" in found) return `agents of this rig (runtime ${runtime.name}) cannot be served: ${found.problem}`;
      program = found.path;
    } else program = runtime.kind === "scripted" ? files.node : leadingProgram(runtime.command);
    if (!program) return null;
    const user = this.options.user();
    // An absolute path (a preset's binary) is judged as it is: executable by this user, every directory above it passable.
    const check = `case "$1" in /*) [ -f "$1" ] && [ -x "$1" ] || { echo "not executable for this user (the file, or a directory above it, is closed to it)"; exit 1; };; *) command -v "$1" >/dev/null 2>&1 || { echo "not found on the agents' PATH ($PATH)"; exit 1; }; p=$(command -v "$1"); case "$p" in /*) [ -x "$p" ] || { echo "$p is not executable for this user"; exit 1; };; esac;; esac`;
    try {
      await runAs(user, "/usr/bin/env", [`PATH=${files.path}`, "/bin/sh", "-c", check, "sh", program]);
      return null;
    } catch (error) {
      const why = ((error as { stdout?: string }).stdout ?? "").trim() || String(error);
      return `agents of this rig cannot run ${program}${user ? ` as ${user.name}` : ""}: ${why}`;
    }
  }

  /**
   * Says once per runtime when a preset's agents get none of its key variables: they then need a
   * login in the rig's HOME, or a gateway (docs/agents.md); not an error, since either may be there.
   */
  keyHint(rig: Rig, log: (line: string) => void): void {
    const runtime = runtimeOf(this.options.runtime, rig);
    if (runtime.kind !== "preset" || this.hinted.has(runtime.name)) return;
    this.hinted.add(runtime.name);
    const preset = presetOf(runtime.name);
    const given = this.options.agentKeys ? keysFor(this.options.agentKeys, rig.name) : {};
    if (preset && !preset.keyVars.some((name) => name in given))
      log(
        `its ${runtime.name} agents are given none of ${preset.keyVars.join(", ")} (--agent-env or --agent-secrets): they need a login in ${this.options.homeDir} or a gateway`,
      );
  }

  /**
   * What a run starts (before the launcher wraps it), in what environment: the scripted agent or
   * a command as before; a preset's CLI with its role prompt, its per-run files (owned by the rig's
   * user) and its model (the bead's, else the rig's, else the CLI's default).
   */
  async launch(
    rig: Rig,
    command: StartAgentCommand,
    who: AgentIdentity,
    places: { path: string; home: string; tmpDir: string },
    keys: Record<string, string>,
    worktree: string,
    log: (line: string) => void,
  ): Promise<AgentLaunch> {
    const runtime = runtimeOf(this.options.runtime, rig);
    if (runtime.kind === "unavailable") throw new Error(runtime.problem);
    if (runtime.kind !== "preset") return { ...agentCommand(runtime, this.options.sandbox.files), env: agentEnvironment(who, places, keys) };
    const preset = presetOf(runtime.name)!;
    const found = await this.binary(runtime.name);
    if ("problem" in found) throw new Error(found.problem);
    const runDir = runDirOf(this.options.rigDir, command.name);
    const gtEnv = agentEnvironment(who, places, {});
    const model = modelOfRun(command, rig);
    const launch = prepareRun(
      preset,
      {
        cwd: worktree,
        home: places.home,
        tmpDir: places.tmpDir,
        runDir,
        prompt: await rolePrompt(who, log),
        model,
        gt: join(this.options.sandbox.files.gtBinDir, "gt"),
        gtEnv: Object.fromEntries(Object.entries(gtEnv).filter(([name]) => name.startsWith("GT_") || name === "PATH")),
      },
      found.path,
      this.options.user(),
    );
    return {
      file: launch.file,
      args: launch.args,
      env: agentEnvironment(who, places, keys, launch.env),
      stream: new PresetStream(preset, { model }, this.options.prices ?? null),
      runDir,
    };
  }

  /** A preset's CLI, as this container found it (or why not). */
  private async binary(name: PresetName): Promise<{ path: string } | { problem: string }> {
    const preset = presetOf(name);
    if (!preset) return { problem: `this container has no ${name} preset` };
    if (!this.options.binaries) return { problem: `this container was started without a way to find ${name}'s binary` };
    return this.options.binaries.resolve(preset);
  }
}
