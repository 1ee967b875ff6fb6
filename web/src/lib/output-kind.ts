/**
 * How a parsed output line (a preset runtime's event, OutputLine.kind) is shown: a chip that says
 * what it is (the tool's name, "error", "result") and the rest of its text, and whether it marks a
 * failure. The container writes these lines as "→ Bash: git commit …", "← Bash: ok",
 * "← Bash failed: …", "error: …", "result: done (…)"; the chip takes the part the text repeats. A
 * line in another shape keeps its whole text under its kind's chip. Plain lines (no kind) get none.
 */
import type { OutputLine } from "../../../party/protocol.ts";

export type LineShape = { chip: string | null; text: string; failed: boolean };

export function lineShape(line: Pick<OutputLine, "text" | "kind" | "ok">): LineShape {
  const text = line.text;
  switch (line.kind) {
    case "tool": {
      const m = text.match(/^→\s*([^:\s]+)(?::\s?(.*))?$/s);
      return m ? { chip: m[1]!, text: m[2] ?? "", failed: false } : { chip: "tool", text, failed: false };
    }
    case "tool_result": {
      const failed = line.ok === false;
      const m = text.match(/^←\s*([^:\s]+)(?::\s?ok$|\s+failed(?::\s?(.*))?$)/s);
      if (!m) return { chip: failed ? "failed" : "ok", text, failed };
      return { chip: m[1]!, text: failed ? `failed${m[2] ? `: ${m[2]}` : ""}` : "ok", failed };
    }
    case "error":
      return { chip: "error", text: text.replace(/^error:\s?/, ""), failed: true };
    case "result":
      return { chip: "result", text: text.replace(/^result:\s?/, ""), failed: line.ok === false };
    default:
      return { chip: null, text, failed: false };
  }
}
