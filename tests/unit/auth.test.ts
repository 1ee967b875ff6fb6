import { describe, expect, it } from "vitest";
import { internalKey, signToken, tokenFromRequest, verifyToken } from "../../party/auth.ts";
import type { TokenPayload } from "../../party/protocol.ts";

const SECRET = "test-secret";
const NOW = 1_700_000_000;
const payload: TokenPayload = { role: "agent", town: "town-1", rig: "RIG1", agent: "a/polecats/toast", exp: NOW + 3600 };

function encodeJson(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

describe("signToken / verifyToken", () => {
  it("round-trips a payload", async () => {
    const token = await signToken(payload, SECRET);
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(await verifyToken(token, SECRET, NOW)).toEqual({ ok: true, payload });
  });

  it("rejects a token signed with another secret", async () => {
    const token = await signToken(payload, "other-secret");
    expect(await verifyToken(token, SECRET, NOW)).toEqual({ ok: false, reason: "bad signature" });
  });

  it("rejects an expired token (exp <= now)", async () => {
    const token = await signToken(payload, SECRET);
    expect(await verifyToken(token, SECRET, payload.exp)).toEqual({ ok: false, reason: "token expired" });
    expect(await verifyToken(token, SECRET, payload.exp + 1)).toEqual({ ok: false, reason: "token expired" });
    expect((await verifyToken(token, SECRET, payload.exp - 1)).ok).toBe(true);
  });

  it("accepts only the canonical spelling of a token", async () => {
    const token = await signToken(payload, SECRET);
    const [body, signature] = token.split(".") as [string, string];
    // The last base64url character of a 32-byte signature carries 4 unused bits: flipping one
    // decodes to the same bytes, but is another string for the same token.
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const last = alphabet.indexOf(signature.at(-1)!);
    const respelled = `${body}.${signature.slice(0, -1)}${alphabet[last ^ 1]}`;
    expect(Buffer.from(respelled.split(".")[1]!, "base64url")).toEqual(Buffer.from(signature, "base64url"));
    expect(await verifyToken(respelled, SECRET, NOW)).toEqual({ ok: false, reason: "malformed token" });
  });

  it("rejects a tampered payload", async () => {
    const token = await signToken(payload, SECRET);
    const signature = token.split(".")[1]!;
    const forged = `${encodeJson({ ...payload, role: "operator" })}.${signature}`;
    expect(await verifyToken(forged, SECRET, NOW)).toEqual({ ok: false, reason: "bad signature" });
  });

  it.each(["", "a", ".", "a.", ".b", "a.b.c", "a$b.cd", "abc.d!ef", "eyJ.a"])("rejects malformed token %j", async (token) => {
    const check = await verifyToken(token, SECRET, NOW);
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.reason).toMatch(/malformed|bad signature/);
  });

  it("reports structurally malformed strings as malformed", async () => {
    for (const token of ["", "a", "a.b.c", "a$b.cd"]) {
      expect(await verifyToken(token, SECRET, NOW)).toEqual({ ok: false, reason: "malformed token" });
    }
  });

  it("rejects a correctly signed body that is not a valid payload", async () => {
    // Sign an arbitrary body with the same HMAC scheme to get past the signature check.
    const body = encodeJson({ role: "admin", town: "town-1", exp: NOW + 60 });
    const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(SECRET), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    const sig = Buffer.from(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(body))).toString("base64url");
    expect(await verifyToken(`${body}.${sig}`, SECRET, NOW)).toEqual({ ok: false, reason: "malformed token payload" });
  });

  it("signToken refuses a payload with an unknown role", async () => {
    await expect(signToken({ ...payload, role: "admin" } as unknown as TokenPayload, SECRET)).rejects.toThrow();
  });

  it("signToken refuses a payload with an unknown field", async () => {
    await expect(signToken({ ...payload, admin: true } as unknown as TokenPayload, SECRET)).rejects.toThrow();
  });
});

describe("internalKey", () => {
  it("is deterministic per (secret, town)", async () => {
    expect(await internalKey(SECRET, "town-1")).toBe(await internalKey(SECRET, "town-1"));
  });

  it("differs across towns and secrets", async () => {
    const key = await internalKey(SECRET, "town-1");
    expect(await internalKey(SECRET, "town-2")).not.toBe(key);
    expect(await internalKey("other-secret", "town-1")).not.toBe(key);
  });
});

describe("tokenFromRequest", () => {
  it("reads Authorization: Bearer", () => {
    const request = new Request("http://host/parties/main/t/api/gt_list_rigs", { headers: { Authorization: "Bearer abc.def" } });
    expect(tokenFromRequest(request)).toBe("abc.def");
  });

  it("reads ?token= when there is no Authorization header", () => {
    expect(tokenFromRequest(new Request("http://host/parties/main/t?token=abc.def"))).toBe("abc.def");
  });

  it("reads the Bearer scheme in any case, and falls back to ?token= on an empty header", () => {
    expect(tokenFromRequest(new Request("http://host/", { headers: { Authorization: "bearer abc.def" } }))).toBe("abc.def");
    expect(tokenFromRequest(new Request("http://host/?token=q.t", { headers: { Authorization: "Bearer " } }))).toBe("q.t");
  });

  it("prefers the header over the query", () => {
    const request = new Request("http://host/parties/main/t?token=query", { headers: { Authorization: "Bearer header" } });
    expect(tokenFromRequest(request)).toBe("header");
  });

  it("returns null when there is no token", () => {
    expect(tokenFromRequest(new Request("http://host/parties/main/t"))).toBeNull();
    expect(tokenFromRequest(new Request("http://host/", { headers: { Authorization: "Bearer   " } }))).toBeNull();
  });
});
