/**
 * The claude preset on what the real CLI wrote: tests/fixtures/claude-code-2.1.337.stream.jsonl is
 * the stdout of Claude Code 2.1.337 (`-p … --output-format stream-json --verbose
 * --include-partial-messages`), run as an unprivileged user against the Anthropic stand-in
 * (tests/helpers/anthropic-stand-in.ts) with three scripted turns: a text and a Bash call whose
 * output is 9 KB (its tool_result line is over 18 KB), a Bash call that fails, a closing text.
 * Also the run's files (MCP config, settings with hooks) and its command line.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LIMITS } from "../../party/protocol.ts";
import { OutputShipper, type OutputBatch } from "../../container/output-shipper.ts";
import { claude, usageOfResult } from "../../container/presets/claude.ts";
import { PresetStream, usageLine } from "../../container/presets/lines.ts";
import { priced } from "../../container/presets/prices.ts";
import type { RunSpec } from "../../container/presets/types.ts";

const STREAM = readFileSync(join(import.meta.dirname, "../fixtures/claude-code-2.1.337.stream.jsonl"), "utf8");
const LINES = STREAM.split("\n").filter(Boolean);

const shown = (stream: PresetStream, lines: readonly string[]) => lines.flatMap((line) => stream.line(line));

describe("claude's stream-json, as the real CLI wrote it", () => {
  it("becomes the lines people read: text, each tool with a short input, whether it succeeded, the result with its usage", () => {
    const stream = new PresetStream(claude);
    const lines = shown(stream, LINES);
    expect(lines.map((l) => [l.kind, l.ok ?? null, l.text.slice(0, 40)])).toEqual([
      ["text", null, "Let me look."],
      ["tool", null, "→ Bash: echo hello > a.txt && git add a."],
      ["tool_result", true, "← Bash: ok"],
      ["tool", null, "→ Bash: exit 3"],
      ["tool_result", false, "← Bash failed: Exit code 3"],
      ["text", null, "Done: committed a.txt."],
      ["result", true, expect.stringMatching(/^result: done \(claude-sonnet-4-5, 3 turns/)],
    ]);
    // Every line of it was one of its events (stream_event and system lines show nothing, and are progress).
    expect(stream.events).toBe(LINES.length);
  });

  it("its result's usage: tokens, turns, model and the CLI's own cost", () => {
    const stream = new PresetStream(claude);
    shown(stream, LINES);
    expect(stream.usage).toEqual({
      model: "claude-sonnet-4-5",
      turns: 3,
      inputTokens: 1434,
      outputTokens: 96,
      cacheReadTokens: 700,
      cacheWriteTokens: 80,
      costUsd: 0.006252000000000001,
    });
    expect(usageLine(stream.usage!)).toBe("claude-sonnet-4-5, 3 turns, 1,434 in / 96 out tokens (cache 700 read, 80 written), $0.0063");
  });

  it("a cost the CLI only guessed (a model it does not know) is none, and the operator's prices give it", () => {
    const result = JSON.parse(LINES.at(-1)!) as Record<string, unknown>;
    const models = result.modelUsage as Record<string, Record<string, unknown>>;
    models["claude-sonnet-4-5"]!.costBasis = "unknown";
    const usage = usageOfResult(result);
    expect(usage.costUsd).toBeNull();
    expect(priced(usage, { "claude-sonnet-4-5": { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 } }).costUsd).toBeCloseTo(
      (1434 * 3 + 96 * 15 + 700 * 0.3 + 80 * 3.75) / 1e6,
      10,
    );
    expect(priced(usage, { other: { input: 1, output: 1 } }).costUsd).toBeNull();
  });

  it("a line that is not one of its events is shown as it is; a blank one not at all; a broken one never throws", () => {
    const stream = new PresetStream(claude);
    expect(stream.line("npm warn something")).toEqual([{ stream: "out", text: "npm warn something" }]);
    expect(stream.line("   ")).toEqual([]);
    expect(stream.line('{"type":"assistant","message":{"content":[{"type":"tool_use"}]}}')).toEqual([{ stream: "out", text: "→ tool", kind: "tool" }]);
    expect(stream.line('{"type":"result","subtype":"error_max_turns","is_error":true,"errors":["too many turns"]}')[0]).toMatchObject({
      kind: "result",
      ok: false,
      stream: "err",
      text: expect.stringContaining("too many turns"),
    });
    expect(stream.events).toBe(2);
  });
});

describe("a preset's stdout through the output path", () => {
  async function shipped(parse: boolean, chunkBytes: number): Promise<OutputBatch["lines"]> {
    const sent: OutputBatch[] = [];
    const shipper = new OutputShipper({ send: async (b) => void sent.push(b), classify: () => "drop", connected: () => true, log: () => {}, flushMs: 1 });
    const stream = new PresetStream(claude);
    const run = shipper.open({ epoch: 1, run: "R.1", identity: "a/polecats/x" }, [], parse ? (line) => stream.line(line) : undefined);
    const bytes = Buffer.from(STREAM);
    for (let at = 0; at < bytes.length; at += chunkBytes) run.chunk("out", bytes.subarray(at, at + chunkBytes));
    run.end();
    await shipper.drain(undefined, 2_000);
    shipper.close();
    return sent.flatMap((b) => b.lines);
  }

  it("parses each line whole, however the reads split it, so an 18 KB event is read (it would be cut at 4 KiB otherwise)", async () => {
    expect(LINES.some((l) => Buffer.byteLength(l) > 4 * LIMITS.outputLineBytes)).toBe(true);
    const lines = await shipped(true, 1000);
    expect(lines.map((l) => l.kind)).toEqual(["text", "tool", "tool_result", "tool", "tool_result", "text", "result"]);
    expect(lines[2]).toMatchObject({ ok: true, text: "← Bash: ok" });
    // Without the parser the same stream is raw JSON, and its long line is cut.
    const raw = await shipped(false, 1000);
    expect(raw).toHaveLength(LINES.length);
    expect(raw.every((l) => Buffer.byteLength(l.text) <= LIMITS.outputLineBytes && l.kind === undefined)).toBe(true);
  });
});

describe("a key in a parsed line", () => {
  it("is redacted by value, in any form, before the line leaves (the run's keys are in its secret values)", async () => {
    const key = "Quiet-unit-test-key-q0w9e8r7";
    const sent: OutputBatch[] = [];
    const shipper = new OutputShipper({ send: async (b) => void sent.push(b), classify: () => "drop", connected: () => true, log: () => {}, flushMs: 1 });
    const stream = new PresetStream(claude);
    const run = shipper.open({ epoch: 1, run: "R.1", identity: "a/polecats/x" }, ["token-value-123456", key], (line) => stream.line(line));
    const failed = { type: "user", message: { content: [{ type: "tool_result", is_error: true, content: `leak: ${Buffer.from(key).toString("base64")}` }] } };
    const said = { type: "assistant", message: { content: [{ type: "text", text: `my key is ${key}` }] } };
    run.chunk("out", Buffer.from(`${JSON.stringify(failed)}\n${JSON.stringify(said)}\n`));
    await shipper.drain(undefined, 2_000);
    shipper.close();
    const lines = sent.flatMap((b) => b.lines);
    expect(lines.map((l) => l.kind)).toEqual(["tool_result", "text"]);
    for (const line of lines) {
      expect(line.text).toContain("[redacted]");
      expect(line.text).not.toContain("unit-test-key");
      expect(line.text).not.toContain(Buffer.from(key).toString("base64").slice(4, 20));
    }
  });
});

describe("one run's command and files", () => {
  const spec: RunSpec = {
    cwd: "/w/rigs/R/worktrees/toast",
    home: "/w/rigs/R/home",
    tmpDir: "/w/rigs/R/tmp",
    runDir: "/w/rigs/R/runs/toast",
    prompt: "-You are alpha/polecats/toast. Your hooked bead …",
    model: "claude-opus-4-1",
    gt: "/opt/townhall/container/bin/gt",
    gtEnv: { GT_TOKEN: "eyJ.the-token.sig", GT_RIG: "alpha", GT_RIG_ID: "01J0000000000000000000000", PATH: "/usr/bin:/bin" },
  };
  const launch = claude.launch(spec, "/usr/local/bin/claude");
  const file = (name: string) => JSON.parse(launch.files.find((f) => f.path === join(spec.runDir, name))!.content);

  it("runs the CLI unattended: print mode, no permission prompt, stream-json, the run's MCP config and settings, the model; the prompt last, after --", () => {
    expect(launch.file).toBe("/usr/local/bin/claude");
    expect(launch.args.slice(0, 2)).toEqual(["-p", "--dangerously-skip-permissions"]);
    expect(launch.args).toEqual(expect.arrayContaining(["--output-format", "stream-json", "--verbose", "--strict-mcp-config"]));
    expect(launch.args[launch.args.indexOf("--mcp-config") + 1]).toBe(join(spec.runDir, "mcp.json"));
    expect(launch.args[launch.args.indexOf("--settings") + 1]).toBe(join(spec.runDir, "settings.json"));
    expect(launch.args[launch.args.indexOf("--model") + 1]).toBe("claude-opus-4-1");
    expect(launch.args.slice(-2)).toEqual(["--", spec.prompt]);
    expect(claude.launch({ ...spec, model: null }, "/c").args).not.toContain("--model");
  });

  it("keeps to the bead's work: no updater, no non-essential traffic", () => {
    expect(launch.env).toEqual({ DISABLE_AUTOUPDATER: "1", CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1" });
  });

  it("registers gt mcp with the GT_* variables named one by one, for the CLI to expand: no token is written to disk", () => {
    expect(file("mcp.json")).toEqual({
      mcpServers: {
        gt: {
          type: "stdio",
          command: spec.gt,
          args: ["mcp"],
          env: { GT_TOKEN: "${GT_TOKEN}", GT_RIG: "${GT_RIG}", GT_RIG_ID: "${GT_RIG_ID}", PATH: "${PATH}" },
        },
      },
    });
    for (const f of launch.files) expect(f.content).not.toContain("the-token");
    expect(launch.args.join(" ")).not.toContain("the-token");
  });

  it("its settings: its own sandbox off, and after every tool call (failed or not) a hook that injects new mail and the witness's nudge", () => {
    const settings = file("settings.json");
    expect(settings.sandbox).toEqual({ enabled: false });
    for (const event of ["PostToolUse", "PostToolUseFailure"])
      expect(settings.hooks[event]).toEqual([{ matcher: "*", hooks: [{ type: "command", command: `${spec.gt} mail check --inject ${event}`, timeout: 30 }] }]);
  });
});
