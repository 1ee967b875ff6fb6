/**
 * The operator's actions as tools (retry, stop, restart, acknowledge, resolve, move), on real
 * `partykit dev`: each one's success, its CONFLICT, FORBIDDEN for viewer and agent tokens, and bad
 * arguments that change nothing; a move across two rigs whose convoy counts the new bead and lands;
 * a move finished by the source rig's notice alone (as after a town crash), and retried moves that
 * make one bead. The `gt` verbs for them at the end.
 */
import { afterEach, describe, expect, inject, it } from "vitest";
import type * as Y from "yjs";
import { signInternal } from "../../party/auth.ts";
import { newId } from "../../party/ids.ts";
import type { Agent, Bead, BeadMoveResult, CommandFrame, Convoy, ConvoyProgress, Escalation, Rig, StartAgentCommand } from "../../party/protocol.ts";
import { gt, ULID, type GtEnv } from "../helpers/gt.ts";
import { fails, makeTown, until, untilReplica, type TestTown } from "../helpers/town.ts";

const host = inject("partykitHost");
const secret = inject("gtSecret");
let town: TestTown;

afterEach(() => town?.closeAll());

const codeOf = async (call: Promise<unknown>) => (await fails(call)).code;

/** The tool refuses viewers, agents (here: `agentToken`) and bad arguments, and none of it changes `state()`. */
async function refusesOthersAndBadArgs(
  call: (args: unknown, token?: string) => Promise<unknown>,
  good: Record<string, unknown>,
  bad: Record<string, unknown>[],
  agentToken: string,
  state: () => Promise<unknown>,
) {
  const before = await state();
  for (const token of [town.viewer, agentToken]) expect(await codeOf(call(good, token))).toBe("FORBIDDEN");
  for (const args of bad) expect([args, await codeOf(call(args))]).toEqual([args, "INVALID_ARGS"]);
  expect(await state()).toEqual(before);
}

/** A rig's live document, and a wait for a condition on it. */
async function watchRig(rig: Rig) {
  const replica = town.replica("rig", town.rigRoom(rig), town.operator);
  await replica.whenSynced();
  const beads = () => [...replica.doc.getMap<Bead>("beads").values()];
  const when = <T>(predicate: (doc: Y.Doc) => T | undefined | false, label: string) => untilReplica(replica, predicate, 30_000, label);
  return { replica, beads, when };
}

async function watchTown() {
  const replica = town.replica("main", town.town);
  await replica.whenSynced();
  const convoy = (id: string) => replica.doc.getMap<Convoy>("convoys").get(id);
  const rig = (name: string) => [...replica.doc.getMap<Rig>("rigs").values()].find((r) => r.name === name);
  const when = <T>(predicate: () => T | undefined | false, label: string) => untilReplica(replica, () => predicate(), 30_000, label);
  return { convoy, rig, when };
}

/**
 * Stands in for the rig's container: holds the lease and reports the clone ready, so beads are
 * dispatched; collects the commands it is sent, acknowledges starts on request, and vouches for the
 * runs it started until they are stopped (the witness is quick in tests).
 */
async function serve(rig: Rig) {
  const { socket, epoch } = await town.holdLease(rig);
  const commands: CommandFrame[] = [];
  const live = new Map<string, string>();
  socket.onCommand((command) => {
    commands.push(command);
    if (command.command === "stop_agent" && live.get(command.identity) === command.run) live.delete(command.identity);
  });
  const vouch = setInterval(() => {
    const agents = [...live].map(([identity, run]) => ({ identity, run, quiet_ms: 0 }));
    socket.call("gt_lease_renew", { epoch, agents }).catch(() => {});
  }, 200);
  socket.socket.addEventListener("close", () => clearInterval(vouch));
  await town.rigCall(rig, "gt_rig_ready", { disk_bytes: 1, epoch }, town.container);
  const command = <C extends CommandFrame>(predicate: (c: CommandFrame) => c is C) =>
    until(
      (cb) => socket.onCommand(() => cb()),
      () => commands.find(predicate),
      30_000,
      predicate.toString().slice(0, 120),
    );
  /** A bead created and dispatched, its start acknowledged: its agent is working on it. */
  const running = async (title: string) => {
    const bead = await town.rigCall<Bead>(rig, "gt_bead_create", { title });
    const start = await command((c): c is StartAgentCommand => c.command === "start_agent" && c.bead.id === bead.id);
    live.set(start.identity, start.run);
    await town.rigCall(rig, "gt_agent_started", { as: start.identity, bead_id: bead.id, run: start.run, epoch }, town.container);
    return { bead, start };
  };
  return { epoch, commands, command, running };
}

