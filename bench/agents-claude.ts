/**
 * N real Claude Code agents at once (`npx tsx bench/agents-claude.ts [--agents 1,4,8,16] [--think-s 20]`),
 * results in bench/results/agents-claude.md (and .json). Not part of `npm test`.
 *
 * For each N: one town on a fresh `partykit dev`, one rig of N polecats on a local bare remote, the
 * real container (`--runtime claude`, the pinned CLI from the tests' cache: tests/helpers/claude-cli.ts)
 * and N beads slung at once. The model is the scripted stand-in (tests/helpers/anthropic-stand-in.ts),
 * answering at once: each agent's first turn streams a model "thinking aloud" for `--think-s`
 * seconds (one text delta every 250 ms, as a model streams tokens), then a Bash call that commits a
 * file and runs `gt done`; its second turn ends the run. So all N are alive together for most of
 * the window, which is what is measured:
 *
 * - per agent: peak RSS of its process tree (claude and what it starts: `gt mcp`, hooks, bash) and
 *   its CPU seconds over the whole run (last sample of each process before it exits; samples every
 *   250 ms), and its CPU while only streaming (the think, cores used ÷ N);
 * - the container's own cost: its supervisor process's CPU and RSS growth, plus the git and sandbox
 *   processes it starts, per agent (its tree's CPU, reaped children included, less the agents');
 * - wall time from the beads created to the last merged.
 *
 * From these: how many agents fit on 2 cores and 24 GB, and the GT_MAX_AGENTS default that follows.
 * One attempt per size; a bead that is not merged fails the run.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Bead, Rig } from "../party/protocol.ts";
import { conversationText, startAnthropicStandIn, toolResults, type Turn } from "../tests/helpers/anthropic-stand-in.ts";
import { CLAUDE_CODE_VERSION, ensureClaudeCode } from "../tests/helpers/claude-cli.ts";
import { spawnContainer } from "../tests/helpers/container.ts";
import { makeBareRepo, showFile } from "../tests/helpers/git.ts";
import { startPartykit } from "../tests/helpers/partykit.ts";
import { makeTown, untilReplica } from "../tests/helpers/town.ts";
import { processTree, processTreeCpuSeconds, rssBytes } from "./lib/cpu.ts";
import { fmt, mdTable } from "./lib/table.ts";

const SECRET = "bench-agents-claude-0123456789";
const TICKS = 100;
const SAMPLE_MS = 250;
const RESULTS = fileURLToPath(new URL("./results/", import.meta.url));

const args = process.argv.slice(2);
const arg = (name: string, fallback: string) => (args.includes(name) ? args[args.indexOf(name) + 1]! : fallback);
const sizes = arg("--agents", "1,4,8,16").split(",").map(Number);
const thinkS = Number(arg("--think-s", "20"));

type Sample = { at: number; agentsRss: number; agentsPss: number; perAgentRss: number[]; containerRss: number; claudes: number };

type RunResult = {
  agents: number;
  wallS: number;
  merged: number;
  perAgentRssPeakMb: { mean: number; max: number };
  agentsRssPeakMb: number;
  /** PSS of all agents' trees at their peak, ÷ N: what an agent really costs in memory when N share the binary. */
  pssPerAgentMb: number;
  agentCpuS: { mean: number; max: number };
  thinkCoresPerAgent: number;
  containerRssStartMb: number;
  containerRssPeakMb: number;
  containerCpuS: number;
  containerCpuPerAgentS: number;
  startupCpuPerAgentS: number;
};

/**
 * A process's proportional set size (PSS): its private pages plus its share of pages mapped by
 * several processes. N agents map the same 428 MB binary: RSS counts its pages N times, PSS once.
 */
function pssBytes(pid: number): number {
  try {
    const kb = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, "utf8"))?.[1];
    return kb ? Number(kb) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** A process's ticks and its own pid's ancestry within a tree snapshot. */
function agentRoots(tree: ReturnType<typeof processTree>): Map<number, number> {
  // Each agent's tree is rooted at its `claude` process: every process under one belongs to it.
  const byPid = new Map(tree.map((p) => [p.pid, p]));
  const rootOf = new Map<number, number>();
  for (const p of tree) {
    let cur: (typeof tree)[number] | undefined = p;
    while (cur && cur.comm !== "claude") cur = byPid.get(cur.ppid);
    if (cur) rootOf.set(p.pid, cur.pid);
  }
  return rootOf;
}

