/**
 * Agents' output on real `partykit dev` (party/agent-output.ts, docs/protocol.md "Agents' output"):
 * the lease holder appends, gt_agent_log pages, share links read only what their view names, the
 * output socket gets its backlog and then live lines, only sockets watching that agent get them,
 * and the runs are still there after the server restarts on the same storage.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, inject, it } from "vitest";
import { CLOSE, type AgentLogResult, type Bead, type Rig, type ShareResult, type StartAgentCommand } from "../../party/protocol.ts";
import { REDACTED } from "../../party/redact.ts";
import { gt, gtJson, type GtEnv } from "../helpers/gt.ts";
import { linesOf, refusedWith, watchOutput, type OutputWatcher } from "../helpers/output.ts";
import { startPartykit, type DevServer } from "../helpers/partykit.ts";
import { fails, makeTown, workingAgent, type TestTown } from "../helpers/town.ts";

const host = inject("partykitHost");
const secret = inject("gtSecret");
let town: TestTown;
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  town?.closeAll();
});

type Line = { at: number; stream: "out" | "err"; text: string };
const out = (text: string, stream: "out" | "err" = "out"): Line => ({ at: Date.now(), stream, text });

/**
 * Polecats at work on new beads (one each), their runs started by a stand-in container that holds
 * the rig's lease and keeps them alive; each can print and exit as its process would.
 */
async function runningAgents(t: TestTown, rig: Rig, titles: string[]) {
  const { socket, epoch } = await t.holdLease(rig);
  const starts: StartAgentCommand[] = [];
  const all = new Promise<void>((resolve) => {
    const off = socket.onCommand((command) => {
      if (command.command !== "start_agent") return;
      starts.push(command);
      if (starts.length === titles.length) (off(), resolve());
    });
  });
  await t.rigCall(rig, "gt_rig_ready", { disk_bytes: 1, epoch }, t.container);
  for (const title of titles) await t.rigCall<Bead>(rig, "gt_bead_create", { title });
  await all;
  return Promise.all(
    starts.map(async (start) => {
      // The witness is quick in tests: keep the run alive as its process would.
      const beat = setInterval(() => void t.rigCall(rig, "gt_heartbeat", {}, start.token).catch(() => {}), 300);
      cleanups.push(() => clearInterval(beat));
      await t.rigCall(rig, "gt_agent_started", { as: start.identity, bead_id: start.bead.id, run: start.run, epoch }, t.container);
      const print = (lines: Line[], first?: number) =>
        t.rigCall<{ stored: number }>(
          rig,
          "gt_agent_output",
          { epoch, run: start.run, identity: start.identity, lines, ...(first !== undefined ? { first } : {}) },
          t.container,
        );
      const exit = (code: number) =>
        t.rigCall(rig, "gt_agent_exited", { as: start.identity, bead_id: start.bead.id, run: start.run, epoch, code }, t.container);
      return { bead: start.bead, start, epoch, print, exit };
    }),
  );
}

type Running = Awaited<ReturnType<typeof runningAgents>>[number];

async function runningAgent(t: TestTown, rig: Rig, title = "Make it print"): Promise<Running> {
  return (await runningAgents(t, rig, [title]))[0]!;
}

function watch(t: TestTown, rig: Rig, identity: string, token: string, raw = false): OutputWatcher {
  const w = watchOutput(host, t.rigRoom(rig), identity, token, { raw });
  cleanups.push(() => w.close());
  return w;
}

const log = (t: TestTown, rig: Rig, args: Record<string, unknown>, token = t.operator) => t.rigCall<AgentLogResult>(rig, "gt_agent_log", args, token);

