/**
 * A preset run's stdout as the container reads it (container/presets/lines.ts PresetStream), for the
 * presets whose lines must be read together: it parses with the preset's run parser, given the
 * run's model, so the usage it keeps for the run's exit is the whole run's (opencode's steps summed,
 * Codex's with the model the run asked for) and Gemini's text pieces are shown as one line.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { codex } from "../../container/presets/codex.ts";
import { gemini } from "../../container/presets/gemini.ts";
import { PresetStream } from "../../container/presets/lines.ts";
import { opencode } from "../../container/presets/opencode.ts";

const lines = (name: string) =>
  readFileSync(new URL(`../fixtures/agent-streams/${name}`, import.meta.url), "utf8")
    .split("\n")
    .filter(Boolean);

describe("a preset run's stream in the container", () => {
  it("keeps opencode's run usage summed over its steps, with the run's model", () => {
    const stream = new PresetStream(opencode, { model: "openai/gpt-5" });
    for (const line of lines("opencode-1.18.33.jsonl")) stream.line(line);
    expect(stream.usage).toEqual({
      model: "openai/gpt-5",
      turns: 4,
      inputTokens: 3200,
      outputTokens: 200,
      cacheReadTokens: 800,
      cacheWriteTokens: 0,
      costUsd: 0.0061,
    });
  });

  it("keeps Codex's usage with the model the run asked for", () => {
    const stream = new PresetStream(codex, { model: "stand-in-model" });
    for (const line of lines("codex-0.171.0.jsonl")) stream.line(line);
    expect(stream.usage?.model).toBe("stand-in-model");
    expect(stream.usage?.inputTokens).toBe(3200);
  });

  it("prices a run its CLI did not price from the operator's prices, and its result line shows that cost", () => {
    const unpriced = new PresetStream(codex, { model: "stand-in-model" });
    const plain = lines("codex-0.171.0.jsonl").flatMap((line) => unpriced.line(line));
    expect(unpriced.usage?.costUsd).toBeNull();
    expect(plain.find((l) => l.kind === "result")?.text).toContain("cost unknown");

    const stream = new PresetStream(codex, { model: "stand-in-model" }, { "stand-in-model": { input: 1, output: 10 } });
    const shown = lines("codex-0.171.0.jsonl").flatMap((line) => stream.line(line));
    const usage = stream.usage!;
    expect(usage.costUsd).toBeCloseTo((usage.inputTokens + usage.cacheReadTokens + usage.cacheWriteTokens + 10 * usage.outputTokens) / 1_000_000, 8);
    expect(shown.find((l) => l.kind === "result")?.text).toContain(`$${usage.costUsd!.toFixed(4)}`);
  });

  it("shows Gemini's message, streamed in pieces, as one line", () => {
    const stream = new PresetStream(gemini, { model: null });
    const shown = lines("gemini-cli-0.61.0.jsonl").flatMap((line) => stream.line(line).map((l) => l.text));
    expect(shown).toContain("Committed hello.txt.");
    expect(shown).not.toContain("Committed");
    expect(stream.usage?.model).toBe("gemini-2.5-pro");
  });
});
