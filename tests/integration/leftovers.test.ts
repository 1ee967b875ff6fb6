/**
 * What a SIGKILLed supervisor leaves in its rig's clone (a worktree, its `gt/` branch) is cleaned up
 * by the container of that workspace whatever lease it comes back with: the soak saw a restarted
 * container stand by (the other one had taken the rig over meanwhile) and keep the killed run's
 * worktree and branch for good. Its own `partykit dev`, with a lease short enough for a standby to
 * take the rig over within seconds of its holder's death.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, watch, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Agent, Bead, Rig } from "../../party/protocol.ts";
import { isolating, rigUserName } from "../../container/rig-user.ts";
import { spawnContainer, type ContainerProcess } from "../helpers/container.ts";
import { git, makeBareRepo, mergesOnMain } from "../helpers/git.ts";
import { startPartykit, type DevServer } from "../helpers/partykit.ts";
import { makeTown, type TestTown, untilReplica } from "../helpers/town.ts";

const SECRET = "leftovers-secret-0123456789";
const persistDir = mkdtempSync(join(tmpdir(), "townhall-leftovers-it-"));
let server: DevServer;
let town: TestTown;
let dir: string;
let containers: ContainerProcess[] = [];

beforeAll(async () => {
  server = await startPartykit({ persistDir, vars: { GT_SECRET: SECRET, GT_LEASE_TTL_MS: "3000" } });
});
afterAll(async () => {
  await server?.stop();
  rmSync(persistDir, { recursive: true, force: true });
});
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "townhall-leftovers-"));
});
afterEach(async () => {
  await Promise.all(containers.splice(0).map((c) => c.stop()));
  town?.closeAll();
  rmSync(dir, { recursive: true, force: true });
});

function container(workspace: string): ContainerProcess {
  const c = spawnContainer({ host: server.host, town: town.town, token: town.container, workspace: join(dir, workspace) });
  containers.push(c);
  return c;
}

/** A clone's worktree directories and `gt/` branches (read as root: the clone is the rig user's). */
function leftovers(workspace: string, rig: Rig): { worktrees: string[]; branches: string[] } {
  const rigDir = join(dir, workspace, "rigs", rig.id);
  const branches = git(["-c", "safe.directory=*", "-C", join(rigDir, "repo"), "for-each-ref", "--format=%(refname:short)", "refs/heads/gt/"]).trim();
  return { worktrees: readdirSync(join(rigDir, "worktrees")), branches: branches ? branches.split("\n") : [] };
}

/** Resolves once `name` exists in `dir` (a file the test's hook makes). */
function appears(dir: string, name: string): Promise<void> {
  return new Promise((resolve) => {
    const watcher = watch(dir, () => {
      if (existsSync(join(dir, name))) (watcher.close(), resolve());
    });
    if (existsSync(join(dir, name))) (watcher.close(), resolve());
  });
}

/** `promise`, or a failure that says `why()` once `ms` have passed. */
function within<T>(promise: Promise<T>, ms: number, why: () => string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(why())), ms)))]).finally(() =>
    clearTimeout(timer),
  );
}

