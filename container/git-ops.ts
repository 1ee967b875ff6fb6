import { promises as fs } from "node:fs";
import path from "node:path";
import { simpleGit, type SimpleGit, type SimpleGitOptions } from "simple-git";
import { redactGitUrl } from "../party/protocol.ts";
import { claimLocalRemote, claimRigDir, deleteRigUser, diskUsageAs, ensureRigUser, removeRigDir, runAs, type RigUser } from "./rig-user.ts";
import { USER_PATH } from "./runtimes.ts";

const POLECAT_NAME = /^[a-z][a-z0-9-]{0,39}$/;
const AGENT_BRANCH = /^gt\/[a-z][a-z0-9-]{0,39}\/[A-Za-z0-9]{1,26}$/;
const DEFAULT_BRANCH = /^(?!-)(?!.*\.\.)[A-Za-z0-9._/-]{1,100}$/;
const REFINERY_NAME = "Townhall Refinery";
const REFINERY_EMAIL = "refinery@townhall.local";
/** A clone is given up after this long even while the remote still sends (the silence timeout would not fire). */
const CLONE_DEADLINE_MS = 10 * 60_000;

export type MergeResult =
  | { ok: true; mergeCommit: string; /** Found already merged (by this or another container). */ already: boolean }
  | { ok: false; failure: MergeFailure; error: string; conflictFiles: string[] };

/** Why a merge did not land (the rig room's `gt_merge_result` failure). */
export type MergeFailure = "conflict" | "push_failed" | "nothing_to_merge" | "branch_missing";

/** Worktree names and `gt/` branches of a clone: what is there, or what a cleanup dropped. */
export type Leftovers = { worktrees: string[]; branches: string[] };

/** Names a cleanup keeps: given, or read when the cleanup runs. */
export type Keep = ReadonlySet<string> | (() => ReadonlySet<string>);

/** What the refinery merges: a polecat's branch, for one bead. */
export type MergeRequest = { branch: string; beadId: string; title: string };

const BEAD_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

export interface RigRepoOptions {
  /** `<workspace>/rigs/<rigId>`; everything this class touches lives under it. */
  rigDir: string;
  gitUrl: string;
  defaultBranch: string;
  /**
   * Run git and the file work under rigDir as this system user, created if missing (the supervisor
   * is root: see rig-user.ts). Without it, everything runs as this process.
   */
  user?: string;
}

/**
 * One rig's clone (`<rigDir>/repo`, always on the default branch) and its polecats' worktrees
 * (`<rigDir>/worktrees/<name>`). Public methods run strictly one at a time: git commands on one
 * repository (worktrees included) share its index.lock and refs, and collide when run concurrently.
 * Every operation is written to be re-run after a crash at any point. With a rig user, ensureClone
 * (which sets the user up) comes first.
 */
export class RigRepo {
  readonly rigDir: string;
  readonly repoDir: string;
  readonly worktreesDir: string;
  /** The agents' and git's HOME: inside the rig's directory, so nothing points into another rig. */
  readonly homeDir: string;
  /**
   * The TMPDIR of everything that runs as the rig's user (agents, gt, git): its own, mode 0700.
   * In a shared /tmp the names of per-user directories are predictable (tsx caches compiled code in
   * `<tmp>/tsx-<uid>`, and trusts whatever it finds there), so another rig's user could make one
   * first and plant code that this rig's agents would run.
   */
  readonly tmpDir: string;
  /** The remote's URL as git is given it: without credentials (see gitCredentials). */
  private readonly gitUrl: string;
  /** The remote's credentials, for git's environment only. */
  private readonly credentialEnv: Record<string, string>;
  private readonly defaultBranch: string;
  private readonly userName: string | undefined;
  private owner: RigUser | null = null;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(opts: RigRepoOptions) {
    this.rigDir = path.resolve(opts.rigDir);
    // remove() deletes rigDir recursively, so insist on the documented layout rather than trust any path.
    if (path.basename(path.dirname(this.rigDir)) !== "rigs") {
      throw new Error(`rigDir must be <workspace>/rigs/<rigId>, got ${this.rigDir}`);
    }
    if (!DEFAULT_BRANCH.test(opts.defaultBranch)) throw new Error(`invalid default branch: ${opts.defaultBranch}`);
    if (opts.gitUrl === "" || opts.gitUrl.startsWith("-")) throw new Error(`invalid git url: ${redactGitUrl(opts.gitUrl)}`);
    this.repoDir = path.join(this.rigDir, "repo");
    this.worktreesDir = path.join(this.rigDir, "worktrees");
    this.homeDir = path.join(this.rigDir, "home");
    this.tmpDir = path.join(this.rigDir, "tmp");
    const { url, env } = gitCredentials(opts.gitUrl);
    this.gitUrl = url;
    this.credentialEnv = env;
    this.defaultBranch = opts.defaultBranch;
    this.userName = opts.user;
  }