describe("agents' output in the rig room", () => {
  it("the lease holder appends, redacted again in the room; gt_agent_log pages it; a repeat is stored once", async () => {
    town = await makeTown(host, secret, "out");
    const rig = await town.addRig("alpha");
    const { bead, start, print } = await runningAgent(town, rig);
    const lines = Array.from({ length: 12 }, (_, i) => out(`step ${i + 1}`));
    expect(await print([...lines.slice(0, 10), out(`curl -H "Authorization: Bearer abc123def456"`, "err"), out(`GT_SECRET=${secret}`)], 0)).toEqual({
      stored: 12,
    });
    expect(await print(lines.slice(0, 3), 0)).toEqual({ stored: 0 }); // sent again after a lost reply

    const all = await log(town, rig, { identity: start.identity });
    expect(all.run).toMatchObject({ run: start.run, identity: start.identity, beadId: bead.id, lines: 12, dropped: 0 });
    expect(all.run?.endedAt).toBeUndefined();
    expect(all.runs.map((r) => r.run)).toEqual([start.run]);
    expect(all.lines.map((l) => l.seq)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(all.lines[10]).toMatchObject({ stream: "err", text: `curl -H "Authorization: Bearer ${REDACTED}"` });
    expect(all.lines[11]!.text).toBe(`GT_SECRET=${REDACTED}`);
    expect(JSON.stringify(all)).not.toContain(secret);
    expect(all.next).toBe(12);

    const page = await log(town, rig, { run: start.run, after: 4, limit: 3 });
    expect([page.lines.map((l) => l.text), page.next]).toEqual([["step 5", "step 6", "step 7"], 7]);
    expect((await log(town, rig, { bead_id: bead.id, limit: 2 })).lines.map((l) => l.seq)).toEqual([11, 12]);
    expect(await log(town, rig, { run: start.run, after: 12 })).toMatchObject({ lines: [], next: 12 });
  });

  it("refuses output from a stale epoch, for a run that is not the agent's, and from anyone but the container", async () => {
    town = await makeTown(host, secret, "out");
    const rig = await town.addRig("alpha", { max_polecats: 2 });
    const { start, epoch, print } = await runningAgent(town, rig);
    const maple = await town.polecat(rig, "maple");
    const call = (args: Record<string, unknown>, token = town.container) =>
      town.rigCall(rig, "gt_agent_output", { epoch, run: start.run, identity: start.identity, lines: [out("x")], ...args }, token);
    expect((await fails(call({ epoch: epoch + 1 }))).code).toBe("LEASE_LOST");
    expect((await fails(call({ run: `${start.run.split(".")[0]}.9` }))).code).toBe("CONFLICT");
    expect((await fails(call({ identity: maple.identity }))).code).toBe("CONFLICT");
    expect((await fails(call({ identity: "alpha/polecats/nobody" }))).code).toBe("UNKNOWN_AGENT");
    expect((await fails(call({ lines: [] }))).code).toBe("INVALID_ARGS");
    expect((await fails(call({ lines: Array.from({ length: 201 }, () => out("x")) }))).code).toBe("INVALID_ARGS");
    expect((await fails(call({ lines: [out("x".repeat(4097))] }))).code).toBe("INVALID_ARGS");
    expect((await fails(call({}, start.token))).code).toBe("FORBIDDEN");
    expect((await fails(call({}, town.operator))).code).toBe("FORBIDDEN");
    // None of it was stored; agents do not read output, not even their own.
    expect(await log(town, rig, { identity: start.identity })).toMatchObject({ run: { run: start.run, lines: 0 }, lines: [] });
    expect((await fails(log(town, rig, { identity: start.identity }, start.token))).code).toBe("FORBIDDEN");
    expect((await fails(log(town, rig, {}))).code).toBe("INVALID_ARGS");
    expect((await fails(log(town, rig, { identity: "alpha/polecats/nobody" }))).code).toBe("UNKNOWN_AGENT");
    expect((await fails(log(town, rig, { bead_id: "01J0000000000000000000ZZZZ" }))).code).toBe("UNKNOWN_BEAD");
    await print([out("now it counts")]);
    expect((await log(town, rig, { identity: start.identity })).lines.map((l) => l.text)).toEqual(["now it counts"]);
  });

  it("share links read the output of the agent or bead their view names, and nothing else", async () => {
    town = await makeTown(host, secret, "out");
    const rig = await town.addRig("alpha", { max_polecats: 2 });
    const [toast, maple] = (await runningAgents(town, rig, ["first", "second"])) as [Running, Running];
    await toast.print([out("toast was here")]);
    await maple.print([out("maple was here")]);
    const name = (identity: string) => identity.split("/").pop()!;
    const share = async (path: string) => (await town.townCall<ShareResult>("gt_share", { path: `/t/${town.town}/rigs/alpha${path}`, ttl_s: 600 })).token;
    const agentLink = await share(`/agents/${name(toast.start.identity)}`);
    const beadLink = await share(`/beads/${maple.bead.id}`);
    const rigLink = await share("");

    expect((await log(town, rig, { identity: toast.start.identity }, agentLink)).lines.map((l) => l.text)).toEqual(["toast was here"]);
    expect((await fails(log(town, rig, { identity: maple.start.identity }, agentLink))).code).toBe("FORBIDDEN");
    expect((await fails(log(town, rig, { run: maple.start.run }, agentLink))).code).toBe("FORBIDDEN");
    expect((await log(town, rig, { bead_id: maple.bead.id }, agentLink)).runs).toEqual([]); // its agent never ran that bead

    const byBead = await log(town, rig, { bead_id: maple.bead.id }, beadLink);
    expect([byBead.run?.run, byBead.lines.map((l) => l.text)]).toEqual([maple.start.run, ["maple was here"]]);
    expect((await fails(log(town, rig, { bead_id: toast.bead.id }, beadLink))).code).toBe("FORBIDDEN");
    expect((await log(town, rig, { identity: toast.start.identity }, beadLink)).run).toBeNull(); // not a run of its bead

    for (const token of [rigLink, town.viewer]) expect((await fails(log(town, rig, { identity: toast.start.identity }, token))).code).toBe("FORBIDDEN");
    // A link calls no other tool.
    expect((await fails(town.rigCall(rig, "gt_list_beads", {}, agentLink))).code).toBe("FORBIDDEN");

    // The output sockets follow the same rule.
    expect(linesOf(await watch(town, rig, toast.start.identity, agentLink).first).map((l) => l.text)).toEqual(["toast was here"]);
    expect(await refusedWith(watch(town, rig, maple.start.identity, agentLink))).toBe(CLOSE.FORBIDDEN);
    expect(await refusedWith(watch(town, rig, toast.start.identity, rigLink))).toBe(CLOSE.FORBIDDEN);
    expect(await refusedWith(watch(town, rig, toast.start.identity, toast.start.token))).toBe(CLOSE.FORBIDDEN);
    expect(await refusedWith(watch(town, rig, toast.start.identity, town.container))).toBe(CLOSE.FORBIDDEN);
    expect(linesOf(await watch(town, rig, maple.start.identity, beadLink).first).map((l) => l.text)).toEqual(["maple was here"]);
    expect(await watch(town, rig, toast.start.identity, beadLink).first).toEqual({ type: "output", run: null, lines: [] });
  });

  it("an output socket gets the backlog, then live lines and the run's end; only sockets watching that agent get them", async () => {
    town = await makeTown(host, secret, "out");
    const rig = await town.addRig("alpha", { max_polecats: 2 });
    const [toast, maple] = (await runningAgents(town, rig, ["first", "second"])) as [Running, Running];
    const early = (from: number) => Array.from({ length: 200 }, (_, i) => out(`early ${from + i}`));
    for (const first of [0, 200, 400]) await toast.print(early(first + 1), first);

    const watcher = watch(town, rig, toast.start.identity, town.operator);
    const first = await watcher.first;
    expect(first).toMatchObject({ type: "output", run: { run: toast.start.run, lines: 600 } });
    expect(first.type === "output" && [first.lines.length, first.lines[0]!.text, first.lines.at(-1)!.seq]).toEqual([500, "early 101", 600]);
    // The identity written out as path segments reaches the same agent.
    expect((await watch(town, rig, toast.start.identity, town.operator, true).first).type).toBe("output");
    const other = watch(town, rig, maple.start.identity, town.operator);
    expect(await other.first).toMatchObject({ type: "output", run: { run: maple.start.run, lines: 0 }, lines: [] });

    await toast.print([out("live 1"), out("live 2", "err")], 600);
    const live = await watcher.next((f) => f.type === "output" && f.lines.some((l) => l.text === "live 2"));
    expect(live.type === "output" && live.lines.map((l) => [l.seq, l.stream, l.text])).toEqual([
      [601, "out", "live 1"],
      [602, "err", "live 2"],
    ]);
    await maple.print([out("maple 1")]);
    await other.next((f) => f.type === "output" && f.lines.length > 0);
    // In order on maple's socket: had toast's lines gone there, they would have come first.
    expect(other.frames.flatMap((f) => (f.type === "output" ? f.lines.map((l) => l.text) : []))).toEqual(["maple 1"]);

    await toast.exit(4);
    const ended = await watcher.next((f) => f.type === "run" && f.run.endedAt !== undefined);
    expect(ended.run).toMatchObject({ run: toast.start.run, exit: "exit 4", lines: 602 });
    expect((await log(town, rig, { identity: toast.start.identity })).run).toMatchObject({ exit: "exit 4", endedAt: expect.any(Number) });

    // A watcher sends nothing: a frame from it closes the socket.
    const chatty = watch(town, rig, maple.start.identity, town.operator);
    await chatty.first;
    chatty.send("hello?");
    expect(await chatty.closed).toBe(CLOSE.ABUSE);
    expect(await refusedWith(watch(town, rig, "alpha/polecats/nobody", town.operator))).toBe(CLOSE.GONE);
    expect(await refusedWith(watch(town, rig, "beta/polecats/toast", town.operator))).toBe(CLOSE.GONE);
  });

  it("gt agent log prints an agent's runs and lines for an operator, and --follow prints live lines until the run ends", async () => {
    town = await makeTown(host, secret, "out");
    const rig = await town.addRig("alpha");
    const { start, print, exit } = await runningAgent(town, rig);
    await print([out("compiling"), out("warning: unused", "err")], 0);
    const env: GtEnv = { GT_HOST: host, GT_TOWN: town.town, GT_RIG: rig.id, GT_TOKEN: town.operator };
    const shown = await gt(["agent", "log", start.identity], env);
    expect([shown.code, shown.stderr]).toEqual([0, ""]);
    expect(shown.stdout).toContain(`run ${start.run} bead ${start.run.split(".")[0]}`);
    expect(shown.stdout).toMatch(/running; 2 lines/);
    expect(shown.stdout).toMatch(/^ {4}1 \d\d:\d\d:\d\d\.\d{3}   compiling$/m);
    expect(shown.stdout).toMatch(/^ {4}2 \d\d:\d\d:\d\d\.\d{3} ! warning: unused$/m);
    expect((await gtJson<AgentLogResult>(["agent", "log", start.identity, "--after", "1"], env)).lines.map((l) => l.text)).toEqual(["warning: unused"]);
    const asAgent = await gt(["agent", "log", start.identity], { ...env, GT_TOKEN: start.token, GT_AGENT: start.identity });
    expect([asAgent.code, asAgent.stderr.trim()]).toEqual([3, expect.stringMatching(/^gt: FORBIDDEN: /)]);
    expect((await gt(["agent", "log", start.identity, "--limit", "many"], env)).code).toBe(2);

    // --follow: the backlog, a live line, then the end of the run.
    const following = gt(["agent", "log", start.identity, "--follow"], env);
    const watcher = watch(town, rig, start.identity, town.operator);
    await watcher.first;
    await print([out("linking")], 2);
    await watcher.next((f) => f.type === "output" && f.lines.some((l) => l.text === "linking"));
    await exit(0);
    const followed = await following;
    expect([followed.code, followed.stderr]).toEqual([0, ""]);
    expect(followed.stdout).toMatch(/compiling[\s\S]*warning: unused[\s\S]*linking[\s\S]*run .* ended: exit 0/);
    expect(followed.stdout.match(/compiling/g)).toHaveLength(1);
  });
});

describe("agents' output across a restart", () => {
  const SECRET = "output-restart-secret-0123456789";
  let server: DevServer | undefined;
  let persistDir: string | undefined;
  afterEach(async () => {
    await server?.stop();
    if (persistDir) rmSync(persistDir, { recursive: true, force: true });
    server = undefined;
    persistDir = undefined;
  });

  it("keeps the runs and their lines when the server restarts on the same storage", async () => {
    persistDir = mkdtempSync(join(tmpdir(), "townhall-output-"));
    server = await startPartykit({ persistDir, vars: { GT_SECRET: SECRET, GT_WITNESS_TIMEOUT_MS: "3000" } });
    const port = server.port;
    const t = await makeTown(server.host, SECRET, "restart");
    const rig = await t.addRig("alpha");
    const { bead, start, epoch } = await workingAgent(t, rig, "print and fail");
    await t.rigCall(rig, "gt_agent_started", { as: start.identity, bead_id: bead.id, run: start.run, epoch }, t.container);
    await t.rigCall(
      rig,
      "gt_agent_output",
      { epoch, run: start.run, identity: start.identity, lines: [out("before the restart"), out("boom", "err")] },
      t.container,
    );
    await t.rigCall(rig, "gt_agent_exited", { as: start.identity, bead_id: bead.id, run: start.run, epoch, code: 4 }, t.container);
    const before = await t.rigCall<AgentLogResult>(rig, "gt_agent_log", { bead_id: bead.id });
    t.closeAll();

    await server.stop();
    server = await startPartykit({ persistDir, port, vars: { GT_SECRET: SECRET, GT_WITNESS_TIMEOUT_MS: "3000" } });
    const after = await t.rigCall<AgentLogResult>(rig, "gt_agent_log", { bead_id: bead.id });
    expect(after).toEqual(before);
    expect(after.run).toMatchObject({ run: start.run, exit: "exit 4", lines: 2 });
    expect(after.lines.map((l) => [l.stream, l.text])).toEqual([
      ["out", "before the restart"],
      ["err", "boom"],
    ]);
    const w = watchOutput(server.host, t.rigRoom(rig), start.identity, t.operator);
    try {
      expect(linesOf(await w.first).map((l) => l.text)).toEqual(["before the restart", "boom"]);
    } finally {
      w.close();
    }
  });
});
