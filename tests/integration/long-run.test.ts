/**
 * A town that runs for days (one test per finding of the hour-long trial, each on real
 * `partykit dev` with short deadlines): a document rebuild never looks like a deletion, the witness
 * never kills a live agent for an earlier bead's exit, a merge nobody reports is retried and then
 * escalated, a frozen container loses its rig to a standby, a lost mail-check reply loses no mail, a
 * hung agent is nudged (not by mail) and then stopped, and `gt done` with nothing to merge borrows no merge.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { ToolSocket } from "../../client/tools.ts";
import { processesUnder } from "../../container/processes.ts";
import type { Bead, Mail, MergeCommand, PrimeResult, Rig, StartAgentCommand } from "../../party/protocol.ts";
import { spawnContainer, type ContainerProcess } from "../helpers/container.ts";
import { makeBareRepo, mergesOnMain } from "../helpers/git.ts";
import { startPartykit, type DevServer } from "../helpers/partykit.ts";
import { makeTown, type TestTown } from "../helpers/town.ts";
import { processAlive, standIn, watchRig } from "../helpers/watch.ts";

const SECRET = "long-run-secret-0123456789";
/** Deadlines a loaded two-core machine still meets, short enough for a test. */
const VARS = {
  GT_SECRET: SECRET,
  GT_TEST_HOOKS: "1",
  GT_WITNESS_TIMEOUT_MS: "3000",
  GT_LEASE_TTL_MS: "2000",
  GT_MERGE_TIMEOUT_MS: "1500",
  GT_AGENT_IDLE_MS: "3000",
  GT_REBUILD_AFTER: "25",
};

let server: DevServer;
let persistDir: string;
let dir: string;
let town: TestTown;
const containers: ContainerProcess[] = [];
const cleanups: (() => void)[] = [];

beforeAll(async () => {
  persistDir = mkdtempSync(join(tmpdir(), "townhall-longrun-"));
  server = await startPartykit({ persistDir, vars: VARS });
});
afterAll(async () => {
  await server.stop();
  rmSync(persistDir, { recursive: true, force: true });
});
afterEach(async () => {
  for (const c of containers.splice(0)) {
    try {
      process.kill(-c.child.pid!, "SIGCONT"); // a frozen one must be able to stop
    } catch {
      // gone
    }
    await c.stop();
  }
  for (const cleanup of cleanups.splice(0)) cleanup();
  town?.closeAll();
  rmSync(dir, { recursive: true, force: true });
});

async function newTown(): Promise<void> {
  dir = mkdtempSync(join(tmpdir(), "townhall-longrun-ws-"));
  town = await makeTown(server.host, SECRET, "lr");
}

function container(workspace = "workspace", extra: string[] = []): ContainerProcess {
  const c = spawnContainer({ host: server.host, town: town.town, token: town.container, workspace: join(dir, workspace), extra });
  containers.push(c);
  return c;
}

async function addRig(name: string, extra: Record<string, unknown> = {}) {
  const remote = makeBareRepo(dir, name);
  const rig = await town.addRig(name, { git_url: remote, max_polecats: 2, ...extra });
  return { rig, remote };
}

/** A new town with one rig of one polecat, served by a stand-in container that holds its lease. */
async function standInRig() {
  await newTown();
  const { rig } = await addRig("alpha", { max_polecats: 1 });
  const wa = await watchRig(town, rig);
  const c = await standIn(town, rig);
  cleanups.push(() => c.stop());
  await c.ack("gt_rig_ready", { disk_bytes: 1 });
  return { rig, wa, c };
}

const bead = (rig: Rig, title: string, body: string) => town.rigCall<Bead>(rig, "gt_bead_create", { title, body });
const mergesOf = (remote: string, beadId: string) => mergesOnMain(remote).filter((m) => m.subject.includes(beadId)).length;

