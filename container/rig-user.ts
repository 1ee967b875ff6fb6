/**
 * Per-rig system users: the rig is the trust boundary. When the supervisor runs as root, each rig's
 * agents and its git work run as that rig's own unprivileged user, whose directory
 * `<workspace>/rigs/<rigId>` (mode 0700) no other rig can read, and who cannot read the
 * supervisor's memory or environment (the container token). Polecats of one rig share its user.
 *
 * Inside a rig's directory the rig user (a possibly hostile agent) can plant symlinks at any moment,
 * so what root does there is kept to creating and chowning the directory itself (its parent, `rigs/`,
 * is root's); deleting inside it runs as the owner (a recursive delete as root could be raced
 * into deleting outside).
 */
import { execFile } from "node:child_process";
import { chmodSync, mkdirSync, promises as fs, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { processesOwnedBy } from "./processes.ts";
import { GT_BIN_DIR, TS_LOADER, USER_PATH } from "./runtimes.ts";

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

/** Runs a command as `user` (as this process when null) with nothing of the supervisor's environment. */
export async function runAs(user: Pick<RigUser, "uid" | "gid"> | null, file: string, args: string[]): Promise<void> {
  // cwd "/": the supervisor's own working directory may be closed to the user.
  await run(file, args, { cwd: "/", env: { PATH: USER_PATH, LANG: process.env.LANG ?? "C.UTF-8" }, ...(user ? { uid: user.uid, gid: user.gid } : {}) });
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
    killAllOf(user.uid);
    // As the user (nothing of its runs any more): its own files only, and no symlink of its can lead root astray.
    await runAs(user, "find", ["/tmp", "/var/tmp", "/dev/shm", "-xdev", "-user", String(user.uid), "-delete"]).catch(() => {});
    await run("userdel", [name]);
  });
}

function killAllOf(uid: number): void {
  for (const pid of processesOwnedBy(uid)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone meanwhile
    }
  }
}

/**
 * Gives `rigDir` to the rig's user, mode 0700. A directory root made (new, or from before per-rig
 * users) is given whole (chown -R does not follow symlinks); one the user already owns is the
 * user's, and only the directory itself is touched. Its home directory is made by the user.
 */
export async function claimRigDir(rigDir: string, home: string, user: RigUser): Promise<void> {
  await fs.mkdir(rigDir, { recursive: true });
  const st = await fs.lstat(rigDir);
  if (!st.isDirectory()) throw new Error(`${rigDir} is not a directory`);
  if (st.uid !== user.uid) await run("chown", ["-R", `${user.uid}:${user.gid}`, rigDir]);
  await fs.chmod(rigDir, 0o700);
  await runAs(user, "mkdir", ["-p", home]);
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
 * Deletes a rig's directory. If it is its rig user's (`userName`), that user's processes go first
 * (an agent may have left some behind, still writing), then the contents, deleted as that user,
 * then the emptied directory itself (in root's `rigs/`, which the user cannot write).
 */
export async function removeRigDir(rigDir: string, userName: string | undefined): Promise<void> {
  const st = await fs.lstat(rigDir).catch(() => null);
  if (!st) return;
  const user = userName ? await lookup(userName) : null;
  if (user && st.isDirectory() && st.uid === user.uid) {
    killAllOf(user.uid);
    await runAs(user, "rm", ["-rf", "--", rigDir]).catch(() => {}); // it cannot unlink rigDir itself, in root's rigs/
  }
  await fs.rm(rigDir, { recursive: true, force: true });
}

/**
 * Makes the workspace ready for rig users (when root): `<workspace>` and `<workspace>/rigs` are
 * root's, mode 0711 (rig users pass through to their own directory but list nothing). Rig users must
 * also reach the workspace and the files their agents run (node, tsx, gt): what stands in the way is
 * refused here with what to change, rather than failing later, once per agent.
 */
export function prepareWorkspace(workspace: string): void {
  const rigs = join(workspace, "rigs");
  mkdirSync(rigs, { recursive: true });
  chmodSync(workspace, 0o711);
  chmodSync(rigs, 0o711);
  for (const path of [workspace, TS_LOADER, join(GT_BIN_DIR, "gt"), process.execPath]) {
    const blocked = closedToOthers(path);
    if (blocked) throw new Error(`rig users cannot reach ${path}: ${blocked} is closed to other users (chmod o+rX, or use another --workspace)`);
  }
}

/** The first of `path` and the directories above it that other users cannot pass (or read, for a file). */
function closedToOthers(path: string): string | null {
  const st = statSync(path);
  if ((st.mode & (st.isDirectory() ? 0o001 : 0o004)) === 0) return path;
  return path === dirname(path) ? null : closedToOthers(dirname(path));
}
