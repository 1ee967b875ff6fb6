/**
 * Per-rig system users: the rig is the trust boundary. When the supervisor runs as root, each rig's
 * agents and its git work run as that rig's own unprivileged user, whose directory
 * `<workspace>/rigs/<rigId>` (mode 0700) no other rig can read, and who cannot read the
 * supervisor's memory or environment (the container token). Polecats of one rig share its user.
 * The Mayor is a user of its own too (mayorUserName), with `<workspace>/mayor`. Each such user's
 * temporary files go in its own directory (TMPDIR), never in the shared /tmp.
 *
 * Inside a rig's directory the rig user (a possibly hostile agent) can plant symlinks at any moment,
 * so what root does there is kept to creating and chowning the directory itself (its parent, `rigs/`,
 * is root's); deleting inside it runs as the owner (a recursive delete as root could be raced
 * into deleting outside).
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, mkdirSync, promises as fs } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { closedToOthers } from "./agent-files.ts";
import { processesOwnedBy } from "./processes.ts";
import { USER_PATH } from "./runtimes.ts";

const run = promisify(execFile);

export type RigUser = { name: string; uid: number; gid: number };

/** Per-rig users need root (to create them and to switch to them). */
export function isolating(): boolean {
  return process.getuid?.() === 0;
}

/** `th-` and the last 12 characters of the rig id (a ULID: its random part), lowercased. */
export function rigUserName(rigId: string): string {
  return `th-${rigId.slice(-12).toLowerCase()}`;
}

/**
 * The Mayor's user (container/mayor.ts): `th-mayor-` and 8 hex digits of a hash of the container's
 * lasting id (a container id may hold upper case and `_`, which user names do not). One per
 * container: Mayors of two containers on one machine (two towns) are two users, and cannot read
 * each other's token. Rig users (`th-` and 12 letters or digits) never have a second `-`.
 */
export function mayorUserName(containerId: string): string {
  return `th-mayor-${createHash("sha256").update(containerId).digest("hex").slice(0, 8)}`;
}

/** Runs a command as `user` (as this process when null) with nothing of the supervisor's environment; resolves to its output. */
export async function runAs(user: Pick<RigUser, "uid" | "gid"> | null, file: string, args: string[]): Promise<string> {
  // cwd "/": the supervisor's own working directory may be closed to the user.
  const { stdout } = await run(file, args, {
    cwd: "/",
    env: { PATH: USER_PATH, LANG: process.env.LANG ?? "C.UTF-8" },
    ...(user ? { uid: user.uid, gid: user.gid } : {}),
  });
  return stdout;
}

/** useradd and userdel lock /etc/passwd: one at a time from this process (others are retried). */
let accounts: Promise<unknown> = Promise.resolve();
function serially<T>(work: () => Promise<T>): Promise<T> {
  const next = accounts.then(work);
  accounts = next.catch(() => undefined);
  return next;
}

async function lookup(name: string): Promise<RigUser | null> {
  try {
    const uid = Number((await run("id", ["-u", name])).stdout.trim());
    const gid = Number((await run("id", ["-g", name])).stdout.trim());
    return { name, uid, gid };
  } catch {
    return null; // no such user
  }
}

/**
 * The user `name`, created if missing: a system user with a group of its own, no password, and a
 * passwd entry (ssh refuses a uid without one). Another container on this machine may be creating
 * the same rig's user, or another user, at the same time: a failed useradd is retried after a
 * fresh look-up.
 */
export function ensureRigUser(name: string, home: string): Promise<RigUser> {
  return serially(async () => {
    for (let attempt = 1; ; attempt++) {
      const found = await lookup(name);
      if (found) return found;
      try {
        await run("useradd", ["--system", "--user-group", "--no-create-home", "--home-dir", home, "--shell", "/bin/sh", name]);
      } catch (error) {
        if (attempt >= 10) throw new Error(`cannot create the rig's user ${name}: ${(error as { stderr?: string }).stderr?.trim() || error}`);
        await new Promise((resolve) => setTimeout(resolve, 100 * attempt)); // /etc/passwd is locked by someone else: no event tells when it is free
      }
    }
  });
}

/**
 * Deletes the user `name` (and its group), with whatever its agents left running (userdel refuses
 * a user who still has processes) and left in the shared temporary directories: the next rig's user
 * may be given the same uid, and would own those files (tsx's cache among them, which its agents
 * would run). A user that does not exist is fine.
 */
