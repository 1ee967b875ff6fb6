/**
 * The dashboard's token. It arrives as `?token=` (an operator's link or a shared viewer link) and is
 * kept in sessionStorage per town, so in-app links need not carry it while a reload still works.
 * Only the payload is read here (role, expiry): the rooms check the signature.
 */
export type Role = "operator" | "viewer" | "agent" | "container";
export type Session = { token: string; role: Role | null; exp: number | null };

const key = (town: string) => `townhall.token.${town}`;

/** A token is a JWT: header.payload.signature; the payload holds the claims (role, exp, aud, view). */
function decodePayload(token: string): { role?: unknown; exp?: unknown; aud?: unknown } | null {
  const part = token.split(".")[1];
  if (!part) return null;
  try {
    const b64 = part.replace(/-/g, "+").replace(/_/g, "/");
    const value: unknown = JSON.parse(atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4)));
    return typeof value === "object" && value !== null ? value : null;
  } catch {
    return null; // not a token we can read; the room will refuse it with a reason we show
  }
}

export function readSession(town: string, urlToken: string | undefined): Session | null {
  let token = urlToken;
  try {
    if (token) sessionStorage.setItem(key(town), token);
    else token = sessionStorage.getItem(key(town)) ?? undefined;
  } catch {
    // storage can be disabled (private modes); the URL token still works for this page
  }
  if (!token) return null;
  const payload = decodePayload(token);
  const role = payload && typeof payload.role === "string" ? (payload.role as Role) : null;
  const exp = payload && typeof payload.exp === "number" ? payload.exp * 1000 : null;
  return { token, role, exp };
}
