/**
 * The town container on real git repositories and real `partykit dev` (DESIGN §7, §9): polecats
 * in worktrees of each rig's own clone, the refinery's merges, the witness, restarts.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, inject, it } from "vitest";
import type { Agent, Bead, Escalation, Rig } from "../../party/protocol.ts";
import { spawnContainer, type ContainerProcess } from "../helpers/container.ts";
import { filesOnMain, git, makeBareRepo, mergesOnMain, showFile } from "../helpers/git.ts";
import { makeTown, untilReplica, type TestTown } from "../helpers/town.ts";
import { hostPidOf } from "../helpers/watch.ts";

const host = inject("partykitHost");
const secret = inject("gtSecret");
let town: TestTown;
let dir: string;
let containers: ContainerProcess[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "townhall-container-"));
});
afterEach(async () => {
  await Promise.all(containers.splice(0).map((c) => c.stop()));
  town?.closeAll();
  rmSync(dir, { recursive: true, force: true });
});

function container(extra: string[] = [], workspace = "workspace"): ContainerProcess {
  const c = spawnContainer({ host, town: town.town, token: town.container, workspace: join(dir, workspace), extra });
  containers.push(c);
  return c;
}

/** A live view of a rig's beads and agents, with a helper to wait for a condition on them. */
async function watchRig(rig: Rig) {
  const replica = town.replica("rig", town.rigRoom(rig));
  await replica.whenSynced();
  const beads = () => [...replica.doc.getMap<Bead>("beads").values()];
  const agents = () => [...replica.doc.getMap<Agent>("agents").values()];
  const escalations = () => [...replica.doc.getMap<Escalation>("escalations").values()];
  const when = <T>(predicate: () => T | undefined | false, timeoutMs = 45_000) =>
    untilReplica(replica, predicate, timeoutMs, predicate.toString().slice(0, 160));
  return { replica, beads, agents, escalations, when };
}

async function addRig(name: string, extra: Record<string, unknown> = {}) {
  const remote = makeBareRepo(dir, name);
  const rig = await town.addRig(name, { git_url: remote, max_polecats: 2, ...extra });
  return { rig, remote };
}

function processAlive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

/** Live processes (not zombies) in the process group `pgid`. */
function processesInGroup(pgid: number): number[] {
  return readdirSync("/proc").flatMap((name) => {
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      return /^\d+$/.test(name) && Number(pgrp) === pgid && state !== "Z" ? [Number(name)] : [];
    } catch {
      return [];
    }
  });
}

const bead = (rig: Rig, title: string, body: string) => town.rigCall<Bead>(rig, "gt_bead_create", { title, body });

