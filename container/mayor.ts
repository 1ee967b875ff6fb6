/**
 * The Mayor as an agent (`--mayor "<shell command>"`): one process of the town container that
 * acts as `mayor` in the town room, with the town tools (slinging, convoys, rigs, mail) through the
 * same `gt` CLI and MCP server as the rig agents (GT_AGENT=mayor puts them in Mayor mode).
 *
 * It runs in `<workspace>/mayor` (its HOME too) with an agent token for `mayor` that the container
 * token gets from the town (`gt_mayor_token`, 24 h, fresh for every run). A run that fails (non-zero
 * exit, a signal, or no token) is restarted after a backoff of 1 s doubling to 60 s, back to 1 s
 * after a run of 60 s or more; exit 0 means the Mayor is done and it is not restarted.
 *
 * The token is renewed as the container's own is (client/token-keeper.ts: `gt_token_refresh` in the
 * town room at two thirds of its lifetime, tried again until it expires). The Mayor's process got
 * the old one in GT_TOKEN, and a process's environment cannot be changed from outside, so a renewal
 * restarts the run with the new token at once (SIGTERM to its group, SIGKILL after 5 s; no backoff,
 * not a failure): the Mayor's state is its directory, which a restart keeps. Once every 16 h with
 * the default lifetime (docs/security.md, "The Mayor's token").
 *
 * The command runs in its own process group, so what a shell one-liner starts ends with it: after
 * every run and on stop the whole group is killed.
 *
 * As root (isolating()) the Mayor runs as a user of its own (`user`, rig-user.ts mayorUserName), as
 * each rig does: anyone can mail the Mayor, so a rig's agent can prompt-inject it, and as root it
 * could then read the supervisor's environment (the container token) and every rig. Its directory
 * is that user's, mode 0700; its HOME and its TMPDIR are inside it. The user is never deleted by
 * the container: the Mayor's directory outlives a run and a restart (its notes, its state), and a
 * deleted user's uid may be given to a new rig's user, which would then own that directory. (It
 * goes with the workspace: `userdel th-mayor-…`.)
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TokenKeeper } from "../client/token-keeper.ts";
import { callHttp } from "../client/tools.ts";
import type { TokenRefreshResult } from "../party/protocol.ts";
import { endGroup, killGroup, trackGroup } from "./processes.ts";
import { claimRigDir, ensureRigUser, killAllOf, type RigUser } from "./rig-user.ts";
import type { AgentSandbox } from "./sandbox.ts";
import { StreamRedactor } from "../party/redact.ts";
import { SecretValues } from "../party/secret-values.ts";

export type MayorOptions = {
  host: string;
  secure?: boolean;
  town: string;
  containerToken: string | (() => string);
  workspace: string;
  /** The Mayor's shell command (`/bin/sh -c`). */
  command: string;
  /** Run the Mayor as this system user, created if missing (the supervisor is root). */
  user?: string;
  /** The one launcher of agent processes (container/sandbox.ts): the Mayor is an agent too. */
  sandbox: AgentSandbox;
  log: (line: string) => void;
};

const FIRST_BACKOFF_MS = 1_000;
const MAX_BACKOFF_MS = 60_000;
/** A run at least this long resets the backoff. */
const HEALTHY_RUN_MS = 60_000;
const STOP_GRACE_MS = 5_000;

type Exit = { code: number | null; signal: NodeJS.Signals | null; error?: string };

export class MayorRunner {
  private child: ChildProcess | null = null;
  private exited: Promise<Exit> | null = null;
  private stopped = false;
  private backoffMs = FIRST_BACKOFF_MS;
  /** Ends the backoff wait early (on stop). */
  private wake: (() => void) | null = null;
  private loop: Promise<void> = Promise.resolve();
  /** The Mayor's user, once set up (with `options.user`). */
  private user: RigUser | null = null;
  /** A renewed token the next run starts with (set when a renewal ends the current run). */
  private renewed: string | null = null;

  constructor(private readonly options: MayorOptions) {}

  /** The Mayor's working directory and HOME. */
  get dir(): string {
    return join(this.options.workspace, "mayor");
  }

  /** The Mayor's TMPDIR: its own, not the shared /tmp (see RigRepo.tmpDir). */
  get tmpDir(): string {
    return join(this.dir, "tmp");
  }

  /** Where the running Mayor's pid is kept, so a restarted supervisor can end one its predecessor left. */
  private get pidFile(): string {
    return join(this.options.workspace, "mayor.pid");
  }

  private log(line: string): void {
    this.options.log(`[mayor] ${line}`);
  }

  /** Starts the Mayor (and keeps restarting it after failures) in the background. */
  start(): void {
    this.killStray();
    this.loop = this.run().catch((error) => this.log(`stopped by an internal error: ${error instanceof Error ? error.stack : error}`));
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const began = Date.now();
      const exit = await this.attempt();
      if (!exit) return; // stopped meanwhile
      if (this.stopped) return;
      if (this.renewed) {
        this.log("restarting with its renewed token");
        continue;
      }
      if (exit.code === 0) {
        this.log("exited 0: done (not restarted)");
        return;
      }
      const delay = Date.now() - began >= HEALTHY_RUN_MS ? FIRST_BACKOFF_MS : this.backoffMs;
      this.backoffMs = Math.min(delay * 2, MAX_BACKOFF_MS);
      this.log(`${exit.error ?? (exit.signal ? `killed by ${exit.signal}` : `exited ${exit.code}`)}; restarting in ${delay / 1000} s`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = null;
    }
  }

