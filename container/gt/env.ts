/**
 * The agent's environment (the container gives every agent these variables): where the rooms are,
 * which town and rig, the agent token, the hooked bead, and the mode (a rig agent, or the Mayor with
 * GT_AGENT=mayor). Nothing here loads zod (gt starts on every call an agent makes).
 */
import { SLUG_RE, ULID_RE } from "../../party/protocol/patterns.ts";
import { GtUsageError } from "./errors.ts";

/** `rig`: an agent of one rig, in its rig room; `mayor`: the Mayor, in the town room. */
export type GtMode = "rig" | "mayor";

export type GtEnv = {
  mode: GtMode;
  /** `host:port` of the Townhall server. */
  host: string;
  secure: boolean;
  town: string;
  /** The rig id (GT_RIG_ID, else GT_RIG as it was before names: an id); null for the Mayor. */
  rig: string | null;
  /** The agent's identity as the container announced it, e.g. `alpha/polecats/toast`; informative only. */
  agent: string | null;
  token: string;
  /** The hooked bead, when the agent was started for one. */
  bead: string | null;
  /** The rig's default branch (GT_DEFAULT_BRANCH), which `done` checks the branch has commits beyond. */
  defaultBranch: string | null;
};

/** The Mayor's identity: GT_AGENT=mayor puts `gt` in Mayor mode. */
export const MAYOR = "mayor";

/** The mode GT_AGENT asks for (the rest of the environment is checked by readGtEnv). */
export function gtMode(source: Record<string, string | undefined> = process.env): GtMode {
  return source.GT_AGENT?.trim() === MAYOR ? "mayor" : "rig";
}

/**
 * Reads and checks the agent's environment; throws GtUsageError naming the first bad variable.
 * The rig to act in is GT_RIG_ID when set: the container sets GT_RIG to the rig's name, as Gas Town
 * does, and the id beside it (an agent token cannot read the registry to turn a name into an id).
 * Without GT_RIG_ID, GT_RIG is taken as the id, as it was before (an operator's environment).
 * In Mayor mode (GT_AGENT=mayor) the rig and GT_BEAD are not used; `needsRig: false` (an
 * operator's command in the town room) leaves the rig optional in rig mode too.
 */
export function readGtEnv(source: Record<string, string | undefined> = process.env, needsRig = true): GtEnv {
  const need = (name: string): string => {
    const value = source[name]?.trim();
    if (!value) throw new GtUsageError(`environment variable ${name} is not set`);
    return value;
  };
  const host = need("GT_HOST");
  if (!/^[^\s/:]+(:\d{1,5})?$|^\[[0-9a-fA-F:]+\](:\d{1,5})?$/.test(host)) {
    throw new GtUsageError(`environment variable GT_HOST must be host:port without a scheme or path, got ${JSON.stringify(host)}`);
  }
  const town = need("GT_TOWN");
  if (!SLUG_RE.test(town)) throw new GtUsageError(`environment variable GT_TOWN must be a town slug, got ${JSON.stringify(town)}`);
  const mode = gtMode(source);
  const givenRig = source.GT_RIG_ID?.trim() || source.GT_RIG?.trim() || null;
  if (mode !== "mayor" && needsRig && !givenRig)
    throw new GtUsageError("environment variables GT_RIG_ID and GT_RIG are not set (the id of the rig to act in: GT_RIG_ID, or GT_RIG when it holds the id)");
  const rig = mode === "mayor" ? null : givenRig;
  const token = need("GT_TOKEN");
  const secureText = (source.GT_SECURE ?? "").trim();
  if (!["", "0", "1", "false", "true"].includes(secureText)) {
    throw new GtUsageError(`environment variable GT_SECURE must be 1 (https) or 0 (http), got ${JSON.stringify(secureText)}`);
  }
  const bead = mode === "mayor" ? null : source.GT_BEAD?.trim() || null;
  if (bead !== null && !ULID_RE.test(bead)) throw new GtUsageError(`environment variable GT_BEAD must be a bead id (a ULID), got ${JSON.stringify(bead)}`);
  const defaultBranch = source.GT_DEFAULT_BRANCH?.trim() || null;
  return { mode, host, secure: secureText === "1" || secureText === "true", town, rig, agent: source.GT_AGENT?.trim() || null, token, bead, defaultBranch };
}
