/**
 * The real Codex CLI (pinned: tests/helpers/codex-cli.ts) run the way the codex preset runs it
 * (container/presets/codex.ts: its command line and environment), as a rig's user would (nobody,
 * when the tests run as root), offline against the scripted Responses API stand-in, which a
 * provider in the user's Codex config points it at as an operator's local gateway would be. The
 * model scripts one task: a shell command that commits in the worktree, a call of `gt mcp`'s
 * gt_prime (its GT_* variables reach gt: the fake room below sees the run's token), a command that
 * fails, and a last message; a mail waiting for the agent reaches the model through the preset's
 * PostToolUse hook (`gt mail check --inject`). The preset's parser turns what Codex printed into the run's events.
 *
 * Set GT_RECORD_STREAMS=<dir> to keep what Codex printed (tests/fixtures/agent-streams/ holds one).
 */
import { spawn, execFileSync } from "node:child_process";
import { chownSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentFilesFor, type AgentFiles } from "../../container/agent-files.ts";
import { codex } from "../../container/presets/codex.ts";
import type { AgentEvent, RunSpec } from "../../container/presets/types.ts";
import { ensureCodex } from "../helpers/codex-cli.ts";
import { functionOutputs, startOpenAiStandIn, toolNames, userText, type OpenAiStandIn } from "../helpers/openai-stand-in.ts";

const KEY = "sk-standin-codex-7f3a9c";
const TOKEN = "agent-token-codex-51e2";
const TASK = "Polecat toast of rig alpha: add hello.txt, commit it, then run gt done.";
const MAIL = {
  id: "01JBMAIL000000000000000000",
  from: "docs/polecats/nux",
  to: "alpha/polecats/toast",
  subject: "Also update the README",
  body: "Mention hello.txt in the README, please.",
  state: "delivered",
};
const nobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : null;

let standIn: OpenAiStandIn;
let room: Server;
let roomCalls: { path: string; authorization: string | undefined }[] = [];
let dir: string;
let binary: string;
/** gt and node as the rig's user reaches them (copied out of a clone closed to others, as the container does). */
let agentFiles: AgentFiles;
let runtimeDir: string;

function own(path: string): void {
  if (!nobody) return;
  chownSync(path, nobody.uid, nobody.gid);
  if (statSync(path).isDirectory()) for (const entry of readdirSync(path)) own(join(path, entry));
}

beforeAll(async () => {
  binary = ensureCodex(undefined, (line) => console.log(line));
  standIn = await startOpenAiStandIn();
  // The rig room, as far as gt's calls over HTTP go (gt_prime; the hook's gt_mail_check, with one
  // mail the first time, and its acknowledgement): it records who called.
  let mailSent = false;
  room = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      const path = req.url ?? "";
      roomCalls.push({ path, authorization: req.headers.authorization });
      let value: unknown = {};
      if (path.endsWith("/api/gt_prime")) value = { bead: { id: "bd-1", title: "Add hello.txt" }, mail: [] };
      else if (path.endsWith("/api/gt_mail_check")) {
        value = mailSent ? [] : [{ ...MAIL, sentAt: Date.now() }];
        mailSent = true;
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ ok: true, value }));
    });
  });
  await new Promise<void>((resolve) => room.listen(0, "127.0.0.1", resolve));
  dir = mkdtempSync(join(tmpdir(), "townhall-codex-"));
  if (nobody) execFileSync("chmod", ["755", dir]);
  runtimeDir = mkdtempSync(join(tmpdir(), "townhall-codex-runtime-"));
  execFileSync("chmod", ["755", runtimeDir]);
  agentFiles = agentFilesFor(runtimeDir);
}, 300_000);

afterAll(async () => {
  await standIn?.stop();
  await new Promise<void>((resolve) => (room ? room.close(() => resolve()) : resolve()));
  if (dir) rmSync(dir, { recursive: true, force: true });
  if (runtimeDir) rmSync(runtimeDir, { recursive: true, force: true });
});

