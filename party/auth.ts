/**
 * Tokens are standard JWTs (HS256, signed with the town secret GT_SECRET) made and checked with
 * `jose`, so any language's JWT library can mint and read them. Claims: `sub` (who), `aud` (the
 * town), `iat`/`exp`, `jti` (what a revocation names), `role`, and where they apply: `rig` (one rig
 * id), `rigs` (a sharded container's rigs), `agent` (an agent's identity), `run` (the run an agent
 * token was minted for), `view` (the one dashboard view a share link shows).
 *
 * The same code signs in Node (npm run token, tests, the container) and verifies in the rooms.
 */
import { SignJWT, errors, jwtVerify } from "jose";
import { newId } from "./ids.ts";
import { tokenClaims, type TokenClaims, type TokenInput, type TokenPayload } from "./protocol.ts";

const encoder = new TextEncoder();
const keyCache = new Map<string, Uint8Array>();
const hmacCache = new Map<string, Promise<CryptoKey>>();

function jwtKey(secret: string): Uint8Array {
  let key = keyCache.get(secret);
  if (!key) keyCache.set(secret, (key = encoder.encode(secret)));
  return key;
}

/** What a token is called when it has no subject of its own: its role, or `link` for a share link. */
function subjectOf(input: TokenInput): string {
  if (input.sub) return input.sub;
  if (input.agent) return input.agent;
  if (input.view) return "link";
  return input.role;
}

/** Signs a token; `jti` and `iat` are filled in unless given (a share link keeps its id). */
export async function signToken(input: TokenInput, secret: string): Promise<string> {
  const { town, sub: _sub, jti, iat, ...rest } = input;
  const claims: TokenClaims = tokenClaims.parse({ ...rest, sub: subjectOf(input), aud: town, iat: iat ?? Math.floor(Date.now() / 1000), jti: jti ?? newId() });
  return new SignJWT(claims as unknown as Record<string, unknown>).setProtectedHeader({ alg: "HS256", typ: "JWT" }).sign(jwtKey(secret));
}

export type TokenCheck = { ok: true; payload: TokenPayload } | { ok: false; reason: string };

const B64URL = /^[A-Za-z0-9_-]+$/;

/** Verifies signature, shape and expiry. `now` is seconds since the epoch. */
export async function verifyToken(token: string, secret: string, now = Date.now() / 1000): Promise<TokenCheck> {
  const parts = token.split(".");
  if (parts.length !== 3 || !parts.every((p) => B64URL.test(p)) || !canonical(parts[2]!)) return { ok: false, reason: "malformed token" };
  let payload: unknown;
  try {
    ({ payload } = await jwtVerify(token, jwtKey(secret), { algorithms: ["HS256"], currentDate: new Date(now * 1000), clockTolerance: 0 }));
  } catch (error) {
    if (error instanceof errors.JWTExpired) return { ok: false, reason: "token expired" };
    if (error instanceof errors.JWSSignatureVerificationFailed) return { ok: false, reason: "bad signature" };
    return { ok: false, reason: "malformed token" };
  }
  const parsed = tokenClaims.safeParse(payload);
  if (!parsed.success) return { ok: false, reason: "malformed token payload" };
  // jose accepts a token whose exp equals now; a token is over at its exp.
  if (parsed.data.exp <= now) return { ok: false, reason: "token expired" };
  const { aud, ...claims } = parsed.data;
  return { ok: true, payload: { ...claims, town: aud } };
}

/**
 * Only the canonical spelling of a signature is accepted: base64 decoders ignore the unused low
 * bits of the last character, which would let one token be written several ways.
 */
function canonical(part: string): boolean {
  try {
    const bytes = Uint8Array.from(atob(part.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
    let binary = "";
    for (const b of bytes) binary += String.fromCharCode(b);
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "") === part;
  } catch {
    return false;
  }
}

/**
 * The token of a request: `Authorization: Bearer …`, or for sockets (browsers cannot set headers on
 * a WebSocket) also `?token=`. HTTP calls must use the header: a token in a URL ends up in logs.
 */
export function tokenFromRequest(request: Request, kind: "http" | "socket"): string | null {
  const header = request.headers.get("authorization")?.match(/^bearer\s+(\S+)\s*$/i);
  if (header) return header[1]!;
  return kind === "socket" ? new URL(request.url).searchParams.get("token") || null : null;
}

/** Reads the claims of a token without checking it (for display only, e.g. the dashboard's role). */
export function peekClaims(token: string): Partial<TokenClaims> | null {
  const part = token.split(".")[1];
  if (!part) return null;
  try {
    const value: unknown = JSON.parse(atob(part.replace(/-/g, "+").replace(/_/g, "/")));
    return typeof value === "object" && value !== null ? (value as Partial<TokenClaims>) : null;
  } catch {
    return null;
  }
}

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = hmacCache.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
    hmacCache.set(secret, key);
  }
  return key;
}

/**
 * Room-to-room calls carry this key instead of a token: an HMAC of the town id under the town
 * secret, so only rooms holding the secret can reach `/internal/*` routes.
 */
export async function internalKey(secret: string, town: string): Promise<string> {
  const signature = new Uint8Array(await crypto.subtle.sign("HMAC", await hmacKey(secret), encoder.encode(`room:${town}`)));
  let binary = "";
  for (const b of signature) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