const status = (rig: Rig, id: string) => town.rigCall<Bead>(rig, "gt_bead_status", { bead_id: id });
const agentOf = async (rig: Rig, identity: string) => (await town.rigCall<Agent[]>(rig, "gt_list_agents")).find((a) => a.identity === identity);
/** An agent's run (its status may flip between working and stalled on a loaded machine). */
const runOf = async (rig: Rig, identity: string) => (await agentOf(rig, identity))?.run;

describe("operator actions (rig room)", () => {
  it("gt_bead_retry reopens a failed bead with its attempts reset and the note in its history; CONFLICT unless failed", async () => {
    town = await makeTown(host, secret, "op");
    const a = await town.addRig("alpha");
    const toast = await town.polecat(a, "toast");
    const bead = await town.rigCall<Bead>(a, "gt_bead_create", { title: "Flaky mirror" });
    expect(await codeOf(town.rigCall(a, "gt_bead_retry", { bead_id: bead.id }))).toBe("CONFLICT"); // open, not failed
    await town.rigCall(a, "gt_bead_update", { bead_id: bead.id, status: "failed" });

    const retry = (args: unknown, token?: string) => town.rigCall<Bead>(a, "gt_bead_retry", args, token);
    await refusesOthersAndBadArgs(
      retry,
      { bead_id: bead.id },
      [{ bead_id: "not-a-bead" }, { bead_id: bead.id, note: "x".repeat(201) }, { bead_id: bead.id, attempts: 5 }, {}],
      toast.token,
      () => status(a, bead.id),
    );
    expect(await codeOf(retry({ bead_id: newId() }))).toBe("UNKNOWN_BEAD");

    const retried = await retry({ bead_id: bead.id, note: "the mirror is back" });
    expect(retried).toMatchObject({ id: bead.id, status: "open", attempts: 0 });
    expect(retried.failure).toBeUndefined();
    expect(retried.history?.at(-1)).toMatchObject({ status: "open", note: "retried by the operator (attempts 0 → 0): the mirror is back" });
    expect(await status(a, bead.id)).toEqual(retried);
    expect(await codeOf(retry({ bead_id: bead.id }))).toBe("CONFLICT"); // open again
  });

  it("gt_agent_stop stops the run and fails its bead (stopped by the operator); CONFLICT while it is stopping and without a run", async () => {
    town = await makeTown(host, secret, "op");
    const a = await town.addRig("alpha");
    const container = await serve(a);
    const { bead, start } = await container.running("Refactor the build");
    const stop = (args: unknown, token?: string) => town.rigCall<Agent>(a, "gt_agent_stop", args, token);
    // The agent itself is refused too: an agent never stops anyone, itself included.
    await refusesOthersAndBadArgs(
      stop,
      { identity: start.identity },
      [{ identity: "not an address" }, { identity: start.identity, reason: "x".repeat(201) }, { identity: start.identity, force: true }],
      start.token,
      async () => [await status(a, bead.id), await runOf(a, start.identity)],
    );
    expect(await codeOf(stop({ identity: "alpha/polecats/nobody" }))).toBe("UNKNOWN_AGENT");
    expect(await codeOf(stop({ identity: "alpha/witness" }))).toBe("CONFLICT"); // no run

    const stopped = await stop({ identity: start.identity, reason: "wrong approach" });
    expect(stopped).toMatchObject({
      identity: start.identity,
      status: "stopping",
      run: { id: start.run, state: "stopping", reason: "stopped by the operator: wrong approach" },
    });
    const failed = await status(a, bead.id);
    expect(failed).toMatchObject({ status: "failed", failure: "stopped by the operator: wrong approach", assignee: start.identity });
    expect(failed.attempts ?? 0).toBe(0);
    const command = await container.command((c): c is Extract<CommandFrame, { command: "stop_agent" }> => c.command === "stop_agent" && c.run === start.run);
    expect(command.reason).toBe("stopped by the operator: wrong approach");
    expect(await codeOf(stop({ identity: start.identity }))).toBe("CONFLICT"); // being stopped

    await town.rigCall(a, "gt_agent_exited", { as: start.identity, run: start.run, epoch: container.epoch, signal: "SIGTERM" }, town.container);
    expect(await agentOf(a, start.identity)).toMatchObject({ status: "idle", lastExit: "signal SIGTERM (stopped: stopped by the operator: wrong approach)" });
    expect(await codeOf(stop({ identity: start.identity }))).toBe("CONFLICT"); // no run any more
    // Failed by the operator, it can be retried like any failed bead: open, and at once dispatched again (run 2).
    const retried = await town.rigCall<Bead>(a, "gt_bead_retry", { bead_id: bead.id });
    expect(retried).toMatchObject({ status: "in_progress", attempts: 0, runs: 2 });
    expect((await status(a, bead.id)).history?.map((h) => h.status).slice(-3)).toEqual(["failed", "open", "in_progress"]);
  });

  it("gt_agent_restart stops the run and gives its bead back to be dispatched again, no attempt counted; CONFLICT without a run", async () => {
    town = await makeTown(host, secret, "op");
    const a = await town.addRig("alpha");
    const container = await serve(a);
    const { bead, start } = await container.running("Port the parser");
    const restart = (args: unknown, token?: string) => town.rigCall<Agent>(a, "gt_agent_restart", args, token);
    await refusesOthersAndBadArgs(
      restart,
      { identity: start.identity },
      [{ identity: "" }, { identity: start.identity, reason: 7 }, { bead_id: bead.id }],
      start.token,
      async () => [await status(a, bead.id), await runOf(a, start.identity)],
    );

    const restarted = await restart({ identity: start.identity, reason: "stuck on a lock" });
    expect(restarted).toMatchObject({ status: "stopping", run: { id: start.run, state: "stopping", reason: "restarted by the operator: stuck on a lock" } });
    await container.command((c): c is Extract<CommandFrame, { command: "stop_agent" }> => c.command === "stop_agent" && c.run === start.run);
    // Dispatched again at once as its second run, to another polecat (the first is busy until its stop is acknowledged).
    const again = await container.command((c): c is StartAgentCommand => c.command === "start_agent" && c.bead.id === bead.id && c.run === `${bead.id}.2`);
    expect(again.identity).not.toBe(start.identity);
    const after = await status(a, bead.id);
    expect(after).toMatchObject({ status: "in_progress", assignee: again.identity, runs: 2 });
    expect(after.attempts ?? 0).toBe(0);
    expect(after.history?.some((h) => h.status === "open" && h.note === `${start.identity} restarted by the operator: stuck on a lock`)).toBe(true);
    expect(await codeOf(restart({ identity: start.identity }))).toBe("CONFLICT"); // being stopped
    expect(await codeOf(restart({ identity: "alpha/refinery" }))).toBe("CONFLICT"); // no run
  });

  it("gt_escalation_ack and gt_escalation_resolve: open → acknowledged → resolved with notes and times; the summary counts only open ones", async () => {
    town = await makeTown(host, secret, "op");
    const a = await town.addRig("alpha");
    const toast = await town.polecat(a, "toast");
    const view = await watchTown();
    const rig = await watchRig(a);
    const escalation = await town.rigCall<Escalation>(a, "gt_escalate", { title: "Disk full", severity: "high", as: "alpha/witness" });
    await view.when(() => view.rig("alpha")?.summary.openEscalations === 1, "one open escalation");
    const get = () => rig.when((doc) => doc.getMap<Escalation>("escalations").get(escalation.id), "the escalation in the rig document");

    const ack = (args: unknown, token?: string) => town.rigCall<Escalation>(a, "gt_escalation_ack", args, token);
    const resolve = (args: unknown, token?: string) => town.rigCall<Escalation>(a, "gt_escalation_resolve", args, token);
    for (const call of [ack, resolve]) {
      await refusesOthersAndBadArgs(
        call,
        { id: escalation.id },
        [{ id: "x" }, { id: escalation.id, note: "n".repeat(2_001) }, { id: escalation.id, status: "resolved" }],
        toast.token,
        get,
      );
    }
    expect(await codeOf(ack({ id: newId() }))).toBe("INVALID_ARGS"); // no such escalation

    const acked = await ack({ id: escalation.id, note: "looking into it" });
    expect(acked).toMatchObject({ status: "acknowledged", note: "looking into it" });
    expect(acked.acknowledgedAt).toBeGreaterThanOrEqual(escalation.createdAt);
    expect(await ack({ id: escalation.id })).toEqual(acked); // a repeat answers the same
    // Someone is on it: no longer counted as waiting for anyone.
    await view.when(() => view.rig("alpha")?.summary.openEscalations === 0, "no open escalation once acknowledged");

    const resolved = await resolve({ id: escalation.id, note: "freed 20 GB" });
    expect(resolved).toMatchObject({ status: "resolved", note: "freed 20 GB", acknowledgedAt: acked.acknowledgedAt });
    expect(resolved.resolvedAt).toBeGreaterThanOrEqual(acked.acknowledgedAt!);
    expect(
      await rig.when(
        (doc) => doc.getMap<Escalation>("escalations").get(escalation.id)?.status === "resolved" && doc.getMap<Escalation>("escalations").get(escalation.id),
        "resolved in the document",
      ),
    ).toEqual(resolved);
    expect(await resolve({ id: escalation.id })).toEqual(resolved);
    expect(await codeOf(ack({ id: escalation.id }))).toBe("CONFLICT"); // resolved already
    // Resolving straight from open works too.
    const other = await town.rigCall<Escalation>(a, "gt_escalate", { title: "Push refused", severity: "medium", as: "alpha/refinery" });
    const direct = await resolve({ id: other.id, note: "" });
    expect(direct.status).toBe("resolved");
    expect(direct.note).toBeUndefined(); // an empty note is none
  });
});