/** Runs the preset's command; resolves with its exit code and stdout lines. */
function run(spec: RunSpec, env: Record<string, string>): Promise<{ code: number | null; lines: string[]; stderr: string; args: string[] }> {
  const launch = codex.launch(spec, binary);
  for (const file of launch.files) writeFileSync(file.path, file.content, { mode: 0o600 });
  const child = spawn(launch.file, launch.args, {
    cwd: spec.cwd,
    env: { ...env, ...launch.env },
    stdio: ["ignore", "pipe", "pipe"],
    ...(nobody ?? {}),
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString("utf8")));
  child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString("utf8")));
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, lines: out.split("\n").filter(Boolean), stderr: err, args: launch.args })));
}

describe("the codex preset runs the real Codex CLI", () => {
  it("does a scripted task offline: a commit through its shell, gt_prime through gt mcp, a failed command, mail through its hook, and reports the usage the stand-in counted", async () => {
    const home = join(dir, "home");
    const cwd = join(dir, "worktree");
    const runDir = join(dir, "run");
    for (const d of [home, join(home, ".codex"), cwd, runDir, join(dir, "tmp")]) mkdirSync(d, { recursive: true });
    execFileSync("git", ["init", "-q", "-b", "main", cwd]);
    // The operator's gateway, configured for the rig's user as docs/agents.md says.
    writeFileSync(
      join(home, ".codex", "config.toml"),
      `model_provider = "gateway"\n\n[model_providers.gateway]\nname = "Local gateway"\nbase_url = "${standIn.url}"\nwire_api = "responses"\nenv_key = "OPENAI_API_KEY"\n`,
    );
    own(dir);

    const gtEnv = {
      GT_HOST: `127.0.0.1:${(room.address() as AddressInfo).port}`,
      GT_SECURE: "0",
      GT_TOWN: "town",
      GT_ROLE: "polecat",
      GT_RIG: "alpha",
      GT_RIG_ID: "01JBRIG0000000000000000000",
      GT_POLECAT: "toast",
      GT_AGENT: "alpha/polecats/toast",
      GT_TOKEN: TOKEN,
      GT_BEAD: "01JBBEAD000000000000000000",
    };
    const spec: RunSpec = { cwd, home, tmpDir: join(dir, "tmp"), runDir, prompt: TASK, model: "stand-in-model", gt: join(agentFiles.gtBinDir, "gt"), gtEnv };

    standIn.script((request) => {
      const done = functionOutputs(request.body).length;
      if (done === 0)
        return {
          items: [
            {
              type: "call",
              name: "exec_command",
              args: { cmd: "echo hello > hello.txt && git add hello.txt && git commit -q -m 'Add hello' && echo committed" },
            },
          ],
        };
      if (done === 1) return { items: [{ type: "call", namespace: "mcp__gt", name: "gt_prime", args: {} }] };
      if (done === 2) return { items: [{ type: "call", name: "exec_command", args: { cmd: "cat no-such-file" } }] };
      return { items: [{ type: "text", text: "Committed hello.txt." }] };
    });

    const result = await run(spec, {
      PATH: agentFiles.path,
      HOME: home,
      TMPDIR: join(dir, "tmp"),
      LANG: "C.UTF-8",
      ...gtEnv,
      GIT_AUTHOR_NAME: "alpha/polecats/toast",
      GIT_AUTHOR_EMAIL: "toast@alpha.townhall.local",
      GIT_COMMITTER_NAME: "alpha/polecats/toast",
      GIT_COMMITTER_EMAIL: "toast@alpha.townhall.local",
      OPENAI_API_KEY: KEY,
    });
    if (process.env.GT_RECORD_STREAMS) writeFileSync(join(process.env.GT_RECORD_STREAMS, "codex-0.171.0.jsonl"), `${result.lines.join("\n")}\n`);
    expect(result.code, result.stderr).toBe(0);

    // Neither the key nor the token is on its command line; the prompt is its last argument, after --.
    expect(result.args.join(" ")).not.toContain(KEY);
    expect(result.args.join(" ")).not.toContain(TOKEN);
    expect(result.args.slice(-2)).toEqual(["--", TASK]);

    // What the model was sent: the key, the model asked for, the prompt, and gt's tools as an MCP namespace.
    const turns = standIn.requests.filter((r) => r.path.startsWith("/v1/responses"));
    expect(turns.length).toBe(4);
    expect(turns[0]!.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(turns[0]!.body?.model).toBe("stand-in-model");
    expect(userText(turns[0]!.body)).toContain(TASK);
    expect(toolNames(turns[0]!.body)).toEqual(expect.arrayContaining(["exec_command", "mcp__gt.gt_prime", "mcp__gt.gt_done"]));

    // The commit is in the worktree, by the agent's identity.
    expect(execFileSync("git", ["-c", "safe.directory=*", "log", "--format=%an %s", "main"], { cwd, encoding: "utf8" }).trim()).toBe(
      "alpha/polecats/toast Add hello",
    );
    // gt mcp was started with the run's variables: its call reached the rig room with the run's token.
    expect(roomCalls.filter((c) => c.path.endsWith("/gt_prime"))).toEqual([
      { path: "/parties/rig/town.01JBRIG0000000000000000000/api/gt_prime", authorization: `Bearer ${TOKEN}` },
    ]);
    // Its hook ran gt after each of its three tool calls, as the agent (the run's token): the mail
    // sent mid-run was put in front of the model with its next request, and not again.
    const checks = roomCalls.filter((c) => c.path.endsWith("/gt_mail_check"));
    expect(checks.length).toBe(3);
    expect(checks.every((c) => c.authorization === `Bearer ${TOKEN}`)).toBe(true);
    const sawMail = turns.map((t) => JSON.stringify(t.body?.input ?? []).includes(MAIL.body));
    expect(sawMail).toEqual([false, true, true, true]); // in the conversation from the request after the first tool call on
    expect(JSON.stringify(turns[1]!.body?.input).split(MAIL.body).length - 1).toBe(1);
    expect(functionOutputs(turns[2]!.body)[1]!.output).toContain("Add hello.txt");

    // The run as the container shows it.
    const parse = codex.runParser!(spec);
    const events = result.lines.flatMap((line) => parse(line)).filter((e) => e.kind !== "progress");
    const shown = events.map((e): unknown => {
      if (e.kind === "tool") return { kind: e.kind, name: e.name, input: e.input };
      if (e.kind === "tool_result") return { kind: e.kind, ok: e.ok };
      if (e.kind === "result") return { kind: e.kind, ok: e.ok };
      return e;
    });
    expect(shown).toEqual([
      // The notice of --dangerously-bypass-hook-trust (the preset's own choice) is left out.
      { kind: "error", text: expect.stringContaining("Model metadata for `stand-in-model` not found") },
      { kind: "tool", name: "shell", input: "echo hello > hello.txt && git add hello.txt && git commit -q -m 'Add hello' && echo committed" },
      { kind: "tool_result", ok: true },
      { kind: "tool", name: "mcp__gt__gt_prime", input: "" },
      { kind: "tool_result", ok: true },
      { kind: "tool", name: "shell", input: "cat no-such-file" },
      { kind: "tool_result", ok: false },
      { kind: "text", text: "Committed hello.txt." },
      { kind: "result", ok: true },
    ]);
    const failed = events.find((e): e is Extract<AgentEvent, { kind: "tool_result" }> => e.kind === "tool_result" && !e.ok);
    expect(failed?.text).toMatch(/^exit 1: cat: no-such-file: No such file or directory/);
    // Four model calls of 1000 input tokens (200 of them cached) and 50 output tokens each.
    expect(events.at(-1)).toMatchObject({
      usage: { model: "stand-in-model", turns: null, inputTokens: 3200, cacheReadTokens: 800, cacheWriteTokens: 0, outputTokens: 200, costUsd: null },
    });
  }, 60_000);
});