export function deleteRigUser(name: string): Promise<void> {
  return serially(async () => {
    const user = await lookup(name);
    if (!user) return;
    await killAllOf(user);
    // As the user (nothing of its runs any more): its own files only, and no symlink of its can lead root astray.
    await runAs(user, "find", ["/tmp", "/var/tmp", "/dev/shm", "-xdev", "-user", String(user.uid), "-delete"]).catch(() => {});
    for (let attempt = 1; ; attempt++) {
      try {
        await run("userdel", [name]);
        return;
      } catch (error) {
        // /etc/passwd locked by another process's useradd or userdel (as in ensureRigUser), or gone meanwhile.
        if (!(await lookup(name))) return;
        if (attempt >= 10) throw new Error(`cannot delete the user ${name}: ${(error as { stderr?: string }).stderr?.trim() || error}`);
        await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
      }
    }
  });
}

/** Tries of killAllOf before it gives up (each a few tens of milliseconds). */
const KILL_TRIES = 50;

/**
 * Kills every process of `user` (a uid and gid: the user itself may be deleted already) until none
 * is left. Killing pid by pid from a list races a process that forks (its child is not on the list),
 * so the kill is `kill(-1, SIGKILL)` run as the user: the kernel signals every process that user
 * may signal in one pass that a fork cannot slip past (a process with a fatal signal pending forks
 * no more). It is repeated while /proc still shows a live process of the uid (one a setuid program
 * made, say), a bounded number of times.
 */
export async function killAllOf(user: Pick<RigUser, "uid" | "gid">): Promise<void> {
  if (user.uid === 0) throw new Error("refusing to kill every process of root");
  for (let attempt = 1; ; attempt++) {
    if (processesOwnedBy(user.uid).length === 0) return;
    // Its exit status says nothing useful (none left to signal is an error to kill): /proc decides.
    await runAs(user, "/bin/sh", ["-c", "kill -9 -1"]).catch(() => {});
    for (const pid of processesOwnedBy(user.uid)) {
      try {
        process.kill(pid, "SIGKILL"); // one that kill -1 could not reach (its real uid is the user's, its effective one is not)
      } catch {
        // gone meanwhile
      }
    }
    if (attempt >= KILL_TRIES) {
      const left = processesOwnedBy(user.uid);
      if (left.length) throw new Error(`processes of uid ${user.uid} keep running: ${left.join(", ")}`);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 20)); // SIGKILLed processes take a moment to leave /proc
  }
}

/**
 * Gives `dir` (a rig's directory, or the Mayor's) to `user`, mode 0700. A directory root made (new,
 * or from before per-rig users) is given whole (chown -R does not follow symlinks); one the user
 * already owns is the user's, and only the directory itself is touched. Its subdirectories `subdirs`
 * (its home, its temporary directory) are made by the user, mode 0700.
 */
export async function claimRigDir(dir: string, user: RigUser, subdirs: string[]): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  const st = await fs.lstat(dir);
  if (!st.isDirectory()) throw new Error(`${dir} is not a directory`);
  if (st.uid !== user.uid) await run("chown", ["-R", `${user.uid}:${user.gid}`, dir]);
  await fs.chmod(dir, 0o700);
  if (subdirs.length) {
    await runAs(user, "mkdir", ["-p", "-m", "700", "--", ...subdirs]);
    await runAs(user, "chmod", ["700", "--", ...subdirs]); // made earlier, with another mode
  }
}

/**
 * The demo (npm start) and the tests make their rigs' remotes as local bare repositories, as root.
 * The rig's user must write to its remote (the refinery pushes), and git refuses to work in a
 * repository another user owns, so such a remote is given to the rig's user (mode 0700: no other rig
 * reads it). Only a bare repository that root owns is: a working tree (the project itself, say) or
 * a repository of another user is never taken (cloning it then fails, and says why, as the rig's
 * error).
 */
export async function claimLocalRemote(gitUrl: string, user: RigUser): Promise<void> {
  let dir: string;
  if (gitUrl.startsWith("/")) dir = gitUrl;
  else if (gitUrl.startsWith("file://")) dir = decodeURIComponent(new URL(gitUrl).pathname);
  else return;
  const st = await fs.stat(dir).catch(() => null);
  if (!st?.isDirectory() || st.uid !== 0) return;
  const bare = await Promise.all([fs.stat(join(dir, "HEAD")), fs.stat(join(dir, "objects")), fs.stat(join(dir, "refs"))]).then(
    ([head, objects, refs]) => head.isFile() && objects.isDirectory() && refs.isDirectory(),
    () => false,
  );
  if (!bare) return;
  await run("chown", ["-R", `${user.uid}:${user.gid}`, dir]);
  await fs.chmod(dir, 0o700); // the rig's alone: another rig's user reads it no more than its clone
}

