/**
 * The whole mission, the way a user meets it: `npm start`'s own script in a temporary state
 * directory. The demo convoy lands, each rig's remote holds its merged commits, the cross-rig mail
 * between working agents was delivered, and Chromium shows the convoy landed on the dashboard.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { TS_LOADER } from "../../container/runtimes.ts";
import { deleteRigUsers } from "../helpers/container.ts";
import { filesOnMain, mergesOnMain, showFile } from "../helpers/git.ts";
import { freePort } from "../helpers/partykit.ts";
import { launch, open } from "./browser.ts";

const stateDir = mkdtempSync(join(tmpdir(), "townhall-demo-"));
let stop: () => Promise<void> = async () => {};

afterAll(async () => {
  await stop();
  await deleteRigUsers(join(stateDir, "workspace"));
  rmSync(stateDir, { recursive: true, force: true });
});

describe("npm start", () => {
  it("runs a demo town whose convoy lands with real commits and cross-rig mail, shown landed on the dashboard", async () => {
    const port = await freePort();
    const child = spawn(process.execPath, ["--import", TS_LOADER, "scripts/start.ts", "--port", String(port)], {
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, GT_STATE_DIR: stateDir },
    });
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    stop = async () => {
      try {
        process.kill(-child.pid!, "SIGINT"); // what Ctrl-C sends: the script stops what it started
      } catch {
        return;
      }
      await exited;
    };
    let out = "";
    const seen = (pattern: RegExp) =>
      new Promise<RegExpMatchArray>((resolve, reject) => {
        const check = () => {
          const match = out.match(pattern);
          if (match) resolve(match);
        };
        child.stdout!.on("data", (chunk: Buffer) => {
          out += chunk.toString();
          check();
        });
        child.once("exit", (code) => reject(new Error(`npm start exited (${code}):\n${out}`)));
        check();
      });
    const [, dashboard] = await seen(/Dashboard \(operator\): (http:\/\/\S+)/);
    await seen(/convoy "Launch sign-in": 6\/6 — landed/);

    // Issue 11: no secret and no token on any command line (every local user can read them).
    const secret = (JSON.parse(readFileSync(join(stateDir, "state.json"), "utf8")) as { secret: string }).secret;
    const lines = commandLines(child.pid!);
    expect(lines.some((line) => line.includes("partykit"))).toBe(true); // the check sees the server
    expect(lines.some((line) => line.includes("container/main.ts"))).toBe(true); // and the container
    expect(lines.filter((line) => line.includes(secret) || /GT_SECRET|eyJ[\w-]+\.eyJ/.test(line))).toEqual([]);

    const repos = join(stateDir, "demo-repos");
    expect(filesOnMain(join(repos, "backend.git"))).toEqual(["README.md", "api/login.go", "api/ratelimit.go", "inbox.md"]);
    expect(filesOnMain(join(repos, "frontend.git"))).toEqual(["README.md", "web/errors.ts", "web/login.html"]);
    expect(filesOnMain(join(repos, "docs.git"))).toEqual(["CHANGELOG.md", "README.md", "guide/sign-in.md"]);
    for (const rig of ["backend", "frontend", "docs"]) expect(mergesOnMain(join(repos, `${rig}.git`))).toHaveLength(2);
    // The backend's first polecat waited for the frontend's polecat to tell it about the form.
    expect(showFile(join(repos, "backend.git"), "inbox.md")).toBe("frontend/polecats/toast: the form posts to /login");

    const browser = await launch();
    try {
      const { page, errors } = await open(browser, dashboard!);
      const row = page.getByTestId("convoy-row").filter({ hasText: "Launch sign-in" });
      await row.getByText("landed").waitFor();
      expect(await row.getByTestId("convoy-progress").textContent()).toBe("6/6");
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
    await stop();
    expect(out).not.toMatch(/exited \(\d+\); stopping/);
    // Finding 8: the container's log is kept, and the terminal says where.
    const [, containerLog] = out.match(/logs: (\S+container\.log)/) ?? [];
    expect(containerLog).toBe(join(stateDir, "logs", "container.log"));
    const kept = readFileSync(containerLog!, "utf8");
    expect(kept).toMatch(/\[backend\] ready/);
    expect(kept).toMatch(/\[docs\] merged gt\//);
  });
});

/** The command lines of `root` and every process it started, as any local user can read them. */
function commandLines(root: number): string[] {
  const read = (pid: string, file: string) => {
    try {
      return readFileSync(`/proc/${pid}/${file}`, "utf8");
    } catch {
      return null; // gone meanwhile
    }
  };
  const parentOf = new Map<number, number>();
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    const ppid = read(pid, "status")?.match(/^PPid:\s+(\d+)/m)?.[1];
    if (ppid) parentOf.set(Number(pid), Number(ppid));
  }
  const startedBy = (pid: number): boolean => pid === root || (pid > 1 && parentOf.has(pid) && startedBy(parentOf.get(pid)!));
  return [...parentOf.keys()].filter(startedBy).flatMap((pid) => read(String(pid), "cmdline")?.replaceAll("\0", " ") ?? []);
}
