import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { simpleGit, type SimpleGit } from "simple-git";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { git as gitClient, gitCredentials, RigRepo } from "../../container/git-ops.ts";
import { deleteRigUser, isolating } from "../../container/rig-user.ts";
import { httpsGitServer } from "../helpers/git.ts";

// RigRepo must work without any global git identity, so hide the machine's config from every git
// child of this worker; the test's own clones pass their identity with -c.
const savedEnv = { global: process.env.GIT_CONFIG_GLOBAL, nosystem: process.env.GIT_CONFIG_NOSYSTEM };
let emptyConfigDir = "";
beforeAll(async () => {
  emptyConfigDir = await fs.mkdtemp(path.join(os.tmpdir(), "townhall-gitcfg-"));
  await fs.writeFile(path.join(emptyConfigDir, "gitconfig"), "");
  process.env.GIT_CONFIG_GLOBAL = path.join(emptyConfigDir, "gitconfig");
  process.env.GIT_CONFIG_NOSYSTEM = "1";
});
afterAll(async () => {
  restoreEnv("GIT_CONFIG_GLOBAL", savedEnv.global);
  restoreEnv("GIT_CONFIG_NOSYSTEM", savedEnv.nosystem);
  await fs.rm(emptyConfigDir, { recursive: true, force: true });
});

function restoreEnv(key: string, value: string | undefined): void {
  if (value === undefined) delete process.env[key];
  else process.env[key] = value;
}

// safe.directory: the rig-user tests read, as root, repositories that belong to a rig's user.
const IDENTITY = ["user.name=Test Human", "user.email=human@example.com", "commit.gpgsign=false", "safe.directory=*"];
const git = (dir: string): SimpleGit => simpleGit({ baseDir: dir, config: IDENTITY });

interface Fixture {
  root: string;
  remote: string;
  /** A second clone of the remote, standing in for other people pushing to it. */
  seed: string;
  rigDir: string;
  repo: RigRepo;
}

/** A bare remote with one commit on main, a seed clone of it, and a RigRepo for rig "r1". */
async function makeFixture(): Promise<Fixture> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), "townhall-gitops-"));
  const remote = path.join(root, "remote.git");
  const seed = path.join(root, "seed");
  await git(root).raw(["init", "--bare", "-b", "main", remote]);
  await git(root).clone(remote, seed);
  await git(seed).raw(["checkout", "-b", "main"]);
  await commitFile(seed, "README.md", "hello\n", "initial");
  await git(seed).push("origin", "main");
  const rigDir = path.join(root, "workspace", "rigs", "r1");
  return { root, remote, seed, rigDir, repo: new RigRepo({ rigDir, gitUrl: remote, defaultBranch: "main" }) };
}

async function commitFile(dir: string, file: string, content: string, message: string, g = git(dir)): Promise<string> {
  await fs.writeFile(path.join(dir, file), content);
  await g.add(file);
  await g.commit(message);
  return head(dir);
}

/** Commits on the seed clone and pushes, i.e. the remote's main moves under us. */
async function pushFromSeed(f: Fixture, file: string, content: string): Promise<string> {
  await git(f.seed).pull("origin", "main", ["--ff-only"]);
  const sha = await commitFile(f.seed, file, content, `seed: ${file}`);
  await git(f.seed).push("origin", "main");
  return sha;
}

/** A bead id (a ULID) for merge requests. */
const beadOf = (n: number): string => `01J0000000000000000000${String(n).padStart(4, "0")}`;

const head = async (dir: string, ref = "HEAD"): Promise<string> => (await git(dir).revparse([ref])).trim();
const remoteMain = (f: Fixture): Promise<string> => head(f.remote, "refs/heads/main");
const exists = (p: string): Promise<boolean> =>
  fs.access(p).then(
    () => true,
    () => false,
  );

/** A fresh rig user's name, with the fixture's directories as the supervisor leaves them: rig users pass through those above their own. */
async function rigUserFixture(): Promise<string> {
  await fs.chmod(f.root, 0o711);
  await fs.mkdir(path.dirname(f.rigDir), { recursive: true, mode: 0o711 });
  return `th-test-${randomBytes(4).toString("hex")}`;
}

let f: Fixture;
beforeEach(async () => {
  f = await makeFixture();
});
afterEach(async () => {
  await fs.rm(f.root, { recursive: true, force: true });
});

