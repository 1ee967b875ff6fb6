/**
 * container/'s imports run one way: the container and gt may import party/ and client/, and
 * scripts/ may import container/, never the reverse (the image copies container/ without
 * scripts/); and no two of container/'s modules import each other, directly or round a circle.
 * Every kind of import counts: static, `import type`, `export … from` and dynamic `import("…")`
 * (gt's lazily loaded chunks are dynamic imports, and a circle through one is still a circle).
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");
const CONTAINER = join(ROOT, "container");

/** container/'s TypeScript sources (not its built bundles), relative to the repository. */
const sources = readdirSync(CONTAINER, { recursive: true, encoding: "utf8" })
  .filter((file) => file.endsWith(".ts") && !file.startsWith("dist/"))
  .map((file) => relative(ROOT, join(CONTAINER, file)))
  .sort();

/** What a source file imports by a relative path, resolved to paths relative to the repository. */
function relativeImports(file: string): string[] {
  const { importedFiles } = ts.preProcessFile(readFileSync(join(ROOT, file), "utf8"), true, true);
  return importedFiles.filter(({ fileName }) => fileName.startsWith(".")).map(({ fileName }) => relative(ROOT, resolve(ROOT, dirname(file), fileName)));
}

const graph = new Map(sources.map((file) => [file, relativeImports(file)]));

/** Every circle of imports among container/'s modules, each as the path round it (a → b → a). */
function circles(): string[] {
  const found: string[] = [];
  const done = new Set<string>();
  const path: string[] = [];
  const visit = (file: string) => {
    const at = path.indexOf(file);
    if (at >= 0) return void found.push([...path.slice(at), file].join(" → "));
    if (done.has(file)) return;
    path.push(file);
    for (const next of graph.get(file) ?? []) if (graph.has(next)) visit(next);
    path.pop();
    done.add(file);
  };
  for (const file of sources) visit(file);
  return found;
}

describe("container/'s imports", () => {
  it("reads every module of container/, gt's among them", () => {
    expect(sources).toContain("container/gt.ts");
    expect(sources).toContain("container/main.ts");
    expect(sources.some((file) => file.startsWith("container/agents/"))).toBe(true);
  });

  it("import nothing under scripts/ (scripts may import container/, not the other way)", () => {
    const intoScripts = [...graph].flatMap(([file, imports]) => imports.filter((i) => i.startsWith("scripts/")).map((i) => `${file} → ${i}`));
    expect(intoScripts).toEqual([]);
  });

  it("make no circle", () => {
    expect(circles()).toEqual([]);
  });

  it("finds a circle where there is one (the search itself works)", () => {
    graph.set("container/x.ts", ["container/y.ts"]);
    graph.set("container/y.ts", ["container/z.ts"]);
    graph.set("container/z.ts", ["container/x.ts"]);
    sources.push("container/x.ts");
    try {
      expect(circles()).toContain("container/x.ts → container/y.ts → container/z.ts → container/x.ts");
    } finally {
      for (const file of ["container/x.ts", "container/y.ts", "container/z.ts"]) graph.delete(file);
      sources.pop();
    }
  });
});
