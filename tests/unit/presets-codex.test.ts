/**
 * The codex preset's command line and its parser, on streams the real Codex CLI 0.171.0 printed
 * (tests/fixtures/agent-streams/: codex-0.171.0.jsonl recorded by tests/container/presets-codex-cli.test.ts
 * against the Responses stand-in; codex-0.171.0-failed.jsonl when the API refused the model).
 */
import fc from "fast-check";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { codex, commandOf, parseCodexLine } from "../../container/presets/codex.ts";
import { EventLines } from "../../container/presets/lines.ts";
import type { RunSpec } from "../../container/presets/types.ts";

const stream = (name: string) =>
  readFileSync(new URL(`../fixtures/agent-streams/${name}`, import.meta.url), "utf8")
    .split("\n")
    .filter(Boolean);

const spec: RunSpec = {
  cwd: "/rigs/alpha/polecats/toast",
  home: "/rigs/alpha/home",
  tmpDir: "/rigs/alpha/tmp",
  runDir: "/rigs/alpha/runs/toast",
  prompt: "You are polecat toast.\nYour bead: add hello.txt.",
  model: "gpt-5-codex",
  gt: "/opt/townhall/container/bin/gt",
  gtEnv: { GT_HOST: "127.0.0.1:1999", GT_TOKEN: "secret-token-value", GT_RIG: "alpha", GT_RIG_ID: "01JBRIG0000000000000000000" },
};

describe("codex preset: its command line", () => {
  it("runs codex exec autonomously with JSON events, the model, the worktree, gt mcp by variable names, and the prompt last after --", () => {
    const launch = codex.launch(spec, "/usr/local/bin/codex");
    expect(launch.file).toBe("/usr/local/bin/codex");
    expect(launch.args.slice(0, 6)).toEqual([
      "exec",
      "--json",
      "--dangerously-bypass-approvals-and-sandbox",
      "--dangerously-bypass-hook-trust",
      "--ephemeral",
      "--skip-git-repo-check",
    ]);
    expect(launch.args).toEqual(expect.arrayContaining(["-C", spec.cwd, "-m", "gpt-5-codex"]));
    expect(launch.args.indexOf("-m") + 1).toBe(launch.args.indexOf("gpt-5-codex"));
    const mcp = launch.args[launch.args.findIndex((a) => a.startsWith("mcp_servers.gt="))]!;
    expect(launch.args[launch.args.indexOf(mcp) - 1]).toBe("-c");
    expect(mcp).toBe(
      'mcp_servers.gt={command="/opt/townhall/container/bin/gt", args=["mcp"], env_vars=["GT_HOST", "GT_TOKEN", "GT_RIG", "GT_RIG_ID"], startup_timeout_sec=30, required=true, tool_timeout_sec=600}',
    );
    // After each tool call, its hook puts new mail and the witness's nudge in front of the model.
    expect(launch.args).toContain(
      'hooks.PostToolUse=[{matcher="*", hooks=[{type="command", command="/opt/townhall/container/bin/gt mail check --inject PostToolUse"}]}]',
    );
    expect(launch.args.slice(-2)).toEqual(["--", spec.prompt]);
    // The token's value is in the agent's environment only (the container's), never in an argument or a file.
    expect(JSON.stringify(launch)).not.toContain("secret-token-value");
    expect(launch.files).toEqual([]);
  });

  it("leaves the model to Codex's configuration when the run asks for none, and keeps a prompt that looks like an option a prompt", () => {
    const launch = codex.launch({ ...spec, model: null, prompt: "--help me" }, "/bin/codex");
    expect(launch.args).not.toContain("-m");
    expect(launch.args.slice(-2)).toEqual(["--", "--help me"]);
  });

  it("writes gt's path as a TOML string even with quotes and backslashes in it, and as one shell word in its hook", () => {
    const launch = codex.launch({ ...spec, gt: '/opt/a "b"\\c/gt' }, "/bin/codex");
    expect(launch.args.find((a) => a.startsWith("mcp_servers.gt="))).toContain('command="/opt/a \\"b\\"\\\\c/gt"');
    expect(launch.args.find((a) => a.startsWith("hooks.PostToolUse="))).toContain(`command="'/opt/a \\"b\\"\\\\c/gt' mail check --inject PostToolUse"`);
  });

  it("names its binary and the variables an OpenAI key goes in", () => {
    expect(codex.binaries).toEqual(["codex"]);
    expect(codex.keyVars).toEqual(["OPENAI_API_KEY", "CODEX_API_KEY"]);
    expect(codex.idleMs).toBeGreaterThanOrEqual(10 * 60_000);
  });
});