describe("moving a bead (gt_bead_move, town room)", () => {
  async function twoReadyRigs() {
    town = await makeTown(host, secret, "mv");
    const view = await watchTown();
    const [a, b] = [await town.addRig("alpha"), await town.addRig("beta")];
    // Ready, but no container connected: beads wait open (nothing is dispatched).
    for (const rig of [a, b]) {
      await town.markReady(rig);
      await view.when(() => view.rig(rig.name)?.status === "ready", `${rig.name} ready`);
    }
    return { view, a, b };
  }

  it("moves a convoy bead to another rig: the old one closed with movedTo, the new one with movedFrom in the convoy's entry, which still lands", async () => {
    const { view, a, b } = await twoReadyRigs();
    const beta = await watchRig(b);
    const longBody = `step\n${"x".repeat(3_000)}`; // kept whole in storage: the move carries it whole
    const convoy = await town.townCall<ConvoyProgress>("gt_convoy_create", {
      title: "release",
      beads: [
        { title: "api work", body: longBody, rig: "alpha", priority: "high", requires: [] },
        { title: "docs", rig: "beta" },
      ],
    });
    const [old, docs] = convoy.beads as [ConvoyProgress["beads"][0], ConvoyProgress["beads"][0]];
    await view.when(() => view.convoy(convoy.id)?.beads.every((x) => x.rev > 0), "both beads created in their rigs");
    await town.rigCall(a, "gt_bead_update", { bead_id: old.beadId, status: "failed" }); // e.g. alpha lacks a tool
    await view.when(() => view.convoy(convoy.id)?.beads[0]?.status === "failed", "the failure reached the convoy");

    const move = (args: unknown, token?: string) => town.townCall<BeadMoveResult>("gt_bead_move", args, token);
    const mayor = await town.token({ role: "agent", agent: "mayor" });
    await refusesOthersAndBadArgs(
      move,
      { bead_id: old.beadId, rig: "beta" },
      [{ bead_id: "nope", rig: "beta" }, { bead_id: old.beadId, rig: "Beta!" }, { bead_id: old.beadId }, { bead_id: old.beadId, rig: "beta", title: "x" }],
      mayor, // the Mayor places work, but moving it is the operator's
      async () => [await status(a, old.beadId), beta.beads().length, view.convoy(convoy.id)],
    );
    expect(await codeOf(move({ bead_id: old.beadId, rig: "gamma" }))).toBe("UNKNOWN_RIG");
    expect(await codeOf(move({ bead_id: old.beadId, rig: "alpha" }))).toBe("INVALID_ARGS"); // already there
    expect(await codeOf(move({ bead_id: old.beadId, rig: "beta", from: "beta" }))).toBe("INVALID_ARGS"); // the town knows where it is

    const moved = await move({ bead_id: old.beadId, rig: "beta" });
    expect(moved).toEqual({ bead_id: expect.stringMatching(ULID), rig: "beta", moved_from: { rig: "alpha", bead_id: old.beadId } });
    const closed = await status(a, old.beadId);
    expect(closed).toMatchObject({ status: "closed", movedTo: { rig: "beta", beadId: moved.bead_id } });
    expect(closed.history?.at(-1)).toMatchObject({ status: "closed", note: "moved to beta" });
    const successor = await status(b, moved.bead_id);
    expect(successor).toMatchObject({
      title: "api work",
      body: longBody,
      priority: "high",
      status: "open",
      convoyId: convoy.id,
      movedFrom: { rig: "alpha", beadId: old.beadId },
    });
    expect(successor.attempts ?? 0).toBe(0);
    // The convoy counts the new bead in the old one's place.
    const entries = await view.when(() => {
      const c = view.convoy(convoy.id);
      return c?.beads[0]?.beadId === moved.bead_id && c.beads[0].rev > 0 ? c.beads : undefined;
    }, "the convoy entry replaced");
    expect(entries.map((x) => [x.beadId, x.rigName, x.status])).toEqual([
      [moved.bead_id, "beta", "open"],
      [docs.beadId, "beta", "open"],
    ]);

    // A second move elsewhere is refused; the same move again answers the same bead.
    expect(await codeOf(move({ bead_id: old.beadId, rig: "alpha" }))).toBe("CONFLICT");
    expect(await move({ bead_id: old.beadId, rig: "beta" })).toEqual(moved);
    // A closed (done) bead is not moved.
    await town.rigCall(b, "gt_bead_update", { bead_id: docs.beadId, status: "closed" });
    expect(await codeOf(move({ bead_id: docs.beadId, rig: "alpha" }))).toBe("CONFLICT");

    // Done in its new rig, the convoy lands with the new bead closed.
    await town.rigCall(b, "gt_bead_update", { bead_id: moved.bead_id, status: "closed" });
    const landed = await view.when(() => (view.convoy(convoy.id)?.status === "landed" ? view.convoy(convoy.id) : undefined), "the convoy landed");
    expect(landed.beads.map((x) => [x.beadId, x.status])).toEqual([
      [moved.bead_id, "closed"],
      [docs.beadId, "closed"],
    ]);
    expect(beta.beads().filter((x) => x.movedFrom?.beadId === old.beadId)).toHaveLength(1);
  });

  it("a bead the town did not place needs its rig named (from); an in-progress one has its run stopped; one in review is CONFLICT", async () => {
    const { a, b } = await twoReadyRigs();
    const container = await serve(a);
    const { bead: working, start } = await container.running("Fix the login");
    const move = (args: unknown) => town.townCall<BeadMoveResult>("gt_bead_move", args);
    expect(await codeOf(move({ bead_id: working.id, rig: "beta" }))).toBe("INVALID_ARGS"); // created in the rig: from is needed
    expect(await codeOf(move({ bead_id: newId(), rig: "beta", from: "alpha" }))).toBe("UNKNOWN_BEAD");

    const moved = await move({ bead_id: working.id, rig: "beta", from: "alpha" });
    expect(moved.moved_from).toEqual({ rig: "alpha", bead_id: working.id });
    const stop = await container.command((c): c is Extract<CommandFrame, { command: "stop_agent" }> => c.command === "stop_agent" && c.run === start.run);
    expect(stop.reason).toBe(`bead ${working.id} moved to rig beta by the operator`);
    expect(await status(a, working.id)).toMatchObject({ status: "closed", movedTo: { rig: "beta", beadId: moved.bead_id } });
    expect(await agentOf(a, start.identity)).toMatchObject({ status: "stopping" });
    expect(await status(b, moved.bead_id)).toMatchObject({ status: "open", movedFrom: { rig: "alpha", beadId: working.id } });
    // Once moved, the town remembers where it went: from is not needed to ask again.
    expect(await move({ bead_id: working.id, rig: "beta" })).toEqual(moved);

    // In review: its merge is under way.
    const { bead: reviewed, start: second } = await container.running("Add a health check");
    await town.rigCall(a, "gt_done", { branch: second.branch }, second.token);
    expect((await status(a, reviewed.id)).status).toBe("in_review");
    expect(await codeOf(move({ bead_id: reviewed.id, rig: "beta", from: "alpha" }))).toBe("CONFLICT");
    expect((await status(a, reviewed.id)).status).toBe("in_review");
  });

  it("a move the town never finished is completed by the source rig's notice alone; retried and concurrent moves make one bead", async () => {
    const { view, a, b } = await twoReadyRigs();
    const beta = await watchRig(b);
    const convoy = await town.townCall<ConvoyProgress>("gt_convoy_create", { title: "crash", beads: [{ title: "one", rig: "alpha" }] });
    const old = convoy.beads[0]!;
    await view.when(() => view.convoy(convoy.id)?.beads[0]!.rev, "the bead created in alpha");

    // As the town would ask it, but the town "crashes" after the rig's step: nobody applies the answer.
    const chosen = newId();
    const body = JSON.stringify({ bead_id: old.beadId, to_rig: "beta", to_rig_id: b.id, new_bead_id: chosen });
    const room = town.rigRoom(a);
    const reply = await fetch(`http://${host}/parties/rig/${room}/internal/bead_move_out`, {
      method: "POST",
      headers: { "x-townhall-internal": await signInternal(secret, room, "bead_move_out", body) },
      body,
    });
    expect(reply.status).toBe(200);
    // The rig's durable outbox tells the town, which creates the successor and replaces the convoy entry.
    const successor = await beta.when((doc) => doc.getMap<Bead>("beads").get(chosen), "the successor created in beta");
    expect(successor).toMatchObject({ title: "one", convoyId: convoy.id, movedFrom: { rig: "alpha", beadId: old.beadId } });
    await view.when(() => view.convoy(convoy.id)?.beads[0]?.beadId === chosen, "the convoy entry replaced");

    // The operator's retry (and two more at once) answer that same bead; beta holds exactly one.
    const moves = await Promise.all([0, 1, 2].map(() => town.townCall<BeadMoveResult>("gt_bead_move", { bead_id: old.beadId, rig: "beta" })));
    for (const moved of moves) expect(moved).toEqual({ bead_id: chosen, rig: "beta", moved_from: { rig: "alpha", bead_id: old.beadId } });
    expect(
      beta
        .beads()
        .filter((x) => x.movedFrom?.beadId === old.beadId)
        .map((x) => x.id),
    ).toEqual([chosen]);
    expect(view.convoy(convoy.id)!.beads.map((x) => x.beadId)).toEqual([chosen]);

    // Two concurrent first moves of a fresh bead: one successor, both answers name it.
    const twin = await town.rigCall<Bead>(a, "gt_bead_create", { title: "twin" });
    const [x, y] = await Promise.all([0, 1].map(() => town.townCall<BeadMoveResult>("gt_bead_move", { bead_id: twin.id, rig: "beta", from: "alpha" })));
    expect(x!.bead_id).toBe(y!.bead_id);
    await beta.when((doc) => doc.getMap<Bead>("beads").get(x!.bead_id), "the twin's successor in beta");
    expect(beta.beads().filter((z) => z.movedFrom?.beadId === twin.id)).toHaveLength(1);
  });
});