describe("a killed supervisor's worktree and branch", () => {
  it("are removed by its restart even when the rig was handed to the other container meanwhile (the restart stands by)", async () => {
    town = await makeTown(server.host, SECRET, "left");
    const remote = makeBareRepo(dir, "alpha");
    const rig = await town.addRig("alpha", { git_url: remote, max_polecats: 2 });
    const replica = town.replica("rig", town.rigRoom(rig));
    await replica.whenSynced();
    const beads = () => [...replica.doc.getMap<Bead>("beads").values()];
    const agents = () => [...replica.doc.getMap<Agent>("agents").values()];
    const when = <T>(predicate: () => T | undefined | false) => untilReplica(replica, predicate, 45_000, predicate.toString().slice(0, 160));

    const a = container("a");
    await a.waitFor(/\[alpha\] ready/);
    const b = container("b");
    await b.waitFor(/\[alpha\] standing by/);
    const task = await town.rigCall<Bead>(rig, "gt_bead_create", { title: "outlive the supervisor", body: "await-mail" });
    const first = await when(() => agents().find((x) => x.status === "working" && x.pid && x.hook === task.id));
    const left = leftovers("a", rig);
    expect(left.worktrees).toEqual([first.name]);
    expect(left.branches).toHaveLength(1);

    // Container a's supervisor dies with its run in the clone; b takes the rig over once a's lease runs out.
    await a.kill();
    await b.waitFor(/\[alpha\] ready/);
    const again = await when(() => agents().find((x) => x.status === "working" && x.pid && x.pid !== first.pid && x.hook === task.id));

    // a comes back on its workspace and stands by: no grant will ever clean its clone, its own sweep must.
    const restarted = container("a");
    await restarted.waitFor(/\[alpha\] standing by/);
    await within(restarted.waitFor(/\[alpha\] removed what no run owns/), 20_000, () => `a's clone still holds ${JSON.stringify(leftovers("a", rig))}`);
    expect(leftovers("a", rig)).toEqual({ worktrees: [], branches: [] });

    // The work itself is b's, done once.
    await town.rigCall(rig, "gt_mail_send", { to: again.identity, subject: "go on", body: "" });
    await when(() => beads()[0]?.status === "closed");
    expect(mergesOnMain(remote).filter((m) => m.subject.includes(task.id))).toHaveLength(1);
    replica.close();
  });

  it("are removed within a sweep on the rig's holder too: a git the killed supervisor left running may make them after the restart's cleanup", async () => {
    town = await makeTown(server.host, SECRET, "left");
    const remote = makeBareRepo(dir, "alpha");
    const rig = await town.addRig("alpha", { git_url: remote, max_polecats: 2 });
    const a = container("a");
    await a.waitFor(/\[alpha\] ready/);
    // What such a git leaves: a worktree on a branch of its own, made as the rig's user, after the grant.
    const rigDir = join(dir, "a", "rigs", rig.id);
    const as = isolating()
      ? { uid: Number(execFileSync("id", ["-u", rigUserName(rig.id)]).toString()), gid: Number(execFileSync("id", ["-g", rigUserName(rig.id)]).toString()) }
      : {};
    execFileSync("git", ["-C", join(rigDir, "repo"), "worktree", "add", "-q", "-b", "gt/stray/0123ABCD", join(rigDir, "worktrees", "stray"), "main"], {
      ...as,
      cwd: "/",
      env: { PATH: process.env.PATH, HOME: join(rigDir, "home") },
    });
    expect(leftovers("a", rig)).toEqual({ worktrees: ["stray"], branches: ["gt/stray/0123ABCD"] });

    await within(
      a.waitFor(/\[alpha\] removed what no run owns: worktree stray, branch gt\/stray\/0123ABCD/),
      20_000,
      () => `a's clone still holds ${JSON.stringify(leftovers("a", rig))}`,
    );
    expect(leftovers("a", rig)).toEqual({ worktrees: [], branches: [] });
  });

  it("a start whose lease went while its worktree was being made starts nothing, and leaves no worktree or branch", async () => {
    town = await makeTown(server.host, SECRET, "left");
    const remote = makeBareRepo(dir, "alpha");
    const rig = await town.addRig("alpha", { git_url: remote, max_polecats: 2 });
    // An agent that would live on: nothing of the room's would ever stop it.
    const a = spawnContainer({
      host: server.host,
      town: town.town,
      token: town.container,
      workspace: join(dir, "a"),
      extra: ["--rig-command", "alpha=exec sleep 600"],
    });
    containers.push(a);
    await a.waitFor(/\[alpha\] ready/);
    const b = container("b");
    await b.waitFor(/\[alpha\] standing by/);
    // `git worktree add` runs the clone's post-checkout hook in the new worktree: there it holds
    // the start (worktree and branch made, the agent not yet spawned) for as long as the test wants.
    const signals = join(dir, "signals");
    mkdirSync(signals);
    chmodSync(signals, 0o777);
    execFileSync("mkfifo", ["-m", "0666", join(signals, "hold")]);
    const hook = join(dir, "a", "rigs", rig.id, "repo", ".git", "hooks", "post-checkout");
    writeFileSync(hook, `#!/bin/sh\ncase "$PWD" in */worktrees/*) touch ${signals}/in-hook; cat ${signals}/hold >/dev/null;; esac\n`, { mode: 0o755 });

    await town.rigCall<Bead>(rig, "gt_bead_create", { title: "start late", body: "" });
    await appears(signals, "in-hook");
    // a stops renewing; b takes the rig once a's lease runs out; a, resumed, learns it lost the rig.
    process.kill(a.child.pid!, "SIGSTOP");
    try {
      await b.waitFor(/\[alpha\] ready/);
    } finally {
      process.kill(a.child.pid!, "SIGCONT");
    }
    await a.waitFor(/\[alpha\] lease lost/);
    writeFileSync(join(signals, "hold"), ""); // the hook reads to the end: it returns, and so does `git worktree add`

    await within(
      a.waitFor(/\[alpha\] \S+('s run \S+ is void| started on gt\/)/),
      20_000,
      () => `a did nothing with the start: ${a.output().split("\n").slice(-10).join(" | ")}`,
    );
    expect(a.output()).not.toMatch(/\[alpha\] \S+ started on gt\//);
    expect(leftovers("a", rig)).toEqual({ worktrees: [], branches: [] });
  });
});
