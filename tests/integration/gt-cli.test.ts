/** The agents' `gt` CLI and its MCP server (container/gt.ts, container/gt/), end to end as child processes. */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, inject, it } from "vitest";
import type { Bead, Escalation, Mail, MailSendResult, PrimeResult, Rig } from "../../party/protocol.ts";
import { gt, gtJson, lossyProxy as openLossyProxy, mcpCall, mcpClient as openMcpClient, ULID, valueOf, type GtEnv } from "../helpers/gt.ts";
import { freePort } from "../helpers/partykit.ts";
import { makeTown, workingAgent, type TestTown } from "../helpers/town.ts";

const host = inject("partykitHost");
const secret = inject("gtSecret");

let town: TestTown;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  town?.closeAll();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

type Agent = { identity: string; token: string };

function agentEnv(rig: Rig, agent: Agent, extra: GtEnv = {}): GtEnv {
  return { GT_HOST: host, GT_TOWN: town.town, GT_RIG: rig.id, GT_AGENT: agent.identity, GT_TOKEN: agent.token, ...extra };
}

async function twoRigs() {
  town = await makeTown(host, secret, "gt");
  const [a, b] = [await town.addRig("alpha"), await town.addRig("beta")];
  return { a, b, toast: await town.polecat(a, "toast"), maple: await town.polecat(b, "maple") };
}

async function lossyProxy(target: string, drop: number) {
  const proxy = await openLossyProxy(target, drop);
  cleanups.push(proxy.close);
  return proxy;
}

async function mcpClient(env: GtEnv) {
  const client = await openMcpClient(env);
  cleanups.push(() => client.close());
  return client;
}