/**
 * Deletes a rig's directory. Root never deletes recursively in a directory a rig user owns: the
 * user's processes could swap a directory for a symlink mid-walk and lead root's delete out of the
 * rig. So, as root:
 * - the processes of the rig's user (`userName`) go first, all of them (an agent may have left some
 *   behind, still writing, or forking);
 * - a directory owned by anyone but root is emptied as its owner: the rig's user, or, if that user
 *   is gone already (deleted before a crash, say), whoever the directory's uid is (lstat knows it,
 *   with no user to look up). That uid's processes are killed first too, unless the uid is another
 *   user's now (given out again): that user's processes are not this rig's, and what it may delete
 *   in the directory it could delete anyway;
 * - then root removes the emptied directory alone (rmdir: it fails on anything left, and never
 *   follows a link). It sits in root's `rigs/`, which no rig user can write, so nobody swaps it.
 * A directory root owns (one from before per-rig users, or when not root: then everything is this
 * process's) is deleted by this process: nobody else owns anything in it to race with.
 */
export async function removeRigDir(rigDir: string, userName: string | undefined): Promise<void> {
  const st = await fs.lstat(rigDir).catch(() => null);
  if (!st) return;
  if (!st.isDirectory()) return fs.unlink(rigDir); // the entry alone (in root's rigs/)
  const user = userName ? await lookup(userName) : null;
  if (!isolating() || st.uid === 0) {
    if (user) await killAllOf(user);
    await fs.rm(rigDir, { recursive: true, force: true });
    return;
  }
  const owner = { uid: st.uid, gid: st.gid };
  if (user) await killAllOf(user);
  if (owner.uid !== user?.uid && !(await uidHasUser(owner.uid))) await killAllOf(owner);
  // Two containers on one machine serving the same rig share its user, and a rig removal reaches
  // both at once: the other one's kill of every process of the user (above, once per removal) can
  // kill this one's `rm` half way. So the emptying alone is tried again, for a while: killing again
  // here would kill the other's `rm` in turn, and the two could go on killing each other.
  let why = "";
  for (const started = Date.now(), attempt = { n: 1 }; ; attempt.n++) {
    // It cannot unlink rigDir itself, in root's rigs/: that error is expected; any other says why rmdir fails.
    why = await runAs(owner, "rm", ["-rf", "--", rigDir]).then(
      () => "",
      (error: { stderr?: string; signal?: string }) =>
        [error.signal ? `rm ended by ${error.signal}` : "", ...(error.stderr ?? String(error)).split("\n").filter((l) => l && !l.includes(`'${rigDir}'`))]
          .filter(Boolean)
          .slice(0, 3)
          .join("; "),
    );
    try {
      await fs.rmdir(rigDir);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT") return; // the other container's removal finished it
      if (code !== "ENOTEMPTY" || Date.now() - started > EMPTYING_MS)
        throw new Error(`${(error as Error).message}${why ? ` (emptying it as uid ${owner.uid}: ${why})` : ""}`);
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(50 * attempt.n, 500)));
  }
}

/** How long removeRigDir keeps emptying a rig's directory that another removal of it disturbs. */
const EMPTYING_MS = 15_000;

/** Whether some user has this uid (getent: whatever the system's user database is). */
async function uidHasUser(uid: number): Promise<boolean> {
  try {
    return (await run("getent", ["passwd", String(uid)])).stdout.trim() !== "";
  } catch {
    return false; // getent exits 2: no such uid
  }
}

/**
 * Bytes under `dir`, counted by `du` run as `user`, with no symlink followed: root never walks a
 * directory a rig user can change under it (a directory swapped for a link to / mid-walk would have
 * root count, and read, the whole machine), and the user reads only what it may. What it cannot read
 * (or what vanishes meanwhile) is left out: du still prints the total of the rest.
 */
export async function diskUsageAs(user: Pick<RigUser, "uid" | "gid">, dir: string): Promise<number> {
  let out: string;
  try {
    out = await runAs(user, "du", ["-s", "-b", "-P", "--", dir]);
  } catch (error) {
    out = (error as { stdout?: string }).stdout ?? ""; // some of it unreadable, or no such directory (then nothing printed)
  }
  const bytes = Number(/^(\d+)\s/.exec(out)?.[1] ?? 0);
  return Number.isSafeInteger(bytes) ? bytes : 0;
}

/**
 * Makes the workspace ready for rig users (when root): `<workspace>` and `<workspace>/rigs` are
 * root's, mode 0711 (rig users pass through to their own directory but list nothing). Rig users
 * must reach the workspace: a path that stands in the way is refused here with what to change,
 * rather than failing later, once per agent. (What agents run from the project is made reachable
 * apart: container/agent-files.ts.)
 */
export function prepareWorkspace(workspace: string): void {
  const rigs = join(workspace, "rigs");
  mkdirSync(rigs, { recursive: true });
  chmodSync(workspace, 0o711);
  chmodSync(rigs, 0o711);
  const blocked = closedToOthers(workspace);
  if (blocked) throw new Error(`rig users cannot reach ${workspace}: ${blocked} is closed to other users (chmod o+x, or use another --workspace)`);
}
