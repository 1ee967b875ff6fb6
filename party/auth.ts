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
import { MAX_TOKEN_ISSUED_AHEAD_S, MAX_TOKEN_LIFETIME_S, tokenClaims, type TokenClaims, type TokenInput, type TokenPayload } from "./protocol.ts";

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
  // A token the rooms would refuse is a mistake of its minter: say so here, not at its first use.
  const tooLong = lifetimeProblem(claims.iat, claims.exp);
  if (tooLong) throw new Error(tooLong);
  return new SignJWT(claims as unknown as Record<string, unknown>).setProtectedHeader({ alg: "HS256", typ: "JWT" }).sign(jwtKey(secret));
}

export type TokenCheck = { ok: true; payload: TokenPayload } | { ok: false; reason: string };

const B64URL = /^[A-Za-z0-9_-]+$/;

/** Why a token living from `iat` to `exp` is refused whenever it is shown, or null. */
function lifetimeProblem(iat: number, exp: number): string | null {
  return exp - iat > MAX_TOKEN_LIFETIME_S ? `token lifetime over ${MAX_TOKEN_LIFETIME_S / 86_400} days` : null;
}

/**
 * Why a token's times are refused at `now` (seconds), besides expiry, or null: a lifetime over
 * MAX_TOKEN_LIFETIME_S (an `exp` in the year 9999 is a token that never ends), or an `iat` further
 * ahead than clock skew explains (a token dated ahead would pass for young: renewal and lifetime
 * checks read its `iat`).
 */
export function tokenTimeProblem(iat: number, exp: number, now: number): string | null {
  if (iat - now > MAX_TOKEN_ISSUED_AHEAD_S) return `token issued in the future (iat more than ${MAX_TOKEN_ISSUED_AHEAD_S} s ahead)`;
  return lifetimeProblem(iat, exp);
}

/** Verifies signature, shape, expiry and lifetime. `now` is seconds since the epoch. */
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
  const refused = tokenTimeProblem(parsed.data.iat, parsed.data.exp, now);
  if (refused) return { ok: false, reason: refused };
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

/** How long a room-to-room call's signature is good for (the same server signs and checks). */
export const INTERNAL_WINDOW_MS = 120_000;

function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** SHA-256 of a body, base64url: what a room-to-room signature binds. */
export async function bodyDigest(body: Uint8Array | string): Promise<string> {
  const bytes = typeof body === "string" ? encoder.encode(body) : body;
  return base64url(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>)));
}

async function internalMac(secret: string, room: string, op: string, at: number, digest: string): Promise<string> {
  return base64url(new Uint8Array(await crypto.subtle.sign("HMAC", await hmacKey(secret), encoder.encode(`internal|${room}|${op}|${at}|${digest}`))));
}

/**
 * The `x-townhall-internal` header of one room-to-room call: `<ms>.<body digest>.<HMAC>`, an HMAC
 * under the town secret of the target room, the op, the time and the body. Whoever sees one (a
 * proxy, a log) can replay only that very call to that very room for two minutes, and the ops are
 * idempotent; a bearer key would open every op of every room of the town for good.
 */
export async function signInternal(secret: string, room: string, op: string, body: string, now = Date.now()): Promise<string> {
  const digest = await bodyDigest(body);
  return `${now}.${digest}.${await internalMac(secret, room, op, now, digest)}`;
}

/**
 * Checks a room-to-room call's header before its body is read: the signature for this room and op,
 * made within the window. Returns the body digest it vouches for (compare once the body is read).
 */
export async function checkInternal(
  header: string | null,
  secret: string,
  room: string,
  op: string,
  now = Date.now(),
): Promise<{ ok: true; digest: string } | { ok: false; reason: string }> {
  const [at, digest, mac, ...rest] = (header ?? "").split(".");
  if (!at || !digest || !mac || rest.length || !/^\d{1,15}$/.test(at)) return { ok: false, reason: "room-to-room calls need a signature" };
  if (Math.abs(now - Number(at)) > INTERNAL_WINDOW_MS) return { ok: false, reason: "room-to-room signature out of date" };
  if (!sameString(mac, await internalMac(secret, room, op, Number(at), digest))) return { ok: false, reason: "bad room-to-room signature" };
  return { ok: true, digest };
}

/** Compares strings in time independent of where they differ. */
export function sameString(given: string, expected: string): boolean {
  let difference = given.length ^ expected.length;
  for (let i = 0; i < expected.length; i++) difference |= (given.charCodeAt(i) || 0) ^ expected.charCodeAt(i);
  return difference === 0;
}
