/** The dashboard's handling of agent output: control sequences stripped, a tail that never duplicates or grows past its cap. */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { cleanLine, MAX_SHOWN_CHARS, splitMatches } from "../../web/src/lib/terminal-text.ts";
import { applyFrame, emptyTail, parseLogResult, parseOutputFrame, type Tail } from "../../web/src/lib/output-tail.ts";
import type { OutputLine, RunInfo } from "../../party/protocol.ts";

describe("cleanLine", () => {
  it("removes colours, cursor moves, window titles and hyperlinks, keeping the text", () => {
    expect(cleanLine("\u001b[1;31mFAIL\u001b[0m src/a.test.ts")).toBe("FAIL src/a.test.ts");
    expect(cleanLine("\u001b[2K\u001b[1Gdone")).toBe("done");
    expect(cleanLine("\u001b]0;owned title\u0007visible")).toBe("visible");
    expect(cleanLine("\u001b]8;;https://evil.example\u001b\\click\u001b]8;;\u001b\\")).toBe("click");
    expect(cleanLine("\u009b31mred")).toBe("red");
  });

  it("keeps a progress bar's last redraw and drops other control characters, but not tabs", () => {
    expect(cleanLine("10%\r50%\r100%")).toBe("100%");
    expect(cleanLine("100%\r")).toBe("100%");
    expect(cleanLine("a\tb\u0007\u0008c\u007f")).toBe("a\tbc");
  });

  it("writes out bidirectional overrides and zero-width characters, which would reorder or hide what the operator reads", () => {
    expect(cleanLine("access\u202e\u2066 granted\u2069")).toBe("access⟨U+202E⟩⟨U+2066⟩ granted⟨U+2069⟩");
    expect(cleanLine("to\u200bken")).toBe("to⟨U+200B⟩ken");
  });

  it("shortens a very long line", () => {
    expect(cleanLine("x".repeat(MAX_SHOWN_CHARS + 10))).toHaveLength(MAX_SHOWN_CHARS + 1);
  });

  it("never leaves an escape or a C0/C1 control but tab, whatever the input", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom("a", " ", "\t", "\r", "\n", "\u001b", "[", "]", "3", "1", "m", ";", "\u0007", "\\", "\u009b", "\u202e", "é") }),
        (s) => {
          expect(cleanLine(s)).not.toMatch(/[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
        },
      ),
    );
  });
});

describe("splitMatches", () => {
  it("marks every case-insensitive match and joins back to the text", () => {
    const pieces = splitMatches("Error: eRRor again", "error");
    expect(pieces.filter((p) => p.match).map((p) => p.text)).toEqual(["Error", "eRRor"]);
    expect(pieces.map((p) => p.text).join("")).toBe("Error: eRRor again");
  });

  it("joins back to the text for any text and query", () => {
    fc.assert(
      fc.property(fc.string(), fc.string({ minLength: 1, maxLength: 3 }), (text, query) => {
        expect(
          splitMatches(text, query)
            .map((p) => p.text)
            .join(""),
        ).toBe(text);
      }),
    );
  });
});

const run = (id: string, extra: Partial<RunInfo> = {}): RunInfo => ({
  run: id,
  identity: "a/polecats/toast",
  beadId: "B",
  startedAt: 1,
  lines: 0,
  bytes: 0,
  dropped: 0,
  ...extra,
});
const lines = (from: number, to: number): OutputLine[] =>
  Array.from({ length: to - from + 1 }, (_, i) => ({ seq: from + i, at: from + i, stream: "out", text: `line ${from + i}` }));

describe("the output tail", () => {
  it("a reconnect's replay of lines it already has adds nothing", () => {
    let tail: Tail = applyFrame(emptyTail, { type: "output", run: run("R.1"), lines: lines(1, 5) });
    tail = applyFrame(tail, { type: "output", run: run("R.1"), lines: lines(3, 7) });
    expect(tail.lines.map((l) => l.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it("a new run starts a new tail; the end of the same run keeps its lines", () => {
    let tail: Tail = applyFrame(emptyTail, { type: "output", run: run("R.1"), lines: lines(1, 3) });
    tail = applyFrame(tail, { type: "run", run: run("R.1", { endedAt: 5, exit: "exit 4" }) });
    expect(tail.lines).toHaveLength(3);
    expect(tail.run?.exit).toBe("exit 4");
    tail = applyFrame(tail, { type: "run", run: run("R.2") });
    expect(tail.run?.run).toBe("R.2");
    expect(tail.lines).toEqual([]);
  });

  it("never holds more than its cap, keeping the newest lines", () => {
    let tail: Tail = emptyTail;
    for (let i = 0; i < 30; i++) tail = applyFrame(tail, { type: "output", run: run("R.1"), lines: lines(i * 100 + 1, i * 100 + 100) }, 2000);
    expect(tail.lines).toHaveLength(2000);
    expect(tail.lines[0]!.seq).toBe(1001);
    expect(tail.lines.at(-1)!.seq).toBe(3000);
  });

  it("stores lines cleaned of control sequences", () => {
    const tail = applyFrame(emptyTail, { type: "output", run: run("R.1"), lines: [{ seq: 1, at: 1, stream: "err", text: "\u001b[31m<b>boom</b>\u001b[0m" }] });
    expect(tail.lines[0]!.text).toBe("<b>boom</b>");
  });
});

describe("parsing what the room sends", () => {
  it("accepts the contract's frames and refuses anything else", () => {
    expect(parseOutputFrame(JSON.stringify({ type: "output", run: null, lines: [] }))).toEqual({ type: "output", run: null, lines: [] });
    expect(parseOutputFrame(JSON.stringify({ type: "run", run: run("R.1") }))?.type).toBe("run");
    expect(parseOutputFrame("not json")).toBeNull();
    expect(parseOutputFrame(JSON.stringify({ type: "output", run: null, lines: [{ seq: "1", at: 1, stream: "out", text: "x" }] }))).toBeNull();
    expect(parseOutputFrame(JSON.stringify({ type: "output", run: null, lines: [{ seq: 1, at: 1, stream: "html", text: "x" }] }))).toBeNull();
    expect(parseOutputFrame(new ArrayBuffer(4))).toBeNull();
  });

  it("checks a gt_agent_log result and cleans its lines", () => {
    const result = parseLogResult({ run: run("R.1"), runs: [run("R.1")], lines: [{ seq: 1, at: 1, stream: "out", text: "\u001b[1mok" }], next: 1 });
    expect(result?.lines[0]!.text).toBe("ok");
    expect(parseLogResult({ run: null, runs: "none", lines: [], next: 0 })).toBeNull();
    // A bead's read keeps the runs that aged out (the bead page says what is known of them).
    expect(parseLogResult({ run: null, runs: [], lines: [], next: 0, aged: [run("R.1")] })?.aged).toEqual([run("R.1")]);
    expect(parseLogResult({ run: null, runs: [], lines: [], next: 0, aged: "x" })?.aged).toBeUndefined();
  });
});
