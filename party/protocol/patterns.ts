/**
 * The patterns of names and ids, apart from names.ts's zod schemas: code that only checks a name
 * (the agents' `gt`, which must start without loading zod) imports them from here.
 */

export const SLUG_RE = /^[a-z0-9][a-z0-9-]{0,39}$/;
/** Generated ids: ULIDs (sortable by time, collision-free). */
export const ULID_RE = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** A model's name as CLIs take it (`claude-sonnet-4-5`, `gpt-5-codex`, `openai/gpt-4.1`, `gemini-2.5-pro@001`). */
export const MODEL_RE = /^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,99}$/;

/** The longest mail subject (LIMITS.maxSubject): gt shortens a reply's "Re: …" to it without loading zod. */
export const MAX_SUBJECT = 200;

// Mail addresses (agents' identities), parsed the same way by the rooms and by gt.

export const AGENT_ROLES = ["polecat", "refinery", "witness"] as const;
export type AgentRole = (typeof AGENT_ROLES)[number];

/** A parsed mail address. */
export type Address = { kind: "town"; identity: "mayor" | "operator" } | { kind: "rig"; rig: string; role: AgentRole; name: string; identity: string };

export const POLECAT_NAME_RE = /^[a-z][a-z0-9-]{0,39}$/;

/** Parses `mayor`, `operator`, `<rig>/witness`, `<rig>/refinery` or `<rig>/polecats/<name>`. */
export function parseAddress(address: string): Address | null {
  if (address === "mayor" || address === "operator") return { kind: "town", identity: address };
  const parts = address.split("/");
  const rig = parts[0] ?? "";
  if (!SLUG_RE.test(rig)) return null;
  if (parts.length === 2 && (parts[1] === "witness" || parts[1] === "refinery")) {
    return { kind: "rig", rig, role: parts[1], name: parts[1], identity: address };
  }
  if (parts.length === 3 && parts[1] === "polecats" && POLECAT_NAME_RE.test(parts[2] ?? "")) {
    return { kind: "rig", rig, role: "polecat", name: parts[2]!, identity: address };
  }
  return null;
}