async function oneSize(n: number, claudeBinary: string, log: (line: string) => void): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), "townhall-bench-claude-"));
  const server = await startPartykit({ persistDir: join(dir, "persist"), vars: { GT_SECRET: SECRET } });
  const everyMs = 250;
  const standIn = await startAnthropicStandIn((request): Turn => {
    const tag = /\[bench:(\d+)\]/.exec(conversationText(request.body))?.[1] ?? "x";
    if (toolResults(request.body).length === 0)
      return {
        blocks: [
          { type: "text", text: "Thought it through." },
          {
            type: "tool_use",
            name: "Bash",
            input: {
              command: `echo ${tag} > bench-${tag}.txt && git add bench-${tag}.txt && git commit -q -m 'Bench ${tag}' && gt done`,
              description: "commit, hand in",
            },
          },
        ],
        pace: { events: Math.round((thinkS * 1000) / everyMs), everyMs },
      };
    return { blocks: [{ type: "text", text: "Done." }] };
  });
  const town = await makeTown(server.host, SECRET, "bc");
  const bare = makeBareRepo(dir, "alpha");
  const rig: Rig = await town.addRig("alpha", { git_url: bare, max_polecats: Math.min(64, n) });
  const replica = town.replica("rig", town.rigRoom(rig));
  await replica.whenSynced();
  const container = spawnContainer({
    host: server.host,
    town: town.town,
    token: town.container,
    workspace: join(dir, "workspace"),
    extra: [
      "--runtime",
      "claude",
      "--agent-bin",
      `claude=${claudeBinary}`,
      "--agent-env",
      "ANTHROPIC_API_KEY,ANTHROPIC_BASE_URL",
      "--agent-allow",
      `127.0.0.1:${standIn.port}`,
      "--max-agents",
      String(n),
    ],
    env: { ANTHROPIC_API_KEY: "sk-ant-bench-key-0123456789", ANTHROPIC_BASE_URL: standIn.url },
  });
  const pid = container.child.pid!;
  // The rig's clone is ready before the work starts: its cost is not the agents'.
  await untilReplica(replica, (doc) => doc.getMap<{ status?: string }>("meta").get("rig")?.status === "ready" || undefined, 120_000, "rig ready");
  const containerRssStart = rssBytes(pid) ?? 0;
  const ownCpu0 = processTree(pid).find((p) => p.pid === pid)?.cpuTicks ?? 0;
  const treeCpu0 = processTreeCpuSeconds(pid);

  const samples: Sample[] = [];
  const lastTicks = new Map<number, { root: number; ticks: number }>();
  const agentRssPeak = new Map<number, number>();
  const firstSeen = new Map<number, number>();
  const ticksAt = (at: number) => {
    // Agents' CPU so far (the last reading of every process seen under an agent).
    let sum = 0;
    for (const v of lastTicks.values()) sum += v.ticks;
    return { at, ticks: sum };
  };
  const cpuTimeline: { at: number; ticks: number }[] = [];
  const sampler = setInterval(() => {
    const tree = processTree(pid);
    const roots = agentRoots(tree);
    const rssByRoot = new Map<number, number>();
    let pss = 0;
    for (const p of tree) {
      const root = roots.get(p.pid);
      if (root === undefined) continue;
      lastTicks.set(p.pid, { root, ticks: p.cpuTicks });
      rssByRoot.set(root, (rssByRoot.get(root) ?? 0) + (rssBytes(p.pid) ?? 0));
      pss += pssBytes(p.pid);
      if (!firstSeen.has(root)) firstSeen.set(root, Date.now());
    }
    for (const [root, rss] of rssByRoot) agentRssPeak.set(root, Math.max(agentRssPeak.get(root) ?? 0, rss));
    const perAgentRss = [...rssByRoot.values()];
    samples.push({
      at: Date.now(),
      agentsRss: perAgentRss.reduce((a, b) => a + b, 0),
      agentsPss: pss,
      perAgentRss,
      containerRss: rssBytes(pid) ?? 0,
      claudes: tree.filter((p) => p.comm === "claude").length,
    });
    cpuTimeline.push(ticksAt(Date.now()));
  }, SAMPLE_MS);

  const started = Date.now();
  const beads = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      town.rigCall<Bead>(rig, "gt_bead_create", { title: `[bench:${i}] commit bench-${i}.txt`, body: "Do what the title says." }),
    ),
  );
  let merged = 0;
  try {
    await untilReplica(
      replica,
      (doc) => {
        const map = doc.getMap<Bead>("beads");
        merged = beads.filter((b) => map.get(b.id)?.status === "closed").length;
        if (beads.some((b) => map.get(b.id)?.status === "failed")) throw new Error("a bead failed");
        return merged === n || undefined;
      },
      (thinkS + 120) * 1000 + n * 10_000,
      `${n} beads merged`,
    );
  } finally {
    clearInterval(sampler);
  }
  const wallS = (Date.now() - started) / 1000;
  for (let i = 0; i < n; i++) if (showFile(bare, `bench-${i}.txt`) !== String(i)) throw new Error(`bench-${i}.txt is not on main`);

  // Per agent: its CPU (summed over its processes) and peak RSS.
  const cpuByRoot = new Map<number, number>();
  for (const v of lastTicks.values()) cpuByRoot.set(v.root, (cpuByRoot.get(v.root) ?? 0) + v.ticks);
  const agentCpu = [...cpuByRoot.values()].map((t) => t / TICKS);
  const agentsCpuS = agentCpu.reduce((a, b) => a + b, 0);
  const treeCpuS = processTreeCpuSeconds(pid) - treeCpu0;
  const ownCpuS = ((processTree(pid).find((p) => p.pid === pid)?.cpuTicks ?? 0) - ownCpu0) / TICKS;
  const containerCpuS = Math.max(ownCpuS, treeCpuS - agentsCpuS);

  // The think: the window where all N were alive, from the last agent seen + 2 s (start-up done) to 2 s before the think's end.
  const allUp = Math.max(...firstSeen.values());
  const from = allUp + 3_000;
  const to = allUp + thinkS * 1000 - 2_000;
  const inWindow = cpuTimeline.filter((c) => c.at >= from && c.at <= to);
  const thinkCores = inWindow.length >= 2 ? (inWindow.at(-1)!.ticks - inWindow[0]!.ticks) / TICKS / ((inWindow.at(-1)!.at - inWindow[0]!.at) / 1000) : NaN;
  const startupWindow = cpuTimeline.filter((c) => c.at <= from);
  const startupCpuS = startupWindow.length ? startupWindow.at(-1)!.ticks / TICKS : NaN;

  const peaks = [...agentRssPeak.values()].map((b) => b / 2 ** 20);
  const result: RunResult = {
    agents: n,
    wallS,
    merged,
    perAgentRssPeakMb: { mean: peaks.reduce((a, b) => a + b, 0) / peaks.length, max: Math.max(...peaks) },
    agentsRssPeakMb: Math.max(...samples.map((s) => s.agentsRss)) / 2 ** 20,
    pssPerAgentMb: Math.max(...samples.map((s) => s.agentsPss)) / 2 ** 20 / n,
    agentCpuS: { mean: agentsCpuS / agentCpu.length, max: Math.max(...agentCpu) },
    thinkCoresPerAgent: thinkCores / n,
    containerRssStartMb: containerRssStart / 2 ** 20,
    containerRssPeakMb: Math.max(...samples.map((s) => s.containerRss)) / 2 ** 20,
    containerCpuS,
    containerCpuPerAgentS: containerCpuS / n,
    startupCpuPerAgentS: startupCpuS / n,
  };
  log(JSON.stringify(result));
  await container.stop();
  town.closeAll();
  await standIn.stop();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
  return result;
}

