/**
 * The layers of party/, checked on the import paths as they resolve:
 * - The rooms run from a copy of party/ alone (partykit dev in the tests, the soak and the benches
 *   snapshot it), so party/ must import nothing of the repository outside itself: a relative import
 *   leaving party/ works in the checkout and breaks every snapshot. Folders inside party/ may import
 *   each other and party/'s modules.
 * - The protocol (party/protocol.ts, the one entry, and its parts in party/protocol/) is a leaf: it
 *   imports zod and nothing else, not even of party/, and its parts import each other without a circle.
 * - The work machine (party/work/) is pure: it imports only the protocol (party/protocol.ts or its
 *   parts) and its own modules, no package and nothing else of party/, and its modules are layered
 *   bottom-up with no circle (docs/lifecycle.md).
 * - The rig room (party/rig/) is wiring: its store (party/rig/store/) is the only writer (nothing
 *   else there reaches the room's storage or records, whether as the room's own or as its
 *   LiveRoom lends them, `live.records()`), and no lifecycle refusal (CONFLICT) is decided there:
 *   the machine decides.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const PARTY = resolve(import.meta.dirname, "../../party");
const WORK = join(PARTY, "work");
const RIG = join(PARTY, "rig");
const STORE = join(RIG, "store");
const PROTOCOL = join(PARTY, "protocol.ts");
const PROTOCOL_PARTS = join(PARTY, "protocol");

/** The protocol: its entry, or one of its parts. */
const isProtocol = (path: string) => path === PROTOCOL || inside(path, PROTOCOL_PARTS);

