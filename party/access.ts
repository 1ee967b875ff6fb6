/**
 * One admission rule for both rooms, as a pure function: what a token may reach in a room. A token
 * is checked for its town, its rig scope, its role and, for share links, its view; each socket is
 * either a tool socket (JSON tool calls and events) or a document socket (one live document,
 * y-protocols frames only), and documents are granted one by one:
 *
 *   document        who reads it
 *   town  (town)    town-wide operators and viewers, town and mail links, containers
 *   scope (town)    convoy links (that convoy) and rig-scoped operators (their rigs, the convoys they
 *                   are in): a read-only part of the town document, built per token (townScope)
 *   mail  (town)    town-wide operators; share links made for the mail view
 *   rig   (rig)     operators and viewers of that rig (town-wide, scoped to it, or a link to a view in it)
 *
 * A link reveals nothing outside its view's rig(s): rig, bead and agent links and rig-scoped viewer
 * tokens read their rig's document and no part of the town's.
 *
 * Agents' output (an output socket `…/output/<identity>`, or gt_agent_log) is for operators of the
 * rig, and for share links whose view names that agent (all its runs) or that bead (its runs only).
 *
 * Agents and containers read no document but the town's registry (containers); viewers call no
 * tool but the reads of what their view shows (VIEWER_TOOLS, over HTTP).
 * docs/security.md has the whole table of actors.
 */
import type { OutputScope } from "./agent-output.ts";
import { parseAddress, type TokenPayload } from "./protocol.ts";

export const TOWN_DOCS = ["town", "scope", "mail"] as const;
export const RIG_DOCS = ["rig"] as const;
export type DocName = (typeof TOWN_DOCS)[number] | (typeof RIG_DOCS)[number];

export type RoomRef = { party: "main"; town: string } | { party: "rig"; town: string; rigId: string; rigName: string };

/**
 * A tool socket or HTTP tool call (`tool`: the one an HTTP call names), a socket for one document,
 * or a socket watching one agent's output.
 */
export type Purpose = { kind: "tools"; tool?: string } | { kind: "doc"; doc: DocName } | { kind: "output"; identity: string };

/** Tools a share link may call (over HTTP; it has no tool socket): reads of what its view shows. */
export const VIEWER_TOOLS: ReadonlySet<string> = new Set(["gt_agent_log"]);

export type Admission = { ok: true; identity: string | null } | { ok: false; code: "FORBIDDEN" | "UNKNOWN_RIG"; message: string };

const refuse = (message: string): Admission => ({ ok: false, code: "FORBIDDEN", message });

/** Whether the token's rig scope (one rig, or a sharded container's rigs) covers this rig; true when town-wide. */
export function coversRig(token: TokenPayload, rigId: string): boolean {
  if (token.rig !== undefined && token.rig !== rigId) return false;
  if (token.rigs !== undefined && !token.rigs.includes(rigId)) return false;
  return true;
}

/**
 * Who a token speaks for, the same across its renewals (gt_token_refresh gives a new jti): what rate
 * limits, socket caps and sync meters count by, so minting fresh tokens buys no fresh budget. An
 * agent is its identity and run, a container its rig scope; operators' tokens and share links are
 * never renewed, so each is its own.
 */
export function principalOf(token: TokenPayload): string {
  switch (token.role) {
    case "agent":
      return `agent:${token.agent ?? "?"}:${token.rig ?? ""}:${token.run ?? ""}`;
    case "container":
      return `container:${token.rigs?.join(",") ?? token.rig ?? "*"}`;
    default:
      return `${token.role}:${token.jti}`;
  }
}

/** True when the token is not scoped to any rig (nor is a share link). */
export function townWide(token: TokenPayload): boolean {
  return token.rig === undefined && token.rigs === undefined && token.view === undefined;
}

export function admit(token: TokenPayload, room: RoomRef, purpose: Purpose): Admission {
  if (token.town !== room.town) return refuse(`token is for town ${token.town}`);
  if (room.party === "rig" && !coversRig(token, room.rigId)) return refuse("token is for another rig");
  if (purpose.kind === "doc") return admitDoc(token, room, purpose.doc);
  if (purpose.kind === "output") return admitOutput(token, room, purpose.identity);
  switch (token.role) {
    case "viewer":
      if (purpose.tool !== undefined && VIEWER_TOOLS.has(purpose.tool) && outputScope(token, room)) return { ok: true, identity: null };
      return refuse("viewers read documents and call no tools");
    case "operator":
      // The town's `operator` inbox (its mail events) is for town-wide operators only.
      return { ok: true, identity: room.party === "main" && townWide(token) ? "operator" : null };
    case "container":
      return { ok: true, identity: null };
    case "agent": {
      if (room.party === "main") {
        // Rig agents work in their rig room; only the Mayor (a town-wide agent token) acts in the town.
        return token.agent === "mayor" && token.rig === undefined ? { ok: true, identity: "mayor" } : refuse("agent tokens act in their rig room");
      }
      const address = token.agent ? parseAddress(token.agent) : null;
      if (token.rig !== room.rigId || !address || address.kind !== "rig" || address.rig !== room.rigName) {
        return refuse(`agent tokens act only in their own rig (${room.rigName})`);
      }
      return { ok: true, identity: address.identity };
    }
  }
}

