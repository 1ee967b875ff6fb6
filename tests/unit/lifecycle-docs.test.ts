/**
 * docs/lifecycle.md is the contract of the work machine: its transition table lists exactly the rows
 * of party/work/table.ts (each machine's, with their rules), every rule a row names is a rule of the
 * page, and every event the machine takes is in the page's table of events.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { TABLES, type Machine, type WorkEventType } from "../../party/work/index.ts";
import { sectionOf } from "../helpers/markdown.ts";

const DOC = readFileSync(resolve(import.meta.dirname, "../../docs/lifecycle.md"), "utf8");

/** The text of one `## ` section of the page, up to the next. */
const section = (title: string): string => sectionOf(DOC, title, "docs/lifecycle.md");

/** A section's `### <machine>` tables as rows `from on to,to rules`. */
function documentedRows(text: string): Map<string, string[]> {
  const machines = new Map<string, string[]>();
  for (const part of text.split("\n### ").slice(1)) {
    const name = part.slice(0, part.indexOf("\n")).trim();
    const rows = [...part.matchAll(/^\|\s*`([a-z_]+)`\s*\|\s*`([a-z_]+)`\s*\|\s*([^|]+?)\s*\|\s*([^|]+?)\s*\|$/gm)].map((m) => {
      const to = [...m[3]!.matchAll(/`([a-z_]+)`/g)].map((t) => t[1]!);
      return `${m[1]} ${m[2]} ${to.join(",")} ${m[4]}`;
    });
    machines.set(name, rows);
  }
  return machines;
}

const coded = (machine: Machine) => TABLES[machine].map(([from, on, to, rules]) => `${from} ${on} ${to.join(",")} ${rules}`);

describe("docs/lifecycle.md documents the work machine", () => {
  it("its transition table lists the rows of party/work/table.ts, machine by machine, and nothing else", () => {
    const documented = documentedRows(section("The transition table"));
    expect([...documented.keys()].sort()).toEqual(Object.keys(TABLES).sort());
    for (const machine of Object.keys(TABLES) as Machine[]) expect(documented.get(machine)?.sort(), machine).toEqual(coded(machine).sort());
  });

  it("every rule a row names is a rule of the page", () => {
    const rules = new Set([...section("The rules").matchAll(/^\*\*(W\d+) — /gm)].map((m) => m[1]!));
    const named = (Object.keys(TABLES) as Machine[]).flatMap((machine) => TABLES[machine].flatMap(([, , , ids]) => ids.split(", ")));
    expect(named.filter((id) => !rules.has(id))).toEqual([]);
    expect(rules.size).toBeGreaterThanOrEqual(22);
  });

  it("lists every event the machine takes in its table of events", () => {
    const events = new Set([...section("Events").matchAll(/^\|\s*`([a-z_]+)`\s*\|/gm)].map((m) => m[1]!));
    const taken = new Set<WorkEventType>((Object.keys(TABLES) as Machine[]).flatMap((machine) => TABLES[machine].map(([, on]) => on)));
    expect([...taken].filter((event) => !events.has(event))).toEqual([]);
    for (const event of ["bead_create", "bead_edit", "agent_register", "escalate", "escalation_update", "clone_reported", "rig_resize", "dispatch"])
      expect(events).toContain(event);
  });

  it("finds what it looks for (the check itself)", () => {
    expect(documentedRows("\n### bead\n\n| from | event | to | rule |\n| --- | --- | --- | --- |\n| `none` | `bead_create` | `open` | W17 |\n")).toEqual(
      new Map([["bead", ["none bead_create open W17"]]]),
    );
    expect(() => section("No such section")).toThrow();
  });
});