  /** The user the rig's agents run as (null: as this process); known once ensureClone has run. */
  get user(): RigUser | null {
    if (this.userName && !this.owner) throw new Error(`the rig's user ${this.userName} is not set up yet (ensureClone first)`);
    return this.owner;
  }

  /** Clones if missing, else fetches; leaves the default branch checked out and up to date. */
  async ensureClone(): Promise<void> {
    return this.locked(async () => {
      if (this.userName) {
        this.owner ??= await ensureRigUser(this.userName, this.homeDir);
        await claimRigDir(this.rigDir, this.owner, [this.homeDir, this.tmpDir]);
        await claimLocalRemote(this.gitUrl, this.owner);
      } else {
        await fs.mkdir(this.homeDir, { recursive: true });
        await fs.mkdir(this.tmpDir, { recursive: true, mode: 0o700 });
      }
      if (!(await exists(path.join(this.repoDir, ".git")))) {
        // A clone killed halfway leaves a directory git refuses to clone into.
        await this.rmInside(this.repoDir);
        await this.git(this.rigDir, { abort: AbortSignal.timeout(CLONE_DEADLINE_MS) }).raw(["clone", "--", this.gitUrl, this.repoDir]);
      }
      const g = this.git();
      // A clone made before credentials were kept out of git's URLs has them in its config: they go.
      // (Read from git's output, never put on a command line; the stripped URL is harmless there.)
      const origin = (await g.raw(["config", "--get", "remote.origin.url"]).catch(() => "")).trim();
      if (origin !== this.gitUrl) await g.raw(["remote", "set-url", "origin", this.gitUrl]);
      await g.raw(["config", "user.name", REFINERY_NAME]);
      await g.raw(["config", "user.email", REFINERY_EMAIL]);
      await this.syncDefault();
    });
  }

  /**
   * Makes `worktrees/<name>` on a new `branch` cut from the latest remote default branch and returns
   * its absolute path. Leftovers of a crashed run (the directory, the branch) are removed first.
   */
  async createWorktree(name: string, branch: string): Promise<string> {
    checkName(name);
    checkBranch(branch);
    return this.locked(async () => {
      await this.syncDefault();
      const dir = this.worktreePath(name);
      await this.rmInside(dir);
      await this.dropBranch(branch);
      await this.git().raw(["worktree", "add", "-b", branch, dir, this.defaultBranch]); // makes worktrees/ too
      return dir;
    });
  }

  /** Deletes the worktree directory (uncommitted work included) but keeps its branch for the refinery. */
  async removeWorktree(name: string): Promise<void> {
    checkName(name);
    return this.locked(async () => {
      await this.rmInside(this.worktreePath(name));
      await this.pruneWorktrees();
    });
  }