/**
 * The part of the town a token reads in the `scope` document, or null when it reads none there (the
 * town-wide read the whole town document; rig, bead and agent links and rig-scoped viewers only
 * their rig's document): a convoy link its convoy, a rig-scoped operator its rigs and their convoys.
 */
export type TownScope = { kind: "convoy"; convoy: string } | { kind: "rigs"; rigs: readonly string[] };

export function townScope(token: TokenPayload): TownScope | null {
  if (token.role === "viewer" && token.view?.kind === "convoy") return { kind: "convoy", convoy: token.view.convoy };
  if (token.role === "operator" && !townWide(token)) return { kind: "rigs", rigs: token.rigs ?? (token.rig ? [token.rig] : []) };
  return null;
}

/** Who reads the whole town document: town-wide operators and viewers (a town or mail link too), containers. */
function readsTown(token: TokenPayload): boolean {
  if (token.role === "container") return true;
  if (token.role !== "operator" && token.role !== "viewer") return false;
  if (token.rig !== undefined || token.rigs !== undefined) return false;
  return token.view === undefined || token.view.kind === "town" || token.view.kind === "mail";
}

function admitDoc(token: TokenPayload, room: RoomRef, doc: DocName): Admission {
  const granted = { ok: true, identity: null } as const;
  if (room.party === "main" ? doc === "rig" : doc !== "rig") return { ok: false, code: "UNKNOWN_RIG", message: `no document ${doc} in this room` };
  switch (token.role) {
    case "agent":
      return refuse("agents use their tool socket; documents are for dashboards");
    case "container":
      return doc === "town" ? granted : refuse("a container reads only the town's registry");
    case "operator":
      if (doc === "mail" && !townWide(token)) return refuse("the town's mail is for town-wide operators");
      if (doc === "town" && !readsTown(token)) return refuse("a token scoped to a rig reads its part of the town (the scope document), not the town");
      if (doc === "scope" && !townScope(token)) return refuse("a town-wide token reads the town document");
      return granted;
    case "viewer": {
      const view = token.view;
      if (doc === "town") return readsTown(token) ? granted : refuse("this link shows its own view only, not the town");
      if (doc === "scope") return townScope(token) ? granted : refuse("this link has no part in the town's document");
      if (doc === "mail") return view?.kind === "mail" ? granted : refuse("this link does not show the town's mail");
      // The rig document: a viewer of the town or of this rig, or a link to a view inside this rig.
      if (view === undefined) return granted; // coversRig already held
      const rigId = room.party === "rig" ? room.rigId : "";
      return (view.kind === "rig" || view.kind === "bead" || view.kind === "agent") && view.rig === rigId
        ? granted
        : refuse("this link does not show this rig");
    }
  }
}

/**
 * What of agents' output a token may read in a room, or null for none: operators of the rig all of
 * it; a share link made for an agent view that agent's runs, for a bead view that bead's runs.
 * Agents, containers and viewers without such a link read none (output is not in any document).
 */
export function outputScope(token: TokenPayload, room: RoomRef): OutputScope | null {
  if (room.party !== "rig" || token.town !== room.town || !coversRig(token, room.rigId)) return null;
  if (token.role === "operator") return {};
  if (token.role !== "viewer" || token.view === undefined) return null;
  const view = token.view;
  if (view.kind === "agent" && view.rig === room.rigId) return { agent: view.agent };
  if (view.kind === "bead" && view.rig === room.rigId) return { bead: view.bead };
  return null;
}

/** An output socket: an agent of this rig, watched by whom outputScope allows (a bead link: that bead's runs of it). */
function admitOutput(token: TokenPayload, room: RoomRef, identity: string): Admission {
  const address = parseAddress(identity);
  if (room.party !== "rig" || address?.kind !== "rig" || address.rig !== room.rigName)
    return { ok: false, code: "UNKNOWN_RIG", message: `no agent ${identity} in this room` };
  const scope = outputScope(token, room);
  if (!scope)
    return refuse(token.role === "viewer" ? "this link does not show agents' output" : "agents' output is for operators and links that name the agent");
  if (scope.agent !== undefined && scope.agent !== address.name) return refuse(`this link shows the output of ${scope.agent} only`);
  return { ok: true, identity: null };
}
