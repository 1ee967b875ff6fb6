/**
 * The whole mission, the way a user meets it: `npm start`'s own script in a temporary state
 * directory. The demo convoy lands, each rig's remote holds its merged commits, the cross-rig mail
 * between working agents was delivered, and Chromium shows the convoy landed on the dashboard.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { TS_LOADER } from "../../container/runtimes.ts";
import { filesOnMain, mergesOnMain, showFile } from "../helpers/git.ts";
import { freePort } from "../helpers/partykit.ts";
import { launch, open } from "./browser.ts";

const stateDir = mkdtempSync(join(tmpdir(), "townhall-demo-"));
let stop: () => Promise<void> = async () => {};

afterAll(async () => {
  await stop();
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