describe("a town that runs for days", () => {
  it("finding 1: a rebuilt town document never makes the container delete a rig's clone", async () => {
    await newTown();
    const a = await addRig("alpha");
    const wa = await watchRig(town, a.rig);
    const c = container();
    await c.waitFor(/\[alpha\] ready/);
    const marker = join(dir, "workspace", "rigs", a.rig.id, "repo", ".git", "townhall-marker");
    writeFileSync(marker, "this clone must survive");
    // Far more town updates than GT_REBUILD_AFTER: the town room rebuilds its document and every
    // replica (the container's too) resyncs, more than once.
    // A replica of the town's document is told the document was replaced (close 4205), as the
    // container's is, and syncs the new one.
    const watcher = new WebSocket(`ws://${server.host}/parties/main/${town.town}/docs/town?token=${town.operator}`);
    cleanups.push(() => watcher.close());
    const replaced = new Promise<number>((resolve) => watcher.once("close", (code) => resolve(code)));
    await new Promise((resolve) => watcher.once("open", resolve));
    watcher.send(new Uint8Array([0, 0, 1, 0])); // sync step 1 of an empty replica: it now receives updates
    for (let i = 0; i < 30; i++) await town.townCall("gt_mail_send", { to: "mayor", subject: `note ${i}`, body: "" });
    expect(await replaced).toBe(4205);
    // The container still serves the rig from the same clone.
    const task = await bead(a.rig, "after the rebuilds", "write after.txt: after");
    await wa.when(() => wa.beads().find((b) => b.id === task.id)?.status === "closed");
    expect(existsSync(marker)).toBe(true);
    expect(c.output()).not.toMatch(/removed from the town/);
    expect(mergesOf(a.remote, task.id)).toBe(1);
  });

  it("finding 2: an agent's exit for its previous bead does not make the witness kill it on its new bead", async () => {
    const { rig, wa, c } = await standInRig();
    const first = await bead(rig, "first", "");
    const second = await bead(rig, "second", "");
    const startFirst = (await c.next((x) => x.command === "start_agent" && x.bead.id === first.id)) as StartAgentCommand;
    await c.ack("gt_agent_started", { as: startFirst.identity, bead_id: first.id, pid: 999_001, run: startFirst.run });
    c.vouch(startFirst.identity);
    // The container vouches for the agent, on a container's ten-second cadence scaled down.
    const beat = (identity: string) => c.ack("gt_heartbeat", { as: identity });
    const beatFor = async (ms: number, identity: string) => {
      for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 500))) await beat(identity);
    };
    // The first bead takes longer than the witness timeout, as real work does.
    await beatFor(Number(VARS.GT_WITNESS_TIMEOUT_MS) + 500, startFirst.identity);
    await c.ack("gt_done", { as: startFirst.identity, branch: startFirst.branch });
    const startSecond = (await c.next((x) => x.command === "start_agent" && x.bead.id === second.id)) as StartAgentCommand;
    expect(startSecond.identity).toBe(startFirst.identity);
    await c.ack("gt_agent_started", { as: startSecond.identity, bead_id: second.id, pid: 999_002, run: startSecond.run });
    // The first run's process ends only now (it exits after gt_done), reported for the first bead.
    await c.ack("gt_agent_exited", { as: startFirst.identity, bead_id: first.id, code: 0, run: startFirst.run });
    // The next beat comes within half the witness timeout, then regular beats for two timeouts.
    await new Promise((r) => setTimeout(r, 1_000));
    await beatFor(2 * Number(VARS.GT_WITNESS_TIMEOUT_MS), startSecond.identity);
    const agent = wa.agents().find((x) => x.identity === startSecond.identity)!;
    expect(agent.status).toBe("working");
    const now = wa.beads().find((b) => b.id === second.id)!;
    expect(now.status).toBe("in_progress");
    expect(now.attempts ?? 0).toBe(0);
    expect(wa.events().some((e) => /dead/.test(e.text))).toBe(false);
  });

  it("finding 3: a merge nobody reports is sent again, then escalated and failed with a reason; a bead never waits in review for good", async () => {
    const { rig, wa, c } = await standInRig();
    const task = await bead(rig, "merge me", "");
    const start = (await c.next((x) => x.command === "start_agent")) as StartAgentCommand;
    await c.ack("gt_agent_started", { as: start.identity, bead_id: task.id, pid: 999_003, run: start.run });
    await c.ack("gt_done", { as: start.identity, branch: start.branch });
    const merge = (await c.next((x) => x.command === "merge")) as MergeCommand;
    // The container took the merge on and then lost it: it never reports. The room asks again.
    const again = (await c.next((x) => x.command === "merge" && x.id !== merge.id)) as MergeCommand;
    expect(again.bead_id).toBe(task.id);
    const failed = await wa.when(() => wa.beads().find((b) => b.id === task.id && b.status === "failed"), 30_000);
    expect(failed.history?.at(-1)?.note).toMatch(/merge/);
    expect(wa.escalations().some((e) => e.beadId === task.id && e.status === "open" && /merge/i.test(e.title))).toBe(true);
  });

  it("finding 4: a frozen container loses its rig to a standby at once; none of its beads fails or is merged twice, and it stands by after it wakes", async () => {
    await newTown();
    const a = await addRig("alpha");
    const wa = await watchRig(town, a.rig);
    const script = 'sleep 2 && echo "$GT_BEAD" > "w-$GT_BEAD.txt" && git add -A && git commit -qm work && gt done';
    const first = container("first", ["--rig-command", `alpha=${script}`]);
    await first.waitFor(/\[alpha\] ready/);
    const standby = container("second", ["--rig-command", `alpha=${script}`]);
    await standby.waitFor(/\[alpha\] standing by/);
    const beads = [await bead(a.rig, "one", ""), await bead(a.rig, "two", ""), await bead(a.rig, "three", "")];
    await wa.when(() => wa.agents().filter((x) => x.status === "working" && x.pid).length === 2);

    // The supervisor's group, and its agents, which run in process groups of their own.
    const frozen = [-first.child.pid!, ...processesUnder(join(dir, "first"), /./)];
    const signal = (sig: NodeJS.Signals) => {
      for (const pid of frozen) {
        try {
          process.kill(pid, sig);
        } catch {
          // exited meanwhile
        }
      }
    };
    signal("SIGSTOP");
    try {
      await wa.when(() => beads.every((b) => wa.beads().find((x) => x.id === b.id)?.status === "closed"), 40_000);
      await standby.waitFor(/\[alpha\] serving/);
    } finally {
      signal("SIGCONT");
    }
    await first.waitFor(/\[alpha\] lease lost/);
    await first.waitFor(/\[alpha\] standing by/);
    for (const b of wa.beads()) {
      expect(b.status).toBe("closed");
      expect(b.attempts ?? 0).toBe(0);
      expect(mergesOf(a.remote, b.id)).toBe(1);
    }
    // The first container's agents did not live on after it learnt it lost the rig.
    const pids = [...first.output().matchAll(/started on \S+ \(pid (\d+)\)/g)].map((m) => Number(m[1]));
    expect(pids.length).toBeGreaterThan(0);
    expect(pids.filter(processAlive)).toEqual([]);
  });

  it("finding 5: mail handed out by gt_mail_check stays unread until acknowledged, so a lost reply loses nothing", async () => {
    await newTown();
    const { rig } = await addRig("alpha");
    const toast = await town.polecat(rig, "toast");
    const sent = await town.rigCall<{ id: string }>(rig, "gt_mail_send", { to: toast.identity, subject: "do not lose me", body: "" });
    // Checked, and the socket is gone before the reply could be read.
    const lossy = new ToolSocket({ host: server.host, party: "rig", room: town.rigRoom(rig), token: toast.token, WebSocket });
    await lossy.ready;
    lossy.socket.send(JSON.stringify({ type: "call", id: "lost", tool: "gt_mail_check", args: {} }));
    lossy.close();
    const agent = town.agentSocket(rig, toast.token);
    await agent.ready;
    expect((await agent.call<PrimeResult>("gt_prime")).mail.map((m) => m.id)).toEqual([sent.id]);
    const again = await agent.call<Mail[]>("gt_mail_check");
    expect(again.map((m) => m.id)).toEqual([sent.id]);
    await agent.call("gt_mail_ack", { ids: [sent.id] });
    expect(await agent.call<Mail[]>("gt_mail_check")).toEqual([]);
    expect((await agent.call<PrimeResult>("gt_prime")).mail).toEqual([]);
  });

  it("finding 6: a hung agent (alive, silent, no tool call) is nudged, never by mail, then stopped at the ceiling; after repeated hangs its bead fails with an escalation", async () => {
    await newTown();
    const a = await addRig("alpha", { max_polecats: 1 });
    const wa = await watchRig(town, a.rig);
    container("workspace", ["--rig-command", "alpha=sleep 600"]);
    const task = await bead(a.rig, "hang forever", "");
    // W8: the nudge waits for a tool call that never comes; no mail is sent.
    await wa.when(() => wa.events().find((e) => /^alpha\/polecats\/\S+ made no progress for \d+ s; nudged$/.test(e.text)));
    const failed = await wa.when(() => wa.beads().find((b) => b.id === task.id && b.status === "failed"), 80_000);
    expect(failed.attempts).toBe(3);
    expect(wa.mail().filter((m) => m.from === "alpha/witness")).toEqual([]);
    // The document holds a bead's last 2 status changes; gt_bead_status reads its stored history.
    const whole = await town.rigCall<Bead>(a.rig, "gt_bead_status", { bead_id: task.id });
    expect(whole.history?.some((h) => /no progress/.test(h.note ?? ""))).toBe(true);
    expect(wa.escalations().some((e) => e.beadId === task.id && e.status === "open")).toBe(true);
    expect(wa.events().some((e) => /hung|no progress/.test(e.text))).toBe(true);
  }, 120_000);

  it("W8: an agent waiting for mail that checks its inbox now and then is making progress: not nudged, not stopped at the ceiling, and carries on when the mail comes", async () => {
    await newTown();
    const a = await addRig("alpha", { max_polecats: 1 });
    const wa = await watchRig(town, a.rig);
    container();
    const task = await bead(a.rig, "wait for word", "await-mail");
    const working = await wa.when(() => wa.beads().find((b) => b.id === task.id && b.status === "in_progress"));
    const identity = working.assignee!;
    // Longer than the ceiling (3 x GT_AGENT_IDLE_MS) with no mail: the run must not be nudged or stopped meanwhile.
    const ceiling = 3 * Number(VARS.GT_AGENT_IDLE_MS);
    const trouble = await wa.when(() => wa.events().find((e) => e.text.startsWith(identity) && /nudged|hung/.test(e.text)), ceiling + 2_000).catch(() => null);
    expect(trouble).toBeNull();
    expect(wa.beads().find((b) => b.id === task.id)).toMatchObject({ status: "in_progress" });
    await town.rigCall(a.rig, "gt_mail_send", { to: identity, subject: "go ahead", body: "" });
    const closed = await wa.when(() => wa.beads().find((b) => b.id === task.id && b.status === "closed"));
    expect(closed.attempts ?? 0).toBe(0);
  }, 90_000);

  it("finding 7: gt done with no new commit is refused and never closes the bead with another bead's merge", async () => {
    await newTown();
    const a = await addRig("alpha", { max_polecats: 1 });
    const wa = await watchRig(town, a.rig);
    const script = 'if gt prime | grep -q NOCOMMIT; then gt done; else echo w > "w-$GT_BEAD.txt" && git add -A && git commit -qm w && gt done; fi';
    const c = container("workspace", ["--rig-command", `alpha=${script}`]);
    const work = await bead(a.rig, "real work", "");
    const closed = await wa.when(() => wa.beads().find((b) => b.id === work.id && b.status === "closed"));
    const empty = await bead(a.rig, "nothing to do", "NOCOMMIT");
    const settled = await wa.when(() => wa.beads().find((b) => b.id === empty.id && (b.status === "failed" || b.status === "closed")), 60_000);
    expect(settled.status).toBe("failed");
    expect(settled.mergeCommit).toBeUndefined();
    expect(settled.mergeCommit).not.toBe(closed.mergeCommit);
    expect(mergesOf(a.remote, empty.id)).toBe(0);
    expect(c.output()).toMatch(/nothing to merge/);
  });
});
