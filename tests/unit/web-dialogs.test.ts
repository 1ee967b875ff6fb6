/**
 * The dashboard asks and tells in its own dialogs (actions/dialog.tsx), never the browser's boxes:
 * they block the page, cannot be styled or tested, and a browser may suppress them. And the Move
 * dialog's rule for what a target rig lacks.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { missingCapabilities } from "../../web/src/lib/capabilities.ts";

const WEB = fileURLToPath(new URL("../../web/src", import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : /\.(tsx?|jsx?)$/.test(name) ? [path] : [];
  });
}

describe("the app's own dialogs", () => {
  it("web/src calls no confirm(), alert() or prompt() of the browser", () => {
    const files = sources(WEB);
    expect(files.length).toBeGreaterThan(20); // the walk found the dashboard
    const found = files.flatMap((file) =>
      readFileSync(file, "utf8")
        .split("\n")
        .map((line, i) => ({ where: `${file.slice(WEB.length + 1)}:${i + 1}`, line }))
        .filter(({ line }) => /(^|[^\w.$])(window\.|globalThis\.|self\.)?(confirm|alert|prompt)\s*\(/.test(line.replace(/\/\/.*$/, ""))),
    );
    expect(found.map((f) => `${f.where}: ${f.line.trim()}`)).toEqual([]);
  });

  it("the grep itself finds each form of the call", () => {
    const re = /(^|[^\w.$])(window\.|globalThis\.|self\.)?(confirm|alert|prompt)\s*\(/;
    for (const line of ["if (!window.confirm('x')) return;", "alert(1)", "const a = prompt ('name')", "globalThis.confirm(x)"]) expect(line).toMatch(re);
    for (const line of ["const confirmed = 1", "onConfirm()", "x.confirm(1)", "setPrompt(2)"]) expect(line).not.toMatch(re);
  });
});

describe("a move's missing capabilities", () => {
  it("names each required capability the target lacks, once, in the bead's order", () => {
    expect(missingCapabilities(["ts", "web", "ts"], ["web"])).toEqual(["ts"]);
    expect(missingCapabilities(["go", "api"], [])).toEqual(["go", "api"]);
    expect(missingCapabilities(["docs"], ["docs", "go"])).toEqual([]);
    expect(missingCapabilities([], ["docs"])).toEqual([]);
  });
});