describe("gt CLI", () => {
  it("gt prime names the agent and says what is hooked; --json is the raw PrimeResult", async () => {
    const { a, toast } = await twoRigs();
    const run = await gt(["prime"], agentEnv(a, toast));
    expect([run.code, run.stderr]).toEqual([0, ""]);
    expect(run.stdout).toContain(`You are ${toast.identity}`);
    expect(run.stdout).toContain("No bead is hooked");
    expect(run.stdout).toContain("No unread mail");
    const prime = await gtJson<PrimeResult>(["prime"], agentEnv(a, toast));
    expect(prime.agent).toMatchObject({ identity: toast.identity, role: "polecat", name: "toast" });
    expect([prime.hook, prime.mail]).toEqual([null, []]);
  });

  it("gt mail send reaches a polecat of another rig; its gt mail check shows the mail once, then no new mail", async () => {
    const { a, b, toast, maple } = await twoRigs();
    const sent = await gt(["mail", "send", "--to", maple.identity, "--subject", "schema change", "--body", "-"], agentEnv(a, toast), {
      input: "the users table gains a column\nplease rebase",
    });
    expect([sent.code, sent.stderr]).toEqual([0, ""]);
    const id = /^delivered (\S+)\n$/.exec(sent.stdout)?.[1];
    expect(id).toMatch(ULID);

    // gt prime lists unread mail without marking it read.
    const primed = await gt(["prime"], agentEnv(b, maple));
    expect(primed.stdout).toContain("Unread mail (1)");
    expect(primed.stdout).toContain("Subject: schema change");

    const check = await gt(["mail", "check"], agentEnv(b, maple));
    expect([check.code, check.stderr]).toEqual([0, ""]);
    expect(check.stdout).toContain(`From: ${toast.identity}`);
    expect(check.stdout).toContain("Subject: schema change");
    expect(check.stdout).toContain("the users table gains a column\nplease rebase");
    expect(check.stdout.split(`Id: ${id}`).length).toBe(2); // exactly once
    const again = await gt(["mail", "check"], agentEnv(b, maple));
    expect([again.code, again.stdout]).toEqual([0, "no new mail\n"]);
  });

  it("gt mail send resends after a lost reply with the same id, so the mail is stored once", async () => {
    const { a, b, toast, maple } = await twoRigs();
    const proxy = await lossyProxy(host, 1);
    const sent = await gt(["mail", "send", "--to", maple.identity, "--subject", "lost reply", "--body", "hi"], agentEnv(a, toast, { GT_HOST: proxy.host }));
    expect([sent.code, sent.stderr]).toEqual([0, ""]);
    const id = /^delivered (\S+)\n$/.exec(sent.stdout)?.[1];
    expect(id).toMatch(ULID);
    expect(proxy.connections()).toBeGreaterThanOrEqual(2); // the first reply was lost
    const inbox = await town.rigCall<Mail[]>(b, "gt_mail_check", {}, maple.token);
    expect(inbox.map((m) => [m.id, m.subject])).toEqual([[id, "lost reply"]]);
  });

  it("gt mail send to an unknown recipient exits 3 with UNKNOWN_RECIPIENT", async () => {
    const { a, toast } = await twoRigs();
    for (const to of ["gamma/polecats/maple", "beta/polecats/nobody"]) {
      const run = await gt(["mail", "send", "--to", to, "--subject", "x"], agentEnv(a, toast));
      expect(run.code).toBe(3);
      expect(run.stdout).toBe("");
      expect(run.stderr).toMatch(/^gt: UNKNOWN_RECIPIENT: /);
    }
  });

  it("exits 2 naming a missing environment variable, and 2 on a bad command or option", async () => {
    const env = { GT_HOST: "127.0.0.1:9", GT_TOWN: "t", GT_RIG: "r", GT_TOKEN: "x", GT_AGENT: "alpha/polecats/toast" };
    for (const name of ["GT_HOST", "GT_TOWN", "GT_RIG", "GT_TOKEN"]) {
      const run = await gt(["prime"], { ...env, [name]: undefined });
      expect([name, run.code]).toEqual([name, 2]);
      // GT_RIG is the rig's name now; gt acts in GT_RIG_ID's rig, or GT_RIG's when it holds the id (issue 20).
      expect(run.stderr).toContain(name === "GT_RIG" ? "GT_RIG_ID and GT_RIG are not set" : `${name} is not set`);
    }
    const unknown = await gt(["frobnicate"], env);
    expect([unknown.code, unknown.stderr]).toEqual([2, expect.stringContaining('unknown command "frobnicate"')]);
    const missing = await gt(["escalate", "--severity", "high"], env);
    expect([missing.code, missing.stderr]).toEqual([2, expect.stringContaining("missing the description")]);
    const invalid = await gt(["escalate", "--title", "x", "--severity", "huge"], env);
    expect([invalid.code, invalid.stderr]).toEqual([2, expect.stringContaining("--severity:")]);
    const stray = await gt(["mail", "check", "--to", "mayor"], env);
    expect([stray.code, stray.stderr]).toEqual([2, expect.stringContaining("--to")]);
    const help = await gt(["help"], {});
    expect(help.code).toBe(0);
    for (const command of ["prime", "mail send", "mail check", "bead status", "done", "escalate", "checkpoint", "mcp"]) {
      expect(help.stdout).toContain(`gt ${command}`);
    }
  });

  it("exits 4 when the server cannot be reached", async () => {
    const run = await gt(["prime"], { GT_HOST: `127.0.0.1:${await freePort()}`, GT_TOWN: "t", GT_RIG: "r", GT_TOKEN: "x" });
    expect(run.code).toBe(4);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(/^gt: cannot reach 127\.0\.0\.1:\d+ \(ECONNREFUSED\) after 4 attempts/);
  });

  it("gt bead status shows a bead the operator created, by --bead or by GT_BEAD", async () => {
    const { a, toast } = await twoRigs();
    const bead = await town.rigCall<Bead>(a, "gt_bead_create", { title: "Add a health check", body: "GET /health returns 200" });
    const run = await gt(["bead", "status", "--bead", bead.id], agentEnv(a, toast));
    expect([run.code, run.stderr]).toEqual([0, ""]);
    expect(run.stdout).toContain(`Bead ${bead.id}: Add a health check`);
    expect(run.stdout).toContain("status: open");
    expect(run.stdout).toContain("GET /health returns 200");
    const json = await gtJson<Bead>(["bead", "status"], agentEnv(a, toast, { GT_BEAD: bead.id }));
    expect(json).toMatchObject({ id: bead.id, title: "Add a health check", status: "open" });

    const unknown = await gt(["bead", "status", "--bead", "01JZZZZZZZZZZZZZZZZZZZZZZZ"], agentEnv(a, toast));
    expect([unknown.code, unknown.stderr]).toEqual([3, expect.stringMatching(/^gt: UNKNOWN_BEAD: /)]);
    const none = await gt(["bead", "status"], agentEnv(a, toast));
    expect([none.code, none.stderr]).toEqual([2, expect.stringContaining("GT_BEAD is not set")]);
  });

  it("gt checkpoint saves notes (from --data or stdin) that gt prime returns", async () => {
    const { a, toast } = await twoRigs();
    const saved = await gt(["checkpoint", "--data", "step 1 done; next: tests"], agentEnv(a, toast));
    expect([saved.code, saved.stderr, saved.stdout]).toEqual([0, "", "checkpoint saved\n"]);
    expect((await gtJson<PrimeResult>(["prime"], agentEnv(a, toast))).checkpoint).toBe("step 1 done; next: tests");

    const piped = await gt(["checkpoint"], agentEnv(a, toast), { input: "step 2 done\nnext: docs" });
    expect([piped.code, piped.stderr]).toEqual([0, ""]);
    const prime = await gt(["prime"], agentEnv(a, toast));
    expect(prime.stdout).toContain("Your checkpoint");
    expect(prime.stdout).toContain("  step 2 done\n  next: docs");
    expect(prime.stdout).not.toContain("step 1 done");

    const nothing = await gt(["checkpoint"], agentEnv(a, toast)); // stdin empty: refused, notes kept
    expect([nothing.code, nothing.stderr]).toEqual([2, expect.stringContaining("no notes on stdin")]);
    expect((await gtJson<PrimeResult>(["prime"], agentEnv(a, toast))).checkpoint).toBe("step 2 done\nnext: docs");
  });

  it("gt escalate records an escalation with an id", async () => {
    const { a, toast } = await twoRigs();
    const bead = await town.rigCall<Bead>(a, "gt_bead_create", { title: "Flaky test" });
    const run = await gt(
      ["escalate", "--title", "CI is down", "--severity", "high", "--body", "every job times out"],
      agentEnv(a, toast, { GT_BEAD: bead.id }),
    );
    expect([run.code, run.stderr]).toEqual([0, ""]);
    const id = /^escalated (\S+) \(high\)\n$/.exec(run.stdout)?.[1];
    expect(id).toMatch(ULID);
    const json = await gtJson<Escalation>(["escalate", "--title", "disk full", "--severity", "critical"], agentEnv(a, toast));
    expect(json).toMatchObject({ from: toast.identity, title: "disk full", severity: "critical", status: "open" });
    expect(json.id).toMatch(ULID);
    expect(json.id).not.toBe(id);
    const doc = await town.replica("rig", town.rigRoom(a)).whenSynced();
    expect(doc.getMap<Escalation>("escalations").get(id!)).toMatchObject({ title: "CI is down", body: "every job times out", beadId: bead.id });
  });

  it("gt done without a hooked bead exits 3 with CONFLICT; without --branch outside git it exits 2", async () => {
    const { a, toast } = await twoRigs();
    const run = await gt(["done", "--branch", "gt/toast/nothing", "--summary", "nothing to do"], agentEnv(a, toast));
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/^gt: CONFLICT: /);
    const outside = mkdtempSync(join(tmpdir(), "gt-nogit-"));
    cleanups.push(() => rmSync(outside, { recursive: true, force: true }));
    const noGit = await gt(["done"], agentEnv(a, toast), { cwd: outside });
    expect([noGit.code, noGit.stderr]).toEqual([2, expect.stringContaining("no current git branch")]);
  });

  it("gt done hands in the hooked bead on the worktree's current git branch", async () => {
    const { a } = await twoRigs();
    // Stand in for the town container: hold the rig's lease and take its start_agent command.
    const { bead, start } = await workingAgent(town, a, "Add a health check", "GET /health returns 200");
    expect(start.bead.id).toBe(bead.id);
    const heartbeat = setInterval(() => void town.rigCall(a, "gt_heartbeat", {}, start.token).catch(() => {}), 300); // the witness is quick in tests
    cleanups.push(() => clearInterval(heartbeat));
    const env = agentEnv(a, { identity: start.identity, token: start.token }, { GT_BEAD: start.bead.id });

    const prime = await gtJson<PrimeResult>(["prime"], env);
    expect(prime.hook).toMatchObject({ id: bead.id, status: "in_progress" });
    expect(prime.agent.branch).toBe(start.branch);
    const text = await gt(["prime"], env);
    expect(text.stdout).toContain(`Your hooked bead (your task) ${bead.id}: Add a health check`);
    expect(text.stdout).toContain("GET /health returns 200");

    // A worktree on the agent's branch: gt done takes the branch from git.
    const worktree = mkdtempSync(join(tmpdir(), "gt-worktree-"));
    cleanups.push(() => rmSync(worktree, { recursive: true, force: true }));
    const git = (...args: string[]) => execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", ...args], { cwd: worktree, stdio: "pipe" });
    git("init", "-q", "-b", start.branch);
    git("commit", "-q", "--allow-empty", "-m", "work");
    const done = await gt(["done", "--summary", "health check added"], env, { cwd: worktree });
    expect([done.code, done.stderr, done.stdout]).toEqual([0, "", `bead ${bead.id} is in_review\n`]);
    const after = await town.rigCall<Bead>(a, "gt_bead_status", { bead_id: bead.id });
    expect(after).toMatchObject({ status: "in_review", branch: start.branch });
    // Resent after a lost reply, done answers the same; on another branch it is refused.
    const again = await gt(["done", "--branch", start.branch], env);
    expect([again.code, again.stdout]).toEqual([0, `bead ${bead.id} is in_review\n`]);
    const elsewhere = await gt(["done", "--branch", "gt/toast/other"], env);
    expect([elsewhere.code, elsewhere.stderr]).toEqual([3, expect.stringMatching(/^gt: CONFLICT: /)]);
  });
});