describe("ensureClone", () => {
  it("clones with the default branch checked out and a refinery identity, and re-running fetches", async () => {
    await f.repo.ensureClone();
    const repoDir = path.join(f.rigDir, "repo");
    expect(await fs.readFile(path.join(repoDir, "README.md"), "utf8")).toBe("hello\n");
    expect((await git(repoDir).raw(["symbolic-ref", "--short", "HEAD"])).trim()).toBe("main");
    expect((await simpleGit(repoDir).raw(["config", "user.name"])).trim()).toBe("Townhall Refinery");

    const newer = await pushFromSeed(f, "b.txt", "b\n");
    await f.repo.ensureClone();
    expect(await head(repoDir, "origin/main")).toBe(newer);
    expect(await head(repoDir, "main")).toBe(newer);
  });

  it("recreates a lost default branch from the remote's head in one step", async () => {
    await f.repo.ensureClone();
    const repoDir = path.join(f.rigDir, "repo");
    // The default branch gone from the clone (as a concurrent ref packing could make it look):
    // the next sync makes it again from the remote's head instead of failing.
    await git(repoDir).raw(["checkout", "--detach"]);
    await git(repoDir).raw(["branch", "-D", "main"]);
    const newer = await pushFromSeed(f, "c.txt", "c\n");
    await f.repo.ensureClone();
    expect((await git(repoDir).raw(["symbolic-ref", "--short", "HEAD"])).trim()).toBe("main");
    expect(await head(repoDir, "main")).toBe(newer);
  });

  it("re-clones over a half-written clone directory", async () => {
    await fs.mkdir(path.join(f.rigDir, "repo"), { recursive: true });
    await fs.writeFile(path.join(f.rigDir, "repo", "partial"), "x");
    await f.repo.ensureClone();
    expect(await exists(path.join(f.rigDir, "repo", "README.md"))).toBe(true);
    expect(await exists(path.join(f.rigDir, "repo", "partial"))).toBe(false);
  });
});

describe("createWorktree", () => {
  it("cuts a new branch from the latest remote main", async () => {
    await f.repo.ensureClone();
    const latest = await pushFromSeed(f, "news.txt", "fresh\n");
    const wt = await f.repo.createWorktree("maple", "gt/maple/abc12345");
    expect(wt).toBe(path.join(f.rigDir, "worktrees", "maple"));
    expect(await fs.readFile(path.join(wt, "news.txt"), "utf8")).toBe("fresh\n");
    expect(await head(wt)).toBe(latest);
    expect((await git(wt).raw(["symbolic-ref", "--short", "HEAD"])).trim()).toBe("gt/maple/abc12345");
    expect(await f.repo.listWorktrees()).toEqual(["maple"]);
    expect(await f.repo.listAgentBranches()).toEqual(["gt/maple/abc12345"]);
  });

  it("replaces the leftovers of a crashed run: the same worktree, a stale branch, an unregistered or pruned directory", async () => {
    await f.repo.ensureClone();
    const base = await head(path.join(f.rigDir, "repo"));
    const wt = await f.repo.createWorktree("maple", "gt/maple/abc12345");
    await commitFile(wt, "half.txt", "half done\n", "wip", simpleGit(wt));
    await fs.writeFile(path.join(wt, "untracked.txt"), "x");

    const again = await f.repo.createWorktree("maple", "gt/maple/abc12345");
    expect(again).toBe(wt);
    expect(await head(wt)).toBe(base);
    expect(await exists(path.join(wt, "half.txt"))).toBe(false);
    expect(await exists(path.join(wt, "untracked.txt"))).toBe(false);

    // A directory git never registered, and a branch left without a worktree.
    await fs.mkdir(path.join(f.rigDir, "worktrees", "oak"), { recursive: true });
    await fs.writeFile(path.join(f.rigDir, "worktrees", "oak", "junk"), "x");
    await git(path.join(f.rigDir, "repo")).raw(["branch", "gt/oak/zz9"]);
    expect(await head(await f.repo.createWorktree("oak", "gt/oak/zz9"))).toBe(base);

    // A registered worktree whose directory vanished still claims its branch until pruned.
    await fs.rm(wt, { recursive: true, force: true });
    expect(await f.repo.createWorktree("maple", "gt/maple/abc12345")).toBe(wt);
    expect(await f.repo.listWorktrees()).toEqual(["maple", "oak"]);
  });

  it("serialises concurrent calls on one repository", async () => {
    await f.repo.ensureClone();
    const names = ["ash", "birch", "cedar"];
    for (const n of names) {
      const wt = await f.repo.createWorktree(n, `gt/${n}/b1`);
      await commitFile(wt, `${n}.txt`, `${n}\n`, `add ${n}`, simpleGit(wt));
    }
    // Unserialised, these collide on index.lock and on the clone's checked-out branch.
    const results = await Promise.all([
      ...names.map((n, i) => f.repo.merge({ branch: `gt/${n}/b1`, beadId: beadOf(i), title: `add ${n}` })),
      f.repo.createWorktree("dogwood", "gt/dogwood/b1"),
      f.repo.ensureClone(),
    ]);
    expect(results.slice(0, 3)).toEqual(names.map(() => expect.objectContaining({ ok: true })));
    const merges = await git(f.remote).raw(["rev-list", "--merges", "refs/heads/main"]);
    expect(merges.trim().split("\n")).toHaveLength(3);
    expect(await f.repo.listWorktrees()).toEqual(["dogwood"]);
  });
});