describe("the town container", () => {
  it("runs two rigs of three beads each with at most two polecats: all merged, each into its own remote, nothing left behind", async () => {
    town = await makeTown(host, secret, "c");
    const a = await addRig("alpha");
    const b = await addRig("beta");
    const [wa, wb] = [await watchRig(a.rig), await watchRig(b.rig)];
    for (const { rig } of [a, b]) for (let i = 1; i <= 3; i++) await bead(rig, `${rig.name} task ${i}`, `write ${rig.name}-${i}.txt: ${rig.name} ${i}`);
    let mostWorking = 0;
    wa.replica.doc.on("update", () => (mostWorking = Math.max(mostWorking, wa.agents().filter((x) => x.status === "working").length)));
    container();

    for (const w of [wa, wb]) await w.when(() => w.beads().length === 3 && w.beads().every((x) => x.status === "closed"));
    expect(mostWorking).toBeLessThanOrEqual(2);
    expect(wa.agents().filter((x) => x.role === "polecat").length).toBeLessThanOrEqual(2);
    for (const { rig, remote } of [a, b]) {
      const other = rig.name === "alpha" ? "beta" : "alpha";
      expect(filesOnMain(remote)).toEqual(["README.md", `${rig.name}-1.txt`, `${rig.name}-2.txt`, `${rig.name}-3.txt`]);
      expect(filesOnMain(remote).some((f) => f.startsWith(other))).toBe(false);
      const merges = mergesOnMain(remote);
      expect(merges.length).toBe(3);
      const closed = (rig.name === "alpha" ? wa : wb).beads();
      expect(closed.map((x) => x.mergeCommit).sort()).toEqual(merges.map((m) => m.sha).sort());
      const clone = join(dir, "workspace", "rigs", rig.id);
      expect(readdirSync(join(clone, "worktrees")).length).toBe(0);
      expect(git(["-C", join(clone, "repo"), "branch", "--list", "gt/*"])).toBe("");
    }
    // The town's registry shows the rigs ready, with their disk use.
    const rigs = await town.townCall<Rig[]>("gt_list_rigs");
    expect(rigs.map((r) => [r.name, r.status])).toEqual([
      ["alpha", "ready"],
      ["beta", "ready"],
    ]);
    expect(rigs.every((r) => (r.summary.diskBytes ?? 0) > 0)).toBe(true);
  });

  it("runs at most --max-agents agent processes at once over all its rigs; the others wait their turn and all merge", async () => {
    town = await makeTown(host, secret, "c");
    const a = await addRig("alpha");
    const b = await addRig("beta");
    const [wa, wb] = [await watchRig(a.rig), await watchRig(b.rig)];
    for (const { rig } of [a, b]) for (let i = 1; i <= 2; i++) await bead(rig, `${rig.name} task ${i}`, `write ${rig.name}-${i}.txt: ${i}`);
    const c = container(["--max-agents", "1"]);
    for (const w of [wa, wb]) await w.when(() => w.beads().length === 2 && w.beads().every((x) => x.status === "closed"), 90_000);
    // Agent processes at once, from the container's own lines: each "started on" before its "exited".
    let running = 0;
    let most = 0;
    for (const line of c.output().split("\n")) {
      if (/\/polecats\/\S+ started on /.test(line)) most = Math.max(most, ++running);
      else if (/\/polecats\/\S+ exited \(/.test(line)) running--;
    }
    expect(most).toBe(1);
    for (const { remote } of [a, b]) expect(mergesOnMain(remote).length).toBe(2);
  });

  it("lets a scripted agent in one rig mail an agent of another rig while both work", async () => {
    town = await makeTown(host, secret, "c");
    const a = await addRig("alpha");
    const b = await addRig("beta");
    const [wa, wb] = [await watchRig(a.rig), await watchRig(b.rig)];
    container();
    await bead(b.rig, "wait for word", "await-mail");
    const waiting = await wb.when(() => wb.agents().find((x) => x.role === "polecat" && x.status === "working"));
    await bead(a.rig, "send word", `mail ${waiting.identity}: hello from alpha\nwrite sent.txt: sent`);
    for (const w of [wa, wb]) await w.when(() => w.beads().length === 1 && w.beads()[0]!.status === "closed");
    expect(showFile(b.remote, "inbox.md")).toBe("alpha/polecats/toast: hello from alpha");
    expect(showFile(a.remote, "sent.txt")).toBe("sent");
  });

  it("returns the bead of a SIGKILLed agent and has it done again, merged once", async () => {
    town = await makeTown(host, secret, "c");
    const a = await addRig("alpha");
    const wa = await watchRig(a.rig);
    container();
    const task = await bead(a.rig, "survive a kill", "await-mail");
    const first = await wa.when(() => wa.agents().find((x) => x.status === "working" && x.pid));
    process.kill(first.pid!, "SIGKILL");
    await wa.when(() => wa.beads()[0]!.history?.some((h) => h.status === "open" && /exited/.test(h.note ?? "")));
    const second = await wa.when(() => wa.agents().find((x) => x.status === "working" && x.pid && x.pid !== first.pid));
    await town.rigCall(a.rig, "gt_mail_send", { to: second.identity, subject: "go on", body: "" });
    await wa.when(() => wa.beads()[0]!.status === "closed");
    expect(mergesOnMain(a.remote).filter((m) => m.subject.includes(task.id)).length).toBe(1);
    expect(showFile(a.remote, "inbox.md")).toBe("operator: go on");
  });

  it("a restarted supervisor (same workspace) takes its rig back at once: the killed one's run is void, not counted, and redone with no orphan worktree", async () => {
    town = await makeTown(host, secret, "c");
    const a = await addRig("alpha");
    const wa = await watchRig(a.rig);
    const first = container();
    await bead(a.rig, "outlive the supervisor", "await-mail");
    await bead(a.rig, "plain work", "write plain.txt: plain");
    const outlive = () => wa.beads().find((b) => b.title.startsWith("outlive"))!;
    const working = await wa.when(() => wa.agents().find((x) => x.status === "working" && x.pid && x.hook === outlive().id));
    await first.kill(); // the supervisor alone, as a crash would: its agent lives on for a moment

    const second = container();
    // The same container (its workspace's id), a new session: the room voids the old runs at once.
    await second.waitFor(/\[alpha\] ready/);
    const again = await wa.when(() => wa.agents().find((x) => x.status === "working" && x.pid && x.pid !== working.pid && x.hook === outlive().id));
    expect(outlive().attempts ?? 0).toBe(0);
    expect(outlive().history?.some((h) => /run was lost/.test(h.note ?? ""))).toBe(true);
    await town.rigCall(a.rig, "gt_mail_send", { to: again.identity, subject: "after restart", body: "" });
    await wa.when(() => wa.beads().every((b) => b.status === "closed") && wa.beads().length === 2);
    expect(filesOnMain(a.remote)).toEqual(["README.md", "inbox.md", "plain.txt"]);
    const clone = join(dir, "workspace", "rigs", a.rig.id);
    expect(readdirSync(join(clone, "worktrees"))).toEqual([]);
    expect(git(["-C", join(clone, "repo"), "branch", "--list", "gt/*"])).toBe("");
    // The first supervisor's agent process did not outlive it (a zombie awaiting its reaper is dead).
    expect(processAlive(working.pid!)).toBe(false);
  });

  it("turns a merge conflict into an escalation and reopens the bead, which is then redone and merged", async () => {
    town = await makeTown(host, secret, "c");
    const a = await addRig("alpha");
    const wa = await watchRig(a.rig);
    container();
    await bead(a.rig, "first", "write shared.txt: one");
    const second = await bead(a.rig, "second", "await-mail\nwrite shared.txt: two");
    await wa.when(() => wa.beads().find((b) => b.title === "first")?.status === "closed");
    const waiting = wa.agents().find((x) => x.hook === second.id)!;
    await town.rigCall(a.rig, "gt_mail_send", { to: waiting.identity, subject: "now", body: "" });

    const escalation = await wa.when(() => wa.escalations().find((e) => e.beadId === second.id));
    expect(escalation).toMatchObject({ from: "alpha/refinery", severity: "high", status: "open" });
    expect(escalation.body).toMatch(/shared\.txt/);
    await wa.when(() =>
      wa
        .beads()
        .find((b) => b.id === second.id)
        ?.history?.some((h) => h.status === "open" && /merge failed/.test(h.note ?? "")),
    );
    const redo = await wa.when(() => wa.agents().find((x) => x.hook === second.id && x.status === "working" && x.pid));
    await town.rigCall(a.rig, "gt_mail_send", { to: redo.identity, subject: "again", body: "" });
    await wa.when(() => wa.beads().find((b) => b.id === second.id)?.status === "closed");
    expect(showFile(a.remote, "shared.txt")).toBe("two");
    const summary = (await town.townCall<Rig>("gt_rig_status", { name: "alpha" })).summary;
    expect(summary.openEscalations).toBe(1);
  });

  it("runs any command as the agent, with the gt CLI on its PATH and nothing of another rig in its environment", async () => {
    town = await makeTown(host, secret, "c");
    const a = await addRig("alpha");
    const b = await addRig("beta");
    const wa = await watchRig(a.rig);
    const script = '{ pwd; env | sort; } > seen.txt && gt prime > primed.txt && git add -A && git commit -q -m "from a command agent" && gt done';
    container(["--rig-command", `alpha=${script}`]);
    const task = await bead(a.rig, "command work", "whatever the command does");
    await wa.when(() => wa.beads()[0]?.status === "closed");
    expect(showFile(a.remote, "primed.txt")).toContain(task.id);
    const seen = showFile(a.remote, "seen.txt")!;
    const rigDir = join(dir, "workspace", "rigs", a.rig.id);
    expect(seen.split("\n")[0]).toBe(join(rigDir, "worktrees", "toast"));
    // Gas Town's variables: GT_RIG is the rig's name, its id is GT_RIG_ID (issue 20: GT_RIG was the id).
    expect(seen).toContain(`GT_RIG=alpha\n`);
    expect(seen).toContain(`GT_RIG_ID=${a.rig.id}`);
    expect(seen).toContain("GT_ROLE=polecat\n");
    expect(seen).toContain("GT_POLECAT=toast\n");
    expect(seen).toContain(`HOME=${join(rigDir, "home")}`);
    expect(seen).not.toContain(b.rig.id);
    expect(seen).not.toContain("GT_SECRET");
    expect(existsSync(join(rigDir, "worktrees", "toast"))).toBe(false);
  });

  it("stops an agent with all it started: a command runtime's background child ends with it (its process group)", async () => {
    town = await makeTown(host, secret, "c");
    const a = await addRig("alpha", { max_polecats: 1 });
    const wa = await watchRig(a.rig);
    // The shell waits on a child that holds the agent's token in its environment too.
    const c = container(["--rig-command", 'alpha=sleep 1000 & echo "sleeper $!"; wait']);
    const task = await bead(a.rig, "run until stopped", "");
    const agent = await wa.when(() => wa.agents().find((x) => x.status === "working" && x.pid && x.hook === task.id));
    await c.waitFor(/\[alpha\] \S+: sleeper \d+/);
    const sleeper = hostPidOf(Number(/\[alpha\] \S+: sleeper (\d+)/.exec(c.output())![1]), agent.pid!);
    expect([processAlive(agent.pid!), processAlive(sleeper)]).toEqual([true, true]);

    await town.rigCall(a.rig, "gt_bead_update", { bead_id: task.id, status: "failed" });
    await c.waitFor(new RegExp(`\\[alpha\\] ${agent.identity} exited`));
    // A SIGKILLed process takes a moment to be gone.
    for (let i = 0; i < 100 && (processAlive(sleeper) || processesInGroup(agent.pid!).length); i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect([processAlive(agent.pid!), processAlive(sleeper)]).toEqual([false, false]);
    expect(processesInGroup(agent.pid!)).toEqual([]);
  });

  it("serves only the rigs named by --rigs; a second container stands by for a served rig and does none of its work", async () => {
    town = await makeTown(host, secret, "c");
    const a = await addRig("alpha");
    const b = await addRig("beta");
    const [wa, wb] = [await watchRig(a.rig), await watchRig(b.rig)];
    const alphaOnly = container(["--rigs", "alpha"]);
    await alphaOnly.waitFor(/\[alpha\] ready/);
    const everything = container([], "second");
    await everything.waitFor(/\[beta\] ready/);
    await everything.waitFor(/\[alpha\] standing by/);
    await bead(a.rig, "alpha work", "write a.txt: a");
    await bead(b.rig, "beta work", "write b.txt: b");
    for (const w of [wa, wb]) await w.when(() => w.beads()[0]?.status === "closed");
    expect(alphaOnly.output()).not.toMatch(/\[beta\]/);
    expect(alphaOnly.output()).toMatch(/\[alpha\] merged/);
    expect(everything.output()).not.toMatch(/\[alpha\] (ready|merged)/);
    expect(everything.output()).toMatch(/\[beta\] merged/);
  });

  it("a rig whose agents' program is not on their PATH is in error at once, saying so in one line, and gets no bead", async () => {
    town = await makeTown(host, secret, "c");
    const { rig } = await addRig("alpha");
    const c = container(["--rig-command", "alpha=no-such-agent-cli -p 'do the work'"]);
    await c.waitFor(/\[alpha\] agents of this rig cannot run no-such-agent-cli/);
    const townDoc = town.replica("main", town.town, town.operator, "town");
    const failed = await untilReplica(
      townDoc,
      (doc) =>
        doc
          .getMap<Rig>("rigs")
          .get(rig.id)
          ?.summary.attention?.find((a) => a.kind === "rig_error"),
      15_000,
      "the rig's error in the attention lane",
    );
    expect(failed.detail).toMatch(/^agents of this rig cannot run no-such-agent-cli( as th-\w+)?: not found on the agents' PATH/);
    expect(c.output()).not.toMatch(/alpha\/polecats\/\S+ started/);
  });

  it("refuses a second container on a workspace that a live one uses", async () => {
    town = await makeTown(host, secret, "c");
    await addRig("alpha");
    const first = container();
    await first.waitFor(/\[alpha\] ready/);
    const second = container();
    await new Promise<void>((resolve) => second.child.once("exit", () => resolve()));
    expect(second.child.exitCode).toBe(2);
    expect(second.output()).toMatch(/in use by another container/);
  });

  it("renews its token before it expires and keeps serving its rig past the first token's expiry", async () => {
    town = await makeTown(host, secret, "c");
    const { rig } = await addRig("alpha");
    const w = await watchRig(rig);
    // A token of 6 s: renewed at two thirds of it; without renewal the room closes every socket at 6 s (4401).
    const expiresAt = Date.now() + 6_000;
    const short = await town.token({ role: "container", exp: Math.floor(expiresAt / 1000) });
    const c = spawnContainer({ host, town: town.town, token: short, workspace: join(dir, "workspace") });
    containers.push(c);
    await c.waitFor(/\[alpha\] ready/);
    await c.waitFor(/token renewed/);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, expiresAt - Date.now() + 1_000))); // the first token is over
    await bead(rig, "after the expiry", "write late.txt: still served");
    await w.when(() => w.beads().some((b) => b.title === "after the expiry" && b.status === "closed"));
  });
});