const log = (line: string) => console.error(`[agents-claude] ${line}`);

/** The report, from the runs (also `--render`: again from agents-claude.json, e.g. after a change of its words). */
function render(startedAt: string, thinkS: number, results: RunResult[], load: string): { md: string; summary: Record<string, number> } {
  const sizes = results.map((r) => r.agents);
  // What fits, from the largest N: memory by PSS (the binary's pages are shared by every agent; RSS counts them once per agent).
  const big = results.at(-1)!;
  const memPerAgentMb = big.pssPerAgentMb + (big.containerRssPeakMb - big.containerRssStartMb) / big.agents;
  const usableMb = 24 * 1024 - 2 * 1024; // 24 GB less 2 GB for the system, the rooms and git
  const fitMem = Math.floor(usableMb / memPerAgentMb);
  const coresPerAgent = big.thinkCoresPerAgent + big.containerCpuPerAgentS / (big.wallS || 1);
  const fitCpu = Math.floor((2 * 0.8) / coresPerAgent);
  const fit = Math.min(fitMem, fitCpu);
  // The CLI's own cost is not what bounds a machine: what the agents run (builds, tests) is, and this
  // bench runs none. So the default keeps most of the cores for that: 8 per core, unless even the
  // CLIs' own cost would not fit.
  const perCore = Math.min(8, Math.max(1, Math.floor(fit / 2)));
  const atDefault = 2 * perCore;
  const md = [
    "# N real Claude Code agents at once",
    "",
    `\`npx tsx bench/agents-claude.ts --agents ${sizes.join(",")} --think-s ${thinkS}\`, ${startedAt}: Claude Code ${CLAUDE_CODE_VERSION} (the native binary) run by the real container`,
    `as the rig's user, against the scripted stand-in of the Messages API answering at once; each agent streams a ${thinkS} s think (a text delta every 250 ms),`,
    `then commits a file and runs \`gt done\` (Bash), then ends. This machine: 2 cores, 23.5 GB, load ${load} at the end`,
    "(shared with other work: the CPU figures are upper bounds, and the wall times are long because start-ups queue for the cores).",
    "",
    mdTable(
      [
        "N",
        "wall s",
        "RSS/agent peak MB (mean, max)",
        "agents' RSS peak MB",
        "PSS/agent MB",
        "CPU s/agent (mean, max)",
        "start-up CPU s/agent",
        "cores/agent streaming",
        "container RSS MB (start → peak)",
        "container CPU s/agent",
      ],
      results.map((r) => [
        r.agents,
        r.wallS,
        `${fmt(r.perAgentRssPeakMb.mean, 0)}, ${fmt(r.perAgentRssPeakMb.max, 0)}`,
        r.agentsRssPeakMb,
        r.pssPerAgentMb,
        `${fmt(r.agentCpuS.mean)}, ${fmt(r.agentCpuS.max)}`,
        r.startupCpuPerAgentS,
        fmt(r.thinkCoresPerAgent, 3),
        `${fmt(r.containerRssStartMb, 0)} → ${fmt(r.containerRssPeakMb, 0)}`,
        r.containerCpuPerAgentS,
      ]),
    ),
    "",
    "An agent's tree is its `claude` process and what it starts (`gt mcp`, the hooks' `gt mail check`, bash, git); the container's own cost is its",
    "supervisor process and the git and sandbox processes it starts (its tree's CPU, reaped children included, less the agents').",
    "",
    "## What fits on 2 cores / 24 GB",
    "",
    `- Memory: ${fmt(memPerAgentMb, 0)} MB per agent at N = ${big.agents} (the agents' summed PSS at its peak ÷ N, plus each one's share of the container's growth; RSS, which counts the shared binary once per agent, says ${fmt(big.perAgentRssPeakMb.mean, 0)} MB) → ${fitMem} agents in 22 GB.`,
    `- CPU: ${fmt(coresPerAgent, 3)} cores per agent while it streams (plus the container's share) → ${fitCpu} agents at 80 % of 2 cores. Each start-up costs about ${fmt(big.startupCpuPerAgentS)} CPU s, and a whole short run (start, think, one tool call, \`gt done\`) about ${fmt(big.agentCpuS.mean)} CPU s of the agent's and ${fmt(big.containerCpuPerAgentS)} of the container's.`,
    `- So the CLIs themselves allow about **${fit}** agents at once on 2 cores / 24 GB. What bounds a real machine is what the agents run (builds, tests), which this bench does not; so GT_MAX_AGENTS's default stays **${perCore} per core** (${atDefault} here): ${atDefault} streaming agents take about ${fmt(atDefault * coresPerAgent, 2)} of a core and ${fmt((atDefault * memPerAgentMb) / 1024, 1)} GB, leaving the rest for their tools; ${atDefault} starting at once cost about ${fmt(atDefault * big.startupCpuPerAgentS, 0)} CPU s (≈ ${fmt((atDefault * big.startupCpuPerAgentS) / 2, 0)} s of both cores).`,
    "",
  ].join("\n");
  return { md, summary: { memPerAgentMb, fitMem, fitCpu, fit, perCore } };
}

mkdirSync(RESULTS, { recursive: true });
if (args.includes("--render")) {
  const saved = JSON.parse(readFileSync(join(RESULTS, "agents-claude.json"), "utf8")) as {
    startedAt: string;
    thinkS: number;
    results: RunResult[];
    load?: string;
  };
  const { md } = render(saved.startedAt, saved.thinkS, saved.results, saved.load ?? "–");
  writeFileSync(join(RESULTS, "agents-claude.md"), md);
  console.log(md);
  process.exit(0);
}

const { binary } = ensureClaudeCode(undefined, log);
const startedAt = new Date().toISOString();
const results: RunResult[] = [];
for (const n of sizes) {
  log(`N=${n}, think ${thinkS} s…`);
  results.push(await oneSize(n, binary, log));
}
const load = loadavg()
  .map((l) => l.toFixed(2))
  .join(" ");
const { md, summary } = render(startedAt, thinkS, results, load);
writeFileSync(join(RESULTS, "agents-claude.json"), `${JSON.stringify({ startedAt, thinkS, load, results, ...summary }, null, 2)}\n`);
writeFileSync(join(RESULTS, "agents-claude.md"), md);
console.log(md);
process.exit(0);
