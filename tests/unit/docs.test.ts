/**
 * The README and docs stand alone: every link in the repository's markdown leads to a file in the
 * repository, and nothing (markdown or code comments) sends a reader to the design documents the
 * project started from, which are not in it.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");
const SKIP = new Set(["node_modules", ".git", "dist", ".townhall", ".partykit", "test-results", "tmp"]);
const SELF = resolve(import.meta.filename);

/** Documents that lived beside the project while it was built, never in it. */
const OUTSIDE_DOCUMENTS = /\.\.\/shared\b|\b(?:DESIGN|STACK|BENCH|DECISIONS|STYLE)\.md\b|\bdesign documents?\b/i;

function filesUnder(dir: string, keep: (name: string) => boolean): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (SKIP.has(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...filesUnder(path, keep));
    else if (entry.isFile() && keep(entry.name)) found.push(path);
  }
  return found;
}

/** Every link target in a markdown text: `[text](target)`, `![alt](target)`, `<scheme://…>`, `href="…"`. */
function linkTargets(markdown: string): string[] {
  const prose = markdown.replace(/```[\s\S]*?```/g, "").replace(/`[^`\n]*`/g, ""); // code is not a link
  const targets: string[] = [];
  for (const m of prose.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) targets.push(m[1]!);
  for (const m of prose.matchAll(/<([a-z][a-z0-9+.-]*:[^>\s]+)>/gi)) targets.push(m[1]!);
  for (const m of prose.matchAll(/href\s*=\s*["']([^"']+)["']/gi)) targets.push(m[1]!);
  for (const m of prose.matchAll(/^\s*\[[^\]]+\]:\s*(\S+)/gm)) targets.push(m[1]!); // reference definitions
  return targets;
}

/** Why a link in `file` leads outside the repository, or null when it leads to a file in it. */
function outsideLink(file: string, target: string): string | null {
  if (target.startsWith("#")) return null; // a heading of the same page
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return `${target} is not in the repository`;
  if (target.startsWith("/")) return `${target} is an absolute path`;
  const path = resolve(dirname(file), decodeURIComponent(target.split("#")[0]!));
  const inside = relative(ROOT, path);
  if (inside.startsWith(`..${sep}`) || inside === "..") return `${target} leads out of the repository`;
  if (!existsSync(path)) return `${target} does not exist`;
  return null;
}

function problemsOf(file: string, text: string): string[] {
  const problems = linkTargets(text).flatMap((target) => outsideLink(file, target) ?? []);
  const named = text.match(OUTSIDE_DOCUMENTS);
  if (named) problems.push(`names ${named[0]}, which is not in the repository`);
  return problems.map((p) => `${relative(ROOT, file)}: ${p}`);
}

describe("the README and docs stand alone", () => {
  const markdown = filesUnder(ROOT, (name) => name.endsWith(".md"));

  it("checks the README and every page of docs/", () => {
    const seen = markdown.map((file) => relative(ROOT, file));
    expect(seen).toContain("README.md");
    expect(seen).toEqual(
      expect.arrayContaining([
        "docs/protocol.md",
        "docs/security.md",
        "docs/lifecycle.md",
        "docs/architecture.md",
        "docs/development.md",
        "docs/benchmarks.md",
      ]),
    );
  });

  it("links only to files in the repository and names no document outside it", () => {
    expect(markdown.flatMap((file) => problemsOf(file, readFileSync(file, "utf8")))).toEqual([]);
  });

  it("sends no reader of the code to a document outside the repository either", () => {
    const code = filesUnder(ROOT, (name) => /\.(ts|tsx|mjs|js|json|sh)$/.test(name) || name === "run").filter((file) => resolve(file) !== SELF);
    expect(code.filter((file) => OUTSIDE_DOCUMENTS.test(readFileSync(file, "utf8"))).map((file) => relative(ROOT, file))).toEqual([]);
  });

  it("finds what it looks for (the check itself)", () => {
    const file = join(ROOT, "README.md");
    const bad = [
      "See [the design](../shared/DESIGN.md).",
      "As [the decisions](https://example.com/DECISIONS) say.",
      "![a picture](/etc/passwd)",
      "[gone](docs/nowhere.md)",
      '<a href="http://example.com">here</a>',
      "<https://example.com/x>",
      "[ref]: ../../outside.md",
      "Read the design document first.",
    ];
    for (const line of bad) expect(problemsOf(file, line), line).not.toEqual([]);
    const good = ["[protocol](docs/protocol.md#tokens)", "[top](#townhall)", "`https://<your host>/t/<town>`", "```sh\ncurl https://example.com\n```"];
    for (const line of good) expect(problemsOf(file, line), line).toEqual([]);
  });
});
