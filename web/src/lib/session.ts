/**
 * The dashboard's token. It arrives once as `?token=` (an operator's link, or a shared viewer link)
 * and is taken out of the address bar at once, so it never sits in history, bookmarks or a copied
 * URL. Where it is kept depends on what it is (shared decision "tokens in the browser"):
 * - an operator token is kept per browser and town (localStorage), so a new tab, a bookmark or a
 *   restarted browser opens signed in;
 * - anything else (a share link, a viewer token) stays in its tab (sessionStorage) and never
 *   replaces a stored operator token.
 * A tab that holds a link uses it; other tabs use the browser's operator token.
 * Only the payload is read here (role, expiry, view): the rooms check the signature.
 */
import type { ShareView } from "../../../party/protocol.ts";

export type Role = "operator" | "viewer" | "agent" | "container";

/** A share link's view, as its token names it (rig ids, not names): the protocol's, type only (no zod loaded). */
export type LinkView = ShareView;

export type Session = {
  town: string;
  token: string;
  role: Role | null;
  /** Expiry in ms since the epoch; null when the token does not say. */
  exp: number | null;
  /** A rig-scoped token's rig id. */
  rig: string | null;
  /** A share link's view. */
  view: LinkView | null;
  /** Where the token is kept: for every tab of this town in this browser, or for this tab only. */
  kept: "browser" | "tab";
};

const operatorKey = (town: string) => `townhall.token.${town}`;
const linkKey = (town: string) => `townhall.link.${town}`;

/** The storage key whose change (in another tab) may change this tab's session. */
export const browserTokenKey = operatorKey;

// When storage is disabled (some private modes), tokens last for this page only.
const memory = new Map<string, string>();

type Claims = { role?: unknown; exp?: unknown; aud?: unknown; rig?: unknown; view?: unknown };

/** A token is a JWT: header.payload.signature; the payload holds the claims. */
function peek(token: string): Claims | null {
  const part = token.split(".")[1];
  if (!part) return null;
  try {
    const b64 = part.replace(/-/g, "+").replace(/_/g, "/");
    const value: unknown = JSON.parse(atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4)));
    return typeof value === "object" && value !== null ? (value as Claims) : null;
  } catch {
    return null; // not a token we can read; the room will refuse it with a reason we show
  }
}

const VIEW_KINDS = new Set(["town", "rig", "bead", "agent", "convoy", "mail"]);
const isView = (v: unknown): v is LinkView => typeof v === "object" && v !== null && VIEW_KINDS.has((v as { kind?: unknown }).kind as string);

/** Only a town-wide or rig operator token of this very town is worth keeping for the whole browser. */
function isOperatorToken(town: string, claims: Claims | null): boolean {
  return !!claims && claims.role === "operator" && claims.view === undefined && (claims.aud === undefined || claims.aud === town);
}

function get(store: () => Storage, key: string): string | null {
  try {
    return store().getItem(key);
  } catch {
    return memory.get(key) ?? null;
  }
}
function set(store: () => Storage, key: string, value: string | null): void {
  try {
    if (value === null) store().removeItem(key);
    else store().setItem(key, value);
  } catch {
    if (value === null) memory.delete(key);
    else memory.set(key, value);
  }
}
const local = () => localStorage;
const tab = () => sessionStorage;

/** Keeps a token that arrived in an address: an operator's for the browser, anything else for this tab. */
export function adoptToken(town: string, token: string): void {
  if (isOperatorToken(town, peek(token))) {
    set(local, operatorKey(town), token);
    // Opening an operator link in a tab that showed a shared link makes it an operator tab again.
    set(tab, linkKey(town), null);
  } else {
    set(tab, linkKey(town), token);
  }
}

/** This tab's session for `town`: its link if it has one, else the browser's operator token. */
export function readSession(town: string): Session | null {
  const link = get(tab, linkKey(town));
  const token = link ?? get(local, operatorKey(town));
  if (!token) return null;
  const claims = peek(token);
  return {
    town,
    token,
    role: claims && typeof claims.role === "string" ? (claims.role as Role) : null,
    exp: claims && typeof claims.exp === "number" ? claims.exp * 1000 : null,
    rig: claims && typeof claims.rig === "string" ? claims.rig : null,
    view: claims && isView(claims.view) ? claims.view : null,
    kept: link ? "tab" : "browser",
  };
}

/** Forgets the session's token where it was kept: this tab's link, or the browser's operator token. */
export function forgetSession(session: Session): void {
  if (session.kept === "tab") set(tab, linkKey(session.town), null);
  else set(local, operatorKey(session.town), null);
}

/**
 * Takes `?token=` out of the current address (history.replaceState, so no history entry holds it)
 * and keeps it as `adoptToken` says. Called before the router starts, so the app never sees it.
 */
export function takeTokenFromAddress(): void {
  const url = new URL(location.href);
  const token = url.searchParams.get("token");
  const town = /^\/t\/([^/]+)/.exec(url.pathname)?.[1];
  if (token === null) return;
  if (town && token) adoptToken(decodeURIComponent(town), token);
  url.searchParams.delete("token");
  history.replaceState(history.state, "", url.pathname + url.search + url.hash);
}
