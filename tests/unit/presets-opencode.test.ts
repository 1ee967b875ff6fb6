/**
 * The opencode preset's command line, its per-run config and its parser, on the stream the real
 * opencode 1.18.33 printed (tests/fixtures/agent-streams/opencode-1.18.33.jsonl): run offline as an
 * unprivileged user with the preset's command line and config, its `openai` provider pointed at
 * the Responses stand-in (tests/helpers/openai-stand-in.ts) by the user's config, model
 * openai/gpt-5, the model scripting a commit through its shell tool, gt mcp's gt_prime (which
 * reached a stand-in rig room with the run's token), a command that fails, and a last message.
 * It took 39 s on this machine, too long for every `npm test`: the stream is kept instead.
 */
import fc from "fast-check";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { EventLines } from "../../container/presets/lines.ts";
import { opencode, OpencodeRun } from "../../container/presets/opencode.ts";
import type { RunSpec } from "../../container/presets/types.ts";

const stream = readFileSync(new URL("../fixtures/agent-streams/opencode-1.18.33.jsonl", import.meta.url), "utf8")
  .split("\n")
  .filter(Boolean);

const spec: RunSpec = {
  cwd: "/rigs/alpha/polecats/toast",
  home: "/rigs/alpha/home",
  tmpDir: "/rigs/alpha/tmp",
  runDir: "/rigs/alpha/runs/toast",
  prompt: "You are polecat toast.\nYour bead: add hello.txt.",
  model: "anthropic/claude-sonnet-4-5",
  gt: "/opt/townhall/container/bin/gt",
  gtEnv: { GT_HOST: "127.0.0.1:1999", GT_TOKEN: "secret-token-value", GT_RIG: "alpha" },
};

describe("opencode preset: its command line and config", () => {
  it("runs opencode run with JSON events, every permission allowed, the provider/model, and the prompt last after --", () => {
    const launch = opencode.launch(spec, "/usr/local/bin/opencode");
    expect(launch.file).toBe("/usr/local/bin/opencode");
    expect(launch.args).toEqual(["run", "--format", "json", "--auto", "-m", "anthropic/claude-sonnet-4-5", "--", spec.prompt]);
    expect(launch.env).toEqual({
      OPENCODE_CONFIG: "/rigs/alpha/runs/toast/opencode.json",
      OPENCODE_PERMISSION: '{"*":"allow"}',
      OPENCODE_DISABLE_AUTOUPDATE: "1",
    });
    expect(opencode.launch({ ...spec, model: null }, "/bin/opencode").args).toEqual(["run", "--format", "json", "--auto", "--", spec.prompt]);
  });

  it("registers gt mcp in the run's config with the GT_* variables by name, never their values", () => {
    const launch = opencode.launch(spec, "/usr/local/bin/opencode");
    expect(launch.files.map((f) => f.path)).toEqual(["/rigs/alpha/runs/toast/opencode.json"]);
    const config = JSON.parse(launch.files[0]!.content);
    expect(config.mcp).toEqual({
      gt: {
        type: "local",
        command: ["/opt/townhall/container/bin/gt", "mcp"],
        environment: { GT_HOST: "{env:GT_HOST}", GT_TOKEN: "{env:GT_TOKEN}", GT_RIG: "{env:GT_RIG}" },
        enabled: true,
        timeout: 30_000,
      },
    });
    expect(config.share).toBe("disabled");
    expect(config.autoupdate).toBe(false);
    expect(config.snapshot).toBe(false);
    expect(JSON.stringify(launch)).not.toContain("secret-token-value");
  });
});