describe("gt: the operator's verbs", () => {
  it("gt bead retry, gt escalation ack|resolve, gt agent restart and gt bead move call the same tools with an operator token", async () => {
    town = await makeTown(host, secret, "gtop");
    const [a, b] = [await town.addRig("alpha"), await town.addRig("beta")];
    const toast = await town.polecat(a, "toast");
    const env: GtEnv = { GT_HOST: host, GT_TOWN: town.town, GT_RIG: a.id, GT_TOKEN: town.operator };
    const bead = await town.rigCall<Bead>(a, "gt_bead_create", { title: "Flaky" });
    await town.rigCall(a, "gt_bead_update", { bead_id: bead.id, status: "failed" });

    const escalation = await town.rigCall<Escalation>(a, "gt_escalate", { title: "CI down", severity: "high", as: "alpha/witness" });
    const { GT_RIG: _rig, ...townEnv } = env; // a town command needs no GT_RIG
    // Each gt is a process of its own (slow on a loaded machine): the independent ones at once.
    const [retried, asAgent, badId, acked, noRun, missing, help] = await Promise.all([
      gt(["bead", "retry", bead.id, "--note", "mirror back"], env),
      gt(["bead", "retry", bead.id], { ...env, GT_TOKEN: toast.token }),
      gt(["bead", "retry", "nope"], env),
      gt(["escalation", "ack", escalation.id, "--note", "on it"], env),
      gt(["agent", "restart", toast.identity], env),
      gt(["bead", "move", bead.id], townEnv),
      gt(["help"], {}),
    ]);
    expect([retried.code, retried.stderr, retried.stdout]).toEqual([0, "", `bead ${bead.id} is open again (attempts 0)\n`]);
    expect((await status(a, bead.id)).history?.at(-1)?.note).toBe("retried by the operator (attempts 0 → 0): mirror back");
    expect([asAgent.code, asAgent.stderr]).toEqual([3, expect.stringMatching(/^gt: FORBIDDEN: /)]);
    expect([badId.code, badId.stderr]).toEqual([2, expect.stringContaining("<id>: must be a ULID")]);
    expect([acked.code, acked.stdout]).toEqual([0, `escalation ${escalation.id} acknowledged: on it\n`]);
    expect([noRun.code, noRun.stderr]).toEqual([3, expect.stringMatching(/^gt: CONFLICT: .* has no run/)]);
    expect([missing.code, missing.stderr]).toEqual([2, expect.stringContaining("missing <rig>")]);
    for (const command of ["bead retry", "bead move", "agent stop", "agent restart", "escalation ack", "escalation resolve"])
      expect(help.stdout).toContain(`gt ${command}`);

    const [again, resolved] = await Promise.all([gt(["bead", "retry", bead.id], env), gt(["escalation", "resolve", escalation.id], env)]);
    expect([again.code, again.stderr]).toEqual([3, expect.stringMatching(/^gt: CONFLICT: /)]);
    expect([resolved.code, resolved.stdout]).toEqual([0, `escalation ${escalation.id} resolved: on it\n`]);

    const moved = await gt(["bead", "move", bead.id, "beta", "--from", "alpha"], townEnv);
    expect([moved.code, moved.stderr]).toEqual([0, ""]);
    const successor = /^moved bead (\S+) from alpha to beta as bead (\S+)\n$/.exec(moved.stdout);
    expect(successor?.[1]).toBe(bead.id);
    expect(await status(b, successor![2]!)).toMatchObject({ title: "Flaky", movedFrom: { rig: "alpha", beadId: bead.id } });
  }, 120_000);
});
