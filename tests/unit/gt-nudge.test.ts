/**
 * The witness's nudge, riding on a tool call's reply, reaches the agent wherever it reads: inside the
 * block `gt mail check --inject` prints for a coding CLI's hook, on stderr after any other command,
 * and in `gt mcp`'s tool result. And the agent's rig: GT_RIG_ID, when set, over GT_RIG (a name now).
 * The room is a small HTTP stand-in that answers every tool with a fixed reply and records the path.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gt, mcpCall, mcpClient } from "../helpers/gt.ts";

const NUDGE = { from: "alpha/witness", at: 1_700_000_000_000, subject: "no progress for 15 min", body: "Are you stuck? Say so with gt escalate." };
const MAIL = {
  id: "01J00000000000000000000009",
  from: "mayor",
  to: "alpha/polecats/toast",
  subject: "priority change",
  body: "Do the tests first.",
  at: 1,
  read: false,
};
let server: Server;
let host: string;
let reply: { value: unknown; nudge?: unknown } = { value: [] };
const paths: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    paths.push(req.url ?? "");
    req.resume();
    req.on("end", () => {
      const body = req.url?.endsWith("/gt_mail_ack") ? { ok: true, value: null } : { ok: true, ...reply };
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const env = () => ({
  GT_HOST: host,
  GT_TOWN: "t1",
  GT_RIG: "alpha",
  GT_RIG_ID: "01J0000000000000000000000R",
  GT_TOKEN: "tok",
  GT_AGENT: "alpha/polecats/toast",
});

describe("the witness's nudge on a reply", () => {
  it("gt mail check --inject <event>: nothing when nothing is new; the nudge (and new mail) as the hook's additionalContext", async () => {
    reply = { value: [] };
    const quiet = await gt(["mail", "check", "--inject", "PostToolUse"], env());
    expect(quiet).toEqual({ code: 0, stdout: "", stderr: "" });

    reply = { value: [MAIL], nudge: NUDGE };
    const run = await gt(["mail", "check", "--inject", "PostToolUse"], env());
    expect(run.code).toBe(0);
    expect(run.stderr).toBe("");
    const hook = JSON.parse(run.stdout) as { hookSpecificOutput: { hookEventName: string; additionalContext: string } };
    expect(hook.hookSpecificOutput.hookEventName).toBe("PostToolUse");
    const text = hook.hookSpecificOutput.additionalContext;
    expect(text).toContain("Nudge from alpha/witness: no progress for 15 min\nAre you stuck? Say so with gt escalate.");
    expect(text).toContain("priority change");
    expect(text.indexOf("Nudge from")).toBeLessThan(text.indexOf("priority change"));
  });

  it("any other command: the nudge on stderr, its result on stdout as ever; the rig room is GT_RIG_ID's", async () => {
    reply = { value: { agent: { identity: "alpha/polecats/toast" }, hook: null, mail: [], checkpoint: null }, nudge: NUDGE };
    paths.length = 0;
    const run = await gt(["hook"], env());
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Nothing is on your hook/);
    expect(run.stderr.trim()).toBe("Nudge from alpha/witness: no progress for 15 min\nAre you stuck? Say so with gt escalate.");
    expect(paths).toEqual(["/parties/rig/t1.01J0000000000000000000000R/api/gt_prime"]);
  });

  it("gt mcp: the nudge is a text of the tool's result, after its value", async () => {
    reply = { value: { agent: { identity: "alpha/polecats/toast" }, hook: null, mail: [], checkpoint: null }, nudge: NUDGE };
    const client = await mcpClient(env());
    try {
      const result = await mcpCall(client, "gt_prime");
      expect(result.isError ?? false).toBe(false);
      expect(JSON.parse(result.content[0]!.text)).toMatchObject({ hook: null });
      expect(result.content[1]).toEqual({ type: "text", text: "Nudge from alpha/witness: no progress for 15 min\nAre you stuck? Say so with gt escalate." });
      reply = { value: { agent: { identity: "alpha/polecats/toast" }, hook: null, mail: [], checkpoint: null } };
      expect((await mcpCall(client, "gt_prime")).content).toHaveLength(1);
    } finally {
      await client.close();
    }
  }, 30_000);
});