describe("opencode preset: its parser", () => {
  it("reads the recorded run: its tool calls with whether each succeeded (a shell command's exit code counts), the message, and the summed usage and cost of its steps", () => {
    const parse = opencode.runParser!({ model: "openai/gpt-5" });
    const events = stream.flatMap((line) => parse(line)).filter((e) => e.kind !== "progress");
    expect(events).toEqual([
      { kind: "tool", name: "bash", input: "echo hello > hello.txt && git add hello.txt && git commit -q -m 'Add hello' && echo committed", id: "call_2_0" },
      { kind: "tool_result", ok: true, id: "call_2_0" },
      { kind: "tool", name: "gt_gt_prime", input: "", id: "call_3_0" },
      { kind: "tool_result", ok: true, id: "call_3_0" },
      { kind: "tool", name: "bash", input: "cat no-such-file", id: "call_4_0" },
      { kind: "tool_result", ok: false, id: "call_4_0", text: "exit 1: cat: no-such-file: No such file or directory\n" },
      { kind: "text", text: "Committed hello.txt." },
      // Four steps of 1000 input tokens (200 cached) and 50 output (10 of them reasoning), priced by opencode's catalog.
      {
        kind: "result",
        ok: true,
        usage: { model: "openai/gpt-5", turns: 4, inputTokens: 3200, outputTokens: 200, cacheReadTokens: 800, cacheWriteTokens: 0, costUsd: 0.0061 },
      },
    ]);
    expect(stream.every((line) => parse(line).length > 0)).toBe(true);
  });

  it("shows the recorded run as lines people read", () => {
    const parse = new OpencodeRun("openai/gpt-5").line;
    expect(new EventLines().lines(stream.flatMap((line) => parse(line))).map((l) => l.text)).toEqual([
      "→ bash: echo hello > hello.txt && git add hello.txt && git commit -q -m 'Add hello' && echo committed",
      "← bash: ok",
      "→ gt_gt_prime",
      "← gt_gt_prime: ok",
      "→ bash: cat no-such-file",
      "← bash failed: exit 1: cat: no-such-file: No such file or directory",
      "Committed hello.txt.",
      "result: done (openai/gpt-5, 4 turns, 3,200 in / 200 out tokens (cache 800 read, 0 written), $0.0061)",
    ]);
  });

  it("ends a run on opencode's error event with what it used so far, and a step cut by its length is a failed result", () => {
    const parse = new OpencodeRun("openai/gpt-5").line;
    parse(
      JSON.stringify({
        type: "step_finish",
        part: { type: "step-finish", reason: "tool-calls", tokens: { input: 10, output: 5, reasoning: 0, cache: { read: 0, write: 0 } }, cost: 0 },
      }),
    );
    expect(parse(JSON.stringify({ type: "error", error: { name: "APIError", data: { message: "Invalid API key", statusCode: 401 } } }))).toEqual([
      { kind: "error", text: "Invalid API key" },
      {
        kind: "result",
        ok: false,
        text: "Invalid API key",
        usage: { model: "openai/gpt-5", turns: 1, inputTokens: 10, outputTokens: 5, cacheReadTokens: 0, cacheWriteTokens: 0, costUsd: null },
      },
    ]);
    const cut = new OpencodeRun(null).line(JSON.stringify({ type: "step_finish", part: { reason: "length", tokens: { input: 1, output: 2 } } }));
    expect(cut).toMatchObject([{ kind: "result", ok: false, text: "stopped: length" }]);
  });

  it("a failed tool (its state error) is a failed call with opencode's message", () => {
    expect(
      new OpencodeRun(null).line(
        JSON.stringify({
          type: "tool_use",
          part: { tool: "read", callID: "c9", state: { status: "error", input: { filePath: "/x" }, error: "File not found: /x" } },
        }),
      ),
    ).toEqual([
      { kind: "tool", name: "read", input: "/x", id: "c9" },
      { kind: "tool_result", ok: false, id: "c9", text: "File not found: /x" },
    ]);
  });

  it("ignores what is not one of its events and never throws on any JSON", () => {
    expect(opencode.parse("INFO something")).toEqual([]);
    fc.assert(
      fc.property(fc.jsonValue(), fc.constantFrom("text", "tool_use", "step_finish", "error", "step_start"), (value, type) => {
        const run = new OpencodeRun(null);
        expect(() => run.line(JSON.stringify({ type, part: value, error: value }))).not.toThrow();
        expect(() => run.line(JSON.stringify({ type, part: { state: value, tokens: value, cost: value, reason: value } }))).not.toThrow();
      }),
      { numRuns: 300 },
    );
  });
});
