/**
 * `gt costs`, `gt budget set|clear` and `gt sling --model` (container/gt/costs.ts, sling.ts) against a
 * fake town room: what each prints, the request it sends (tool, room, arguments), and its usage
 * errors; the transcript is a file snapshot (__snapshots__/gt-costs.txt).
 */
import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { totalsText } from "../../container/gt/costs.ts";
import { run } from "../../container/gt/program.ts";
import type { BeadStatusResult, BudgetSetResult, CostsResult, UsageTotals } from "../../party/protocol.ts";

const totals = (runs: number, costUsd: number, tokens: number, unpriced = 0): UsageTotals => ({
  runs,
  inputTokens: tokens,
  outputTokens: 0,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
  costUsd,
  unpriced,
});
const hold = { by: "rig" as const, since: 0, reason: "the rig's daily budget is reached ($5.10 of $5.00 today, UTC)" };
const COSTS: CostsResult = {
  day: "2026-12-08",
  town: { today: totals(12, 7.35, 1_234_567, 1), budget: { unit: "usd", daily: 20 }, reached: null },
  days: [{ day: "2026-12-07", totals: totals(30, 18.2, 4_000_000) }],
  rigs: [
    { name: "alpha", today: totals(10, 5.1, 1_000_000), budget: { unit: "usd", daily: 5 }, hold, costByHour: Array.from({ length: 24 }, () => 0) },
    { name: "beta", today: totals(2, 2.25, 234_567, 1), budget: null, hold: null, costByHour: Array.from({ length: 24 }, () => 0) },
  ],
};

let server: Server;
let host: string;
let reply: unknown = null;
const requests: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const args = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>;
      if (typeof args.id === "string") args.id = "<new id>";
      requests.push(`${req.method} ${req.url} ${JSON.stringify(args)}`);
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ ok: true, value: reply }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  host = `127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function transcript(argv: string[], value: unknown, env: Record<string, string> = { GT_TOKEN: "operator-token" }): Promise<string> {
  const saved = { ...process.env };
  for (const k of Object.keys(process.env)) if (k.startsWith("GT_")) delete process.env[k];
  Object.assign(process.env, { GT_HOST: host, GT_TOWN: "town1", ...env });
  reply = value;
  requests.length = 0;
  try {
    const outcome = await run(argv);
    const lines = [`$ gt ${argv.join(" ")}`, `code: ${outcome.code}`];
    if (outcome.stdout !== undefined) lines.push("stdout:", outcome.stdout);
    if (outcome.stderr !== undefined) lines.push("stderr:", outcome.stderr);
    for (const request of requests) lines.push(`request: ${request}`);
    return lines.join("\n").replaceAll(host, "<host>");
  } finally {
    for (const k of Object.keys(process.env)) if (k.startsWith("GT_")) delete process.env[k];
    Object.assign(process.env, saved);
  }
}

const waiting: BeadStatusResult = {
  id: "01J0000000000000000000000B",
  title: "Port the lexer",
  body: "",
  model: "claude-opus-test",
  status: "open",
  priority: "medium",
  requires: [],
  createdAt: Date.UTC(2026, 11, 8),
  updatedAt: Date.UTC(2026, 11, 8),
  usage: totals(1, 1.2, 1_260),
  hold,
};

const set = (rig: string | null, budget: BudgetSetResult["budget"]): BudgetSetResult => ({ rig, budget });

describe("gt costs and gt budget", () => {
  it("print the town's costs and budgets, send the budget asked for, and refuse a budget given twice or not at all", async () => {
    const out = [
      await transcript(["costs"], COSTS),
      await transcript(["costs", "--days", "1", "--json"], { ...COSTS, days: [] }),
      await transcript(["budget", "set", "--usd", "5", "--rig", "alpha"], set("alpha", { unit: "usd", daily: 5 })),
      await transcript(["budget", "set", "--tokens", "2000000"], set(null, { unit: "tokens", daily: 2_000_000 })),
      await transcript(["budget", "clear", "--rig", "alpha"], set("alpha", null)),
      await transcript(["budget", "clear"], set(null, null)),
      await transcript(["budget", "set", "--usd", "5", "--tokens", "9"], null),
      await transcript(["budget", "set"], null),
      await transcript(
        ["sling", "--title", "Port the parser", "--model", "claude-opus-test", "--rig", "alpha"],
        { bead_id: "01J0000000000000000000000A", rig: "alpha", reason: "alpha: chosen by the caller" },
        { GT_TOKEN: "mayor-token", GT_AGENT: "mayor" },
      ),
      await transcript(["bead", "status"], waiting, { GT_TOKEN: "agent-token", GT_RIG: "rig-alpha", GT_AGENT: "alpha/polecats/toast", GT_BEAD: waiting.id }),
    ];
    const text = `${out.join("\n\n")}\n`;
    // What a person reads: the figures, and why a rig waits.
    expect(text).toContain("Today (2026-12-08, UTC): $7.35 (1 without a cost), 1,234,567 tokens, 12 runs; budget: $20.00 a day");
    expect(text).toContain("    held: the rig's daily budget is reached ($5.10 of $5.00 today, UTC)");
    expect(text).toContain(`request: POST /parties/main/town1/api/gt_budget_set {"rig":"alpha","budget":{"unit":"usd","daily":5}}`);
    expect(text).toContain(`"model":"claude-opus-test"`);
    expect(text).toContain("waiting: no new run starts: the rig's daily budget is reached ($5.10 of $5.00 today, UTC)");
    await expect(text).toMatchFileSnapshot("__snapshots__/gt-costs.txt");
  });

  it("never print an unknown cost as $0.00: a day whose runs all lacked a cost says so", () => {
    expect(totalsText(totals(2, 0, 1_260, 2))).toBe("cost unknown, 1,260 tokens, 2 runs");
    expect(totalsText(totals(2, 1.2, 1_260, 1))).toBe("$1.20 (1 without a cost), 1,260 tokens, 2 runs");
    expect(totalsText(totals(0, 0, 0))).toBe("$0, 0 tokens, 0 runs");
  });
});
