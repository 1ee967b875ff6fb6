/**
 * The hash that names a snapshot of the server code in the benches' results: every file under a
 * folder, subfolders included, in the order of their relative paths (with `/`), each as its path
 * then its bytes. A flat folder hashes as it did when only its top-level files counted.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join, sep } from "node:path";

/** The files under `dir`, as sorted relative paths with `/` between folders. */
export function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) =>
      join(entry.parentPath, entry.name)
        .slice(dir.length + 1)
        .split(sep)
        .join("/"),
    )
    .sort();
}

/** sha256 over every file under `dir` (see the top of this file), as 12 hex digits. */
export function treeHash(dir: string): string {
  const hash = createHash("sha256");
  for (const path of filesUnder(dir)) hash.update(path).update(readFileSync(join(dir, path)));
  return hash.digest("hex").slice(0, 12);
}
