/**
 * The whole mission, the way a user meets it: `npm start`'s own script in a temporary state
 * directory. The demo convoy lands, each rig's remote holds its merged commits, the cross-rig mail
 * between working agents was delivered, and Chromium shows the convoy landed on the dashboard.
 * Then the town keeps living (issue 12): new work comes without anyone acting, a demo bead fails
 * with its reason on the terminal, and `--quiet` makes none. The terminal has no build noise.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import WebSocket from "ws";
import { afterAll, describe, expect, it } from "vitest";
import { DocReplica } from "../../client/doc-sync.ts";
import { callHttp } from "../../client/tools.ts";
import { signToken } from "../../party/auth.ts";
import { TS_LOADER } from "../../container/runtimes.ts";
import type { Bead, Convoy, Rig } from "../../party/protocol.ts";
import { deleteRigUsers } from "../helpers/container.ts";
import { filesOnMain, mergesOnMain, showFile } from "../helpers/git.ts";
import { freePort } from "../helpers/partykit.ts";
import { launch, open } from "./browser.ts";

type Demo = {
  child: ChildProcess;
  stateDir: string;
  port: number;
  out: () => string;
  seen: (pattern: RegExp) => Promise<RegExpMatchArray>;
  stop: () => Promise<void>;
};
const demos: Demo[] = [];

afterAll(async () => {
  for (const demo of demos) {
    await demo.stop();
    await deleteRigUsers(join(demo.stateDir, "workspace"));
    rmSync(demo.stateDir, { recursive: true, force: true });
  }
});

/** `npm start` with these arguments, in a state directory of its own. */
async function startDemo(args: string[], again?: Demo): Promise<Demo> {
  const stateDir = again?.stateDir ?? mkdtempSync(join(tmpdir(), "townhall-demo-"));
  const port = await freePort();
  const child = spawn(process.execPath, ["--import", TS_LOADER, "scripts/start.ts", "--port", String(port), ...args], {
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, GT_STATE_DIR: stateDir },
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let out = "";
  child.stdout!.on("data", (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (out += chunk.toString()));
  const demo: Demo = {
    child,
    stateDir,
    port,
    out: () => out,
    seen: (pattern) =>
      new Promise<RegExpMatchArray>((resolve, reject) => {
        const check = () => {
          const match = out.match(pattern);
          if (match) {
            child.stdout!.off("data", check);
            resolve(match);
          }
        };
        child.stdout!.on("data", check);
        child.once("exit", (code) => reject(new Error(`npm start exited (${code}) before ${pattern}:\n${out}`)));
        check();
      }),
    stop: async () => {
      try {
        process.kill(-child.pid!, "SIGINT"); // what Ctrl-C sends: the script stops what it started
      } catch {
        return;
      }
      await exited;
    },
  };
  if (!again) demos.push(demo);
  else demos.unshift(demo); // stopped before its state directory is removed
  return demo;
}

/** What the terminal must never show: the bundler's notes on its build (Vite, Rolldown). */
const BUILD_NOISE = /PLUGIN_TIMINGS|JavaScript callbacks ran|modules transformed|built in \d|gzip:|rendering chunks|computing gzip/i;

describe("npm start", () => {
  it("runs a demo town whose convoy lands with real commits and cross-rig mail, shown landed on the dashboard; --quiet makes no more", async () => {
    const demo = await startDemo(["--quiet"]);
    const { child, stateDir } = demo;
    const [, dashboard] = await demo.seen(/Dashboard \(operator\): (http:\/\/\S+)/);
    await demo.seen(/convoy "Launch sign-in": 6\/6 done — landed/);

    // Issue 11: no secret and no token on any command line (every local user can read them).
    const secret = (JSON.parse(readFileSync(join(stateDir, "state.json"), "utf8")) as { secret: string }).secret;
    const lines = commandLines(child.pid!);
    expect(lines.some((line) => line.includes("partykit"))).toBe(true); // the check sees the server
    expect(lines.some((line) => line.includes("container/main.ts"))).toBe(true); // and the container
    expect(lines.filter((line) => line.includes(secret) || /GT_SECRET|eyJ[\w-]+\.eyJ/.test(line))).toEqual([]);

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

    // --quiet: by now (the landing, then a browser's visit) the living demo would have slung its
    // first work at the landing; the town has the first convoy alone, and each remote its merges.
    const token = new URL(dashboard!).searchParams.get("token")!;
    const convoys = await callHttp<Convoy[]>({ host: `127.0.0.1:${demo.port}`, party: "main", room: "demo", token }, "gt_list_convoys");
    expect(convoys.map((c) => c.title)).toEqual(["Launch sign-in"]);
    const repos = join(stateDir, "demo-repos");
    expect(filesOnMain(join(repos, "backend.git"))).toEqual(["README.md", "api/login.go", "api/ratelimit.go", "inbox.md"]);
    expect(filesOnMain(join(repos, "frontend.git"))).toEqual(["README.md", "web/errors.ts", "web/login.html"]);
    expect(filesOnMain(join(repos, "docs.git"))).toEqual(["CHANGELOG.md", "README.md", "guide/sign-in.md"]);
    for (const rig of ["backend", "frontend", "docs"]) expect(mergesOnMain(join(repos, `${rig}.git`))).toHaveLength(2);
    // The backend's first polecat waited for the frontend's polecat to tell it about the form.
    expect(showFile(join(repos, "backend.git"), "inbox.md")).toBe("frontend/polecats/toast: the form posts to /login");

    await demo.stop();
    const out = demo.out();
    expect(out).not.toMatch(/exited \(\d+\); stopping/);
    expect(out).toMatch(/Quiet \(--quiet\): no new work after the first convoy/);
    expect(out).not.toMatch(/new work:/);
    // A quiet terminal: no build noise (the build's output is in its log), the container's log said once.
    expect(out).not.toMatch(BUILD_NOISE);
    expect(readFileSync(join(stateDir, "logs", "build.log"), "utf8")).toMatch(/npm start/);
    expect(out.match(/logs: /g)).toHaveLength(1);
    const [, containerLog] = out.match(/logs: (\S+container\.log)/) ?? [];
    expect(containerLog).toBe(join(stateDir, "logs", "container.log"));
    const kept = readFileSync(containerLog!, "utf8");
    expect(kept).toMatch(/\[backend\] ready/);
    expect(kept).toMatch(/\[docs\] merged gt\//);

    // Ctrl-C said what it stopped and where the town is kept.
    expect(out).toMatch(/npm start stopped:\n {2}stopped: the container and the agents it ran \(pid \d+\)\n {2}stopped: partykit dev on port \d+ \(pid \d+\)/);
    expect(out).toContain(`The town is kept in ${stateDir}`);
    // The first start made its links; a second start in the same state prints the same ones, and says so.
    const [, firstShare] = out.match(/Read-only link: +(http:\/\/\S+)\n +\(new, valid until [^)]+\(none kept from an earlier start\)\)/) ?? [];
    expect(firstShare, out).toBeDefined();
    expect(statSync(join(stateDir, "links.json")).mode & 0o777).toBe(0o600);
    const again = await startDemo(["--quiet"], demo);
    const [, secondShare] = await again.seen(/Read-only link: +(http:\/\/\S+)\n +\(reused from an earlier start, valid until /);
    const [, secondDashboard] = await again.seen(/Dashboard \(operator\): (http:\/\/\S+)\n +\(reused from an earlier start/);
    expect(new URL(secondShare!).search).toBe(new URL(firstShare!).search);
    expect(new URL(secondDashboard!).search).toBe(new URL(dashboard!).search);
    await again.stop();
  }, 300_000);

  it("keeps the town busy after the first convoy: new work without anyone acting, and a failing bead named with why", async () => {
    const demo = await startDemo(["--every", "1-2"]);
    const [, dashboard] = await demo.seen(/Dashboard \(operator\): (http:\/\/\S+)/);
    const host = `127.0.0.1:${demo.port}`;
    const token = new URL(dashboard!).searchParams.get("token")!;
    const town = new DocReplica({ host, party: "main", room: "demo", doc: "town", token, WebSocket });
    try {
      await town.whenSynced();
      const rigs = () => [...town.doc.getMap<Rig>("rigs").values()];
      const convoys = () => [...town.doc.getMap<Convoy>("convoys").values()];
      const beadsInTown = () => rigs().reduce((n, rig) => n + Object.values(rig.summary.beads).reduce((a, b) => a + b, 0), 0);
      /** Resolves once `ready()` holds, checked on every change of the town document. */
      const when = (ready: () => boolean) =>
        new Promise<void>((resolve) => {
          const check = () => {
            if (!ready()) return;
            town.doc.getMap("rigs").unobserve(check);
            town.doc.getMap("convoys").unobserve(check);
            resolve();
          };
          town.doc.getMap("rigs").observe(check);
          town.doc.getMap("convoys").observe(check);
          check();
        });

      await when(() => convoys().some((c) => c.title === "Launch sign-in" && c.status === "landed"));
      // Nobody acts from here on: the demo slings its opener, then more work.
      await when(() => convoys().some((c) => c.title === "Polish sign-in"));
      await when(() => beadsInTown() > 6 + 3);

      // The opener's failing bead: the terminal names it with why, and the rig agrees.
      await demo.seen(/✗ bead "Migrate the sessions table" failed in backend: exit 4 \(3 attempts\)/);
      const backend = rigs().find((r) => r.name === "backend")!;
      const beads = await callHttp<Bead[]>({ host, party: "rig", room: `demo.${backend.id}`, token }, "gt_list_beads", { status: "failed" });
      const failed = beads.find((b) => b.title === "Migrate the sessions table");
      expect(failed).toMatchObject({ status: "failed", attempts: 3, failure: expect.stringMatching(/exited \(exit 4\) before done; gave up after 3 runs/) });
      // Every bead finished and one failed: stuck (not landed) until someone retries, moves or closes it.
      await when(() => convoys().some((c) => c.title === "Polish sign-in" && c.status === "stuck"));
      const polish = convoys().find((c) => c.title === "Polish sign-in")!;
      expect(polish.beads.find((b) => b.status === "failed")).toMatchObject({ title: "Migrate the sessions table", failure: expect.stringMatching(/exit 4/) });
      // Its agents said why on stderr, into the container's log (the dashboard's agent output reads the same lines).
      expect(readFileSync(join(demo.stateDir, "logs", "container.log"), "utf8")).toMatch(/\[backend\] \w+! migrate: relation "sessions" already exists/);
    } finally {
      town.close();
    }
    await demo.seen(/new work: convoy "Polish sign-in"/);
    await demo.stop();
    const out = demo.out();
    expect(out).toMatch(/After the first convoy lands, new work every 1–2 s/);
    expect(out).not.toMatch(BUILD_NOISE);
    expect(out).not.toMatch(/exited \(\d+\); stopping/);
  }, 240_000);

  it("--runtime claude --model m: the demo's rigs get that runtime and model in the registry and a daily budget of USD 5 each", async () => {
    const demo = await startDemo(["--runtime", "claude", "--model", "claude-sonnet-4-5"]);
    // Said before the container starts, so whether a claude binary is here does not matter.
    await demo.seen(/daily budget: USD 5 per rig \(backend, frontend, docs\)/);
    const secret = (JSON.parse(readFileSync(join(demo.stateDir, "state.json"), "utf8")) as { secret: string }).secret;
    const token = await signToken({ role: "operator", town: "demo", exp: Math.floor(Date.now() / 1000) + 600 }, secret);
    const rigs = () => callHttp<Rig[]>({ host: `127.0.0.1:${demo.port}`, party: "main", room: "demo", token }, "gt_list_rigs");
    expect((await rigs()).map((r) => [r.name, r.runtime, r.model])).toEqual([
      ["backend", "claude", "claude-sonnet-4-5"],
      ["docs", "claude", "claude-sonnet-4-5"],
      ["frontend", "claude", "claude-sonnet-4-5"],
    ]);
    // Each rig learns its budget through the town's outbox, and its summary then says it.
    await expect
      .poll(async () => (await rigs()).map((r) => r.summary.usage?.budget), { timeout: 30_000 })
      .toEqual([1, 2, 3].map(() => ({ unit: "usd", daily: 5 })));
    // Real agents think for minutes: not the scripted demo's 30 s before the witness calls one hung.
    expect(readFileSync(join(demo.stateDir, "partykit.json"), "utf8")).not.toMatch(/"GT_AGENT_IDLE_MS":"30000"/);
    await demo.stop();
    expect(demo.out()).not.toMatch(BUILD_NOISE);
  }, 240_000);
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
