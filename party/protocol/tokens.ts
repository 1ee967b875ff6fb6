/** Tokens: HS256 JWTs (party/auth.ts signs and verifies them); these are their claims. */
import { z } from "zod";
import { address, slug } from "./names.ts";
import { ULID_RE } from "./patterns.ts";

export const TOKEN_ROLES = ["operator", "viewer", "agent", "container"] as const;
export type TokenRole = (typeof TOKEN_ROLES)[number];

/** Rig ids are ULIDs: a removed and re-added rig of the same name does not accept old tokens. */
const rigId = z.string().regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, "must be a rig id");

/**
 * The one dashboard view a share link was made for: it grants exactly the documents that view
 * reads (see party/access.ts) and nothing else.
 */
export const shareView = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("town") }),
  z.strictObject({ kind: z.literal("rig"), rig: rigId }),
  z.strictObject({ kind: z.literal("bead"), rig: rigId, bead: z.string().regex(ULID_RE) }),
  z.strictObject({ kind: z.literal("agent"), rig: rigId, agent: z.string().regex(/^[a-z][a-z0-9-]{0,39}$/) }),
  z.strictObject({ kind: z.literal("convoy"), convoy: z.string().regex(ULID_RE) }),
  z.strictObject({ kind: z.literal("mail") }),
]);
export type ShareView = z.infer<typeof shareView>;

export const tokenClaims = z.strictObject({
  /** Who: an agent's identity, `link` for a share link, else the role. */
  sub: z.string().min(1).max(120),
  /** The town. */
  aud: slug,
  iat: z.number().int().positive(),
  /** Expiry, seconds since the epoch. */
  exp: z.number().int().positive(),
  /** The token's own id: what a revocation names. */
  jti: z.string().min(1).max(64),
  role: z.enum(TOKEN_ROLES),
  /** Scoped to one rig (its id). */
  rig: rigId.optional(),
  /** A sharded container's rigs (ids). */
  rigs: z.array(rigId).min(1).max(1000).optional(),
  /** The identity an agent token acts as, e.g. `a/polecats/toast`, or `mayor`. */
  agent: address.optional(),
  /** The run an agent token was minted for: a stopped run's process can no longer hand work in. */
  run: z.string().min(1).max(80).optional(),
  /** A share link's view. */
  view: shareView.optional(),
});
export type TokenClaims = z.infer<typeof tokenClaims>;

/** A verified token as the rooms use it: the claims, with the town (`aud`) named `town`. */
export type TokenPayload = Omit<TokenClaims, "aud"> & { town: string };

/** What signToken takes: `sub`, `iat` and `jti` are filled in when absent. */
export type TokenInput = Omit<TokenPayload, "sub" | "iat" | "jti"> & Partial<Pick<TokenPayload, "sub" | "iat" | "jti">>;
