/**
 * Share links name one dashboard view. A path is matched exactly against the dashboard's routes of
 * one town, after decoding each segment once: nothing else (`/t/alphabet` for town `alpha`,
 * `/t/alpha/../beta`, `/t/alpha/rigs/a%2F..`) is a view.
 */
import { SLUG_RE, ULID_RE } from "../protocol.ts";

/** A view as the path names it: rigs by name (the town resolves them to ids). */
export type NamedView =
  | { kind: "town" }
  | { kind: "rig"; rig: string }
  | { kind: "bead"; rig: string; bead: string }
  | { kind: "agent"; rig: string; agent: string }
  | { kind: "convoy"; convoy: string }
  | { kind: "mail" };

const AGENT_NAME_RE = /^[a-z][a-z0-9-]{0,39}$/;

/** The view a dashboard path of `town` shows, and the path written the one way it is linked; or why not. */
export function parseSharePath(path: string, town: string): { ok: true; view: NamedView; path: string } | { ok: false; reason: string } {
  if (!path.startsWith("/")) return { ok: false, reason: "must start with /" };
  const raw = path.replace(/\/$/, "").split("/").slice(1);
  let segments: string[];
  try {
    segments = raw.map((s) => decodeURIComponent(s));
  } catch {
    return { ok: false, reason: "is not a valid URL path" };
  }
  if (segments.some((s) => s === "" || s === "." || s === ".." || s.includes("/"))) return { ok: false, reason: "must not hold empty, . or .. segments" };
  const [t, name, ...rest] = segments;
  if (t !== "t" || name !== town) return { ok: false, reason: `must be a view of town ${town} (/t/${town}…)` };
  const view = match(rest);
  if (!view) return { ok: false, reason: `is not a dashboard view: /t/${town}, …/rigs/<rig>, …/rigs/<rig>/beads/<id>, …/rigs/<rig>/agents/<name>, …/convoys/<id> or …/mail` };
  return { ok: true, view, path: ["", "t", town, ...rest].join("/") };
}

function match(rest: string[]): NamedView | null {
  const [a, b, c, d, ...more] = rest;
  if (more.length) return null;
  if (a === undefined) return { kind: "town" };
  if (a === "mail" && b === undefined) return { kind: "mail" };
  if (a === "convoys" && b !== undefined && ULID_RE.test(b) && c === undefined) return { kind: "convoy", convoy: b };
  if (a !== "rigs" || b === undefined || !SLUG_RE.test(b)) return null;
  if (c === undefined) return { kind: "rig", rig: b };
  if (c === "beads" && d !== undefined && ULID_RE.test(d)) return { kind: "bead", rig: b, bead: d };
  if (c === "agents" && d !== undefined && AGENT_NAME_RE.test(d)) return { kind: "agent", rig: b, agent: d };
  return null;
}
