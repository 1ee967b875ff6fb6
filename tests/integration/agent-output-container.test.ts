/**
 * Agents' output end to end: the real town container runs real agents on a real git repository,
 * and what they print is readable in the rig room (gt_agent_log), redacted, per run, after the
 * runs ended; the container's own log still shows it, redacted too. A hostile agent that prints
 * its own token in every evasive form (and the town's secret, found in its repository) has none of
 * it stored.
 *
 * No polling: a run's last lines reach the room before its exit is reported (the container drains
 * them first), and the bead moves on only after that report, so once the rig document shows the
 * bead closed or failed, every run's output is in.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, inject, it } from "vitest";
import type { AgentLogResult, Bead, Rig } from "../../party/protocol.ts";
import { REDACTED } from "../../party/redact.ts";
import { spawnContainer, type ContainerProcess } from "../helpers/container.ts";
import { git, makeBareRepo } from "../helpers/git.ts";
import { expectHidden } from "../helpers/redaction.ts";
import { makeTown, until, type TestTown, untilReplica } from "../helpers/town.ts";

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

/** A rig served by a real container (`extra`: its arguments), and a wait on the rig's beads. `files`: committed to the rig's repository first. */
async function servedRig(extra: string[] = [], files: Record<string, string> = {}) {
  town = await makeTown(host, secret, "oc");
  const bare = makeBareRepo(dir, "alpha");
  if (Object.keys(files).length) commitFiles(bare, files);
  const rig = await town.addRig("alpha", { git_url: bare, max_polecats: 1 });
  const replica = town.replica("rig", town.rigRoom(rig));
  await replica.whenSynced();
  const bead = (id: string) => replica.doc.getMap<Bead>("beads").get(id);
  const until_ = <T>(predicate: () => T | undefined | false) => untilReplica(replica, predicate, 90_000, predicate.toString().slice(0, 120));
  const container = spawnContainer({ host, town: town.town, token: town.container, workspace: join(dir, "workspace"), extra });
  containers.push(container);
  return { rig, bead, until: until_, container };
}