  /** Sets the Mayor up, gets it a token and runs it once; null if stopped meanwhile. */
  private async attempt(): Promise<Exit | null> {
    let user: RigUser | null;
    try {
      user = await this.prepare();
    } catch (error) {
      return { code: null, signal: null, error: `cannot set the Mayor up: ${error instanceof Error ? error.message : error}` };
    }
    const town = {
      host: this.options.host,
      ...(this.options.secure !== undefined ? { secure: this.options.secure } : {}),
      party: "main" as const,
      room: this.options.town,
    };
    let token: string;
    if (this.renewed) {
      token = this.renewed;
      this.renewed = null;
    } else {
      try {
        ({ token } = await callHttp<{ token: string }>({ ...town, token: this.options.containerToken }, "gt_mayor_token", {}));
      } catch (error) {
        return { code: null, signal: null, error: `no mayor token: ${error instanceof Error ? error.message : error}` };
      }
    }
    if (this.stopped) return null;
    // Renewed before it expires; the run is then ended and started again with the new token.
    const keeper = new TokenKeeper(
      token,
      (current) => callHttp<TokenRefreshResult>({ ...town, token: current }, "gt_token_refresh").then((r) => r.token),
      (line) => this.log(line),
    );
    keeper.onRenewed((fresh) => {
      this.renewed = fresh;
      const pid = this.child?.pid;
      if (pid) {
        killGroup(pid, "SIGTERM");
        setTimeout(() => this.child?.pid === pid && killGroup(pid, "SIGKILL"), STOP_GRACE_MS).unref();
      }
    });
    keeper.start();
    try {
      return await this.runOnce(token, user);
    } finally {
      keeper.stop();
    }
  }

  /**
   * The Mayor's directory (the Mayor's own: no rig user looks in) and, with `options.user`, its
   * user: made if missing, and anything still running as it (a Mayor a killed supervisor left
   * behind, or what that Mayor started) killed before the first run.
   */
  private async prepare(): Promise<RigUser | null> {
    if (!this.options.user) {
      mkdirSync(this.tmpDir, { recursive: true, mode: 0o700 });
      return null;
    }
    if (!this.user) {
      const user = await ensureRigUser(this.options.user, this.dir);
      await killAllOf(user);
      this.user = user;
      await this.options.sandbox.addGroup("mayor");
    }
    await claimRigDir(this.dir, this.user, [this.tmpDir]);
    return this.user;
  }

  /** One run of the Mayor's command, to its exit. */
  private runOnce(token: string, user: RigUser | null): Promise<Exit> {
    // As for a rig's agents (rig-worker.ts): nothing of the supervisor's environment.
    const env: Record<string, string> = {
      PATH: this.options.sandbox.files.path,
      HOME: this.dir,
      TMPDIR: this.tmpDir,
      LANG: process.env.LANG ?? "C.UTF-8",
      GT_HOST: this.options.host,
      GT_SECURE: this.options.secure ? "1" : "0",
      GT_TOWN: this.options.town,
      GT_AGENT: "mayor",
      GT_TOKEN: token,
    };
    const { file, args, ...ids } = this.options.sandbox.command("mayor", user, "/bin/sh", ["-c", this.options.command]);
    const child = spawn(file, args, { cwd: this.dir, env, stdio: ["ignore", "pipe", "pipe"], detached: true, ...ids });
    if (child.pid) trackGroup(child.pid);
    this.child = child;
    this.exited = new Promise<Exit>((resolve) => {
      child.once("exit", (code, signal) => resolve({ code, signal }));
      child.once("error", (error) => resolve({ code: null, signal: null, error: `could not start: ${error.message}` }));
    }).then(async (exit) => {
      if (child.pid) endGroup(child.pid); // what the run left behind ends with it
      // And with a user of its own, whatever it started out of its group (setsid) ends too.
      if (user) await killAllOf(user).catch((error) => this.log(`ending what the run left: ${error instanceof Error ? error.message : error}`));
      rmSync(this.pidFile, { force: true });
      if (this.child === child) this.child = null;
      return exit;
    });
    // Its output goes to the container's log, redacted of its own token (and anything token-shaped) as agents' output is.
    const secrets = new SecretValues([token]);
    const lines = (stream: NodeJS.ReadableStream | null, mark: string) => {
      const redactor = new StreamRedactor(secrets);
      stream?.on("data", (chunk: Buffer) => {
        for (const line of chunk.toString().trimEnd().split("\n")) this.log(`${mark} ${redactor.line(line)}`);
      });
    };
    lines(child.stdout, ">");
    lines(child.stderr, "!");
    if (child.pid) {
      writeFileSync(this.pidFile, String(child.pid));
      this.log(`started (pid ${child.pid}) in ${this.dir}: ${this.options.command}`);
    }
    return this.exited;
  }

  /** Kills a Mayor a previous supervisor left running: only a process running in this Mayor's directory. */
  private killStray(): void {
    let pid: number;
    try {
      pid = Number(readFileSync(this.pidFile, "utf8").trim());
      if (!Number.isInteger(pid) || pid <= 1 || readlinkSync(`/proc/${pid}/cwd`) !== this.dir) return;
    } catch {
      return; // no pid file, or the process is gone
    }
    killGroup(pid, "SIGKILL");
    this.log(`killed a stray Mayor (pid ${pid}) left by a previous supervisor`);
  }

  /** Stops the Mayor (SIGTERM to its process group, SIGKILL after 5 s) and restarts no more. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    const child = this.child;
    if (child?.pid && this.exited) {
      this.log(`stopping (pid ${child.pid})`);
      killGroup(child.pid, "SIGTERM");
      const timer = setTimeout(() => killGroup(child.pid!, "SIGKILL"), STOP_GRACE_MS);
      await this.exited;
      clearTimeout(timer);
    }
    await this.loop;
  }
}
