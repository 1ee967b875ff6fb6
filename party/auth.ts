/**
 * Compact HMAC-SHA256 tokens: `base64url(JSON payload).base64url(signature)`.
 * WebCrypto only, so the same code signs in Node (npm run token, tests, container) and verifies in
 * the rooms.
 */
import { tokenPayload, type TokenPayload } from "./protocol.ts";

const encoder = new TextEncoder();
const keyCache = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keyCache.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
      "sign",
      "verify",
    ]);
    keyCache.set(secret, key);
  }
  return key;
}

function toBase64Url(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64Url(text: string): Uint8Array<ArrayBuffer> | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return null;
  try {
    const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
    return Uint8Array.from(binary, (c) => c.charCodeAt(0));
  } catch {
    return null; // not base64: the caller reports an invalid token
  }
}

export async function signToken(payload: TokenPayload, secret: string): Promise<string> {
  const body = toBase64Url(encoder.encode(JSON.stringify(tokenPayload.parse(payload))));
  const signature = await crypto.subtle.sign("HMAC", await hmacKey(secret), encoder.encode(body));
  return `${body}.${toBase64Url(new Uint8Array(signature))}`;
}

export type TokenCheck = { ok: true; payload: TokenPayload } | { ok: false; reason: string };

/** Verifies signature, shape and expiry. `now` is seconds since the epoch. */
export async function verifyToken(token: string, secret: string, now = Date.now() / 1000): Promise<TokenCheck> {
  const [body, signature, extra] = token.split(".");
  if (!body || !signature || extra !== undefined) return { ok: false, reason: "malformed token" };
  const signatureBytes = fromBase64Url(signature);
  const bodyBytes = fromBase64Url(body);
  // Only the canonical spelling is accepted: base64 decoders ignore the unused low bits of the last
  // character, which would let one token be written several ways.
  if (!signatureBytes || !bodyBytes || toBase64Url(signatureBytes) !== signature || toBase64Url(bodyBytes) !== body) {
    return { ok: false, reason: "malformed token" };
  }
  const valid = await crypto.subtle.verify("HMAC", await hmacKey(secret), signatureBytes, encoder.encode(body));
  if (!valid) return { ok: false, reason: "bad signature" };
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bodyBytes));
  } catch {
    return { ok: false, reason: "malformed token" };
  }
  const parsed = tokenPayload.safeParse(json);
  if (!parsed.success) return { ok: false, reason: "malformed token payload" };
  if (parsed.data.exp <= now) return { ok: false, reason: "token expired" };
  return { ok: true, payload: parsed.data };
}

/** Reads a token from `Authorization: Bearer …` or, for browsers' WebSockets, `?token=`. */
export function tokenFromRequest(request: Request): string | null {
  const header = request.headers.get("authorization")?.match(/^bearer\s+(\S+)\s*$/i);
  if (header) return header[1]!;
  return new URL(request.url).searchParams.get("token") || null;
}

/**
 * Room-to-room calls carry this key instead of a token: an HMAC of the town id under the town
 * secret, so only rooms holding the secret can reach `/internal/*` routes.
 */
export async function internalKey(secret: string, town: string): Promise<string> {
  const signature = await crypto.subtle.sign("HMAC", await hmacKey(secret), encoder.encode(`room:${town}`));
  return toBase64Url(new Uint8Array(signature));
}