describe("removeWorktree", () => {
  it("removes the directory, keeps the branch, and is a no-op when absent", async () => {
    await f.repo.ensureClone();
    const wt = await f.repo.createWorktree("maple", "gt/maple/abc12345");
    await f.repo.removeWorktree("maple");
    expect(await exists(wt)).toBe(false);
    expect(await f.repo.listAgentBranches()).toEqual(["gt/maple/abc12345"]);
    await f.repo.removeWorktree("maple");
    await f.repo.removeWorktree("never");
    // The branch is free again: nothing still has it checked out.
    await f.repo.deleteBranch("gt/maple/abc12345");
    expect(await f.repo.listAgentBranches()).toEqual([]);
  });
});

describe("merge", () => {
  const branch = "gt/maple/abc12345";
  const bead = beadOf(7);
  const request = { branch, beadId: bead, title: "add feature" };

  it("merges --no-ff with the bead in its message, pushes, and drops the branch and its worktree; a retry answers the same commit", async () => {
    await f.repo.ensureClone();
    const before = await remoteMain(f);
    const wt = await f.repo.createWorktree("maple", branch);
    // No identity passed: the worktree uses the clone's refinery identity.
    const tip = await commitFile(wt, "feature.txt", "feature\n", "add feature", simpleGit(wt));

    const result = await f.repo.merge(request);
    expect(result).toMatchObject({ ok: true, already: false });
    if (!result.ok) return;
    expect(await remoteMain(f)).toBe(result.mergeCommit);
    const parents = (await git(f.remote).raw(["rev-list", "--parents", "-n", "1", result.mergeCommit])).trim().split(" ");
    expect(parents.slice(1)).toEqual([before, tip]);
    const body = await git(f.remote).raw(["log", "-1", "--format=%B", result.mergeCommit]);
    expect(body).toContain(`Merge ${branch}: add feature (bead ${bead})`);
    expect(body).toContain(`\nBead: ${bead}\n`);
    expect(await f.repo.listAgentBranches()).toEqual([]);
    expect(await f.repo.listWorktrees()).toEqual([]);
    expect(await exists(wt)).toBe(false);

    // Crash after the push, before the branch was deleted: branch exists and is already merged.
    await git(path.join(f.rigDir, "repo")).raw(["branch", branch, tip]);
    expect(await f.repo.merge(request)).toEqual({ ...result, already: true });
    expect(await f.repo.listAgentBranches()).toEqual([]);
    // Crash after the branch was deleted: found by the bead in the merge's message.
    expect(await f.repo.merge(request)).toEqual({ ...result, already: true });
    expect(await remoteMain(f)).toBe(result.mergeCommit);
  });

  it("finding 7: a branch with no commits of its own is nothing to merge, never answered with an earlier bead's merge", async () => {
    await f.repo.ensureClone();
    const first = await f.repo.createWorktree("maple", branch);
    await commitFile(first, "feature.txt", "feature\n", "add feature", simpleGit(first));
    const merged = await f.repo.merge(request);
    expect(merged.ok).toBe(true);
    // The next bead's polecat hands in a branch cut from the new main, with nothing on it.
    await f.repo.createWorktree("maple", "gt/maple/def67890");
    const empty = await f.repo.merge({ branch: "gt/maple/def67890", beadId: beadOf(8), title: "nothing" });
    expect(empty).toMatchObject({ ok: false, failure: "nothing_to_merge" });
    expect(await remoteMain(f)).toBe(merged.ok ? merged.mergeCommit : "");
  });

  it("finds a bead merged by another container (its own clone) and pushes nothing", async () => {
    await f.repo.ensureClone();
    const other = new RigRepo({ rigDir: path.join(f.root, "other", "rigs", "r1"), gitUrl: f.remote, defaultBranch: "main" });
    await other.ensureClone();
    const theirs = await other.createWorktree("maple", branch);
    await commitFile(theirs, "feature.txt", "theirs\n", "add feature", simpleGit(theirs));
    const landed = await other.merge(request);
    if (!landed.ok) throw new Error(landed.error);
    // This container redid the bead on the same branch name in its own clone, and is told to merge.
    const ours = await f.repo.createWorktree("maple", branch);
    await commitFile(ours, "feature.txt", "ours\n", "add feature again", simpleGit(ours));
    expect(await f.repo.merge(request)).toEqual({ ok: true, mergeCommit: landed.mergeCommit, already: true });
    expect(await remoteMain(f)).toBe(landed.mergeCommit);
    expect((await git(f.remote).raw(["rev-list", "--merges", "refs/heads/main"])).trim().split("\n")).toHaveLength(1);
  });

  it("answers branch_missing for a branch this clone never had (lost with another container)", async () => {
    await f.repo.ensureClone();
    expect(await f.repo.merge({ branch: "gt/ghost/zzz", beadId: beadOf(9), title: "ghost" })).toMatchObject({ ok: false, failure: "branch_missing" });
  });

  it("merges on top of a remote that moved since the branch was cut", async () => {
    await f.repo.ensureClone();
    const wt = await f.repo.createWorktree("maple", branch);
    const tip = await commitFile(wt, "feature.txt", "feature\n", "add feature", simpleGit(wt));
    const moved = await pushFromSeed(f, "other.txt", "other\n");
    const result = await f.repo.merge(request);
    if (!result.ok) throw new Error(result.error);
    const parents = (await git(f.remote).raw(["rev-list", "--parents", "-n", "1", result.mergeCommit])).trim().split(" ");
    expect(parents.slice(1)).toEqual([moved, tip]);
  });

  it("on conflict aborts, reports the files, leaves the clone clean and keeps the branch", async () => {
    await f.repo.ensureClone();
    const repoDir = path.join(f.rigDir, "repo");
    const wt = await f.repo.createWorktree("maple", branch);
    await commitFile(wt, "README.md", "polecat's version\n", "edit readme", simpleGit(wt));
    const theirs = await pushFromSeed(f, "README.md", "someone else's version\n");

    const result = await f.repo.merge(request);
    expect(result).toMatchObject({ ok: false, failure: "conflict", conflictFiles: ["README.md"] });
    expect(await exists(path.join(repoDir, ".git", "MERGE_HEAD"))).toBe(false);
    expect((await git(repoDir).raw(["status", "--porcelain"])).trim()).toBe("");
    expect(await head(repoDir, "main")).toBe(theirs);
    expect(await remoteMain(f)).toBe(theirs);
    expect(await f.repo.listAgentBranches()).toEqual([branch]);
    expect(await f.repo.listWorktrees()).toEqual(["maple"]);
  });

  it("retries once when the push is rejected, and gives up cleanly when it is rejected again", async () => {
    await f.repo.ensureClone();
    const repoDir = path.join(f.rigDir, "repo");
    const hook = path.join(f.remote, "hooks", "pre-receive");
    const marker = path.join(f.root, "rejected-once");
    // Rejects the first push only.
    await fs.writeFile(hook, `#!/bin/sh\nif [ ! -e "${marker}" ]; then touch "${marker}"; echo rejected >&2; exit 1; fi\n`, { mode: 0o755 });
    const wt = await f.repo.createWorktree("maple", branch);
    await commitFile(wt, "feature.txt", "feature\n", "add feature", simpleGit(wt));
    const ok = await f.repo.merge(request);
    expect(ok.ok).toBe(true);
    expect(await exists(marker)).toBe(true);

    // Rejects every push.
    await fs.writeFile(hook, "#!/bin/sh\necho 'no pushes today' >&2\nexit 1\n", { mode: 0o755 });
    const before = await remoteMain(f);
    const wt2 = await f.repo.createWorktree("oak", "gt/oak/def67890");
    await commitFile(wt2, "oak.txt", "oak\n", "add oak", simpleGit(wt2));
    const failed = await f.repo.merge({ branch: "gt/oak/def67890", beadId: beadOf(10), title: "add oak" });
    expect(failed).toMatchObject({ ok: false, failure: "push_failed", conflictFiles: [] });
    if (!failed.ok) expect(failed.error).toContain("no pushes today");
    // The unpushed merge is not left on the local default branch; the branch survives for another try.
    expect(await head(repoDir, "main")).toBe(before);
    expect(await f.repo.listAgentBranches()).toEqual(["gt/oak/def67890"]);
  });
});

