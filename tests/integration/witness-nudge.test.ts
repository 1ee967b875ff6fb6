/**
 * The witness's nudge on real `partykit dev` (docs/lifecycle.md, W8): an agent that makes no progress
 * is nudged; the nudge is no mail, it rides once on the reply to the agent's next tool call (a
 * socket's result frame or an HTTP reply); renewals that vouch for a silent agent do not clear it; a
 * delivered nudge left unanswered for GT_AGENT_IDLE_MS stops the run.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Mail, Nudge, PrimeResult, ResultFrame, StartAgentCommand } from "../../party/protocol.ts";
import type { ToolSocket } from "../../client/tools.ts";
import { startPartykit, type DevServer } from "../helpers/partykit.ts";
import { makeTown, type TestTown } from "../helpers/town.ts";
import { standIn, watchRig } from "../helpers/watch.ts";

const SECRET = "witness-nudge-secret-0123456789";
const IDLE_MS = 2_000;
/** Short deadlines; the ceiling far off, so only an unanswered delivery stops the run here. */
const VARS = { GT_SECRET: SECRET, GT_AGENT_IDLE_MS: String(IDLE_MS), GT_AGENT_CEILING_MS: "120000", GT_LEASE_TTL_MS: "2000" };

let server: DevServer;
let persistDir: string;
let town: TestTown;
const cleanups: (() => void)[] = [];

beforeAll(async () => {
  persistDir = mkdtempSync(join(tmpdir(), "townhall-nudge-"));
  server = await startPartykit({ persistDir, vars: VARS });
});
afterAll(async () => {
  await server.stop();
  rmSync(persistDir, { recursive: true, force: true });
});
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
  town?.closeAll();
});

/** One call over the socket, answered by its whole result frame (ToolSocket.call gives the value only). */
function callFrame(socket: ToolSocket, id: string, tool: string, args: unknown = {}): Promise<ResultFrame> {
  return new Promise((resolve) => {
    const onMessage = (event: MessageEvent) => {
      const frame = JSON.parse(String(event.data)) as ResultFrame | { type: string };
      if (frame.type !== "result" || (frame as ResultFrame).id !== id) return;
      socket.socket.removeEventListener("message", onMessage);
      resolve(frame as ResultFrame);
    };
    socket.socket.addEventListener("message", onMessage);
    socket.socket.send(JSON.stringify({ type: "call", id, tool, args }));
  });
}

