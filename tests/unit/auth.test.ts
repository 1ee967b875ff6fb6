import { SignJWT, decodeJwt, decodeProtectedHeader } from "jose";
import { describe, expect, it } from "vitest";
import { checkInternal, signInternal, peekClaims, signToken, tokenFromRequest, verifyToken } from "../../party/auth.ts";
import { MAX_TOKEN_LIFETIME_S, type TokenInput } from "../../party/protocol.ts";

const SECRET = "test-secret-0123456789";
const NOW = 1_700_000_000;
const RIG = "01J0000000000000000000RXG9";
const input: TokenInput = { role: "agent", town: "town-1", rig: RIG, agent: "a/polecats/toast", exp: NOW + 3600, iat: NOW, jti: "01J0000000000000000000JTI1" };

/** A JWT signed with the same secret but with claims of the caller's choosing. */
function rawJwt(claims: Record<string, unknown>, secret = SECRET): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).sign(new TextEncoder().encode(secret));
}

describe("signToken / verifyToken (HS256 JWTs)", () => {
  it("round-trips the claims; the town is the audience", async () => {
    const token = await signToken(input, SECRET);
    expect(decodeProtectedHeader(token)).toEqual({ alg: "HS256", typ: "JWT" });
    expect(decodeJwt(token)).toEqual({
      sub: "a/polecats/toast",
      aud: "town-1",
      iat: NOW,
      exp: NOW + 3600,
      jti: input.jti,
      role: "agent",
      rig: RIG,
      agent: "a/polecats/toast",
    });
    const check = await verifyToken(token, SECRET, NOW);
    expect(check).toEqual({
      ok: true,
      payload: { sub: "a/polecats/toast", town: "town-1", iat: NOW, exp: NOW + 3600, jti: input.jti, role: "agent", rig: RIG, agent: "a/polecats/toast" },
    });
  });

  it("fills in a fresh jti, iat and a subject (the role, or `link` for a share link)", async () => {
    const a = decodeJwt(await signToken({ role: "operator", town: "t", exp: NOW + 60 }, SECRET));
    const b = decodeJwt(await signToken({ role: "operator", town: "t", exp: NOW + 60 }, SECRET));
    expect(a.jti).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(a.jti).not.toBe(b.jti);
    expect(a.sub).toBe("operator");
    expect(decodeJwt(await signToken({ role: "viewer", town: "t", view: { kind: "mail" }, exp: NOW + 60 }, SECRET)).sub).toBe("link");
  });

  it("is an ordinary JWT: another library's token with the same claims and secret is accepted", async () => {
    const token = await rawJwt({ sub: "operator", aud: "town-1", iat: NOW, exp: NOW + 60, jti: "x1", role: "operator" });
    expect((await verifyToken(token, SECRET, NOW)).ok).toBe(true);
  });

  it("rejects a token signed with another secret", async () => {
    const token = await signToken(input, "other-secret-0123456789");
    expect(await verifyToken(token, SECRET, NOW)).toEqual({ ok: false, reason: "bad signature" });
  });

  it("rejects an expired token (exp <= now)", async () => {
    const token = await signToken(input, SECRET);
    expect(await verifyToken(token, SECRET, input.exp)).toEqual({ ok: false, reason: "token expired" });
    expect(await verifyToken(token, SECRET, input.exp + 1)).toEqual({ ok: false, reason: "token expired" });
    expect((await verifyToken(token, SECRET, input.exp - 1)).ok).toBe(true);
  });

  it("accepts only the canonical spelling of a token", async () => {
    const token = await signToken(input, SECRET);
    const [header, body, signature] = token.split(".") as [string, string, string];
    // The last base64url character of a 32-byte signature carries 4 unused bits: flipping one
    // decodes to the same bytes, but is another string for the same token.
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const last = alphabet.indexOf(signature.at(-1)!);
    const respelled = `${header}.${body}.${signature.slice(0, -1)}${alphabet[last ^ 1]}`;
    expect(Buffer.from(respelled.split(".")[2]!, "base64url")).toEqual(Buffer.from(signature, "base64url"));
    expect(await verifyToken(respelled, SECRET, NOW)).toEqual({ ok: false, reason: "malformed token" });
  });

  it("rejects a tampered payload", async () => {
    const token = await signToken(input, SECRET);
    const [header, , signature] = token.split(".");
    const forged = `${header}.${Buffer.from(JSON.stringify({ ...decodeJwt(token), role: "operator" })).toString("base64url")}.${signature}`;
    expect(await verifyToken(forged, SECRET, NOW)).toEqual({ ok: false, reason: "bad signature" });
  });

  it("rejects alg none and other algorithms", async () => {
    const claims = Buffer.from(JSON.stringify({ sub: "operator", aud: "town-1", iat: NOW, exp: NOW + 60, jti: "x", role: "operator" })).toString("base64url");
    const none = `${Buffer.from(JSON.stringify({ alg: "none" })).toString("base64url")}.${claims}.AAAA`;
    expect((await verifyToken(none, SECRET, NOW)).ok).toBe(false);
  });

  it.each(["", "a", ".", "a.b", "a.b.c.d", "a$b.cd.ef", "abc.d!ef.gh", "eyJ.a.b"])("rejects malformed token %j", async (token) => {
    const check = await verifyToken(token, SECRET, NOW);
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.reason).toMatch(/malformed|bad signature/);
  });

  it("rejects a correctly signed token whose claims are not ours", async () => {
    for (const claims of [
      { sub: "x", aud: "town-1", iat: NOW, exp: NOW + 60, jti: "x", role: "admin" },
      { sub: "x", aud: "town-1", iat: NOW, exp: NOW + 60, jti: "x", role: "operator", admin: true },
      { sub: "x", aud: ["town-1", "town-2"], iat: NOW, exp: NOW + 60, jti: "x", role: "operator" },
      { sub: "x", aud: "town-1", iat: NOW, exp: NOW + 60, role: "operator" },
      { sub: "x", aud: "town-1", iat: NOW, exp: NOW + 60, jti: "x", role: "viewer", view: { kind: "rig", rig: "not-an-id" } },
    ]) {
      expect(await verifyToken(await rawJwt(claims), SECRET, NOW)).toEqual({ ok: false, reason: "malformed token payload" });
    }
  });

  describe("token lifetimes", () => {
    const DAY = 86_400;
    const claims = (iat: number, exp: number) => ({ sub: "operator", aud: "town-1", iat, exp, jti: "x", role: "operator" });

    it("refuses an exp in the year 9999 and a day over 30 days; exactly 30 days pass, to the last second; no iat is malformed", async () => {
      const year9999 = Math.floor(Date.UTC(9999, 0, 1) / 1000);
      expect(await verifyToken(await rawJwt(claims(NOW, year9999)), SECRET, NOW)).toEqual({ ok: false, reason: "token lifetime over 30 days" });
      expect(await verifyToken(await rawJwt(claims(NOW, NOW + 30 * DAY + 1)), SECRET, NOW)).toEqual({ ok: false, reason: "token lifetime over 30 days" });
      const thirtyDays = await rawJwt(claims(NOW, NOW + MAX_TOKEN_LIFETIME_S));
      expect(MAX_TOKEN_LIFETIME_S).toBe(30 * DAY);
      expect((await verifyToken(thirtyDays, SECRET, NOW)).ok).toBe(true);
      expect((await verifyToken(thirtyDays, SECRET, NOW + MAX_TOKEN_LIFETIME_S - 1)).ok).toBe(true);
      // Every minting site sets iat (signToken fills it in); without it a lifetime could not be told.
      const { iat: _iat, ...noIat } = claims(NOW, NOW + 60);
      expect(await verifyToken(await rawJwt(noIat), SECRET, NOW)).toEqual({ ok: false, reason: "malformed token payload" });
    });

    it("refuses an iat a year ahead, or 61 s ahead; 60 s of clock skew pass", async () => {
      const future = "token issued in the future (iat more than 60 s ahead)";
      expect(await verifyToken(await rawJwt(claims(NOW + 365 * DAY, NOW + 365 * DAY + 60)), SECRET, NOW)).toEqual({ ok: false, reason: future });
      expect(await verifyToken(await rawJwt(claims(NOW + 61, NOW + 3600)), SECRET, NOW)).toEqual({ ok: false, reason: future });
      expect((await verifyToken(await rawJwt(claims(NOW + 60, NOW + 3600)), SECRET, NOW)).ok).toBe(true);
    });

    it("signToken mints no token the rooms would refuse for its lifetime", async () => {
      await expect(signToken({ role: "operator", town: "t", iat: NOW, exp: NOW + MAX_TOKEN_LIFETIME_S + 1 }, SECRET)).rejects.toThrow(
        "token lifetime over 30 days",
      );
      expect((await signToken({ role: "operator", town: "t", iat: NOW, exp: NOW + MAX_TOKEN_LIFETIME_S }, SECRET)).split(".")).toHaveLength(3);
    });
  });

  it("signToken refuses an unknown role or field", async () => {
    await expect(signToken({ ...input, role: "admin" } as unknown as TokenInput, SECRET)).rejects.toThrow();
    await expect(signToken({ ...input, admin: true } as unknown as TokenInput, SECRET)).rejects.toThrow();
  });

  it("peekClaims reads the claims without checking them (for display)", async () => {
    expect(peekClaims(await signToken(input, SECRET))).toMatchObject({ role: "agent", aud: "town-1", exp: NOW + 3600 });
    expect(peekClaims("not a token")).toBeNull();
  });
});

