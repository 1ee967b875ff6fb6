/**
 * The dashboard bundles only the parts of the protocol it uses. party/protocol.ts loads every part,
 * and a bundler keeps every zod schema a loaded module builds (building one is a call it cannot
 * prove free of effects): importing a value from it would put every tool's schemas into the
 * dashboard, about 9 KB. So web/ and client/ (the dashboard bundles both) take types from
 * party/protocol.ts and values from the part in party/protocol/ that holds them.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");
const PROTOCOL = join(ROOT, "party/protocol.ts");

/** The import and export statements of a source that load party/protocol.ts at run time. */
function valueImportsOfProtocol(file: string, source: string): string[] {
  const statements = [...source.matchAll(/^(?:import|export)\b[^;]*?\bfrom\s*"([^"]+)"|\bimport\s*\(?\s*"([^"]+)"/gm)];
  return statements
    .filter((m) => resolve(dirname(file), m[1] ?? m[2]!) === PROTOCOL && !/^(import|export)\s+type\b/.test(m[0]))
    .map((m) => m[0].replace(/\s+/g, " "));
}

describe("the dashboard's protocol imports", () => {
  it("web/ and client/ import only types from party/protocol.ts, values from its parts", () => {
    const offenders: string[] = [];
    for (const dir of ["web/src", "client"]) {
      for (const name of readdirSync(join(ROOT, dir), { recursive: true, encoding: "utf8" }).filter((f) => /\.tsx?$/.test(f))) {
        const file = join(ROOT, dir, name);
        offenders.push(...valueImportsOfProtocol(file, readFileSync(file, "utf8")).map((line) => `${relative(ROOT, file)}: ${line}`));
      }
    }
    expect(offenders).toEqual([]);
  });

  it("finds what it looks for (the check itself)", () => {
    const file = join(ROOT, "web/src/x.ts");
    expect(valueImportsOfProtocol(file, 'import { LIMITS, type Rig } from "../../party/protocol.ts";')).toHaveLength(1);
    expect(valueImportsOfProtocol(file, 'import {\n  LIMITS,\n} from "../../party/protocol.ts";')).toHaveLength(1);
    expect(valueImportsOfProtocol(file, 'import "../../party/protocol.ts";')).toHaveLength(1);
    expect(valueImportsOfProtocol(file, 'export { LIMITS } from "../../party/protocol.ts";')).toHaveLength(1);
    expect(valueImportsOfProtocol(file, 'import type { Rig } from "../../party/protocol.ts";')).toEqual([]);
    expect(valueImportsOfProtocol(file, 'import { LIMITS } from "../../party/protocol/limits.ts";')).toEqual([]);
    expect(valueImportsOfProtocol(join(ROOT, "client/x.ts"), 'import { serverFrame } from "../party/protocol.ts";')).toHaveLength(1);
  });
});