/** Every source file under party/, by its absolute path, with the import specifiers it names. */
function sources(): Map<string, string[]> {
  const files = new Map<string, string[]>();
  for (const file of readdirSync(PARTY, { recursive: true, encoding: "utf8" }).filter((f) => /\.tsx?$/.test(f))) {
    const source = readFileSync(join(PARTY, file), "utf8");
    files.set(
      join(PARTY, file),
      [...source.matchAll(/(?:from|import)\s*\(?\s*"([^"]+)"/g)].map((m) => m[1]!),
    );
  }
  return files;
}

/** A relative specifier resolved against its file; null for a package. */
function resolved(file: string, spec: string): string | null {
  return spec.startsWith(".") ? resolve(dirname(file), spec) : null;
}

const inside = (path: string, dir: string) => !relative(dir, path).startsWith("..");
const name = (path: string) => relative(PARTY, path);

describe("party/", () => {
  it("imports nothing of the repository outside party/", () => {
    const leaving: string[] = [];
    for (const [file, specs] of sources()) {
      for (const spec of specs) {
        const path = resolved(file, spec);
        if (path !== null && !inside(path, PARTY)) leaving.push(`${name(file)}: ${spec}`);
      }
    }
    expect(leaving).toEqual([]);
  });

  it("party/work imports only the protocol: no package and nothing else of party/", () => {
    const outside: string[] = [];
    for (const [file, specs] of sources()) {
      if (!inside(file, WORK)) continue;
      for (const spec of specs) {
        const path = resolved(file, spec);
        if (path === null || (!isProtocol(path) && !inside(path, WORK))) outside.push(`${name(file)}: ${spec}`);
      }
    }
    expect(outside).toEqual([]);
  });

  it("party/work's modules import each other without a circle", () => {
    const graph = importGraph((file) => inside(file, WORK));
    const circles = circlesIn(graph);
    expect(graph.size).toBeGreaterThan(5);
    expect(circles).toEqual([]);
  });

  it("the protocol is a leaf: party/protocol.ts and party/protocol/ import zod and each other only", () => {
    const outside: string[] = [];
    for (const [file, specs] of sources()) {
      if (!isProtocol(file)) continue;
      for (const spec of specs) {
        const path = resolved(file, spec);
        if (path === null ? spec !== "zod" : !isProtocol(path)) outside.push(`${name(file)}: ${spec}`);
      }
    }
    expect(outside).toEqual([]);
  });

  it("the protocol's parts import each other without a circle", () => {
    const graph = importGraph(isProtocol);
    expect(graph.size).toBeGreaterThan(5);
    expect(circlesIn(graph)).toEqual([]);
  });

  it("party/rig writes only through its store: nothing else there reaches the room's storage or records", () => {
    const writers: string[] = [];
    for (const file of sources().keys()) {
      if ((!inside(file, RIG) && !inside(file, WORK)) || inside(file, STORE)) continue;
      writers.push(...reaches(readFileSync(file, "utf8")).map((line) => `${name(file)}: ${line}`));
    }
    expect(writers).toEqual([]);
  });

  it("party/rig decides no lifecycle refusal: no CONFLICT is raised there", () => {
    const refusals: string[] = [];
    for (const file of sources().keys()) {
      if (!inside(file, RIG)) continue;
      for (const line of code(readFileSync(file, "utf8")).split("\n")) if (/["'`]CONFLICT["'`]/.test(line)) refusals.push(`${name(file)}: ${line.trim()}`);
    }
    expect(refusals).toEqual([]);
  });

  it("finds what it looks for (the check itself)", () => {
    expect(reaches("await this.room.storage.put({ a: 1 });")).toHaveLength(1);
    expect(reaches("await this.records.write(changes);")).toHaveLength(1);
    expect(reaches("await this.live.services.records().write([], []);")).toHaveLength(1);
    expect(reaches("const docs = live.records;")).toHaveLength(1);
    expect(reaches("x.storage.delete([k])")).toHaveLength(1);
    expect(reaches("// storage.put in a comment\nconst y = 1;")).toEqual([]);
    expect(reaches(STORE_HANDOVER)).toEqual([]);
    expect(reaches('import { withStatus } from "./records.ts";\nawait store.wipe();')).toEqual([]);
    const rigRoom = join(PARTY, "rig", "room.ts");
    expect(inside(resolved(rigRoom, "../protocol.ts")!, PARTY)).toBe(true);
    expect(inside(resolved(rigRoom, "../../scripts/x.ts")!, PARTY)).toBe(false);
    expect(resolved(join(WORK, "step.ts"), "../protocol.ts")).toBe(PROTOCOL);
    expect(isProtocol(resolved(join(WORK, "step.ts"), "../protocol/records.ts")!)).toBe(true);
    expect(isProtocol(resolved(join(WORK, "step.ts"), "../records.ts")!)).toBe(false);
    expect(isProtocol(resolved(join(PROTOCOL_PARTS, "tools.ts"), "../rig/room.ts")!)).toBe(false);
    const [a, b] = [join(PARTY, "a.ts"), join(PARTY, "b.ts")];
    expect(
      circlesIn(
        new Map([
          [a, [b]],
          [b, [a]],
        ]),
      ),
    ).toEqual(["a.ts → b.ts → a.ts"]);
    expect(inside(resolved(join(WORK, "step.ts"), "../rig/room.ts")!, WORK)).toBe(false);
    expect(sources().get(join(WORK, "step.ts"))).toContain("./overlay.ts");
  });
});

/** The modules `within` picks, each with those of them it imports. */
function importGraph(within: (file: string) => boolean): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const [file, specs] of sources()) {
    if (within(file)) graph.set(file, specs.flatMap((spec) => resolved(file, spec) ?? []).filter(within));
  }
  return graph;
}

/** Every circle of imports in a graph, as `a → b → a`. */
function circlesIn(graph: Map<string, string[]>): string[] {
  const circles: string[] = [];
  const done = new Set<string>();
  const visit = (file: string, path: string[]): void => {
    if (path.includes(file)) {
      circles.push([...path.slice(path.indexOf(file)), file].map(name).join(" → "));
      return;
    }
    if (done.has(file)) return;
    for (const next of graph.get(file) ?? []) visit(next, [...path, file]);
    done.add(file);
  };
  for (const file of graph.keys()) visit(file, []);
  return circles;
}

/** The source without comments, so prose may name what code may not do. */
function code(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`])\/\/.*$/gm, "$1");
}

/** The room hands its storage and records (its LiveRoom's) to the store, once: the one place outside it that names them. */
const STORE_HANDOVER = "new RigStore(room.storage, live.records,";

/** Lines that reach storage or the records (to read or write) other than to hand them to the store. */
function reaches(source: string): string[] {
  return code(source)
    .split("\n")
    .map((line) => line.trim())
    .filter(
      (line) => /\.storage\b|\.records\b|\brecords\s*\.\s*\w+\s*[(<]|(?<!\bstore)\.(put|deleteAll|wipe)\s*\(/.test(line) && !line.includes(STORE_HANDOVER),
    );
}