describe("room-to-room signatures", () => {
  const NOW_MS = 1_800_000_000_000;
  const digestOf = async (header: string) => header.split(".")[1];

  it("are checked for the room, the op and the time they were made for, and vouch for their body", async () => {
    const header = await signInternal(SECRET, "town-1.rig", "mail", '{"id":1}', NOW_MS);
    const ok = await checkInternal(header, SECRET, "town-1.rig", "mail", NOW_MS + 1_000);
    expect(ok).toEqual({ ok: true, digest: await digestOf(header) });
    // Another room, op, secret, or too late: refused.
    expect((await checkInternal(header, SECRET, "town-1.other", "mail", NOW_MS)).ok).toBe(false);
    expect((await checkInternal(header, SECRET, "town-1.rig", "wipe", NOW_MS)).ok).toBe(false);
    expect((await checkInternal(header, "other-secret-0123456789", "town-1.rig", "mail", NOW_MS)).ok).toBe(false);
    expect(await checkInternal(header, SECRET, "town-1.rig", "mail", NOW_MS + 121_000)).toEqual({ ok: false, reason: "room-to-room signature out of date" });
    // Another body's digest under the same signature: refused.
    const [at, , mac] = header.split(".");
    const other = await signInternal(SECRET, "town-1.rig", "mail", '{"id":2}', NOW_MS);
    expect((await checkInternal(`${at}.${other.split(".")[1]}.${mac}`, SECRET, "town-1.rig", "mail", NOW_MS)).ok).toBe(false);
    expect((await checkInternal(null, SECRET, "town-1.rig", "mail", NOW_MS)).ok).toBe(false);
  });
});

