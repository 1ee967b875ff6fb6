/**
 * gt's whole face in three snapshot files, so a change to how gt is built cannot change what it
 * says unnoticed: the help tree (every command's and group's --help, `gt help`, gt with nothing),
 * the runs of every command against a fake room (exit code, stdout, stderr, the requests it sent
 * and the acknowledgement after), and `gt mcp`'s tool list with a few calls through it. A change
 * meant to alter them is reviewed in the snapshot's diff (`npx vitest run -u` rewrites them).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commandPaths, run } from "../../container/gt/program.ts";
import type { AgentLogResult, Bead, BeadMoveResult, ConvoyProgress, Escalation, Mail, PrimeResult, Rig } from "../../party/protocol.ts";
import { gt, mcpCall, mcpClient } from "../helpers/gt.ts";

const T = Date.UTC(2024, 0, 2, 3, 4, 5);
const today = new Date().toISOString().slice(0, 10);
/** An agent's usage of `day`: two runs, one of them without a cost. */
const agentDay = (day: string) => ({
  day,
  today: { runs: 2, inputTokens: 1_000, outputTokens: 200, cacheReadTokens: 50, cacheWriteTokens: 10, costUsd: 1.2, unpriced: 1 },
});
const id = (n: number) => `01J0000000000000000000000${"ABCDEFGHJK"[n]}`;
const [BEAD, MAIL1, MAIL2, ESC, CONVOY, BEAD2] = [0, 1, 2, 3, 4, 5].map(id) as [string, string, string, string, string, string];

const bead: Bead = {
  id: BEAD,
  title: "Fix the parser",
  body: "It drops the last line.\n\nSee tests/parser.test.ts.\n",
  status: "in_progress",
  priority: "high",
  requires: ["ts"],
  assignee: "alpha/polecats/toast",
  branch: "polecat/toast/fix",
  createdAt: T,
  updatedAt: T + 60_000,
  attempts: 1,
};
const mail: Mail[] = [
  { id: MAIL1, from: "mayor", to: "alpha/polecats/toast", subject: "Welcome", body: "Start with the parser.", sentAt: T, state: "delivered" },
  { id: MAIL2, from: "alpha/witness", to: "alpha/polecats/toast", subject: "Re: status", body: "", sentAt: T + 1000, state: "delivered" },
];
const counts0 = { idle: 0, working: 0, stalled: 0, dead: 0 } as Rig["summary"]["agents"];
const rigs: Rig[] = [
  {
    id: "rig-alpha",
    name: "alpha",
    gitUrl: "https://example.com/alpha.git",
    defaultBranch: "main",
    capabilities: ["ts", "web"],
    maxPolecats: 4,
    runtime: "claude",
    model: "claude-sonnet-4-5",
    status: "ready",
    createdAt: T,
    summary: {
      beads: { open: 2, in_progress: 1, in_review: 1, closed: 5, failed: 0 } as Rig["summary"]["beads"],
      agents: { ...counts0, idle: 1, working: 2 },
      polecats: { ...counts0, working: 2 },
      queuedMail: 3,
      openEscalations: 1,
      lastActivity: T + 5000,
      diskBytes: 12345,
      updatedAt: T,
      closedByHour: [1, 2, 0, 3],
      attention: [{ kind: "escalation", id: ESC, title: "Tests hang", detail: "high from alpha/polecats/toast", at: T }],
    },
  },
  {
    id: "rig-beta",
    name: "beta",
    gitUrl: "git@example.com:beta.git",
    defaultBranch: "trunk",
    capabilities: [],
    maxPolecats: 2,
    status: "cloning",
    createdAt: T,
    summary: {
      beads: { open: 0, in_progress: 0, in_review: 0, closed: 0, failed: 0 } as Rig["summary"]["beads"],
      agents: counts0,
      queuedMail: 0,
      lastActivity: null,
      diskBytes: null,
      updatedAt: T,
    },
  },
];
const convoy: ConvoyProgress = {
  id: CONVOY,
  title: "Release 2",
  status: "open",
  createdAt: T,
  beads: [
    {
      rigId: "rig-alpha",
      rigName: "alpha",
      beadId: BEAD,
      title: "Fix the parser",
      status: "closed",
      assignee: "alpha/polecats/toast",
      reason: "requires ts; least loaded",
      rev: 3,
    },
    { rigId: "rig-alpha", rigName: "alpha", beadId: BEAD2, title: "Docs", status: "open", reason: "rig given", rev: 1 },
    { rigId: "rig-beta", rigName: "beta", beadId: id(6), title: "Port", status: "failed", reason: "least loaded", rev: 2, note: "rig removed" },
  ],
  progress: { done: 1, failed: 1, total: 3, byRig: { alpha: { done: 1, failed: 0, total: 2 }, beta: { done: 0, failed: 1, total: 1 } } },
};
const escalation: Escalation = {
  id: ESC,
  from: "alpha/polecats/toast",
  title: "Tests hang",
  body: "",
  severity: "high",
  createdAt: T,
  status: "acknowledged",
  note: "on it",
};
const log: AgentLogResult = {
  run: { run: `${BEAD}.2`, identity: "alpha/polecats/toast", beadId: BEAD, startedAt: T, endedAt: T + 9000, exit: "exit 0", lines: 2, bytes: 20, dropped: 1 },
  runs: [
    { run: `${BEAD}.2`, identity: "alpha/polecats/toast", beadId: BEAD, startedAt: T, endedAt: T + 9000, exit: "exit 0", lines: 2, bytes: 20, dropped: 1 },
    { run: `${BEAD}.1`, identity: "alpha/polecats/toast", beadId: BEAD, startedAt: T - 9000, lines: 1, bytes: 5, dropped: 0 },
  ],
  lines: [
    { seq: 1, at: T + 1, stream: "out", text: "building" },
    { seq: 2, at: T + 2, stream: "err", text: "warning: slow" },
  ],
  next: 2,
};
const prime: PrimeResult = {
  agent: { identity: "alpha/polecats/toast", role: "polecat", name: "toast", status: "working" },
  hook: bead,
  mail,
  checkpoint: "halfway through\nthe parser",
};
const moved: BeadMoveResult = { bead_id: BEAD2, rig: "beta", moved_from: { rig: "alpha", bead_id: BEAD } };