  /**
   * The refinery: `--no-ff` merge of a bead's branch into the default branch, pushed to origin.
   * Idempotent per bead: a merge whose message names the bead (`Bead: <id>`) already on the remote
   * (pushed by this container before a crash, or by another that held the rig) is the answer, and
   * nothing is pushed again. The push only lands on the remote head it was merged onto
   * (`--force-with-lease` against the fetched head); if the remote moved, it is fetched and the
   * whole check runs once more. A branch with no commits of its own is nothing to merge: never
   * answered with some other bead's merge.
   */
  async merge(request: MergeRequest): Promise<MergeResult> {
    checkBranch(request.branch);
    if (!BEAD_ID.test(request.beadId)) throw new Error(`invalid bead id: ${JSON.stringify(request.beadId)}`);
    const subject = `Merge ${request.branch}: ${request.title.replace(/\s+/g, " ").slice(0, 120)} (bead ${request.beadId})`;
    const message = `${subject}\n\nBead: ${request.beadId}\nBranch: ${request.branch}`;
    return this.locked(async () => {
      for (let attempt = 1; ; attempt++) {
        const result = await this.mergeOnce(request, message);
        if (!("pushError" in result)) return result;
        if (attempt === 2) return { ok: false, failure: "push_failed", error: `push failed: ${result.pushError}`, conflictFiles: [] };
      }
    });
  }

  async deleteBranch(branch: string): Promise<void> {
    checkBranch(branch);
    return this.locked(() => this.dropBranch(branch, false));
  }

  async listAgentBranches(): Promise<string[]> {
    return this.locked(() => this.agentBranches());
  }

  async listWorktrees(): Promise<string[]> {
    return this.locked(() => this.worktreeDirs());
  }

  /**
   * The worktree directories and `gt/` branches in the clone now. Also for a process that has not
   * set the clone up (a restarted supervisor standing by never clones), and for no clone at all.
   */
  async leftovers(): Promise<Leftovers> {
    return this.locked(async () => {
      if (!(await exists(this.rigDir))) return { worktrees: [], branches: [] };
      await this.knowOwner();
      return { worktrees: await this.worktreeDirs(), branches: (await exists(path.join(this.repoDir, ".git"))) ? await this.agentBranches() : [] };
    });
  }

  /**
   * Drops every worktree and `gt/` branch not kept (after a supervisor restart, after the lease is
   * lost, on the rig worker's sweep) and says what it dropped. What to keep may be given as a
   * function: it is read under the lock, after every git operation queued before this one. Like
   * leftovers(), it needs no clone set up by this process, and no clone.
   */
  async cleanupExcept(keepWorktrees: Keep, keepBranches: Keep): Promise<Leftovers> {
    return this.locked(async () => {
      const dropped: Leftovers = { worktrees: [], branches: [] };
      if (!(await exists(this.rigDir))) return dropped;
      await this.knowOwner();
      const worktrees = typeof keepWorktrees === "function" ? keepWorktrees() : keepWorktrees;
      for (const name of await this.worktreeDirs()) {
        if (worktrees.has(name)) continue;
        await this.rmInside(path.join(this.worktreesDir, name));
        dropped.worktrees.push(name);
      }
      if (!(await exists(path.join(this.repoDir, ".git")))) return dropped;
      await this.pruneWorktrees();
      // A branch still checked out in a kept worktree cannot be deleted without destroying that worktree.
      const checkedOut = new Set((await this.worktrees()).map((w) => w.branch));
      const branches = typeof keepBranches === "function" ? keepBranches() : keepBranches;
      for (const branch of await this.agentBranches()) {
        if (branches.has(branch) || checkedOut.has(branch)) continue;
        await this.git().raw(["branch", "-D", branch]);
        dropped.branches.push(branch);
      }
      return dropped;
    });
  }

  /**
   * Bytes under rigDir. Not serialised with git: files that vanish meanwhile are skipped. With a rig
   * user, counted as that user (du, rig-user.ts): root does not walk a directory the user can change.
   */
  async diskBytes(): Promise<number> {
    if (this.userName) {
      const st = await fs.lstat(this.rigDir).catch(ignoreMissing);
      if (!st) return 0;
      // Its user, or (not set up yet in this process) whoever owns the directory.
      return diskUsageAs(this.owner ?? { uid: st.uid, gid: st.gid }, this.rigDir);
    }
    const walk = async (dir: string): Promise<number> => {
      let total = 0;
      for (const entry of await readdirOrEmpty(dir)) {
        const p = path.join(dir, entry);
        const st = await fs.lstat(p).catch(ignoreMissing);
        if (!st) continue;
        if (st.isDirectory()) total += await walk(p);
        else if (st.isFile()) total += st.size;
      }
      return total;
    };
    return walk(this.rigDir);
  }

