/**
 * The bundle of the agents' `gt` (scripts/build-gt.ts): what a gt call loads is gt's entry file and
 * the chunks it imports statically. None of that may be zod or the MCP SDK (about 90 and 216 ms of
 * start each, on every call an agent makes): they belong to `gt mcp`, through dynamic imports. An
 * import that brings them back (say of party/protocol.ts, which builds zod schemas at module level)
 * fails here, naming the path that pulls them in.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Metafile } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildGt } from "../../scripts/build-gt.ts";

let dir: string;
let meta: Metafile;
let outdir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "townhall-gt-bundle-"));
  outdir = join(dir, "dist");
  meta = await buildGt(outdir);
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The output key of an entry (gt.js, scripted.js). */
function entryOf(name: string): string {
  const key = Object.keys(meta.outputs).find((o) => o.endsWith(`/${name}`) && !o.includes("/chunks/"));
  expect(key, `${name} among the outputs`).toBeDefined();
  return key!;
}

/** The output files loading `output` loads: it and what it imports statically, transitively. */
function loadedWith(output: string): string[] {
  const seen = new Set<string>();
  const visit = (o: string) => {
    if (seen.has(o)) return;
    seen.add(o);
    for (const i of meta.outputs[o]!.imports) if (i.kind === "import-statement" && !i.external) visit(i.path);
  };
  visit(output);
  return [...seen];
}

/** The source files in those outputs. */
const inputsOf = (outputs: string[]) => outputs.flatMap((o) => Object.keys(meta.outputs[o]!.inputs));

describe("the gt bundle", () => {
  it("loads neither zod nor the MCP SDK (nor protocol.ts's schemas) at start", () => {
    const inputs = inputsOf(loadedWith(entryOf("gt.js")));
    expect(inputs).toContain("container/gt.ts");
    expect(inputs.filter((i) => /node_modules\/(zod|@modelcontextprotocol)\/|party\/protocol\.ts$|container\/gt\/(schemas|mcp-server)\.ts$/.test(i))).toEqual(
      [],
    );
  });

  it("has the MCP server, the SDK and zod in a chunk gt imports dynamically", () => {
    const lazy = meta.outputs[entryOf("gt.js")]!.imports.filter((i) => i.kind === "dynamic-import").map((i) => i.path);
    const lazyInputs = inputsOf(lazy.flatMap(loadedWith));
    expect(lazyInputs).toContain("container/gt/mcp-server.ts");
    expect(lazyInputs.some((i) => i.includes("node_modules/zod/"))).toBe(true);
    expect(lazyInputs.some((i) => i.includes("node_modules/@modelcontextprotocol/sdk/"))).toBe(true);
  });

  it("runs: gt help, and the scripted agent's bundle is there", () => {
    const help = spawnSync(process.execPath, [join(outdir, "gt.js"), "help"], { encoding: "utf8" });
    expect([help.status, help.stderr]).toEqual([0, ""]);
    expect(help.stdout).toContain("gt prime");
    expect(inputsOf(loadedWith(entryOf("scripted.js")))).toContain("container/agents/scripted.ts");
  });
});
