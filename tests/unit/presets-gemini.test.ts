/**
 * The gemini preset's command line, its per-run settings and its parser, on the stream the real
 * Gemini CLI 0.61.0 printed (tests/fixtures/agent-streams/gemini-cli-0.61.0.jsonl): run offline as
 * an unprivileged user with the preset's command line and settings, GOOGLE_GEMINI_BASE_URL pointing
 * at a scripted stand-in of the Gemini API (streamGenerateContent, server-sent events), model
 * gemini-2.5-pro, the model scripting a commit through its shell tool, gt mcp's gt_prime (which
 * reached a stand-in rig room with the run's token), a command that fails, and a last message
 * streamed in two pieces. A mail the stand-in room held for the agent reached the model once, in the
 * request after the first tool call, through the preset's AfterTool hook (`gt mail check --inject`). It took 13-17 s here: the stream is kept rather than run in every `npm test`.
 */
import fc from "fast-check";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { gemini, GeminiRun } from "../../container/presets/gemini.ts";
import { EventLines } from "../../container/presets/lines.ts";
import type { RunSpec } from "../../container/presets/types.ts";

const stream = readFileSync(new URL("../fixtures/agent-streams/gemini-cli-0.61.0.jsonl", import.meta.url), "utf8")
  .split("\n")
  .filter(Boolean);

const spec: RunSpec = {
  cwd: "/rigs/alpha/polecats/toast",
  home: "/rigs/alpha/home",
  tmpDir: "/rigs/alpha/tmp",
  runDir: "/rigs/alpha/runs/toast",
  prompt: "-You are polecat toast.\nYour bead: add hello.txt.",
  model: "gemini-2.5-pro",
  gt: "/opt/townhall/container/bin/gt",
  gtEnv: { GT_HOST: "127.0.0.1:1999", GT_TOKEN: "secret-token-value", GT_RIG: "alpha" },
};

describe("gemini preset: its command line and settings", () => {
  it("runs gemini headless in yolo mode with stream-json, gt as its only MCP server, the model, and the prompt as one --prompt= argument", () => {
    const launch = gemini.launch(spec, "/usr/local/bin/gemini");
    expect(launch.file).toBe("/usr/local/bin/gemini");
    expect(launch.args).toEqual([
      "--approval-mode",
      "yolo",
      "--output-format",
      "stream-json",
      "--allowed-mcp-server-names",
      "gt",
      "-m",
      "gemini-2.5-pro",
      `--prompt=${spec.prompt}`,
    ]);
    expect(launch.env).toEqual({ GEMINI_CLI_HOME: "/rigs/alpha/runs/toast", GEMINI_CLI_TRUST_WORKSPACE: "true" });
    expect(gemini.launch({ ...spec, model: null }, "/bin/gemini").args).not.toContain("-m");
  });

  it("writes the run's settings into its own Gemini home: gt mcp with the GT_* variables by name, never their values", () => {
    const launch = gemini.launch(spec, "/usr/local/bin/gemini");
    expect(launch.files.map((f) => f.path)).toEqual(["/rigs/alpha/runs/toast/.gemini/settings.json"]);
    const settings = JSON.parse(launch.files[0]!.content);
    expect(settings.mcpServers).toEqual({
      gt: {
        command: "/opt/townhall/container/bin/gt",
        args: ["mcp"],
        env: { GT_HOST: "$GT_HOST", GT_TOKEN: "$GT_TOKEN", GT_RIG: "$GT_RIG" },
        trust: true,
        timeout: 600_000,
      },
    });
    // After each tool call, its hook puts new mail and the witness's nudge in front of the model (with the tool's result).
    expect(settings.hooks).toEqual({
      AfterTool: [{ matcher: "*", hooks: [{ type: "command", command: "/opt/townhall/container/bin/gt mail check --inject AfterTool" }] }],
    });
    expect(settings.security.auth.selectedType).toBe("gemini-api-key");
    expect(settings.general.enableAutoUpdate).toBe(false);
    expect(JSON.stringify(launch)).not.toContain("secret-token-value");
  });
});

