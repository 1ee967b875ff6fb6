/**
 * Share links name one dashboard view. A path is matched exactly against the dashboard's routes of
 * one town, after decoding each segment once: nothing else (`/t/alphabet` for town `alpha`,
 * `/t/alpha/../beta`, `/t/alpha/rigs/a%2F..`) is a view. A link is a viewer token for that view,
 * with the rigs it names resolved to their ids, and a record the town keeps to list and revoke it.
 */
import { SLUG_RE, ULID_RE, type ShareLink, type ShareView, type TokenInput } from "../protocol.ts";

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
  if (!view)
    return {
      ok: false,
      reason: `is not a dashboard view: /t/${town}, …/rigs/<rig>, …/rigs/<rig>/beads/<id>, …/rigs/<rig>/agents/<name>, …/convoys/<id> or …/mail`,
    };
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

/** The view a link grants: the named view with its rig's name resolved to the rig's id (`rigId` refuses an unknown name). */
export function shareView(named: NamedView, rigId: (name: string) => string): ShareView {
  switch (named.kind) {
    case "rig":
      return { kind: "rig", rig: rigId(named.rig) };
    case "bead":
    case "agent":
      return { ...named, rig: rigId(named.rig) };
    default:
      return named;
  }
}

/** A new link to `view` for `ttl_s` seconds from `now`: the claims of its viewer token, and the record the town keeps. */
export function newLink(town: string, id: string, path: string, view: ShareView, ttl_s: number, now: number): { claims: TokenInput; link: ShareLink } {
  const iat = Math.floor(now / 1000);
  const exp = iat + ttl_s;
  return { claims: { role: "viewer", town, view, iat, exp, jti: id }, link: { id, path, view, createdAt: now, expiresAt: exp * 1000 } };
}

/** The links still open at `now`, newest first, and those expired (to forget). */
export function sortLinks(links: readonly ShareLink[], now: number): { live: ShareLink[]; expired: ShareLink[] } {
  return { live: links.filter((l) => l.expiresAt > now).sort((a, b) => b.createdAt - a.createdAt), expired: links.filter((l) => l.expiresAt <= now) };
}

/** The expiry of a link's token, in seconds (what a revocation is kept until). */
export function tokenExp(link: ShareLink): number {
  return Math.ceil(link.expiresAt / 1000);
}
