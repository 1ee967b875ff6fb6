/**
 * A preset runtime through the real container: the real Claude Code CLI (the pinned install the test
 * setup keeps outside node_modules) runs a bead as its rig's user, through the one launcher, against
 * the scripted Anthropic stand-in reached with --agent-allow; its key and the stand-in's address are
 * given with --agent-env. Its stream is parsed into lines with kinds, its usage reaches
 * gt_agent_exited, and its key appears in no output, no log and no command line.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, inject, it } from "vitest";
import type { AgentLogResult, Bead } from "../../party/protocol.ts";
import { startAnthropicStandIn, conversationText, toolResults, type AnthropicStandIn } from "../helpers/anthropic-stand-in.ts";
import { spawnContainer, type ContainerProcess } from "../helpers/container.ts";
import { commandLinesHolding, filesOnMain, makeBareRepo } from "../helpers/git.ts";
import { makeTown, untilReplica, type TestTown } from "../helpers/town.ts";

const host = inject("partykitHost");
const secret = inject("gtSecret");
const CLAUDE = "/var/cache/townhall/agent-clis/claude-code-2.1.337/node_modules/.bin/claude";
const KEY = "sk-ant-preset-launch-0123456789abcdef";
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
    standIn = await startAnthropicStandIn((request) => {
      const done = toolResults(request.body).length;
      if (done === 0) {
        commandLinesSeen = commandLinesHolding(KEY);
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
      if (done === 1) return { blocks: [{ type: "tool_use", name: "Bash", input: { command: "gt done" } }] };
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
    const first = standIn.turns()[0]!;
    expect(conversationText(first.body)).toContain(task.id);
    expect(first.headers["x-api-key"]).toBe(KEY);
    const log = await town.rigCall<AgentLogResult>(rig, "gt_agent_log", { bead_id: task.id });
    const kinds = log.lines.map((l) => [l.kind ?? null, l.text]);
    expect(kinds).toContainEqual(["text", "I will write the file."]);
    expect(kinds).toContainEqual(["tool", expect.stringMatching(/^→ Bash: echo/)]);
    expect(log.lines.filter((l) => l.kind === "tool_result").map((l) => l.ok)).toEqual([true, true]);
    expect(log.lines.find((l) => l.kind === "result")).toMatchObject({ ok: true });
    expect(JSON.stringify(log)).not.toContain(KEY);
    expect(container.output()).not.toContain(KEY);
    expect(commandLinesSeen).toEqual([]);
  }, 180_000);
});