  /** Deletes the rig's directory, and then its user. */
  async remove(): Promise<void> {
    return this.locked(async () => {
      await removeRigDir(this.rigDir, this.userName);
      if (this.userName) await deleteRigUser(this.userName);
    });
  }

  // --- internals (callers hold the lock) ---

  private locked<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn);
    this.tail = run.catch(() => undefined);
    return run;
  }

  /**
   * Looks the rig's user up (made if missing), as ensureClone does first: for the work that may come
   * before any clone in this process, on the directory an earlier supervisor of the workspace left.
   */
  private async knowOwner(): Promise<void> {
    if (this.userName) this.owner ??= await ensureRigUser(this.userName, this.homeDir);
  }

  private git(dir = this.repoDir, extra: Partial<SimpleGitOptions> = {}): SimpleGit {
    const user = this.user;
    return git(dir, user ? { user, home: this.homeDir, tmp: this.tmpDir } : null, this.credentialEnv, extra);
  }

  private async mergeOnce(request: MergeRequest, message: string): Promise<MergeResult | { pushError: string }> {
    const { branch, beadId } = request;
    await this.syncDefault(); // the local default branch is now the fetched remote head
    const g = this.git();
    const def = this.defaultBranch;
    const remoteHead = await this.revParse(`origin/${def}`);
    const landed = await this.mergeOfBead(beadId, `origin/${def}`);
    if (landed) {
      await this.dropBranch(branch);
      return { ok: true, mergeCommit: landed, already: true };
    }
    if (!(await this.branchExists(branch))) {
      return { ok: false, failure: "branch_missing", error: `branch ${branch} is not in this clone (bead ${beadId} was never merged)`, conflictFiles: [] };
    }
    if ((await g.raw(["rev-list", "--count", `${def}..${branch}`])).trim() === "0") {
      return { ok: false, failure: "nothing_to_merge", error: `nothing to merge: ${branch} has no commits that ${def} lacks`, conflictFiles: [] };
    }
    try {
      await g.raw(["merge", "--no-ff", "-m", message, branch]);
    } catch (err) {
      const conflictFiles = lines(await g.raw(["diff", "--name-only", "--diff-filter=U"]));
      await this.abortMerge();
      const error = conflictFiles.length > 0 ? `merge conflict in ${conflictFiles.join(", ")}` : errorText(err);
      return { ok: false, failure: conflictFiles.length > 0 ? "conflict" : "push_failed", error, conflictFiles };
    }
    const commit = await this.revParse("HEAD");
    try {
      // Only onto the head this merge was made on: a container that woke up late cannot push over a
      // merge another one made meanwhile (then the retry finds that merge above, if it was this bead's).
      await g.raw(["push", `--force-with-lease=refs/heads/${def}:${remoteHead}`, "origin", `refs/heads/${def}:refs/heads/${def}`]);
    } catch (err) {
      await g.raw(["reset", "--hard", `origin/${def}`]);
      return { pushError: errorText(err) };
    }
    await this.dropBranch(branch);
    return { ok: true, mergeCommit: commit, already: false };
  }

  /** Fetches, aborts a merge a crash left behind, and fast-forwards the local default branch if it is behind. */
  private async syncDefault(): Promise<void> {
    const g = this.git();
    const def = this.defaultBranch;
    await this.abortMerge();
    await g.raw(["fetch", "origin"]);
    // Always the remote's head: a merge a crash left unpushed is made again from its branch (which
    // is dropped only after the push), so nothing here is ever ahead of the remote on purpose.
    // One command creates or resets the branch, with no question asked first (at 30 rigs an answer
    // read as empty made 9 merges fail "a branch named 'main' already exists"; see `completion`).
    await g.raw(["checkout", "-f", "-B", def, `origin/${def}`]);
  }

  private async abortMerge(): Promise<void> {
    if (await exists(path.join(this.repoDir, ".git", "MERGE_HEAD"))) await this.git().raw(["merge", "--abort"]);
  }

  /** Removes the branch and any worktree it is checked out in (git refuses to delete a checked-out branch). */
  private async dropBranch(branch: string, withWorktree = true): Promise<void> {
    await this.pruneWorktrees();
    if (withWorktree) {
      // Matched by directory name: git may report the real path, which differs from ours under a symlinked tmp.
      for (const w of (await this.worktrees()).slice(1)) {
        if (w.branch === branch) await this.rmInside(path.join(this.worktreesDir, path.basename(w.path)));
      }
      await this.pruneWorktrees();
    }
    if (await this.branchExists(branch)) await this.git().raw(["branch", "-D", branch]);
  }

  /**
   * `git worktree prune`, after unlocking what git locked for a `git worktree add` that never
   * finished (a supervisor SIGKILLed with it, or it killed): git locks a worktree's registration
   * ("initializing") while it makes it, and a registration left locked is never pruned, even with
   * its directory gone. Its branch then counts as checked out, so it cannot be deleted, and no
   * worktree can be added at its path again. This container never locks a worktree itself: a
   * locked one whose directory is gone is such a leftover.
   */
  private async pruneWorktrees(): Promise<void> {
    for (const w of (await this.worktrees()).slice(1)) {
      if (w.locked && !(await exists(path.join(this.worktreesDir, path.basename(w.path))))) await this.git().raw(["worktree", "unlock", w.path]);
    }
    await this.git().raw(["worktree", "prune"]);
  }

  /** The merge on `ref` whose message carries the trailer `Bead: <beadId>`, if any (newest first). */
  private async mergeOfBead(beadId: string, ref: string): Promise<string | null> {
    const out = await this.git().raw(["log", "--merges", "--fixed-strings", `--grep=Bead: ${beadId}`, "--format=%H%x00%B%x01", ref, "--"]);
    for (const record of out.split("\x01")) {
      const [hash, body] = record.trim().split("\x00");
      if (hash && body !== undefined && body.split("\n").some((line) => line.trim() === `Bead: ${beadId}`)) return hash;
    }
    return null;
  }

  private async isAncestor(commit: string, of: string): Promise<boolean> {
    // Not `merge-base --is-ancestor`: it answers by exit code only (see git()).
    return (await this.git().raw(["rev-list", "-n", "1", commit, "--not", of, "--"])).trim() === "";
  }

  private async revParse(ref: string): Promise<string> {
    const sha = (await this.git().raw(["rev-parse", "--verify", `${ref}^{commit}`])).trim();
    // Never pass on a commit id git did not give: the merge's report would be refused, its bead stuck.
    if (!/^[0-9a-f]{40}$/.test(sha)) throw new Error(`git rev-parse ${ref} answered ${JSON.stringify(sha.slice(0, 80))}, not a commit id`);
    return sha;
  }

  private async branchExists(branch: string): Promise<boolean> {
    const refs = lines(await this.git().raw(["for-each-ref", "--format=%(refname)", `refs/heads/${branch}`]));
    return refs.includes(`refs/heads/${branch}`);
  }

  private async agentBranches(): Promise<string[]> {
    return lines(await this.git().raw(["for-each-ref", "--format=%(refname:short)", "refs/heads/gt/"]));
  }

  /** Registered worktrees; git always lists the clone's own working tree first. */
  private async worktrees(): Promise<{ path: string; branch: string | null; locked: boolean }[]> {
    const out = await this.git().raw(["worktree", "list", "--porcelain"]);
    return out.split("\n\n").flatMap((block) => {
      const wt = /^worktree (.+)$/m.exec(block)?.[1];
      const ref = /^branch refs\/heads\/(.+)$/m.exec(block)?.[1];
      return wt ? [{ path: path.resolve(wt), branch: ref ?? null, locked: /^locked( |$)/m.test(block) }] : [];
    });
  }

  private async worktreeDirs(): Promise<string[]> {
    const names = await readdirOrEmpty(this.worktreesDir);
    const dirs: string[] = [];
    for (const name of names) {
      const st = await fs.lstat(path.join(this.worktreesDir, name)).catch(ignoreMissing);
      if (st?.isDirectory()) dirs.push(name);
    }
    return dirs.sort();
  }

  private worktreePath(name: string): string {
    return this.inside(path.join(this.worktreesDir, name));
  }

  private inside(p: string): string {
    const resolved = path.resolve(p);
    const rel = path.relative(this.rigDir, resolved);
    if (rel === "" || rel.startsWith("..") || path.isAbsolute(rel)) throw new Error(`path escapes ${this.rigDir}: ${p}`);
    return resolved;
  }

  private async rmInside(p: string): Promise<void> {
    const target = this.inside(p);
    const user = this.user;
    // The rig user's files: deleted as that user, since root's recursive delete could be led out of the rig through a symlink planted meanwhile.
    if (user) await runAs(user, "rm", ["-rf", "--", target]);
    else await fs.rm(target, { recursive: true, force: true });
  }
}