describe("gt mcp", () => {
  const TOOLS = [
    "gt_bead_history",
    "gt_bead_status",
    "gt_checkpoint",
    "gt_done",
    "gt_escalate",
    "gt_escalation_list",
    "gt_mail_check",
    "gt_mail_read",
    "gt_mail_send",
    "gt_prime",
  ];

  it("lists the ten agent tools, without `as`", async () => {
    const { a, toast } = await twoRigs();
    const client = await mcpClient(agentEnv(a, toast));
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(TOOLS);
    for (const tool of tools) {
      expect(tool.description, tool.name).toBeTruthy();
      expect(Object.keys(tool.inputSchema.properties ?? {}), tool.name).not.toContain("as");
    }
    const beadStatus = tools.find((t) => t.name === "gt_bead_status")!;
    expect(beadStatus.inputSchema.required ?? []).not.toContain("bead_id");
  });

  it("sends mail another rig's agent checks, primes, and reports tool errors as isError", async () => {
    const { a, b, toast, maple } = await twoRigs();
    const [sender, recipient] = await Promise.all([mcpClient(agentEnv(a, toast)), mcpClient(agentEnv(b, maple))]);
    const sent = valueOf<MailSendResult>(await mcpCall(sender, "gt_mail_send", { to: maple.identity, subject: "over mcp", body: "hello" }));
    expect(sent.state).toBe("delivered");
    expect(sent.id).toMatch(ULID);

    const prime = valueOf<PrimeResult>(await mcpCall(recipient, "gt_prime"));
    expect(prime.agent.identity).toBe(maple.identity);
    expect(prime.mail.map((m) => m.id)).toEqual([sent.id]);
    const inbox = valueOf<Mail[]>(await mcpCall(recipient, "gt_mail_check"));
    expect(inbox.map((m) => [m.id, m.from, m.subject, m.body])).toEqual([[sent.id, toast.identity, "over mcp", "hello"]]);
    expect(valueOf<Mail[]>(await mcpCall(recipient, "gt_mail_check"))).toEqual([]);

    const unknown = await mcpCall(sender, "gt_mail_send", { to: "beta/polecats/nobody", subject: "x", body: "" });
    expect(unknown.isError).toBe(true);
    expect(unknown.content[0]!.text).toMatch(/^UNKNOWN_RECIPIENT: /);
    const noBead = await mcpCall(sender, "gt_bead_status");
    expect(noBead.isError).toBe(true);
    expect(noBead.content[0]!.text).toContain("GT_BEAD is not set");
  });

  it("reads a bead by default from GT_BEAD", async () => {
    const { a, toast } = await twoRigs();
    const bead = await town.rigCall<Bead>(a, "gt_bead_create", { title: "Hooked work" });
    const client = await mcpClient(agentEnv(a, toast, { GT_BEAD: bead.id }));
    expect(valueOf<Bead>(await mcpCall(client, "gt_bead_status"))).toMatchObject({ id: bead.id, title: "Hooked work" });
  });
});
