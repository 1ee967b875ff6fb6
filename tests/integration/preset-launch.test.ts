/**
 * A preset runtime through the real container: the real Claude Code CLI (the pinned install the test
 * setup keeps outside node_modules) runs a bead as its rig's user, through the one launcher, against
 * the scripted Anthropic stand-in reached with --agent-allow; its key and the stand-in's address are
 * given with --agent-env. Its stream is parsed into lines with kinds, its usage reaches
 * gt_agent_exited, and its key appears in no output, no log and no command line.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, inject, it } from "vitest";
import type { AgentLogResult, Bead, Rig } from "../../party/protocol.ts";
import { startAnthropicStandIn, conversationText, toolResults, type AnthropicStandIn } from "../helpers/anthropic-stand-in.ts";
import { spawnContainer, type ContainerProcess } from "../helpers/container.ts";
import { commandLinesHolding, filesOnMain, makeBareRepo, showFile } from "../helpers/git.ts";
import { makeTown, untilReplica, type TestTown } from "../helpers/town.ts";

const host = inject("partykitHost");
const secret = inject("gtSecret");
const CLAUDE = "/var/cache/townhall/agent-clis/claude-code-2.1.337/node_modules/.bin/claude";
// Of no known shape: only redaction by value (the run's keys in its secret values) can hide it.
const KEY = "Preset-launch-key-q0w9e8r7t6";
let town: TestTown;
let dir: string;
let standIn: AnthropicStandIn;
const containers: ContainerProcess[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "townhall-preset-"));
});
afterEach(async () => {
  await Promise.all(containers.splice(0).map((c) => c.stop()));
  await standIn?.stop();
  town?.closeAll();
  rmSync(dir, { recursive: true, force: true });
});

describe.runIf(existsSync(CLAUDE))("the claude preset through the container", () => {
  it("a bead: prime in the prompt, a commit and gt done through Bash, merged; lines with kinds, usage, the key hidden", async () => {
    let commandLinesSeen: string[] = [];
    let polecat = "";
    standIn = await startAnthropicStandIn(async (request) => {
      const done = toolResults(request.body).length;
      if (done === 0) {
        commandLinesSeen = commandLinesHolding(KEY);
        // Mail sent while the agent runs: its hook after the next tool call puts it in front of the model.
        polecat = /You are (\S+),/.exec(conversationText(request.body))?.[1] ?? "";
        await town.rigCall(rig, "gt_mail_send", { to: polecat, subject: "MID-RUN-MAIL", body: "Also check the README." });
        return {
          blocks: [
            { type: "text", text: "I will write the file." },
            {
              type: "tool_use",
              name: "Bash",
              input: { command: 'echo "$GT_RIG $GT_ROLE $GT_POLECAT" > who.txt && git add who.txt && git commit -qm who && echo ok' },
            },
          ],
        };
      }
      // A tool that prints the key (base64'd, and failing, so its output is shown): hidden in every line that leaves the container.
      if (done === 1) return { blocks: [{ type: "tool_use", name: "Bash", input: { command: 'printf %s "$ANTHROPIC_API_KEY" | base64; exit 1' } }] };
      if (done === 2) return { blocks: [{ type: "tool_use", name: "Bash", input: { command: "gt done" } }] };
      return {
        blocks: [{ type: "text", text: "Finished." }],
        usage: { input_tokens: 1000, output_tokens: 50, cache_read_input_tokens: 300, cache_creation_input_tokens: 20 },
      };
    });
    town = await makeTown(host, secret, "pl");
    const bare = makeBareRepo(dir, "alpha");
    const rig = await town.addRig("alpha", { git_url: bare, max_polecats: 1 });
    const replica = town.replica("rig", town.rigRoom(rig));
    await replica.whenSynced();
    process.env.ANTHROPIC_API_KEY = KEY;
    process.env.ANTHROPIC_BASE_URL = standIn.url;
    process.env.CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC = "1";
    const container = spawnContainer({
      host,
      town: town.town,
      token: town.container,
      workspace: join(dir, "workspace"),
      extra: [
        "--runtime",
        "claude",
        "--agent-bin",
        `claude=${CLAUDE}`,
        "--agent-env",
        "ANTHROPIC_API_KEY,ANTHROPIC_BASE_URL,CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC",
        "--agent-allow",
        `127.0.0.1:${standIn.port}`,
      ],
    });
    containers.push(container);
    delete process.env.ANTHROPIC_API_KEY;
    const task = await town.rigCall<Bead>(rig, "gt_bead_create", { title: "write who.txt", body: "Write who.txt and commit it." });
    await untilReplica(replica, (doc) => doc.getMap<Bead>("beads").get(task.id)?.status === "closed", 120_000, "bead closed");
    expect(filesOnMain(bare)).toContain("who.txt");
    const [first, second] = standIn.turns();
    // The role prompt with the bead (what gt prime prints) was its prompt; the mail reached its next request.
    expect(conversationText(first!.body)).toContain(task.id);
    expect(polecat).toMatch(/^alpha\/polecats\//);
    expect(conversationText(first!.body)).not.toContain("MID-RUN-MAIL");
    expect(conversationText(second!.body)).toContain("MID-RUN-MAIL");
    expect(showFile(bare, "who.txt")).toBe(`alpha polecat ${polecat.split("/")[2]}`);
    expect(first!.headers["x-api-key"]).toBe(KEY);
    const log = await town.rigCall<AgentLogResult>(rig, "gt_agent_log", { bead_id: task.id });
    const kinds = log.lines.map((l) => [l.kind ?? null, l.text]);
    expect(kinds).toContainEqual(["text", "I will write the file."]);
    expect(kinds).toContainEqual(["tool", expect.stringMatching(/^→ Bash: echo/)]);
    expect(log.lines.filter((l) => l.kind === "tool_result").map((l) => l.ok)).toEqual([true, false, true]);
    expect(log.lines.find((l) => l.kind === "tool_result" && !l.ok)?.text).toMatch(/^← Bash failed: .*\[redacted\]/);
    expect(log.lines.find((l) => l.kind === "result")).toMatchObject({ ok: true });
    // Nothing went wrong on the way: no error line (a gt MCP server that failed to start would be one).
    expect(log.lines.filter((l) => l.kind === "error")).toEqual([]);
    const b64 = Buffer.from(KEY).toString("base64");
    for (const text of [JSON.stringify(log), container.output()]) {
      expect(text).not.toContain(KEY);
      expect(text).not.toContain(b64.slice(0, 16));
    }
    expect(commandLinesSeen).toEqual([]);
    // Its usage, as the CLI's result reported it, went with its exit (the container logs what it sent).
    expect(container.output()).toMatch(/alpha\/polecats\/\S+ used \S+, 4 turns, [\d,]+ in \/ [\d,]+ out tokens/);
  }, 180_000);

  it("a CLI the rig's user cannot execute: the rig is in error with that reason and its bead waits, no run fails", async () => {
    town = await makeTown(host, secret, "pl");
    const bare = makeBareRepo(dir, "alpha");
    const rig = await town.addRig("alpha", { git_url: bare, max_polecats: 1 });
    const replica = town.replica("rig", town.rigRoom(rig));
    await replica.whenSynced();
    // Root can run it; the rig's user cannot reach it (a 0700 directory, as under a home directory).
    const hidden = join(dir, "root-only");
    mkdirSync(hidden, { mode: 0o700 });
    const binary = join(hidden, "claude");
    writeFileSync(binary, "#!/bin/sh\nexit 0\n", { mode: 0o755 });
    const container = spawnContainer({
      host,
      town: town.town,
      token: town.container,
      workspace: join(dir, "workspace"),
      extra: ["--runtime", "claude", "--agent-bin", `claude=${binary}`],
    });
    containers.push(container);
    const task = await town.rigCall<Bead>(rig, "gt_bead_create", { title: "wait", body: "nothing" });
    const townDoc = town.replica("main", town.town, town.operator, "town");
    const item = await untilReplica(
      townDoc,
      (doc) =>
        doc
          .getMap<Rig>("rigs")
          .get(rig.id)
          ?.summary.attention?.find((a) => a.kind === "rig_error"),
      60_000,
      "the rig's error in the attention lane",
    );
    expect(item.detail).toMatch(/^agents of this rig cannot run \S+( as th-\w+)?: not executable for this user/);
    expect(item.detail).toContain(binary);
    expect(container.output()).not.toMatch(/alpha\/polecats\/\S+ started/);
    const bead = replica.doc.getMap<Bead>("beads").get(task.id)!;
    expect(bead.status).toBe("open");
    expect(bead.attempts ?? 0).toBe(0);
  }, 120_000);
});