type Reply = { value: unknown } | { error: { code: string; message: string } };
const REPLIES: Record<string, Reply> = {
  gt_prime: { value: prime },
  gt_mail_send: { value: { id: MAIL2, state: "queued" } },
  gt_mail_check: { value: mail },
  gt_mail_read: { value: mail[0] },
  gt_mail_ack: { value: { acked: 2 } },
  gt_bead_status: { value: bead },
  gt_done: { value: { bead_id: BEAD, status: "in_review" } },
  gt_escalate: { value: { ...escalation, status: "open", note: undefined } },
  gt_checkpoint: { value: { saved: true } },
  gt_sling: { value: { bead_id: BEAD, rig: "alpha", reason: "requires ts; least loaded (0.50)" } },
  gt_convoy_create: { value: convoy },
  gt_convoy_status: { value: convoy },
  gt_list_convoys: {
    value: [convoy, { ...convoy, id: id(7), status: "landed", title: "Release 1", landedAt: T, progress: { done: 1, failed: 0, total: 1, byRig: {} } }],
  },
  gt_list_rigs: { value: rigs },
  gt_rig_status: { value: rigs[0] },
  gt_bead_retry: { value: { ...bead, status: "open", attempts: 0 } },
  gt_bead_move: { value: moved },
  gt_agent_stop: { value: { ...prime.agent, status: "working", run: { id: `${BEAD}.2`, bead: BEAD, state: "stopping", since: T, reason: "operator" } } },
  gt_agent_restart: { value: { ...prime.agent, status: "working", run: { id: `${BEAD}.2`, bead: BEAD, state: "stopping", since: T } } },
  gt_escalation_ack: { value: escalation },
  gt_escalation_resolve: { value: { ...escalation, status: "resolved", note: undefined } },
  gt_agent_log: { value: log },
};

