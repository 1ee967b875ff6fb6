/**
 * Agents' output end to end: the real town container runs real agents on a real git repository,
 * and what they print is readable in the rig room (gt_agent_log), redacted, per run, after the
 * runs ended; the container's own log still shows it, redacted too.
 *
 * No polling: a run's last lines reach the room before its exit is reported (the container drains
 * them first), and the bead moves on only after that report, so once the rig document shows the
 * bead closed or failed, every run's output is in.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, inject, it } from "vitest";
import type { AgentLogResult, Bead, Rig } from "../../party/protocol.ts";
import { REDACTED } from "../../party/redact.ts";
import { spawnContainer, type ContainerProcess } from "../helpers/container.ts";
import { makeBareRepo } from "../helpers/git.ts";
import { makeTown, until, type TestTown } from "../helpers/town.ts";

const host = inject("partykitHost");
const secret = inject("gtSecret");
let town: TestTown;
let dir: string;
const containers: ContainerProcess[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "townhall-output-"));
});
afterEach(async () => {
  await Promise.all(containers.splice(0).map((c) => c.stop()));
  town?.closeAll();
  rmSync(dir, { recursive: true, force: true });
});

/** A rig served by a real container (`extra`: its arguments), and a wait on the rig's beads. */
async function servedRig(extra: string[] = []) {
  town = await makeTown(host, secret, "oc");
  const rig = await town.addRig("alpha", { git_url: makeBareRepo(dir, "alpha"), max_polecats: 1 });
  const replica = town.replica("rig", town.rigRoom(rig));
  await replica.whenSynced();
  const bead = (id: string) => replica.doc.getMap<Bead>("beads").get(id);
  const until_ = <T>(predicate: () => T | undefined | false) =>
    until((cb) => (replica.doc.on("update", cb), () => replica.doc.off("update", cb)), predicate, 90_000, predicate.toString().slice(0, 120));
  const container = spawnContainer({ host, town: town.town, token: town.container, workspace: join(dir, "workspace"), extra });
  containers.push(container);
  return { rig, bead, until: until_, container };
}

const log = (rig: Rig, args: Record<string, unknown>) => town.rigCall<AgentLogResult>(rig, "gt_agent_log", args);

describe("agents' output from the container", () => {
  it("what the scripted agent prints is in its run's log once its bead is merged", async () => {
    const { rig, bead, until } = await servedRig();
    const task = await town.rigCall<Bead>(rig, "gt_bead_create", { title: "think, then write", body: "sleep 20\nwrite out.txt: written" });
    await until(() => bead(task.id)?.status === "closed");
    const result = await log(rig, { bead_id: task.id });
    expect(result.runs).toHaveLength(1);
    expect(result.run).toMatchObject({ beadId: task.id, identity: expect.stringMatching(/^alpha\/polecats\//), exit: "exit 0", dropped: 0 });
    expect(result.lines.map((l) => [l.stream, l.text])).toEqual([
      ["out", "working for 20 ms"],
      ["out", expect.stringMatching(new RegExp(`^done: ${task.id} on gt/`))],
    ]);
  });

  it("a failing command agent: each run's stdout and stderr, redacted (its own token too), and how each ended", async () => {
    const script = 'echo "hello from $GT_AGENT"; echo "my token is $GT_TOKEN"; echo "Authorization: Bearer $GT_TOKEN" >&2; printf "no newline at the end"; exit 4';
    const { rig, bead, until, container } = await servedRig(["--rig-command", `alpha=${script}`]);
    const task = await town.rigCall<Bead>(rig, "gt_bead_create", { title: "fail loudly" });
    await until(() => bead(task.id)?.status === "failed");

    const result = await log(rig, { bead_id: task.id });
    expect(result.runs.map((r) => [r.run, r.exit])).toEqual([3, 2, 1].map((n) => [`${task.id}.${n}`, "exit 4"]));
    expect(result.run?.run).toBe(`${task.id}.3`); // the latest
    for (const run of result.runs) {
      const lines = (await log(rig, { run: run.run })).lines;
      const identity = run.identity;
      expect(lines.filter((l) => l.stream === "out").map((l) => l.text)).toEqual([`hello from ${identity}`, `my token is ${REDACTED}`, "no newline at the end"]);
      expect(lines.filter((l) => l.stream === "err").map((l) => l.text)).toEqual([`Authorization: Bearer ${REDACTED}`]);
    }
    // No token reached the room, nor the container's own log.
    expect(JSON.stringify(result)).not.toMatch(/eyJ[\w-]+\.[\w-]+\.[\w-]+/);
    expect(container.output()).toContain(`: my token is ${REDACTED}`);
    expect(container.output()).not.toMatch(/eyJ[\w-]+\.[\w-]+\.[\w-]+/);
  });
});