describe("git's reach", () => {
  it("refuses transports other than https, ssh, git and file: a remote helper on the PATH is never run", async () => {
    const bin = path.join(f.root, "bin");
    const ran = path.join(f.root, "helper-ran");
    await fs.mkdir(bin);
    // `evil::<address>` runs git-remote-evil: git allows unknown helpers by default.
    await fs.writeFile(path.join(bin, "git-remote-evil"), `#!/bin/sh\ntouch "${ran}"\nexit 1\n`, { mode: 0o755 });
    const savedPath = process.env.PATH;
    process.env.PATH = `${bin}:${savedPath}`;
    try {
      for (const gitUrl of ["evil::somewhere", "ext::sh -c touch% /tmp/townhall-ext-ran"]) {
        const repo = new RigRepo({ rigDir: f.rigDir, gitUrl, defaultBranch: "main" });
        await expect(repo.ensureClone()).rejects.toThrow(/transport '(evil|ext)' not allowed/);
      }
    } finally {
      process.env.PATH = savedPath;
    }
    expect(await exists(ran)).toBe(false);
  });

  it("never reports a remote's credentials in git's errors", async () => {
    const repo = new RigRepo({ rigDir: f.rigDir, gitUrl: "https://bot:s3cret-pass@127.0.0.1:9/x.git?access_token=s3cret-token", defaultBranch: "main" });
    const error = await repo.ensureClone().then(
      () => null,
      (e: Error) => e.message,
    );
    expect(error).toMatch(/unable to access 'https:\/\/127\.0\.0\.1:9\/x\.git\?access_token=\*\*\*/);
    expect(error).not.toMatch(/s3cret/);
  });
});

describe("a remote's credentials", () => {
  it("are split off the URL, which is otherwise kept: https's go into a header for that host alone; ssh keeps its user", () => {
    const basic = (userinfo: string) => `Authorization: Basic ${Buffer.from(userinfo).toString("base64")}`;
    expect(gitCredentials("https://bot:p%40ss@git.example.com:8443/o/r.git?x=1")).toEqual({
      url: "https://git.example.com:8443/o/r.git?x=1",
      env: { GIT_CONFIG_COUNT: "1", GIT_CONFIG_KEY_0: "http.https://git.example.com:8443/.extraHeader", GIT_CONFIG_VALUE_0: basic("bot:p@ss") },
    });
    expect(gitCredentials("https://ghp_token@github.com/o/r.git").env.GIT_CONFIG_VALUE_0).toBe(basic("ghp_token:"));
    expect(gitCredentials("ssh://git:secret@host/o/r.git")).toEqual({ url: "ssh://git@host/o/r.git", env: {} });
    for (const url of ["ssh://git@host/o/r.git", "git@host:o/r.git", "https://host/o/r.git", "/srv/r.git", "file:///srv/r.git"]) {
      expect(gitCredentials(url)).toEqual({ url, env: {} });
    }
  });
});

describe("a remote's credentials, over https", () => {
  const run = promisify(execFile);

  it("never reach a command line or .git/config: git gets the URL without them and the credentials in its environment, and clones, fetches and pushes over https with them; an older clone's credentialed URL is rewritten", async () => {
    // As root, as the rig's user (as the container runs it); otherwise as this process.
    const name = isolating() ? `th-test-${randomBytes(4).toString("hex")}` : undefined;
    const secret = randomBytes(6).toString("hex");
    const password = `s3cret/${secret}`; // a / in the URL is %2F: git's header has it decoded
    const server = await httpsGitServer(f.root, { user: "bot", password }, secret);
    const gitUrl = `https://bot:${encodeURIComponent(password)}@127.0.0.1:${server.port}/remote.git`;
    // The client trusts the server's certificate through its HOME's config (the rig's home, made here first).
    const home = path.join(f.rigDir, "home");
    await fs.mkdir(home, { recursive: true });
    await fs.copyFile(server.cert, path.join(home, "cert.pem"));
    await fs.writeFile(path.join(home, ".gitconfig"), `[http "https://127.0.0.1:${server.port}/"]\n\tsslCAInfo = ${path.join(home, "cert.pem")}\n`);
    await fs.chmod(f.root, 0o711);
    await fs.chmod(path.dirname(f.rigDir), 0o711);
    const savedHome = process.env.HOME;
    if (!name) process.env.HOME = home; // as this process, git has this process's HOME
    const clean = async (repoDir: string) => {
      for (const file of ["config", "FETCH_HEAD", "packed-refs", "logs/HEAD", "logs/refs/remotes/origin/main"]) {
        const text = await fs.readFile(path.join(repoDir, ".git", file), "utf8").catch(() => "");
        expect(text, file).not.toContain(secret);
      }
    };
    try {
      const repo = new RigRepo({ rigDir: f.rigDir, gitUrl, defaultBranch: "main", ...(name ? { user: name } : {}) });
      await repo.ensureClone();
      const repoDir = path.join(f.rigDir, "repo");
      expect(await fs.readFile(path.join(repoDir, "README.md"), "utf8")).toBe("hello\n");
      expect(server.seen.leaks).toEqual([]); // git clone's and git-remote-https's command lines, as the server was asked
      expect((await git(repoDir).raw(["config", "--get", "remote.origin.url"])).trim()).toBe(`https://127.0.0.1:${server.port}/remote.git`);
      await clean(repoDir);

      // The refinery's fetch and push, over https with the credentials.
      const wt = await repo.createWorktree("maple", "gt/maple/abc12345");
      await fs.writeFile(path.join(wt, "feature.txt"), "feature\n");
      const as = repo.user ? { uid: repo.user.uid, gid: repo.user.gid } : {};
      await run("git", ["add", "feature.txt"], { cwd: wt, ...as });
      await run("git", ["-c", "user.name=Agent", "-c", "user.email=agent@townhall.local", "commit", "-q", "-m", "add feature"], { cwd: wt, ...as });
      const merged = await repo.merge({ branch: "gt/maple/abc12345", beadId: beadOf(1), title: "add feature" });
      if (!merged.ok) throw new Error(merged.error);
      expect(await remoteMain(f)).toBe(merged.mergeCommit);

      // A clone made by an earlier version, with the credentials in its remote URL: opened, it loses them, and still fetches.
      await run("git", ["remote", "set-url", "origin", gitUrl], { cwd: repoDir, ...as });
      expect(await fs.readFile(path.join(repoDir, ".git", "config"), "utf8")).toContain(secret);
      const newer = await pushFromSeed(f, "b.txt", "b\n");
      await new RigRepo({ rigDir: f.rigDir, gitUrl, defaultBranch: "main", ...(name ? { user: name } : {}) }).ensureClone();
      expect(await head(repoDir, "origin/main")).toBe(newer);
      await clean(repoDir);

      expect(server.seen.requests).toBeGreaterThan(0);
      expect(server.seen.refused).toBe(0); // the credentials went with every request
      expect(server.seen.leaks).toEqual([]);
    } finally {
      process.env.HOME = savedHome;
      await server.close();
      if (name) await deleteRigUser(name);
    }
  });
});

describe.runIf(isolating())("with a rig user (as root)", () => {
  const run = promisify(execFile);

  it("clones, works and merges as the rig's user, in a 0700 directory of its own, with nothing of this process's environment; remove() deletes the directory, then the user", async () => {
    const name = await rigUserFixture();
    // Whatever runs as the user on a push writes its environment down (hooks inherit git's).
    await fs.writeFile(path.join(f.remote, "hooks", "pre-receive"), "#!/bin/sh\nenv > pushed-with.env\n", { mode: 0o755 });
    const repo = new RigRepo({ rigDir: f.rigDir, gitUrl: f.remote, defaultBranch: "main", user: name });
    process.env.GT_TEST_SECRET = "not-for-rig-users";
    try {
      await repo.ensureClone();
      const user = repo.user!;
      expect(user.uid).toBeGreaterThan(0);
      expect(Number((await run("id", ["-u", name])).stdout)).toBe(user.uid);
      const rigDir = await fs.stat(f.rigDir);
      expect([rigDir.uid, rigDir.mode & 0o777]).toEqual([user.uid, 0o700]);
      for (const p of [path.join(f.rigDir, "repo", ".git", "config"), repo.homeDir, f.remote]) expect((await fs.stat(p)).uid).toBe(user.uid);
      expect((await fs.stat(f.remote)).mode & 0o777).toBe(0o700); // the local remote is the rig's alone

      const wt = await repo.createWorktree("maple", "gt/maple/abc12345");
      expect((await fs.stat(wt)).uid).toBe(user.uid);
      // The agent's commit, as the agent: the rig's user.
      await fs.writeFile(path.join(wt, "feature.txt"), "feature\n");
      const asUser = { cwd: wt, uid: user.uid, gid: user.gid, env: { PATH: "/usr/bin:/bin", HOME: repo.homeDir } };
      await run("git", ["add", "feature.txt"], asUser);
      await run("git", ["-c", "user.name=Agent", "-c", "user.email=agent@townhall.local", "commit", "-q", "-m", "add feature"], asUser);
      const merged = await repo.merge({ branch: "gt/maple/abc12345", beadId: beadOf(1), title: "add feature" });
      if (!merged.ok) throw new Error(merged.error);
      expect(await remoteMain(f)).toBe(merged.mergeCommit);

      const pushEnv = await fs.readFile(path.join(f.remote, "pushed-with.env"), "utf8");
      expect(pushEnv).toContain(`HOME=${repo.homeDir}\n`);
      expect(pushEnv).toContain("GIT_TERMINAL_PROMPT=0\n");
      expect(pushEnv).not.toContain("GT_TEST_SECRET");
      // Its temporary files in its own directory, not the shared /tmp (where another rig could plant tsx's cache).
      expect(pushEnv).toContain(`TMPDIR=${repo.tmpDir}\n`);
      const tmp = await fs.lstat(repo.tmpDir);
      expect([tmp.isDirectory(), tmp.uid, tmp.mode & 0o777]).toEqual([true, user.uid, 0o700]);

      // What the user leaves in /tmp would belong to the next user given its uid.
      const left = path.join(os.tmpdir(), `townhall-left-${name}`);
      await run("touch", [left], { uid: user.uid, gid: user.gid });
      await repo.remove();
      expect(await exists(f.rigDir)).toBe(false);
      expect(await exists(left)).toBe(false);
      await expect(run("id", ["-u", name])).rejects.toThrow();
    } finally {
      delete process.env.GT_TEST_SECRET;
      await deleteRigUser(name);
    }
  });
});

describe.runIf(isolating())("disk use with a rig user (as root)", () => {
  it("is counted as the rig's user: root never walks the rig's directory, so what the user cannot read is not counted, and no link is followed", async () => {
    const name = await rigUserFixture();
    const repo = new RigRepo({ rigDir: f.rigDir, gitUrl: f.remote, defaultBranch: "main", user: name });
    try {
      await repo.ensureClone();
      const before = await repo.diskBytes();
      expect(before).toBeGreaterThan(0);
      const wt = await repo.createWorktree("maple", "gt/maple/abc12345");
      await fs.writeFile(path.join(wt, "big.bin"), Buffer.alloc(50_000));
      const grown = await repo.diskBytes();
      expect(grown).toBeGreaterThanOrEqual(before + 50_000);
      // Root's: only a walk as root counts it. A link to a large directory: only a walk that follows it counts that.
      await fs.mkdir(path.join(f.rigDir, "roots"), { mode: 0o700 });
      await fs.writeFile(path.join(f.rigDir, "roots", "big.bin"), Buffer.alloc(200_000));
      const outside = path.join(f.root, "outside");
      await fs.mkdir(outside);
      await fs.writeFile(path.join(outside, "big.bin"), Buffer.alloc(200_000));
      await fs.symlink(outside, path.join(f.rigDir, "link"));
      const after = await repo.diskBytes();
      expect(after).toBeGreaterThanOrEqual(grown);
      expect(after).toBeLessThan(grown + 100_000);
    } finally {
      await fs.rm(path.join(f.rigDir, "roots"), { recursive: true, force: true }); // the user could not delete it
      await repo.remove().catch(() => {});
      await deleteRigUser(name);
    }
  });
});

describe("cleanupExcept", () => {
  it("removes stray worktrees and gt/ branches but keeps the named ones", async () => {
    await f.repo.ensureClone();
    await f.repo.createWorktree("maple", "gt/maple/a1");
    await f.repo.createWorktree("oak", "gt/oak/b2");
    await f.repo.createWorktree("pine", "gt/pine/c3");
    const repoDir = path.join(f.rigDir, "repo");
    await git(repoDir).raw(["branch", "gt/ash/d4"]);
    await git(repoDir).raw(["branch", "keep-me"]);
    await fs.mkdir(path.join(f.rigDir, "worktrees", "junk"));

    await f.repo.cleanupExcept(new Set(["maple"]), new Set(["gt/maple/a1", "gt/oak/b2"]));
    expect(await f.repo.listWorktrees()).toEqual(["maple"]);
    expect(await f.repo.listAgentBranches()).toEqual(["gt/maple/a1", "gt/oak/b2"]);
    expect((await git(repoDir).branchLocal()).all).toContain("keep-me");
    const registered = (await git(repoDir).raw(["worktree", "list", "--porcelain"])).match(/^worktree /gm) ?? [];
    expect(registered).toHaveLength(2);
  });

  it("says what it dropped, and does nothing where no clone was ever made", async () => {
    expect(await f.repo.cleanupExcept(new Set(), new Set())).toEqual({ worktrees: [], branches: [] });
    expect(await f.repo.leftovers()).toEqual({ worktrees: [], branches: [] });
    await f.repo.ensureClone();
    await f.repo.createWorktree("maple", "gt/maple/a1");
    expect(await f.repo.leftovers()).toEqual({ worktrees: ["maple"], branches: ["gt/maple/a1"] });
    expect(
      await f.repo.cleanupExcept(
        () => new Set(),
        () => new Set(),
      ),
    ).toEqual({ worktrees: ["maple"], branches: ["gt/maple/a1"] });
    expect(await f.repo.leftovers()).toEqual({ worktrees: [], branches: [] });
  });

  it("clears a registration a killed `git worktree add` left locked: its branch is dropped, and its path can be used again", async () => {
    await f.repo.ensureClone();
    await f.repo.createWorktree("maple", "gt/maple/a1");
    const repoDir = path.join(f.rigDir, "repo");
    // What git leaves when `worktree add` dies before it is done: the registration locked, and
    // (its junk removed, or never checked out) no directory.
    await fs.writeFile(path.join(repoDir, ".git", "worktrees", "maple", "locked"), "initializing\n");
    await fs.rm(path.join(f.rigDir, "worktrees", "maple"), { recursive: true });

    await f.repo.cleanupExcept(new Set(), new Set());
    expect(await f.repo.listAgentBranches()).toEqual([]);
    expect((await git(repoDir).raw(["worktree", "list", "--porcelain"])).match(/^worktree /gm)).toHaveLength(1);

    await f.repo.createWorktree("maple", "gt/maple/b2");
    await fs.writeFile(path.join(repoDir, ".git", "worktrees", "maple", "locked"), "initializing\n");
    await fs.rm(path.join(f.rigDir, "worktrees", "maple"), { recursive: true });
    // The next run of that polecat makes its worktree at the same path.
    const wt = await f.repo.createWorktree("maple", "gt/maple/c3");
    expect((await git(wt).raw(["symbolic-ref", "--short", "HEAD"])).trim()).toBe("gt/maple/c3");
    expect(await f.repo.listAgentBranches()).toEqual(["gt/maple/b2", "gt/maple/c3"]); // b2: the next cleanup's
  });
});

describe.runIf(isolating())("cleanupExcept with a rig user (as root)", () => {
  it("cleans, in a restarted supervisor that has not set the rig up (it stands by: no clone, no fetch), what the killed one left", async () => {
    const name = await rigUserFixture();
    const killed = new RigRepo({ rigDir: f.rigDir, gitUrl: f.remote, defaultBranch: "main", user: name });
    try {
      await killed.ensureClone();
      await killed.createWorktree("maple", "gt/maple/a1");
      // The next supervisor of the workspace: a RigRepo of its own, which never ran ensureClone.
      const restarted = new RigRepo({ rigDir: f.rigDir, gitUrl: f.remote, defaultBranch: "main", user: name });
      await restarted.cleanupExcept(new Set(), new Set());
      expect(await fs.readdir(path.join(f.rigDir, "worktrees"))).toEqual([]);
      expect((await git(path.join(f.rigDir, "repo")).raw(["for-each-ref", "refs/heads/gt/"])).trim()).toBe("");
    } finally {
      await killed.remove().catch(() => {});
      await deleteRigUser(name);
    }
  });
});

describe("validation", () => {
  it("rejects bad polecat names, bad branches and a rigDir outside the rigs layout", async () => {
    await f.repo.ensureClone();
    for (const name of ["../evil", "Maple", "", "a".repeat(41), "-x", "a/b", "."]) {
      await expect(f.repo.createWorktree(name, "gt/maple/abc")).rejects.toThrow(/polecat name/);
      await expect(f.repo.removeWorktree(name)).rejects.toThrow(/polecat name/);
    }
    for (const branch of ["main", "gt/maple", "gt/../x/abc", "gt/maple/ab-c", "gt/maple/abc/def", "-D", "gt/maple/" + "a".repeat(27)]) {
      await expect(f.repo.createWorktree("maple", branch)).rejects.toThrow(/agent branch/);
      await expect(f.repo.merge({ branch, beadId: beadOf(1), title: "x" })).rejects.toThrow(/agent branch/);
      await expect(f.repo.deleteBranch(branch)).rejects.toThrow(/agent branch/);
    }
    await expect(f.repo.merge({ branch: "gt/maple/abc", beadId: "not-a-bead", title: "x" })).rejects.toThrow(/bead id/);
    expect(() => new RigRepo({ rigDir: "/", gitUrl: f.remote, defaultBranch: "main" })).toThrow(/rigDir/);
    expect(() => new RigRepo({ rigDir: f.root, gitUrl: f.remote, defaultBranch: "main" })).toThrow(/rigDir/);
    expect(() => new RigRepo({ rigDir: f.rigDir, gitUrl: "--upload-pack=x", defaultBranch: "main" })).toThrow(/git url/);
    expect(() => new RigRepo({ rigDir: f.rigDir, gitUrl: f.remote, defaultBranch: "-f" })).toThrow(/default branch/);
    // A failed call does not wedge the queue behind it.
    expect(await f.repo.listWorktrees()).toEqual([]);
  });
});

describe("diskBytes and remove", () => {
  it("measures the rig directory and deletes it", async () => {
    expect(await f.repo.diskBytes()).toBe(0);
    await f.repo.ensureClone();
    const before = await f.repo.diskBytes();
    expect(before).toBeGreaterThan(0);
    const wt = await f.repo.createWorktree("maple", "gt/maple/abc");
    await fs.writeFile(path.join(wt, "big.bin"), Buffer.alloc(50_000));
    expect(await f.repo.diskBytes()).toBeGreaterThanOrEqual(before + 50_000);

    await f.repo.remove();
    expect(await exists(f.rigDir)).toBe(false);
    expect(await exists(path.join(f.root, "workspace", "rigs"))).toBe(true);
    expect(await f.repo.diskBytes()).toBe(0);
  });
});

describe("reading git's answers", () => {
  it("waits for all of a command's output, also when it arrives after the process exited", async () => {
    // A stand-in for git on a loaded machine: it exits at once, and its output (still to be written
    // by what it left holding the pipe) comes 300 ms later. simple-git's default took the answer
    // 50 ms after the exit: empty.
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "townhall-late-output-"));
    const fake = path.join(dir, "late-git");
    await fs.writeFile(fake, "#!/bin/sh\n(sleep 0.3; echo 0123456789abcdef0123456789abcdef01234567) &\nexit 0\n", { mode: 0o755 });
    try {
      const answer = await gitClient(
        dir,
        null,
        {},
        { binary: fake, unsafe: { allowUnsafeProtocolOverride: true, allowUnsafeConfigEnvCount: true, allowUnsafeCustomBinary: true } },
      ).raw(["rev-parse", "HEAD"]);
      expect(answer.trim()).toBe("0123456789abcdef0123456789abcdef01234567");
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
