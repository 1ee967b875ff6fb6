/**
 * How many sockets a room lets each caller hold, as pure decisions over the sockets it has open
 * (the room counts them; party/live/sockets.ts). The container and operators always find room: a tenth
 * of the room is theirs. Viewers (tokens and share links) hold at most half of it together, and no
 * one principal (see principalOf: minting or renewing tokens buys nothing) fills it by itself: an
 * agent 16 sockets, a viewer token 16, a share link 64 (a team opens one link together).
 */
import { principalOf } from "./access.ts";
import { LIMITS, type TokenPayload } from "./protocol.ts";

export type SocketCaps = {
  /** Sockets of the whole room (GT_MAX_CONNECTIONS). */
  room: number;
  /** Sockets of one viewer token (GT_MAX_VIEWER_CONNECTIONS). */
  perViewer: number;
  /** Sockets of one share link (GT_MAX_LINK_CONNECTIONS). */
  perLink: number;
};

function positiveInteger(value: unknown, fallback: number): number {
  const n = Number(value);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

/** The caps a room's environment sets, each a positive integer or its default. */
export function socketCaps(env: Record<string, unknown>): SocketCaps {
  return {
    room: positiveInteger(env.GT_MAX_CONNECTIONS, LIMITS.maxConnections),
    perViewer: positiveInteger(env.GT_MAX_VIEWER_CONNECTIONS, LIMITS.socketsPerViewer),
    perLink: positiveInteger(env.GT_MAX_LINK_CONNECTIONS, LIMITS.socketsPerLink),
  };
}

/** Why one more socket of `token` would be too many beside the `open` ones (their tokens), or null. */
export function socketCapProblem(open: Iterable<TokenPayload>, token: TokenPayload, caps: SocketCaps): string | null {
  const principal = principalOf(token);
  let total = 0;
  let viewers = 0;
  let others = 0;
  let mine = 0;
  for (const held of open) {
    total++;
    if (held.role === "viewer") viewers++;
    if (held.role === "viewer" || held.role === "agent") others++;
    if (principalOf(held) === principal) mine++;
  }
  if (total >= caps.room) return "room full";
  switch (token.role) {
    case "container":
    case "operator":
      return null;
    case "agent":
      if (mine >= LIMITS.socketsPerAgent) return `this agent holds ${mine} sockets here already; at most ${LIMITS.socketsPerAgent}`;
      break;
    case "viewer": {
      const [what, cap] = token.view ? (["share link", caps.perLink] as const) : (["viewer token", caps.perViewer] as const);
      if (mine >= cap) return `this ${what} holds ${mine} sockets here already; at most ${cap} per ${what}`;
      if (viewers >= Math.floor(caps.room * LIMITS.viewerShare)) return "room full for viewers";
      break;
    }
  }
  if (others >= caps.room - Math.ceil(caps.room * LIMITS.reservedShare)) return "room full: the rest is kept for the container and operators";
  return null;
}
