/** Parsed output lines as the agent page and the bead's runs show them (web/src/lib/output-kind.ts). */
import { describe, expect, it } from "vitest";
import { lineShape } from "../../web/src/lib/output-kind.ts";

describe("lineShape", () => {
  it("shows a tool call as its tool's chip and its short input", () => {
    expect(lineShape({ kind: "tool", text: "→ Bash: git commit -am 'Add login'" })).toEqual({
      chip: "Bash",
      text: "git commit -am 'Add login'",
      failed: false,
    });
    expect(lineShape({ kind: "tool", text: "→ mcp__gt__gt_done" })).toEqual({ chip: "mcp__gt__gt_done", text: "", failed: false });
  });

  it("marks a tool's failure, and says a success in one word", () => {
    expect(lineShape({ kind: "tool_result", ok: true, text: "← Bash: ok" })).toEqual({ chip: "Bash", text: "ok", failed: false });
    expect(lineShape({ kind: "tool_result", ok: false, text: "← Bash failed: exit 1 ⏎ fatal: not a git repository" })).toEqual({
      chip: "Bash",
      text: "failed: exit 1 ⏎ fatal: not a git repository",
      failed: true,
    });
    expect(lineShape({ kind: "tool_result", ok: false, text: "← Edit failed" })).toEqual({ chip: "Edit", text: "failed", failed: true });
  });

  it("shows errors and the final result under their own chips", () => {
    expect(lineShape({ kind: "error", text: "error: rate limited" })).toEqual({ chip: "error", text: "rate limited", failed: true });
    expect(lineShape({ kind: "result", ok: true, text: "result: done (claude-sonnet-4-5, 3 turns, $0.0123)" })).toEqual({
      chip: "result",
      text: "done (claude-sonnet-4-5, 3 turns, $0.0123)",
      failed: false,
    });
    expect(lineShape({ kind: "result", ok: false, text: "result: failed: max turns" })).toMatchObject({ chip: "result", failed: true });
  });

  it("keeps a line of another shape whole, and plain lines without a chip", () => {
    expect(lineShape({ kind: "tool", text: "Bash(ls)" })).toEqual({ chip: "tool", text: "Bash(ls)", failed: false });
    expect(lineShape({ kind: "tool_result", ok: false, text: "boom" })).toEqual({ chip: "failed", text: "boom", failed: true });
    expect(lineShape({ kind: "text", text: "I will add the endpoint." })).toEqual({ chip: null, text: "I will add the endpoint.", failed: false });
    expect(lineShape({ text: '{"type":"system"}' })).toEqual({ chip: null, text: '{"type":"system"}', failed: false });
  });
});