describe("gemini preset: its parser", () => {
  it("reads the recorded run: its tool calls and results, the message joined from its pieces, and the usage of the result", () => {
    const parse = gemini.runParser!({ model: null });
    const events = stream.flatMap((line) => parse(line)).filter((e) => e.kind !== "progress");
    expect(events).toEqual([
      {
        kind: "tool",
        name: "run_shell_command",
        input: "echo hello > hello.txt && git add hello.txt && git commit -q -m 'Add hello' && echo committed",
        id: expect.stringMatching(/^run_shell_command__/),
      },
      { kind: "tool_result", ok: true, id: expect.stringMatching(/^run_shell_command__/) },
      { kind: "tool", name: "mcp_gt_gt_prime", input: "", id: expect.stringMatching(/^mcp_gt_gt_prime__/) },
      { kind: "tool_result", ok: true, id: expect.stringMatching(/^mcp_gt_gt_prime__/) },
      // Gemini's shell tool succeeds whatever the command's exit code, and its event says none.
      { kind: "tool", name: "run_shell_command", input: "cat no-such-file", id: expect.stringMatching(/^run_shell_command__/) },
      { kind: "tool_result", ok: true, id: expect.stringMatching(/^run_shell_command__/) },
      { kind: "text", text: "Committed hello.txt." },
      // Four calls of 1000 prompt tokens (200 cached) and 50 output tokens; the model named by the stats.
      {
        kind: "result",
        ok: true,
        usage: { model: "gemini-2.5-pro", turns: null, inputTokens: 3200, outputTokens: 200, cacheReadTokens: 800, cacheWriteTokens: 0, costUsd: null },
      },
    ]);
    expect(stream.every((line) => parse(line).length > 0)).toBe(true);
  });

  it("shows the recorded run as lines people read", () => {
    const parse = new GeminiRun(null).line;
    expect(new EventLines().lines(stream.flatMap((line) => parse(line))).map((l) => l.text)).toEqual([
      "→ run_shell_command: echo hello > hello.txt && git add hello.txt && git commit -q -m 'Add hello' && echo committed",
      "← run_shell_command: ok",
      "→ mcp_gt_gt_prime",
      "← mcp_gt_gt_prime: ok",
      "→ run_shell_command: cat no-such-file",
      "← run_shell_command: ok",
      "Committed hello.txt.",
      "result: done (gemini-2.5-pro, 3,200 in / 200 out tokens (cache 800 read, 0 written), cost unknown)",
    ]);
  });

  it("reads a failed tool, a warning and a failed run (as Gemini writes them when the API refuses it)", () => {
    const parse = new GeminiRun("gemini-2.5-flash").line;
    expect(
      parse(
        JSON.stringify({
          type: "tool_result",
          tool_id: "t1",
          status: "error",
          output: "File not found",
          error: { type: "FILE_NOT_FOUND", message: "File not found: /x" },
        }),
      ),
    ).toEqual([{ kind: "tool_result", ok: false, id: "t1", text: "File not found: /x" }]);
    expect(parse(JSON.stringify({ type: "error", severity: "warning", message: "Loop detected, stopping execution" }))).toEqual([
      { kind: "error", text: "warning: Loop detected, stopping execution" },
    ]);
    parse(JSON.stringify({ type: "message", role: "assistant", content: "Let me", delta: true }));
    expect(
      parse(
        JSON.stringify({
          type: "result",
          status: "error",
          error: { type: "Error", message: "[API Error: API key not valid.]" },
          stats: { total_tokens: 0, input_tokens: 0, output_tokens: 0, cached: 0, input: 0, duration_ms: 0, tool_calls: 0, models: {} },
        }),
      ),
    ).toEqual([
      { kind: "text", text: "Let me" },
      {
        kind: "result",
        ok: false,
        text: "[API Error: API key not valid.]",
        usage: { model: "gemini-2.5-flash", turns: null, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, costUsd: null },
      },
    ]);
  });

  it("alone, a line's text piece is shown as it came", () => {
    expect(gemini.parse(JSON.stringify({ type: "message", role: "assistant", content: "Committed ", delta: true }))).toEqual([
      { kind: "text", text: "Committed " },
    ]);
    expect(gemini.parse(JSON.stringify({ type: "message", role: "user", content: "the prompt" }))).toEqual([{ kind: "progress" }]);
  });

  it("ignores what is not one of its events and never throws on any JSON", () => {
    expect(gemini.parse("YOLO mode is enabled. All tool calls will be automatically approved.")).toEqual([]);
    fc.assert(
      fc.property(fc.jsonValue(), fc.constantFrom("init", "message", "tool_use", "tool_result", "error", "result"), (value, type) => {
        const run = new GeminiRun(null);
        expect(() => run.line(JSON.stringify({ type, role: "assistant", delta: true, content: value }))).not.toThrow();
        expect(() => run.line(JSON.stringify({ type, stats: value, error: value, parameters: value, model: value }))).not.toThrow();
        expect(() => run.line(JSON.stringify({ type, stats: { models: value, input: value, cached: value } }))).not.toThrow();
      }),
      { numRuns: 300 },
    );
  });
});
