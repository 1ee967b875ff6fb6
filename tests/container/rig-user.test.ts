/**
 * Deleting a rig's directory as root (container/rig-user.ts removeRigDir), against real users and
 * real hostile leftovers: processes of the rig's user that fork and write into the directory while
 * it is deleted. Root only kills and removes the emptied directory; the contents go as their owner.
 */
import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { processesOwnedBy } from "../../container/processes.ts";
import { claimRigDir, deleteRigUser, ensureRigUser, isolating, killAllOf, removeRigDir, type RigUser } from "../../container/rig-user.ts";

const run = promisify(execFile);

let root: string;
let rigDir: string;
let name: string;
let user: RigUser | null;

beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), "townhall-riguser-"));
  await fs.chmod(root, 0o711); // as the supervisor leaves them: rig users pass through to their own directory
  await fs.mkdir(path.join(root, "rigs"), { mode: 0o711 });
  rigDir = path.join(root, "rigs", "r1");
  name = `th-test-${randomBytes(4).toString("hex")}`;
  user = null;
});
afterEach(async () => {
  if (user) await killAllOf(user).catch(() => {});
  await deleteRigUser(name).catch(() => {});
  await fs.rm(root, { recursive: true, force: true });
});

/** A rig's directory, its user's, and something of that user's in it (a worktree, a file). */
async function rigOfItsUser(): Promise<RigUser> {
  user = await ensureRigUser(name, path.join(rigDir, "home"));
  await claimRigDir(rigDir, user, [path.join(rigDir, "home")]);
  await run("mkdir", ["-p", path.join(rigDir, "worktrees", "maple")], { uid: user.uid, gid: user.gid });
  await run("touch", [path.join(rigDir, "worktrees", "maple", "work.txt")], { uid: user.uid, gid: user.gid });
  return user;
}

/**
 * An agent's hostile leftover: forks without pause (bounded, so a failed test leaves no runaway),
 * each child writing a file into the rig's directory and then sleeping. Resolves once it is busy.
 */
async function forker(as: RigUser): Promise<void> {
  const script = `i=0; while [ $i -lt 2000 ]; do (touch "${rigDir}/home/f$i" 2>/dev/null; exec sleep 1000) & i=$((i+1)); done; wait`;
  spawn("/bin/sh", ["-c", script], { uid: as.uid, gid: as.gid, cwd: "/", stdio: "ignore", detached: true }).unref();
  // Busy once 50 of them were seen (a second look may count fewer: on a loaded machine the shell's
  // forks and /proc race, and what the test needs is a forker at work, not an exact count).
  let most = 0;
  for (let i = 0; i < 1000 && most < 50; i++) {
    most = Math.max(most, processesOwnedBy(as.uid).length);
    if (most < 50) await new Promise((resolve) => setTimeout(resolve, 10));
  }
  expect(most).toBeGreaterThanOrEqual(50);
}

describe.runIf(isolating())("removeRigDir (as root)", () => {
  it("kills every process of the rig's user, forking ones too, then deletes the contents as the user and the emptied directory as root", async () => {
    const u = await rigOfItsUser();
    // A link out of the rig: deleting must remove the link, never what it points at.
    const outside = path.join(root, "outside");
    await fs.mkdir(outside);
    await fs.writeFile(path.join(outside, "keep.txt"), "not the rig's");
    await fs.symlink(outside, path.join(rigDir, "worktrees", "escape"));
    await forker(u);

    await removeRigDir(rigDir, name);
    expect(processesOwnedBy(u.uid)).toEqual([]);
    await expect(fs.lstat(rigDir)).rejects.toThrow(/ENOENT/);
    expect(await fs.readFile(path.join(outside, "keep.txt"), "utf8")).toBe("not the rig's");
  });

  it("when the rig's user is gone already, deletes as the directory's owner uid, whose processes are killed first", async () => {
    const u = await rigOfItsUser();
    await forker(u);
    // The user is deleted while its processes still run (a crash between the steps, or by hand).
    await run("userdel", ["-f", name]);
    await expect(run("id", ["-u", name])).rejects.toThrow();

    await removeRigDir(rigDir, name);
    expect(processesOwnedBy(u.uid)).toEqual([]);
    await expect(fs.lstat(rigDir)).rejects.toThrow(/ENOENT/);
  });

  it("two containers on one machine removing the same rig at once (one shared user): both directories go, though each kills the other's rm", async () => {
    const u = await rigOfItsUser();
    // The standby's copy of the rig: another workspace, the same rig user, many files (an rm that takes a while).
    const other = path.join(root, "rigs", "r1-standby");
    await claimRigDir(other, u, [path.join(other, "home")]);
    await run(
      "/bin/sh",
      ["-c", `for d in a b c d e f g h; do mkdir -p "$1/repo/$d"; for i in $(seq 1 400); do : > "$1/repo/$d/f$i"; done; done`, "sh", other],
      { uid: u.uid, gid: u.gid },
    );
    await run(
      "/bin/sh",
      ["-c", `for d in a b c d e f g h; do mkdir -p "$1/repo/$d"; for i in $(seq 1 400); do : > "$1/repo/$d/f$i"; done; done`, "sh", rigDir],
      { uid: u.uid, gid: u.gid },
    );

    await Promise.all([removeRigDir(rigDir, name), removeRigDir(other, name), removeRigDir(rigDir, name)]);
    await expect(fs.lstat(rigDir)).rejects.toThrow(/ENOENT/);
    await expect(fs.lstat(other)).rejects.toThrow(/ENOENT/);
  });
});