/** One call over HTTP, answered by the whole JSON reply. */
async function callHttpWhole(
  room: string,
  token: string,
  tool: string,
  args: unknown = {},
): Promise<{ ok: boolean; value?: unknown; error?: { code: string }; nudge?: Nudge }> {
  const response = await fetch(`http://${server.host}/parties/rig/${room}/api/${tool}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify(args),
  });
  return (await response.json()) as { ok: boolean; value?: unknown; error?: { code: string }; nudge?: Nudge };
}

describe("the witness's nudge (W8)", () => {
  it("rides once on the reply to the agent's next tool call (socket, then HTTP, on a refusal too), never as mail; unanswered, the run is stopped", async () => {
    town = await makeTown(server.host, SECRET, "nudge");
    const rig = await town.addRig("alpha", { max_polecats: 1 });
    const wa = await watchRig(town, rig);
    const c = await standIn(town, rig);
    cleanups.push(() => c.stop());
    await c.ack("gt_rig_ready", { disk_bytes: 1 });
    const task = await town.rigCall<{ id: string; title: string }>(rig, "gt_bead_create", { title: "think for a while", body: "" });
    const start = (await c.next((x) => x.command === "start_agent")) as StartAgentCommand;
    await c.ack("gt_agent_started", { as: start.identity, bead_id: task.id, pid: 999_101, run: start.run });
    // Alive and vouched for in every renewal, but printing nothing: a model thinking.
    c.vouch(start.identity, true, Date.now());
    const agent = town.agentSocket(rig, start.token);
    await agent.ready;
    const fedAbout = (re: RegExp) => wa.events().filter((e) => e.text.startsWith(start.identity) && re.test(e.text));
    // One feed line per agent for its nudges: each nudge, and its delivery, replaces the agent's last one.
    const nudgeLines = () => wa.events().filter((e) => e.agent === start.identity && e.nudges !== undefined);

    // Nudged once; the renewals that keep vouching for the silent agent neither clear the nudge nor nudge it again.
    await wa.when(() => fedAbout(/; nudged$/).length === 1 && wa.agents().find((x) => x.identity === start.identity)?.status === "hung");
    // Renewals keep coming, each reporting the same old output (a growing quiet_ms), with the room's ticks between them.
    await c.renewed(5);
    expect(fedAbout(/; nudged$/)).toHaveLength(1);
    expect(wa.agents().find((x) => x.identity === start.identity)?.status).toBe("hung");

    // The agent's next tool call: its own answer, and the nudge beside it.
    const first = await callFrame(agent, "n1", "gt_prime");
    expect(first.ok).toBe(true);
    expect((first as { value: PrimeResult }).value.hook?.id).toBe(task.id);
    expect(first.nudge).toMatchObject({ from: "alpha/witness", subject: expect.stringMatching(/^nudge: no progress for \d+ s$/) });
    expect(first.nudge!.body).toContain(task.id);
    expect(first.nudge!.at).toBeLessThanOrEqual(Date.now());
    await wa.when(() => fedAbout(/got its nudge/).length === 1);
    expect(nudgeLines()).toMatchObject([{ nudges: 1, text: expect.stringMatching(/got its nudge/) }]);
    expect(fedAbout(/; nudged$/)).toEqual([]);
    // Once: the next reply carries none (and that call, progress after the nudge, answers it).
    const second = await callFrame(agent, "n2", "gt_mail_check");
    expect(second).toEqual({ type: "result", id: "n2", ok: true, value: [] });
    await wa.when(() => wa.agents().find((x) => x.identity === start.identity)?.status === "working");
    // Never mail: nothing in the mailbox, the document or prime.
    expect(wa.mail().filter((m: Mail) => m.from.endsWith("/witness"))).toEqual([]);
    expect((await agent.call<PrimeResult>("gt_prime")).mail).toEqual([]);

    // Silent again (the agent printed nothing since its last call): a second nudge, fetched over HTTP.
    c.vouch(start.identity, true, Date.now());
    await wa.when(() => fedAbout(/; nudged \(2 nudges so far\)$/).length === 1);
    expect(nudgeLines()).toMatchObject([{ nudges: 2, kind: "hung" }]);
    const delivered = Date.now(); // the room notes the delivery after this
    // A call the room refuses (an unknown bead, after the argument checks) still carries it.
    const overHttp = await callHttpWhole(town.rigRoom(rig), start.token, "gt_bead_status", { bead_id: "01ZZZZZZZZZZZZZZZZZZZZZZZZ" });
    expect(overHttp).toMatchObject({ ok: false, error: { code: "UNKNOWN_BEAD" }, nudge: { from: "alpha/witness" } });
    await wa.when(() => fedAbout(/got its nudge .*\(2 nudges so far\)$/).length === 1);
    expect(nudgeLines()).toHaveLength(1);

    // Unanswered (no output, no call): stopped GT_AGENT_IDLE_MS after the delivery, its bead back to open.
    const stop = await c.next((x) => x.command === "stop_agent" && x.run === start.run);
    expect(Date.now() - delivered).toBeGreaterThanOrEqual(IDLE_MS);
    expect(stop).toMatchObject({ identity: start.identity });
    await wa.when(() => fedAbout(/hung \(no progress for \d+ s, none since its nudge \d+ s ago\); stopped$/).length === 1);
    expect(wa.mail().filter((m: Mail) => m.from.endsWith("/witness"))).toEqual([]);
  });
});