describe("codex preset: its parser", () => {
  it("reads a recorded run: the commands and gt's tool with whether each succeeded, the last message, and the turn's usage with the run's model", () => {
    const parse = codex.runParser!({ model: "stand-in-model" });
    const events = stream("codex-0.171.0.jsonl").flatMap((line) => parse(line));
    expect(events.filter((e) => e.kind !== "progress")).toEqual([
      { kind: "error", text: "Model metadata for `stand-in-model` not found. Defaulting to fallback metadata; this can degrade performance and cause issues." },
      { kind: "tool", name: "shell", input: "echo hello > hello.txt && git add hello.txt && git commit -q -m 'Add hello' && echo committed", id: "item_3" },
      { kind: "tool_result", ok: true, id: "item_3" },
      { kind: "tool", name: "mcp__gt__gt_prime", input: "", id: "item_4" },
      { kind: "tool_result", ok: true, id: "item_4" },
      { kind: "tool", name: "shell", input: "cat no-such-file", id: "item_5" },
      { kind: "tool_result", ok: false, id: "item_5", text: "exit 1: cat: no-such-file: No such file or directory\n" },
      { kind: "text", text: "Committed hello.txt." },
      {
        kind: "result",
        ok: true,
        usage: { model: "stand-in-model", turns: null, inputTokens: 3200, outputTokens: 200, cacheReadTokens: 800, cacheWriteTokens: 0, costUsd: null },
      },
    ]);
    // The notice of --dangerously-bypass-hook-trust, which the preset gives, is no error of the run.
    expect(stream("codex-0.171.0.jsonl").filter((line) => line.includes("--dangerously-bypass-hook-trust")).length).toBe(2);
    // Every line of its stream is one of its events: thread and turn starts are progress.
    expect(stream("codex-0.171.0.jsonl").every((line) => parse(line).length > 0)).toBe(true);
  });

  it("shows the recorded run as lines people read", () => {
    const lines = new EventLines().lines(stream("codex-0.171.0.jsonl").flatMap((line) => parseCodexLine(line, "stand-in-model")));
    expect(lines.map((l) => l.text)).toEqual([
      "error: Model metadata for `stand-in-model` not found. Defaulting to fallback metadata; this can degrade performance and cause issues.",
      "→ shell: echo hello > hello.txt && git add hello.txt && git commit -q -m 'Add hello' && echo committed",
      "← shell: ok",
      "→ mcp__gt__gt_prime",
      "← mcp__gt__gt_prime: ok",
      "→ shell: cat no-such-file",
      "← shell failed: exit 1: cat: no-such-file: No such file or directory",
      "Committed hello.txt.",
      "result: done (stand-in-model, 3,200 in / 200 out tokens (cache 800 read, 0 written), cost unknown)",
    ]);
  });

  it("reads a failed turn as a failed result with the API's message", () => {
    const events = stream("codex-0.171.0-failed.jsonl").flatMap((line) => parseCodexLine(line));
    expect(events.filter((e) => e.kind === "error" || e.kind === "result")).toEqual([
      { kind: "error", text: "Model metadata for `stand-in` not found. Defaulting to fallback metadata; this can degrade performance and cause issues." },
      { kind: "error", text: "The model `nope` does not exist" },
      { kind: "result", ok: false, text: "The model `nope` does not exist" },
    ]);
  });

  it("reads file changes, failed MCP calls and web searches as tool calls", () => {
    expect(
      parseCodexLine(
        JSON.stringify({
          type: "item.completed",
          item: {
            id: "i5",
            type: "file_change",
            changes: [
              { path: "src/a.ts", kind: "update" },
              { path: "b.md", kind: "add" },
            ],
            status: "completed",
          },
        }),
      ),
    ).toEqual([
      { kind: "tool", name: "apply_patch", input: "update src/a.ts, add b.md", id: "i5" },
      { kind: "tool_result", ok: true, id: "i5" },
    ]);
    expect(
      parseCodexLine(
        JSON.stringify({
          type: "item.completed",
          item: {
            id: "i6",
            type: "mcp_tool_call",
            server: "gt",
            tool: "gt_done",
            arguments: {},
            result: null,
            error: { message: "UNREACHABLE: no answer" },
            status: "failed",
          },
        }),
      ),
    ).toEqual([{ kind: "tool_result", ok: false, id: "i6", text: "UNREACHABLE: no answer" }]);
    expect(parseCodexLine(JSON.stringify({ type: "item.started", item: { id: "i7", type: "web_search", query: "vitest projects" } }))).toEqual([
      { kind: "tool", name: "web_search", input: "vitest projects", id: "i7" },
    ]);
  });

  it("takes out the shell Codex wraps a command in, however it quoted it", () => {
    expect(commandOf("/usr/bin/bash -lc 'git status'")).toBe("git status");
    expect(commandOf(`/bin/bash -lc "echo 'a' \\"b\\" \\$HOME"`)).toBe(`echo 'a' "b" $HOME`);
    expect(commandOf(`bash -lc 'echo '"'"'x'"'"''`)).toBe("echo 'x'");
    expect(commandOf("git status")).toBe("git status");
  });

  it("ignores what is not one of its events and never throws on any JSON", () => {
    expect(parseCodexLine("Reading additional input from stdin...")).toEqual([]);
    expect(parseCodexLine("[1,2]")).toEqual([]);
    expect(parseCodexLine('"text"')).toEqual([]);
    fc.assert(
      fc.property(fc.jsonValue(), fc.constantFrom("item.started", "item.completed", "turn.completed", "turn.failed", "error", "x"), (value, type) => {
        const line = JSON.stringify(value && typeof value === "object" && !Array.isArray(value) ? { ...value, type } : value);
        const item = JSON.stringify({ type, item: value, usage: value, error: value, message: value });
        expect(() => parseCodexLine(line)).not.toThrow();
        expect(() => parseCodexLine(item)).not.toThrow();
      }),
      { numRuns: 300 },
    );
  });
});