/** Tools that get a new record id from gt on every call (it varies; the snapshot says it was there). */
const NEW_ID = new Set(["gt_mail_send", "gt_sling", "gt_convoy_create", "gt_escalate"]);

let server: Server;
let host: string;
let overrides: Record<string, Reply> = {};
const requests: string[] = [];
let dir: string;
/** Resolves once the fake room received a call of that tool (e.g. the acknowledgement after a reply). */
const waiting = new Map<string, () => void>();
const received = (tool: string) => new Promise<void>((resolve) => waiting.set(tool, resolve));

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "townhall-gt-snapshot-"));
  writeFileSync(
    join(dir, "beads.json"),
    JSON.stringify([
      { title: "One", rig: "alpha" },
      { title: "Two", requires: ["ts"], priority: "low" },
    ]),
  );
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const tool = req.url!.split("/").at(-1)!;
      const args = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>;
      if (NEW_ID.has(tool) && typeof args.id === "string") args.id = "<new id>";
      requests.push(`${req.method} ${req.url} ${req.headers.authorization} ${JSON.stringify(args)}`);
      const reply = overrides[tool] ?? REPLIES[tool] ?? { error: { code: "NOT_FOUND", message: `no tool ${tool}` } };
      res.writeHead("value" in reply ? 200 : 400, { "content-type": "application/json" });
      res.end(JSON.stringify("value" in reply ? { ok: true, value: reply.value } : { ok: false, error: reply.error }));
      waiting.get(tool)?.();
      waiting.delete(tool);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  host = `127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

type Env = Record<string, string | undefined>;
const rigEnv = (): Env => ({ GT_HOST: host, GT_TOWN: "town1", GT_RIG: "rig-alpha", GT_TOKEN: "agent-token", GT_AGENT: "alpha/polecats/toast", GT_BEAD: BEAD });
const mayorEnv = (): Env => ({ GT_HOST: host, GT_TOWN: "town1", GT_TOKEN: "mayor-token", GT_AGENT: "mayor" });
const operatorEnv = (): Env => ({ GT_HOST: host, GT_TOWN: "town1", GT_RIG: "rig-alpha", GT_TOKEN: "operator-token" });

/** Runs `gt <argv>` in this process with only `env`'s GT_* variables; the transcript of the run. */
async function transcript(argv: string[], env: Env, replies: Record<string, Reply> = {}): Promise<string> {
  const saved = Object.fromEntries(
    Object.keys(process.env)
      .filter((k) => k.startsWith("GT_"))
      .map((k) => [k, process.env[k]]),
  );
  for (const k of Object.keys(saved)) delete process.env[k];
  for (const [k, v] of Object.entries(env)) if (v !== undefined) process.env[k] = v;
  overrides = replies;
  requests.length = 0;
  try {
    const outcome = await run(argv);
    const after = outcome.after ? await outcome.after() : undefined;
    const lines = [`$ gt ${argv.map((a) => (/^[\w@/.,=:-]+$/.test(a) ? a : JSON.stringify(a))).join(" ")}`, `code: ${outcome.code}`];
    if (outcome.stdout !== undefined) lines.push("stdout:", outcome.stdout);
    if (outcome.stderr !== undefined) lines.push("stderr:", outcome.stderr);
    for (const request of requests) lines.push(`request: ${request.replaceAll(host, "<host>")}`);
    if (after !== undefined) lines.push(`after: ${after}`);
    return lines.join("\n").replaceAll(host, "<host>").replaceAll(dir, "<dir>");
  } finally {
    for (const k of Object.keys(process.env)) if (k.startsWith("GT_")) delete process.env[k];
    Object.assign(process.env, saved);
  }
}

const fail = (code: string, message: string): Reply => ({ error: { code, message } });

/** Every command's runs: successes (printed and --json), the Gas Town forms, and the usage errors. */
const CASES: [argv: string[], env: () => Env, replies?: Record<string, Reply>][] = [
  // A rig agent's commands
  [["prime"], rigEnv],
  [["prime", "--json"], rigEnv],
  [["prime"], rigEnv, { gt_prime: { value: { ...prime, hook: null, mail: [], checkpoint: null } } }],
  [["prime"], () => ({ ...rigEnv(), GT_AGENT: "alpha/polecats/other" })],
  [["hook"], rigEnv],
  [["hook", "--json"], rigEnv],
  [["hook"], rigEnv, { gt_prime: { value: { ...prime, hook: null } } }],
  [["hook", "--json"], rigEnv, { gt_prime: { value: { ...prime, hook: null } } }],
  [["bead", "status"], rigEnv],
  [["bead", "status", "--bead", BEAD2, "--json"], rigEnv],
  [["bead", "status"], () => ({ ...rigEnv(), GT_BEAD: undefined })],
  [["bead", "status", "--bead", "nope"], rigEnv, { gt_bead_status: fail("INVALID_ARGS", "bead_id: must be a ULID") }],
  [["done", "--branch", "polecat/toast/fix", "--summary", "fixed it"], rigEnv],
  [["done", "--branch", "b", "--json"], rigEnv],
  [["escalate", "Tests hang", "-s", "high", "-r", "since the last merge"], rigEnv],
  [["escalate", "--title", "Stuck", "--body", "details", "--bead", BEAD2], rigEnv],
  [["escalate", "Stuck", "--related", BEAD2], () => ({ ...rigEnv(), GT_BEAD: undefined })],
  [["escalate"], rigEnv],
  [["escalate", "a", "--title", "b"], rigEnv],
  [["escalate", "a", "-r", "x", "--body", "y"], rigEnv],
  [["escalate", "a", "--bead", BEAD, "--related", BEAD2], rigEnv],
  [["escalate", "a", "-s", "dire"], rigEnv, { gt_escalate: fail("INVALID_ARGS", "severity: invalid") }],
  [["checkpoint", "--data", "notes\nmore"], rigEnv],
  [["checkpoint", "--data", ""], rigEnv],
  // Mail, everyone's
  [["mail", "send", "alpha/witness", "-s", "Hi", "-m", "hello"], rigEnv],
  [["mail", "send", "mayor/", "-s", "Report", "--message", "done"], rigEnv],
  [["mail", "send", "--to", "beta/Toast", "--subject", "S", "--body", "B"], rigEnv],
  [["mail", "send", "--human", "-s", "Help"], rigEnv],
  [["mail", "send", "alpha/polecats/maple", "-s", "x", "--json"], rigEnv],
  [["mail", "send", "-s", "x"], rigEnv],
  [["mail", "send", "mayor/"], rigEnv],
  [["mail", "send", "deacon/", "-s", "x"], rigEnv],
  [["mail", "send", "list:all", "-s", "x"], rigEnv],
  [["mail", "send", "alpha/", "-s", "x"], rigEnv],
  [["mail", "send", "alpha", "-s", "x"], rigEnv],
  [["mail", "send", "alpha/crew/joe", "-s", "x"], rigEnv],
  [["mail", "send", "mayor/", "--to", "operator", "-s", "x"], rigEnv],
  [["mail", "send", "mayor/", "-s", "x", "-m", "a", "--body", "b"], rigEnv],
  [["mail", "send", "mayor/", "-s", "x"], rigEnv, { gt_mail_send: fail("UNKNOWN_RECIPIENT", "no such mailbox") }],
  [["mail", "check"], rigEnv],
  [["mail", "check", "--json"], rigEnv],
  [["mail", "check"], rigEnv, { gt_mail_check: { value: [] } }],
  [["mail", "check"], rigEnv, { gt_mail_ack: fail("INTERNAL", "ack failed") }],
  [["mail", "inbox"], rigEnv],
  [["mail", "inbox", "-u"], rigEnv],
  [["mail", "inbox", "--json"], rigEnv],
  [["mail", "inbox", "-a"], rigEnv],
  [["mail", "inbox"], rigEnv, { gt_mail_check: { value: [] } }],
  [["mail", "read", MAIL1], rigEnv],
  [["mail", "read", "2"], rigEnv],
  [["mail", "read", "9"], rigEnv],
  [["mail", "read", MAIL1, "--json"], rigEnv],
  [["mail", "read"], rigEnv],
  [["mail", "reply", MAIL1, "thanks"], rigEnv],
  [["mail", "reply", MAIL1, "-m", "x", "-s", "Custom"], rigEnv],
  [["mail", "reply", MAIL2, "-m", "again"], rigEnv, { gt_mail_read: { value: mail[1] } }],
  [["mail", "reply", MAIL1, "a", "-m", "b"], rigEnv],
  [["mail", "reply"], rigEnv],
  // The other mode's commands
  [["sling", "--title", "x"], rigEnv],
  [["rigs"], rigEnv],
  [["convoy", "list"], rigEnv],
  [["prime"], mayorEnv],
  [["done", "--branch", "b"], mayorEnv],
  [["escalate", "x"], mayorEnv],
  // The Mayor's commands
  [["sling", "--title", "Fix it", "--body", "details", "--requires", "ts, web,", "--priority", "high"], mayorEnv],
  [["sling", "--title", "Fix it", "--rig", "beta", "--json"], mayorEnv],
  [["sling", BEAD, "beta"], mayorEnv],
  [["sling", BEAD, "beta", "--from", "alpha", "--json"], mayorEnv],
  [["sling", BEAD], mayorEnv],
  [["sling", BEAD, "beta/polecats/toast"], mayorEnv],
  [["sling", BEAD, "beta", "--title", "x", "--priority", "low"], mayorEnv],
  [["sling", "--from", "alpha", "--title", "x"], mayorEnv],
  [["sling"], mayorEnv],
  [["sling", "--title", "x"], mayorEnv, { gt_sling: fail("NO_ELIGIBLE_RIG", "no ready rig has ts") }],
  [["convoy", "create", "Release 2", "A|requires=ts,web", "B|rig=beta|priority=high"], mayorEnv],
  [["convoy", "create", "--title", "Release 2", "--bead", "A", "--bead", "B|rig=alpha", "--json"], mayorEnv],
  [["convoy", "create", "--title", "R", "--file", "<dir>/beads.json"], mayorEnv],
  [["convoy", "create", "--title", "R", "--file", "<dir>/missing.json"], mayorEnv],
  [["convoy", "create", "--title", "R", "--file", "<dir>/beads.json", "--bead", "A"], mayorEnv],
  [["convoy", "create", "R", BEAD], mayorEnv],
  [["convoy", "create", "R", "A|colour=red"], mayorEnv],
  [["convoy", "create", "R"], mayorEnv],
  [["convoy", "create", "--bead", "A"], mayorEnv],
  [["convoy", "create", "R", "--title", "S", "A"], mayorEnv],
  [["convoy", "status", CONVOY], mayorEnv],
  [["convoy", "status", CONVOY, "--json"], mayorEnv],
  [["convoy", "status"], mayorEnv],
  [["convoy", "list"], mayorEnv],
  [["convoy", "list", "--status", "open"], mayorEnv],
  [["convoy", "list"], mayorEnv, { gt_list_convoys: { value: [] } }],
  [["rigs"], mayorEnv],
  [["rigs", "--json"], mayorEnv],
  [["rigs"], mayorEnv, { gt_list_rigs: { value: [] } }],
  [["rig", "list"], mayorEnv],
  [["rig", "list"], mayorEnv, { gt_list_rigs: { value: [] } }],
  [["rig", "status", "alpha"], mayorEnv],
  [["rig", "status", "beta"], mayorEnv, { gt_rig_status: { value: rigs[1] } }],
  [["rig", "status"], mayorEnv],
  [["mail", "send", "operator", "-s", "Done", "-m", "all landed"], mayorEnv],
  [["mail", "check"], mayorEnv],
  [["mail", "inbox"], mayorEnv],
  [["mail", "read", "1"], mayorEnv],
  // An operator's commands
  [["bead", "retry", BEAD, "--note", "flaky"], operatorEnv],
  [["bead", "retry", BEAD, "--json"], operatorEnv],
  [["bead", "retry", "nope"], operatorEnv, { gt_bead_retry: fail("INVALID_ARGS", "bead_id: must be a ULID") }],
  [["bead", "move", BEAD, "beta", "--from", "alpha"], () => ({ ...operatorEnv(), GT_RIG: undefined })],
  [["bead", "move", BEAD, "beta"], () => ({ ...operatorEnv(), GT_AGENT: "mayor" })],
  [["bead", "move", BEAD], operatorEnv],
  [["agent", "stop", "alpha/polecats/toast", "--reason", "stuck"], operatorEnv],
  [["agent", "stop", "alpha/polecats/toast"], operatorEnv, { gt_agent_stop: { value: { ...prime.agent, status: "idle" } } }],
  // An agent whose runs used something today (UTC) says so; an earlier day's sum says nothing.
  [["agent", "stop", "alpha/polecats/toast"], operatorEnv, { gt_agent_stop: { value: { ...prime.agent, status: "idle", usage: agentDay(today) } } }],
  [["agent", "stop", "alpha/polecats/toast"], operatorEnv, { gt_agent_stop: { value: { ...prime.agent, status: "idle", usage: agentDay("2000-01-01") } } }],
  [["agent", "restart", "alpha/polecats/toast"], operatorEnv],
  [["agent", "restart", "alpha/polecats/toast"], () => ({ ...operatorEnv(), GT_RIG: undefined })],
  [["escalation", "ack", ESC, "--note", "on it"], operatorEnv],
  [["escalation", "resolve", ESC], operatorEnv],
  [["escalation", "resolve", ESC, "--json"], operatorEnv],
  [["agent", "log", "alpha/polecats/toast"], operatorEnv],
  [["agent", "log", "alpha/polecats/toast", "--run", `${BEAD}.1`, "--after", "1", "--limit", "10", "--bead", BEAD], operatorEnv],
  [["agent", "log", "alpha/polecats/toast", "--json"], operatorEnv],
  [["agent", "log", "alpha/polecats/toast", "--limit", "ten"], operatorEnv, { gt_agent_log: fail("INVALID_ARGS", "limit: expected number, received NaN") }],
  [["agent", "log", "alpha/polecats/toast", "--follow", "--run", "x"], operatorEnv],
  [["agent", "log", "alpha/polecats/toast"], operatorEnv, { gt_agent_log: { value: { run: null, runs: [], lines: [], next: 0 } } }],
  [["agent", "log", "alpha/polecats/toast"], mayorEnv],
  // Errors of the tool, the environment and the command line
  [["prime"], rigEnv, { gt_prime: fail("NOT_FOUND", "no such agent") }],
  [["rigs"], mayorEnv, { gt_list_rigs: fail("FORBIDDEN", "not the mayor") }],
  [["prime"], () => ({ ...rigEnv(), GT_HOST: undefined })],
  [["prime"], () => ({ ...rigEnv(), GT_HOST: "http://x" })],
  [["prime"], () => ({ ...rigEnv(), GT_TOWN: "Town One" })],
  [["prime"], () => ({ ...rigEnv(), GT_RIG: undefined })],
  [["prime"], () => ({ ...rigEnv(), GT_TOKEN: undefined })],
  [["prime"], () => ({ ...rigEnv(), GT_SECURE: "yes" })],
  [["prime"], () => ({ ...rigEnv(), GT_BEAD: "bead-1" })],
  [["rigs"], () => ({ ...mayorEnv(), GT_RIG: undefined, GT_BEAD: "bead-1" })],
  [["frobnicate"], rigEnv],
  [["mail", "frobnicate"], rigEnv],
  [["mail", "send", "mayor/", "-s", "x", "--bogus"], rigEnv],
  [["convoy", "status", "a", "b"], mayorEnv],
  [["rig", "status", "--status"], mayorEnv],
  [["help", "nothing"], rigEnv],
  [["help", "mail", "nothing"], rigEnv],
  [["--json"], rigEnv],
  [["-x"], rigEnv],
];

describe("gt's output", () => {
  it("help: every command and group, gt help, and gt alone", async () => {
    const out: string[] = [];
    for (const argv of [[], ["help"], ["--help"], ["-h"], ["help", "mail"], ["help", "mail", "send"]]) out.push(await transcript(argv, {}));
    for (const path of commandPaths()) {
      out.push(await transcript([...path.split(" "), "--help"], {}));
      out.push(await transcript([...path.split(" "), "-h"], {}));
      out.push(await transcript(["help", ...path.split(" ")], {}));
      out.push(await transcript(path.split(" "), {})); // a group without its subcommand, or a command without its environment
    }
    await expect(`${out.join("\n\n")}\n`).toMatchFileSnapshot("__snapshots__/gt-help.txt");
  });

  it("runs: every command against a fake room", async () => {
    const out: string[] = [];
    for (const [argv, env, replies] of CASES)
      out.push(
        await transcript(
          argv.map((a) => a.replace("<dir>", dir)),
          env(),
          replies,
        ),
      );
    await expect(`${out.join("\n\n")}\n`).toMatchFileSnapshot("__snapshots__/gt-runs.txt");
  });

  it("unreachable: exit 4 once the retries are spent", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const text = await transcript(["rigs"], { ...mayorEnv(), GT_HOST: `127.0.0.1:${port}` });
    expect(text.replaceAll(String(port), "<port>")).toBe(
      ["$ gt rigs", "code: 4", "stderr:", "gt: cannot reach 127.0.0.1:<port> (ECONNREFUSED) after 4 attempts"].join("\n"),
    );
  });

  it("gt mcp: the tool list of both modes, its help, and calls through it", { timeout: 60_000 }, async () => {
    const out: string[] = [];
    for (const argv of [
      ["mcp", "--help"],
      ["mcp", "extra"],
    ]) {
      const result = await gt(argv, rigEnv());
      out.push(`$ gt ${argv.join(" ")}\ncode: ${result.code}\nstdout:\n${result.stdout}stderr:\n${result.stderr}`);
    }
    const noEnv = await gt(["mcp"], {});
    out.push(`$ gt mcp (no environment)\ncode: ${noEnv.code}\nstdout:\n${noEnv.stdout}stderr:\n${noEnv.stderr}`);
    for (const [mode, env, calls] of [
      [
        "rig",
        rigEnv,
        [
          ["gt_prime", {}],
          ["gt_mail_check", {}],
          ["gt_bead_status", { bead_id: "nope" }],
          ["gt_mail_send", { to: "mayor", subject: "s", body: "" }],
        ],
      ],
      [
        "mayor",
        mayorEnv,
        [
          ["gt_sling", { title: "x", requires: ["ts"] }],
          ["gt_list_rigs", {}],
          ["gt_prime", {}],
        ],
      ],
    ] as const) {
      const client = await mcpClient(env());
      try {
        const { tools } = await client.listTools();
        out.push(`tools (${mode}):\n${JSON.stringify(tools, null, 2)}`);
        for (const [name, args] of calls) {
          overrides = name === "gt_bead_status" ? { gt_bead_status: fail("INVALID_ARGS", "bead_id: must be a ULID") } : {};
          requests.length = 0;
          const acknowledged = received("gt_mail_ack");
          const result = await mcpCall(client, name, args);
          if (name === "gt_mail_check") await acknowledged; // sent once the reply was written
          out.push(`call ${name} (${mode}) ${JSON.stringify(args)}:\n${JSON.stringify(result, null, 2)}\n${requests.map((r) => `request: ${r}`).join("\n")}`);
        }
      } finally {
        await client.close();
      }
    }
    await expect(`${out.join("\n\n").replaceAll(host, "<host>")}\n`).toMatchFileSnapshot("__snapshots__/gt-mcp.txt");
  });
});
