/**
 * docs/protocol.md is the contract: every tool, event type, close code and error code that
 * party/protocol.ts defines is documented there, in its own section, and everything those sections
 * list exists in the code (with the HTTP status the code gives it).
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { CLOSE, ERROR_STATUS, EVENT_TYPES, rigToolArgs, serverFrame, townToolArgs } from "../../party/protocol.ts";
import { sectionOf } from "../helpers/markdown.ts";

const DOC = readFileSync(resolve(import.meta.dirname, "../../docs/protocol.md"), "utf8");

/** The text of one `## ` section of the doc, up to the next. */
const section = (title: string): string => sectionOf(DOC, title, "docs/protocol.md");

/** The first cells of a section's table rows: `| \`gt_x\` (operator) | …` → gt_x. */
function firstCells(text: string): string[] {
  return [...text.matchAll(/^\|\s*([^|]*?)\s*\|/gm)].map((m) => m[1]!).filter((cell) => !/^-+$/.test(cell) && cell !== "tool" && cell !== "code");
}

/** Tools that exist only with GT_TEST_HOOKS=1 (party/rig/tools.ts), documented with the rig's tools. */
const TEST_TOOLS = ["gt_test_fault", "gt_test_storage"];

describe("docs/protocol.md documents the protocol", () => {
  it("lists every town tool in the town table and every rig tool in the rig table, and nothing else", () => {
    const tools = (title: string) => firstCells(section(title)).map((cell) => cell.match(/^`(gt_[a-z_]+)`/)?.[1] ?? `not a tool: ${cell}`);
    expect(tools("Town room tools").sort()).toEqual(Object.keys(townToolArgs).sort());
    expect(tools("Rig room tools").sort()).toEqual([...Object.keys(rigToolArgs), ...TEST_TOOLS].sort());
  });

  it("documents every event type a socket may be sent", () => {
    const transport = section("Transport");
    expect(EVENT_TYPES.filter((event) => !transport.includes(`"event":"${event}"`))).toEqual([]);
  });

  it("documents the witness's nudge a tool call's reply may carry (socket and HTTP), with every field of Nudge", () => {
    const transport = section("Transport");
    const fields = serverFrame.options.flatMap((option) => {
      const nudge = "nudge" in option.shape ? option.shape.nudge : undefined;
      return nudge ? Object.keys(nudge.unwrap().shape) : [];
    });
    expect(new Set(fields)).toEqual(new Set(["from", "at", "subject", "body"]));
    expect(transport).toContain(`"nudge":{${[...new Set(fields)].map((f) => `"${f}"`).join(",")}}`);
    expect(transport).toMatch(/Tool call over HTTP[^]*"nudge"/);
    expect(transport).not.toMatch(/nudge is mail/);
    const witness = section("Work: dispatch, the lease, the refinery, the witness");
    expect(witness).toMatch(/The witness's nudge\*\* is never mail/);
    for (const field of new Set(fields)) expect(witness).toContain(`"${field}":`);
  });

  it("lists every close code in the close-code table, and only those", () => {
    const documented = firstCells(section("Close codes")).map(Number);
    expect(Object.values(CLOSE).filter((code) => !documented.includes(code))).toEqual([]);
    expect(documented.filter((code) => !(Object.values(CLOSE) as number[]).includes(code))).toEqual([]);
  });

  it("lists every error code in the error table with its HTTP status, and only those", () => {
    const rows = [...section("Errors").matchAll(/^\|\s*(`[A-Z_]+`(?:\s*\/\s*`[A-Z_]+`)*)\s*\|\s*(\d{3})\s*\|/gm)];
    const documented = new Map(rows.flatMap((m) => [...m[1]!.matchAll(/`([A-Z_]+)`/g)].map((c) => [c[1]!, Number(m[2])] as const)));
    expect(Object.keys(ERROR_STATUS).filter((code) => !documented.has(code))).toEqual([]);
    expect([...documented].filter(([code, status]) => ERROR_STATUS[code as keyof typeof ERROR_STATUS] !== status)).toEqual([]);
  });

  it("finds what it looks for (the check itself)", () => {
    expect(firstCells("| tool | who |\n| --- | --- |\n| `gt_prime` | agent |\n")).toEqual(["`gt_prime`"]);
    expect(() => section("No such section")).toThrow();
    expect(section("Close codes")).toContain("| 4401 |");
  });
});