/** Only the transports a rig's remote may use: never `ext::` (runs a command) nor other remote helpers. */
const PROTOCOLS = [
  "protocol.allow=never",
  "protocol.https.allow=always",
  "protocol.ssh.allow=always",
  "protocol.git.allow=always",
  "protocol.file.allow=always",
];
/** What simple-git refuses to be handed in an explicit environment (and strips when inherited). */
const GUARDED_ENV = /^(git_.*|editor|visual|pager|prefix|ssh_askpass)$/i;
/** The variables that carry a remote's credentials to git (gitCredentials): this file's own. */
const CREDENTIAL_ENV = ["GIT_CONFIG_COUNT", "GIT_CONFIG_KEY_0", "GIT_CONFIG_VALUE_0"];

/**
 * Splits the credentials off a remote's URL. A URL's userinfo (`https://user:token@host/…`) never
 * reaches a git command line, nor git's own: `git clone <url>` and git's `git-remote-https <remote>
 * <url>` children show their arguments in /proc/<pid>/cmdline to every local user (other rigs'
 * agents among them), and a clone keeps its URL in .git/config. So git is given the URL without
 * them (otherwise as it was) and, for http(s), the credentials go in the environment of each git
 * process of the repository, as an `Authorization: Basic` header (git's http.extraHeader, set by
 * GIT_CONFIG_COUNT/KEY/VALUE), scoped to the remote's scheme, host and port: no other host gets it.
 * A process's environment is readable only by its own user and root: the rig's user (its git and
 * its agents, who may see the rig's credentials anyway: docs/security.md) and nobody else. Not a
 * credential helper with a file: that is one more copy, on disk, readable by the same user.
 * The header is sent on every request, not after a 401 as git does with URL credentials: fine for
 * forges' tokens (Basic is what git would send). ssh keeps its user name (not a secret; a password
 * in an ssh URL is never used); a query string is left as it is.
 */