describe("tokenFromRequest", () => {
  it("reads Authorization: Bearer, in any case", () => {
    const request = new Request("http://host/parties/main/t/api/gt_list_rigs", { headers: { Authorization: "Bearer abc.def" } });
    expect(tokenFromRequest(request, "http")).toBe("abc.def");
    expect(tokenFromRequest(new Request("http://host/", { headers: { Authorization: "bearer abc.def" } }), "http")).toBe("abc.def");
  });

  it("reads ?token= for sockets only: HTTP calls send the header (a token in a URL ends up in logs)", () => {
    const request = new Request("http://host/parties/main/t?token=abc.def");
    expect(tokenFromRequest(request, "socket")).toBe("abc.def");
    expect(tokenFromRequest(request, "http")).toBeNull();
  });

  it("prefers the header over the query", () => {
    const request = new Request("http://host/parties/main/t?token=query", { headers: { Authorization: "Bearer header" } });
    expect(tokenFromRequest(request, "socket")).toBe("header");
  });

  it("returns null when there is no token", () => {
    expect(tokenFromRequest(new Request("http://host/parties/main/t"), "socket")).toBeNull();
    expect(tokenFromRequest(new Request("http://host/", { headers: { Authorization: "Bearer   " } }), "http")).toBeNull();
  });
});
