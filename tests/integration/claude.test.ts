/**
 * Claude Code as a rig's polecats, end to end with real parts only but the model: the real CLI
 * (@anthropic-ai/claude-code, pinned, from the tests' install cache: tests/helpers/claude-cli.ts)
 * run by the real town container (as root: each rig's user, its PID namespace and network rule)
 * against real `partykit dev` and real git, the model a scripted stand-in of the Anthropic Messages
 * API on loopback (tests/helpers/anthropic-stand-in.ts). Agents reach it as an operator's local
 * model gateway is reached: allowed with --agent-allow, its address and a key handed over with
 * --agent-env from the container's environment.
 *
 * One dev server (of its own: a short GT_AGENT_IDLE_MS, so that a model thinking for three times
 * that is seen through), one container and one rig serve every scenario in turn; the stand-in tells
 * the scenarios apart by a tag in the bead's title, which reaches the model in the prompt (what
 * `gt prime` prints).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFailed } from "vitest";
import type { AgentLogResult, Bead, BeadStatusResult, OutputLine, Rig, RunInfo } from "../../party/protocol.ts";
import { REDACTED } from "../../party/redact.ts";
import {
  conversationText,
  lastUserText,
  startAnthropicStandIn,
  toolResults,
  type AnthropicStandIn,
  type StandInRequest,
  type Turn,
} from "../helpers/anthropic-stand-in.ts";
import { ensureClaudeCode } from "../helpers/claude-cli.ts";
import { spawnContainer, type ContainerProcess } from "../helpers/container.ts";
import { commandLinesHolding, makeBareRepo, showFile } from "../helpers/git.ts";
import { startPartykit, type DevServer } from "../helpers/partykit.ts";
import { makeTown, untilReplica, type TestTown } from "../helpers/town.ts";

const SECRET = "claude-e2e-secret-0123456789";
/** The witness's idle time here: short, so that a think of three times it fits a test. */
const IDLE_MS = 2_500;
/** The model every run asks for (ANTHROPIC_MODEL): one the CLI has no price for, so the operator's prices file prices it. */
const MODEL = "claude-standin-1";
/** USD per million tokens, as `--prices` takes them. */
const PRICES = { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 };
/** The agents' key: what the stand-in must see, and nothing else may show. */
const KEY = `sk-ant-e2e-${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;

/** A scenario's script: its turns, by how many tool results its conversation holds so far. */
type Scenario = (step: number, request: StandInRequest) => Turn | Promise<Turn>;

const bash = (command: string): Turn["blocks"][number] => ({ type: "tool_use", name: "Bash", input: { command, description: command.slice(0, 60) } });
const say = (text: string): Turn => ({ blocks: [{ type: "text", text }] });
/** The text of the latest tool result (what the agent's last tool call printed). */
const lastResult = (request: StandInRequest): string => {
  const results = toolResults(request.body);
  const content = results.at(-1)?.content;
  return typeof content === "string" ? content : Array.isArray(content) ? content.map((b: { text?: string }) => b.text ?? "").join("\n") : "";
};
/** The agent's working directory, from a tool result that printed `cwd=<dir>`. */
const cwdIn = (request: StandInRequest): string => /cwd=(\/[^\s"\\]+)/.exec(conversationText(request.body))?.[1] ?? "/nonexistent";
const branchIn = (request: StandInRequest): string => /branch=([\w./-]+)/.exec(conversationText(request.body))?.[1] ?? "main";

let server: DevServer;
let dir: string;
let town: TestTown;
let rig: Rig;
let bare: string;
let beta: Rig;
let bareBeta: string;
let standIn: AnthropicStandIn;
let container: ContainerProcess;
let beadOf: (id: string) => Bead | undefined;
let beadsNow: () => IterableIterator<Bead>;
let untilBead: (id: string, status: Bead["status"]) => Promise<Bead>;
const scenarios = new Map<string, Scenario>();

beforeAll(async () => {
  const { binary } = ensureClaudeCode(undefined, (line) => console.log(line));
  dir = mkdtempSync(join(tmpdir(), "townhall-claude-"));
  server = await startPartykit({
    persistDir: join(dir, "persist"),
    vars: { GT_SECRET: SECRET, GT_AGENT_IDLE_MS: String(IDLE_MS), GT_WITNESS_TIMEOUT_MS: "5000" },
  });
  standIn = await startAnthropicStandIn((request) => {
    const text = conversationText(request.body);
    // The latest scenario named in the conversation: what gt prime prints may name earlier beads too.
    const tag = [...scenarios.keys()].reverse().find((t) => text.includes(`[e2e:${t}]`));
    if (!tag) return say(`No scenario found in the conversation.`);
    return scenarios.get(tag)!(toolResults(request.body).length, request);
  });
  const pricesFile = join(dir, "prices.json");
  writeFileSync(pricesFile, JSON.stringify({ [MODEL]: PRICES }), { mode: 0o644 });

  town = await makeTown(server.host, SECRET, "cc");
  bare = makeBareRepo(dir, "alpha");
  rig = await town.addRig("alpha", { git_url: bare, max_polecats: 1 });
  // A rig of its own for the budget: what holds it must not hold the other scenarios.
  bareBeta = makeBareRepo(dir, "beta");
  beta = await town.addRig("beta", { git_url: bareBeta, max_polecats: 1 });
  const replica = town.replica("rig", town.rigRoom(rig));
  await replica.whenSynced();
  beadOf = (id) => replica.doc.getMap<Bead>("beads").get(id);
  beadsNow = () => replica.doc.getMap<Bead>("beads").values();
  untilBead = (id, status) => untilReplica(replica, () => (beadOf(id)?.status === status ? beadOf(id) : undefined), 90_000, `bead ${id} ${status}`);

  container = spawnContainer({
    host: server.host,
    town: town.town,
    token: town.container,
    workspace: join(dir, "workspace"),
    extra: [
      "--runtime",
      "claude",
      "--agent-bin",
      `claude=${binary}`,
      "--agent-env",
      "ANTHROPIC_API_KEY,ANTHROPIC_BASE_URL,ANTHROPIC_MODEL",
      "--agent-allow",
      `127.0.0.1:${standIn.port}`,
      "--prices",
      pricesFile,
    ],
    // The key in the container's environment only, as an operator exports it: never on a command line.
    env: { ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: standIn.url, ANTHROPIC_MODEL: MODEL },
  });
}, 180_000);

afterAll(async () => {
  await container?.stop();
  town?.closeAll();
  await standIn?.stop();
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// A failure says what the container and the model saw: the tail of its log, and each request the stand-in answered.
beforeEach(() => {
  onTestFailed(() => {
    console.error(`container log (tail):\n${container.output().slice(-6000)}`);
    console.error(
      `stand-in requests:\n${standIn.requests.map((r) => `${new Date(r.at).toISOString()} ${r.path} turn=${r.agentTurn} results=${toolResults(r.body).length} last=${JSON.stringify(lastUserText(r.body).slice(-300))}`).join("\n")}`,
    );
  });
});

const log = (args: Record<string, unknown>) => town.rigCall<AgentLogResult>(rig, "gt_agent_log", args);

/** Every line of every run of a bead. */
async function linesOf(beadId: string): Promise<{ runs: RunInfo[]; lines: OutputLine[] }> {
  const { runs } = await log({ bead_id: beadId });
  const lines: OutputLine[] = [];
  for (const run of runs) lines.push(...(await log({ run: run.run, limit: 1000 })).lines);
  return { runs, lines };
}

/** Slings a bead for the scenario `tag` and waits until it is merged. */
async function runScenario(tag: string, title: string, scenario: Scenario): Promise<Bead> {
  scenarios.set(tag, scenario);
  const bead = await town.rigCall<Bead>(rig, "gt_bead_create", { title: `[e2e:${tag}] ${title}`, body: "Do exactly what the task says, then hand it in." });
  return untilBead(bead.id, "closed");
}

describe("Claude Code as a polecat: the real CLI, run by the real container, against a stand-in model", () => {
  it("prime → edit → commit → gt done through the Bash tool: merged on the remote; its usage and cost are what the model reported", async () => {
    const usage = [
      { input_tokens: 1200, output_tokens: 40, cache_read_input_tokens: 500, cache_creation_input_tokens: 70 },
      { input_tokens: 1300, output_tokens: 50, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 },
      { input_tokens: 1400, output_tokens: 60, cache_read_input_tokens: 900, cache_creation_input_tokens: 10 },
      { input_tokens: 1500, output_tokens: 70, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 },
      { input_tokens: 1600, output_tokens: 80, cache_read_input_tokens: 100, cache_creation_input_tokens: 0 },
    ];
    const steps: ((r: StandInRequest) => Turn["blocks"])[] = [
      () => [{ type: "text", text: "Let me see my task." }, bash('gt prime && echo "cwd=$(pwd)"')],
      (r) => [{ type: "tool_use", name: "Write", input: { file_path: `${cwdIn(r)}/hello.txt`, content: "hello from claude\n" } }],
      () => [bash("git add hello.txt && git commit -q -m 'Say hello' && git log --oneline -1")],
      () => [bash("gt done --summary 'hello.txt says hello'")],
      () => [{ type: "text", text: "Done: hello.txt is handed in." }],
    ];
    const bead = await runScenario("bash", "write hello.txt", (step, r) => ({
      blocks: steps[Math.min(step, steps.length - 1)]!(r),
      usage: usage[Math.min(step, usage.length - 1)],
    }));

    expect(showFile(bare, "hello.txt")).toBe("hello from claude");
    const requests = standIn.turns().filter((r) => conversationText(r.body).includes("[e2e:bash]"));
    // What gt prime printed reached the model: the bead it holds.
    expect(conversationText(requests[1]!.body)).toContain(bead.id);
    expect(requests.map((r) => toolResults(r.body).length)).toEqual([0, 1, 2, 3, 4]);
    expect(lastResult(requests[4]!)).toMatch(new RegExp(`bead ${bead.id} is `));

    const { runs, lines } = await linesOf(bead.id);
    expect(runs).toHaveLength(1);
    expect(runs[0]!.exit).toBe("exit 0");
    // Parsed, not raw JSON: the text, each tool call, whether it succeeded, the result.
    expect(lines.some((l) => l.kind === "text" && l.text.includes("Let me see my task."))).toBe(true);
    expect(lines.filter((l) => l.kind === "tool").map((l) => l.text)).toEqual([
      expect.stringContaining("gt prime"),
      expect.stringContaining("hello.txt"),
      expect.stringContaining("git commit"),
      expect.stringContaining("gt done"),
    ]);
    expect(lines.filter((l) => l.kind === "tool_result").map((l) => l.ok)).toEqual([true, true, true, true]);
    expect(lines.some((l) => l.kind === "text" && l.text.includes("hello.txt is handed in"))).toBe(true);
    expect(lines.filter((l) => l.kind === "result")).toEqual([expect.objectContaining({ ok: true })]);
    expect(lines.some((l) => l.text.startsWith("{"))).toBe(false);

    // The recorded usage is the sum of what the stand-in reported for this run, priced by --prices.
    const sum = (key: keyof (typeof usage)[number]) => requests.reduce((n, r) => n + r.reported![key], 0);
    const expected = {
      model: MODEL,
      turns: 5,
      inputTokens: sum("input_tokens"),
      outputTokens: sum("output_tokens"),
      cacheReadTokens: sum("cache_read_input_tokens"),
      cacheWriteTokens: sum("cache_creation_input_tokens"),
    };
    expect(expected.inputTokens).toBe(7000);
    const run = (await log({ bead_id: bead.id })).run!;
    expect(run.usage).toMatchObject(expected);
    const cost =
      (expected.inputTokens * PRICES.input +
        expected.outputTokens * PRICES.output +
        expected.cacheReadTokens * PRICES.cacheRead +
        expected.cacheWriteTokens * PRICES.cacheWrite) /
      1e6;
    expect(run.usage!.costUsd).toBeCloseTo(cost, 9);
    // Summed into its bead, as the dashboard's bead page shows it.
    expect(beadOf(bead.id)!.usage).toMatchObject({ runs: 1, inputTokens: 7000, outputTokens: 300, cacheReadTokens: 1500, cacheWriteTokens: 80, unpriced: 0 });
    expect(beadOf(bead.id)!.usage!.costUsd).toBeCloseTo(cost, 9);
  });

  it("prime → edit → commit → done through the gt MCP tools: merged on the remote", async () => {
    const steps: ((r: StandInRequest) => Turn["blocks"])[] = [
      // Claude Code loads MCP tools on demand, as a model would ask for them.
      () => [{ type: "tool_use", name: "ToolSearch", input: { query: "select:mcp__gt__gt_prime,mcp__gt__gt_done", max_results: 5 } }],
      () => [{ type: "tool_use", name: "mcp__gt__gt_prime", input: {} }],
      () => [bash('echo "cwd=$(pwd) branch=$(git rev-parse --abbrev-ref HEAD)"')],
      (r) => [{ type: "tool_use", name: "Write", input: { file_path: `${cwdIn(r)}/mcp.txt`, content: "written through MCP\n" } }],
      () => [bash("git add mcp.txt && git commit -q -m 'Write mcp.txt'")],
      (r) => [{ type: "tool_use", name: "mcp__gt__gt_done", input: { branch: branchIn(r), summary: "mcp.txt written" } }],
      () => [{ type: "text", text: "Handed in through gt_done." }],
    ];
    const bead = await runScenario("mcp", "write mcp.txt", (step, r) => ({ blocks: steps[Math.min(step, steps.length - 1)]!(r) }));

    expect(showFile(bare, "mcp.txt")).toBe("written through MCP");
    const requests = standIn.turns().filter((r) => conversationText(r.body).includes("[e2e:mcp]"));
    expect(requests).toHaveLength(7);
    // gt_prime's answer (JSON) names the bead; gt_done's says it went to review.
    expect(lastResult(requests[2]!)).toContain(bead.id);
    expect(lastResult(requests[6]!)).toContain(bead.id);
    expect(toolResults(requests[6]!.body).at(-1)).not.toMatchObject({ is_error: true });
    const { runs, lines } = await linesOf(bead.id);
    expect(runs).toHaveLength(1);
    expect(lines.filter((l) => l.kind === "tool").map((l) => l.text)).toEqual(
      expect.arrayContaining([expect.stringContaining("gt_prime"), expect.stringContaining("gt_done")]),
    );
    expect(lines.filter((l) => l.kind === "tool_result").every((l) => l.ok)).toBe(true);
  });

  it("mail sent to the agent mid-run is in the next request the model receives (the PostToolUse hook)", async () => {
    const subject = `PINEAPPLE-${Date.now().toString(36)}`;
    const bead = await runScenario("mail", "wait for mail", async (step) => {
      if (step === 0) return { blocks: [{ type: "text", text: "Waiting for word." }, bash("echo checked")] };
      if (step === 1) {
        // The first tool call and its hook have run: mail the agent now, then let it call a tool again.
        const agent = [...beadsNow()].find((b) => b.title.includes("[e2e:mail]"))?.assignee;
        if (!agent) throw new Error("no agent holds the mail bead");
        await town.townCall("gt_mail_send", { to: agent, subject, body: "The pineapple is ripe." });
        return { blocks: [bash("echo still here")] };
      }
      if (step === 2) return { blocks: [bash("echo got it > mail.txt && git add mail.txt && git commit -q -m 'Mail read' && gt done")] };
      return say("Done.");
    });
    const requests = standIn.turns().filter((r) => conversationText(r.body).includes("[e2e:mail]"));
    expect(requests.length).toBeGreaterThanOrEqual(3);
    // Not before it was sent; in the very next request after the next tool call, with its body.
    expect(conversationText(requests[1]!.body)).not.toContain(subject);
    // Claude Code puts a hook's context in a message of its own after the tool's result.
    const added = conversationText({ messages: requests[2]!.body!.messages!.slice(requests[1]!.body!.messages!.length) });
    expect(added).toContain("still here");
    expect(added).toContain(subject);
    expect(added).toContain("The pineapple is ripe.");
    expect(showFile(bare, "mail.txt")).toBe("got it");
  });

  it("a model that thinks for 3× the idle time, streaming as it goes, is not taken for hung", async () => {
    const everyMs = 200;
    const events = Math.ceil((3.2 * IDLE_MS) / everyMs);
    const bead = await runScenario("think", "think long", (step) =>
      step === 0
        ? {
            blocks: [
              { type: "text", text: "I have thought it through." },
              bash("echo thought > thought.txt && git add thought.txt && git commit -q -m 'Thought' && gt done"),
            ],
            pace: { events, everyMs },
          }
        : say("Done."),
    );
    const requests = standIn.turns().filter((r) => conversationText(r.body).includes("[e2e:think]"));
    expect(requests).toHaveLength(2);
    expect(requests[1]!.at - requests[0]!.at).toBeGreaterThanOrEqual(3 * IDLE_MS);
    expect(showFile(bare, "thought.txt")).toBe("thought");
    const { runs } = await linesOf(bead.id);
    // One run, ended by itself: never stopped, never failed.
    expect(runs.map((r) => r.exit)).toEqual(["exit 0"]);
  });

  it("the key given with --agent-env reaches the CLI, and is in no output line, no container log and no command line", async () => {
    let cmdlines: string[] | null = null;
    const bead = await runScenario("key", "print your key", (step) => {
      if (step === 0) {
        // While the agent runs: no process's command line holds the key.
        cmdlines = commandLinesHolding(KEY);
        // A failing call: its output is shown in the run's lines.
        return { blocks: [bash("echo key=$ANTHROPIC_API_KEY; printenv ANTHROPIC_API_KEY | base64; exit 3")] };
      }
      if (step === 1)
        return {
          // The model repeats what it saw: its text is shown too.
          blocks: [
            { type: "text", text: `The key is ${KEY} and that is that.` },
            bash("echo key > key.txt && git add key.txt && git commit -q -m 'Key' && gt done"),
          ],
        };
      return say("Done.");
    });
    expect(cmdlines).toEqual([]);
    const requests = standIn.turns().filter((r) => conversationText(r.body).includes("[e2e:key]"));
    // The agent had it: it printed it to the model (a tool result), and the model saw it in the header.
    expect(lastResult(requests[1]!)).toContain(`key=${KEY}`);
    const calls = standIn.requests.filter((r) => r.path.startsWith("/v1/messages"));
    expect(calls.length).toBeGreaterThan(0);
    for (const request of calls) expect(request.headers["x-api-key"]).toBe(KEY);

    const { lines } = await linesOf(bead.id);
    expect(lines.find((l) => l.kind === "tool_result" && l.ok === false)?.text).toContain(`key=${REDACTED}`);
    expect(lines.find((l) => l.kind === "text" && l.text.startsWith("The key is"))?.text).toBe(`The key is ${REDACTED} and that is that.`);
    const b64 = Buffer.from(`${KEY}\n`).toString("base64");
    const everything = JSON.stringify(lines);
    expect(everything).not.toContain(KEY);
    expect(everything).not.toContain(b64.slice(0, 24));
    expect(container.output()).not.toContain(KEY);
    expect(container.output()).not.toContain(b64.slice(0, 24));
  });

  it("a daily budget reached by a real run holds the rig's next bead, and the town's document says why", async () => {
    const betaReplica = town.replica("rig", town.rigRoom(beta));
    await betaReplica.whenSynced();
    const betaBead = (id: string) => betaReplica.doc.getMap<Bead>("beads").get(id);
    const view = town.replica("main", town.town);
    await view.whenSynced();
    await town.townCall("gt_budget_set", { rig: "beta", budget: { unit: "tokens", daily: 100 } });
    // The rig learns its budget through the town's outbox: wait until its summary shows it.
    await untilReplica(view, (doc) => doc.getMap<Rig>("rigs").get(beta.id)?.summary.usage?.budget?.daily === 100, 30_000, "beta's budget in its summary");
    scenarios.set("budget", (step, request) => {
      const file = conversationText(request.body).includes("one more") ? "more" : "spent";
      return step === 0
        ? {
            blocks: [bash(`echo ${file} > ${file}.txt && git add ${file}.txt && git commit -q -m 'Spend' && gt done`)],
            usage: { input_tokens: 400, output_tokens: 30 },
          }
        : { blocks: [{ type: "text", text: "Spent." }], usage: { input_tokens: 500, output_tokens: 20 } };
    });
    const first = await town.rigCall<Bead>(beta, "gt_bead_create", { title: "[e2e:budget] spend the day's budget" });
    await untilReplica(betaReplica, () => betaBead(first.id)?.status === "closed", 90_000, "the first bead merged");
    expect(showFile(bareBeta, "spent.txt")).toBe("spent");
    const spent = 400 + 30 + 500 + 20;

    // The next bead waits open, and says why with the figures.
    const next = await town.rigCall<Bead>(beta, "gt_bead_create", { title: "[e2e:budget] one more" });
    const reason = `the rig's daily budget is reached (${spent.toLocaleString("en-US")} of 100 tokens today, UTC)`;
    const status = await town.rigCall<BeadStatusResult>(beta, "gt_bead_status", { bead_id: next.id });
    expect(status.status).toBe("open");
    expect(status.hold).toMatchObject({ by: "rig", reason });
    // What the dashboard reads: the rig's summary in the town document holds the reason and an attention item.
    const summary = await untilReplica(
      view,
      (doc) => {
        const s = doc.getMap<Rig>("rigs").get(beta.id)?.summary;
        return s?.usage?.hold && s.attention?.some((a) => a.kind === "budget") ? s : undefined;
      },
      30_000,
      "the hold in beta's summary",
    );
    expect(summary.usage!.hold!.reason).toBe(reason);
    expect(summary.usage!.today).toMatchObject({ runs: 1, inputTokens: 900, outputTokens: 50 });
    expect(summary.attention!.find((a) => a.kind === "budget")!.detail).toContain(reason);
    // No second agent was started meanwhile (the stand-in saw one conversation only), until the budget is raised.
    expect(standIn.turns().filter((r) => conversationText(r.body).includes("one more"))).toEqual([]);
    await town.townCall("gt_budget_set", { rig: "beta", budget: { unit: "tokens", daily: 1_000_000 } });
    await untilReplica(betaReplica, () => betaBead(next.id)?.status === "closed", 90_000, "the held bead merged once raised");
    expect(showFile(bareBeta, "more.txt")).toBe("more");
  });
});