function commitFiles(bare: string, files: Record<string, string>): void {
  const work = mkdtempSync(join(dir, "seed-"));
  git(["clone", "-q", bare, work]);
  for (const [path, text] of Object.entries(files)) writeFileSync(join(work, path), text);
  git(["add", "."], work);
  git(["-c", "user.name=test", "-c", "user.email=test@example.com", "commit", "-q", "-m", "files"], work);
  git(["push", "-q", "origin", "main"], work);
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
    const script =
      'echo "hello from $GT_AGENT"; echo "my token is $GT_TOKEN"; echo "Authorization: Bearer $GT_TOKEN" >&2; printf "no newline at the end"; exit 4';
    const { rig, bead, until, container } = await servedRig(["--rig-command", `alpha=${script}`]);
    const task = await town.rigCall<Bead>(rig, "gt_bead_create", { title: "fail loudly" });
    await until(() => bead(task.id)?.status === "failed");

    const result = await log(rig, { bead_id: task.id });
    expect(result.runs.map((r) => [r.run, r.exit])).toEqual([3, 2, 1].map((n) => [`${task.id}.${n}`, "exit 4"]));
    expect(result.run?.run).toBe(`${task.id}.3`); // the latest
    for (const run of result.runs) {
      const lines = (await log(rig, { run: run.run })).lines;
      const identity = run.identity;
      expect(lines.filter((l) => l.stream === "out").map((l) => l.text)).toEqual([
        `hello from ${identity}`,
        `my token is ${REDACTED}`,
        "no newline at the end",
      ]);
      expect(lines.filter((l) => l.stream === "err").map((l) => l.text)).toEqual([`Authorization: Bearer ${REDACTED}`]);
    }
    // No token reached the room, nor the container's own log.
    expect(JSON.stringify(result)).not.toMatch(/eyJ[\w-]+\.[\w-]+\.[\w-]+/);
    expect(container.output()).toContain(`: my token is ${REDACTED}`);
    expect(container.output()).not.toMatch(/eyJ[\w-]+\.[\w-]+\.[\w-]+/);
  });

  it("a hostile agent prints its own token in every evasive form, and the town's secret: none of it is stored, the text around it is", async () => {
    // Run by the agent (node is on its PATH). Every form is one line `form <name>: <it> :end`, or
    // several lines from `form <name>:` to `:end`. The town's secret the container does not know:
    // only the room's second pass (by value) stands between it and storage.
    const agent = String.raw`
      const t = process.env.GT_TOKEN;
      const s = require("fs").readFileSync("town-secret.txt", "utf8").trim();
      const B = (x) => Buffer.from(x);
      const fw = (x) => [...x].map((c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0)).join("");
      const lines = (x, n) => x.match(new RegExp(".{1," + Math.ceil(x.length / n) + "}", "g")).join("\n");
      const forms = {
        raw: t,
        "split in 2": "\n" + t.slice(0, 150) + "\n" + t.slice(150) + "\n",
        "split in 5": "\n" + lines(t, 5) + "\n",
        base64: B(t).toString("base64"),
        "base64 after 1 byte": B("x" + t).toString("base64"),
        "base64url after 2 bytes": B("xy" + t).toString("base64url"),
        "base64 wrapped": "\n" + lines(B(t + "\n").toString("base64"), 6) + "\n",
        hex: B(t).toString("hex"),
        "HEX after 1 byte": B("=" + t).toString("hex").toUpperCase(),
        "percent-encoded": [...t].map((c) => "%" + c.charCodeAt(0).toString(16)).join(""),
        "zero-width": [...t].join("\u200b"),
        bidi: [...t].join("\u202e"),
        spaces: [...t].join(" "),
        "full-width": fw(t),
        "full-width, zero-width": [...fw(t)].join("\u200c"),
        "spaces around dots": t.split(".").join(" . "),
        "base64, full-width, word joiners": [...fw(B(t).toString("base64"))].join("\u2060"),
        "town secret base64": B(s).toString("base64"),
        "town secret hex, zero-width": [...B(s).toString("hex")].join("\u200b"),
        "town secret split": "\n" + s.slice(0, 12) + "\n" + s.slice(12) + "\n",
      };
      for (const [name, form] of Object.entries(forms)) console.log("form " + name + ": " + form + " :end");
      // One line in two writes a moment apart: two reads of the container.
      process.stdout.write("form across reads: " + t.slice(0, 120));
      setTimeout(() => { process.stdout.write(t.slice(120) + " :end\n"); process.exitCode = 3; }, 200);
    `;
    const { rig, bead, until, container } = await servedRig(["--rig-command", `alpha=node -e '${agent}'`], { "town-secret.txt": `${secret}\n` });
    const task = await town.rigCall<Bead>(rig, "gt_bead_create", { title: "leak it" });
    await until(() => bead(task.id)?.status === "failed");

    const result = await log(rig, { bead_id: task.id });
    expect(result.runs).toHaveLength(3);
    for (const run of result.runs) {
      const texts = (await log(rig, { run: run.run })).lines.map((l) => l.text);
      const names: string[] = [];
      for (let i = 0; i < texts.length; i++) {
        const name = /^form ([^:]+):/.exec(texts[i]!)?.[1];
        expect(name, texts[i]).toBeDefined();
        names.push(name!);
        if (texts[i]!.endsWith(" :end")) {
          expectHidden(texts[i]!, `form ${name}: `, " :end");
          continue;
        }
        // Several lines: each between the first and `:end` is hidden whole.
        expect(texts[i]).toBe(`form ${name}: `);
        for (i++; texts[i] !== " :end"; i++) expectHidden(texts[i]!, "", "");
      }
      expect(names).toEqual(expect.arrayContaining(["raw", "split in 5", "base64 wrapped", "full-width, zero-width", "town secret split", "across reads"]));
      expect(names).toHaveLength(21);
    }
    const stored = JSON.stringify(result);
    expect(stored).not.toContain(secret);
    expect(stored).not.toMatch(/eyJ[\w-]+\.[\w-]+\.[\w-]+/);
    // The container's own log shows the lines as they left it: its own secrets hidden there too.
    expect(container.output()).toContain(": form raw: [redacted] :end");
    expect(container.output()).toContain(": form full-width, zero-width: [redacted] :end");
  });
});
