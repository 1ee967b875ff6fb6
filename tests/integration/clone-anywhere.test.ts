/**
 * The README's first command works wherever the repository is cloned: here a copy of this working
 * tree (its tracked files, with its node_modules and even its node) in a directory of mode 0700, as
 * root's home is, run as root (so rigs run as their own users, who cannot pass through it). npm
 * start must put what those users need (the workspace, the demo's remotes, the files agents run)
 * where they reach it, and the demo convoy's first bead must land.
 */
import { execFileSync, spawn } from "node:child_process";
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { isolating } from "../../container/rig-user.ts";
import { deleteRigUsers } from "../helpers/container.ts";
import { freePort } from "../helpers/partykit.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

describe.runIf(isolating())("a clone in a directory closed to others (mode 0700), as root", () => {
  const dir = mkdtempSync(join(tmpdir(), "townhall-closed-"));
  let shared: string | null = null;
  afterAll(async () => {
    if (shared) {
      await deleteRigUsers(join(shared, "workspace"));
      rmSync(shared, { recursive: true, force: true });
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it("npm start runs the demo town until the first bead of its convoy lands", async () => {
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const clone = join(dir, "townhall");
    // The working tree's tracked files as they are now (what a clone of this commit holds).
    for (const file of execFileSync("git", ["ls-files", "-z"], { cwd: ROOT, encoding: "utf8" }).split("\0").filter(Boolean)) {
      if (!existsSync(join(ROOT, file))) continue; // deleted in the working tree
      mkdirSync(dirname(join(clone, file)), { recursive: true });
      cpSync(join(ROOT, file), join(clone, file));
    }
    cpSync(join(ROOT, "node_modules"), join(clone, "node_modules"), { recursive: true, verbatimSymlinks: true });
    // node itself inside the closed directory too (as under nvm in a home directory).
    const node = join(dir, "node", "bin", "node");
    mkdirSync(dirname(node), { recursive: true });
    cpSync(process.execPath, node);
    chmodSync(node, 0o755);

    const port = await freePort();
    // The clone's own state (its .townhall/) and default workspace: nothing of this run's settings.
    const { GT_STATE_DIR: _state, GT_WORKSPACE: _workspace, ...inherited } = process.env;
    const env = { ...inherited, NO_COLOR: "1" };
    const start = spawn(node, ["--import", "./node_modules/tsx/dist/loader.mjs", "scripts/start.ts", "--port", String(port), "--quiet"], {
      cwd: clone,
      env,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    const exited = new Promise<number | null>((resolve) => start.once("exit", (code) => resolve(code)));
    const landed = new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        out += chunk.toString();
        if (/convoy "Launch sign-in": [1-6]\/6/.test(out)) resolve();
      };
      start.stdout!.on("data", onData);
      start.stderr!.on("data", onData);
      void exited.then((code) => reject(new Error(`npm start exited (${code}) before a bead landed:\n${out}`)));
    });
    try {
      await landed;
      shared = /in (\/var\/lib\/townhall\/\S+), where the rigs' users reach them/.exec(out)?.[1] ?? null;
      expect(shared, out).not.toBeNull();
      // The bead landed for real: a merge on one of the demo remotes' main.
      const merges = ["backend", "frontend", "docs"].flatMap((rig) => {
        const log = execFileSync(
          "git",
          ["-c", "safe.directory=*", "--git-dir", join(shared!, "demo-repos", `${rig}.git`), "log", "--merges", "--format=%s", "main"],
          { encoding: "utf8" },
        );
        return log.split("\n").filter(Boolean);
      });
      expect(merges.length).toBeGreaterThan(0);
      const containerLog = readFileSync(join(clone, ".townhall", "logs", "container.log"), "utf8");
      expect(containerLog).toContain(`agents run node, gt and the scripted agent copied to ${join(shared!, "workspace", "runtime")}`);
      expect(existsSync(join(shared!, "workspace", "runtime", "node"))).toBe(true); // node was out of reach too
    } finally {
      process.kill(-start.pid!, "SIGTERM");
      await exited;
    }
  }, 240_000);
});
