/** Runs heap-child.mjs on a document's records: V8 heap of plain objects vs the same in a Y.Doc. */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type * as Y from "yjs";

export type HeapFigures = {
  plainHeap: number;
  docHeap: number;
  yjsOverhead: number;
  encoded: number;
  json: number;
  encodeMs: number;
  decodeMs: number;
  deserializeMs: number;
  buildMs: number;
};

const MAPS = ["meta", "beads", "agents", "mail", "escalations"];

export function docHeap(doc: Y.Doc): HeapFigures {
  const records = Object.fromEntries(MAPS.map((m) => [m, doc.getMap(m).toJSON()]));
  const dir = mkdtempSync(join(tmpdir(), "townhall-heap-"));
  try {
    const file = join(dir, "records.json");
    writeFileSync(file, JSON.stringify(records));
    const out = execFileSync(
      process.execPath,
      ["--expose-gc", "--max-old-space-size=4096", fileURLToPath(new URL("./heap-child.mjs", import.meta.url)), file],
      { encoding: "utf8", maxBuffer: 1 << 20 },
    );
    return JSON.parse(out) as HeapFigures;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