export function gitCredentials(gitUrl: string): { url: string; env: Record<string, string> } {
  const match = /^([a-z][\w+.-]*):\/\/([^@/?#]*)@/i.exec(gitUrl);
  if (!match) return { url: gitUrl, env: {} };
  const [whole, scheme, userinfo] = match as unknown as [string, string, string];
  const rest = gitUrl.slice(whole.length);
  const colon = userinfo.indexOf(":");
  const kind = scheme.toLowerCase();
  if (kind === "ssh" || kind === "git+ssh" || kind === "ssh+git") {
    return { url: colon >= 0 ? `${scheme}://${userinfo.slice(0, colon)}@${rest}` : gitUrl, env: {} };
  }
  const url = `${scheme}://${rest}`;
  if (kind !== "https" && kind !== "http") return { url, env: {} };
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };
  const user = decode(colon >= 0 ? userinfo.slice(0, colon) : userinfo);
  const password = decode(colon >= 0 ? userinfo.slice(colon + 1) : "");
  const authority = /^[^/?#]*/.exec(rest)![0];
  return {
    url,
    env: {
      GIT_CONFIG_COUNT: "1",
      GIT_CONFIG_KEY_0: `http.${kind}://${authority}/.extraHeader`,
      GIT_CONFIG_VALUE_0: `Authorization: Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`,
    },
  };
}

/**
 * One git of a rig. As a rig user, git gets nothing of the supervisor's environment (the rig's
 * agents, the same user, can read it in /proc). Without one it inherits this process's environment,
 * as it always did, less what simple-git guards. Either way no credential prompt can hang it.
 * simple-git treats a non-zero exit with empty stderr as success (e.g. a conflicted `git merge`,
 * whose report goes to stdout), so any non-zero exit is made an error here; and git's errors may
 * quote the remote's URL with its credentials, which are taken out.
 */
export function git(
  baseDir: string,
  as: { user: RigUser; home: string; tmp: string } | null,
  credentials: Record<string, string>,
  extra: Partial<SimpleGitOptions>,
): SimpleGit {
  const base = as
    ? { PATH: USER_PATH, HOME: as.home, TMPDIR: as.tmp, LANG: process.env.LANG ?? "C.UTF-8" }
    : Object.fromEntries(Object.entries(process.env).filter(([key]) => !GUARDED_ENV.test(key)));
  return simpleGit({
    baseDir,
    config: PROTOCOLS,
    // The protocol settings above and the credentials' config variables are this file's own.
    unsafe: { allowUnsafeProtocolOverride: true, allowUnsafeConfigEnvCount: true },
    allowEnvironment: ["GIT_TERMINAL_PROMPT", ...CREDENTIAL_ENV],
    ...(as ? { spawnOptions: { uid: as.user.uid, gid: as.user.gid } } : {}),
    // A hung fetch or push would hold the lock forever; this much silence kills it.
    timeout: { block: 10 * 60_000 },
    // Done when git's output has all been read (its pipes closed), never "50 ms after it exited",
    // simple-git's default: on a loaded machine that cut output off, and a command that succeeded
    // read as empty. The town-scale bench saw merges reported with an empty commit id and branches
    // "not in this clone" (rev-parse and for-each-ref answered nothing).
    completion: { onClose: true, onExit: false },
    errors: (error, result) => {
      const failure = error ?? (result.exitCode === 0 ? undefined : Buffer.concat([...result.stdErr, ...result.stdOut]));
      if (failure instanceof Error) failure.message = redactUrls(failure.message);
      return failure instanceof Buffer ? Buffer.from(redactUrls(failure.toString())) : failure;
    },
    ...extra,
  }).env({ ...base, ...credentials, GIT_TERMINAL_PROMPT: "0" });
}

/** Every URL in `text` with its password or token replaced by *** (party/protocol.ts redactGitUrl). */
function redactUrls(text: string): string {
  return text.replace(/[a-z][\w+.-]*:\/\/[^\s'"]+/gi, (url) => redactGitUrl(url));
}

function checkName(name: string): void {
  if (!POLECAT_NAME.test(name)) throw new Error(`invalid polecat name: ${JSON.stringify(name)}`);
}

function checkBranch(branch: string): void {
  if (!AGENT_BRANCH.test(branch)) throw new Error(`invalid agent branch: ${JSON.stringify(branch)}`);
}

function lines(out: string): string[] {
  return out
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
}

function errorText(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).trim();
}

async function exists(p: string): Promise<boolean> {
  return (await fs.lstat(p).catch(ignoreMissing)) !== undefined;
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  return (await fs.readdir(dir).catch(ignoreMissing)) ?? [];
}

function ignoreMissing(err: NodeJS.ErrnoException): undefined {
  if (err.code === "ENOENT") return undefined;
  throw err;
}
