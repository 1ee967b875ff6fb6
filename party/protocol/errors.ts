/**
 * Errors and close codes: what a tool call answers when it refuses (with the HTTP status of each
 * code) and why a socket is closed. No zod at run time, like limits.ts.
 */
import type { z } from "zod";

/** Tool error codes and the HTTP status each one maps to. */
export const ERROR_STATUS = {
  BAD_FRAME: 400,
  INVALID_ARGS: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  UNKNOWN_TOOL: 404,
  UNKNOWN_RECIPIENT: 404,
  UNKNOWN_RIG: 404,
  UNKNOWN_BEAD: 404,
  UNKNOWN_AGENT: 404,
  UNKNOWN_CONVOY: 404,
  /** HTTP: no such route (a tool route that names no tool is UNKNOWN_TOOL). */
  NOT_FOUND: 404,
  /** HTTP: the route exists but not for this method; the `Allow` header names the one that is. */
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  /** A container acted with a lease epoch that is not the rig's current one (it lost the rig). */
  LEASE_LOST: 409,
  /** No rig is ready with the capabilities a bead requires; the message names each rig and why. */
  NO_ELIGIBLE_RIG: 409,
  TOO_LARGE: 413,
  RATE_LIMITED: 429,
  INTERNAL: 500,
} as const;
export type ErrorCode = keyof typeof ERROR_STATUS;

export class ToolError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** RATE_LIMITED: seconds until the call would be accepted. */
    readonly retryAfter?: number,
  ) {
    super(message);
    this.name = "ToolError";
  }
}

/** WebSocket close codes: 4xxx mirroring HTTP statuses. */
export const CLOSE = {
  /** Sustained bad frames. */
  ABUSE: 4400,
  UNAUTHORIZED: 4401,
  /** Wrong role or scope, or a client tried to write a live document. */
  FORBIDDEN: 4403,
  /** The room's rig was removed. */
  GONE: 4404,
  /** The container missed its lease deadline (no renewal in time): it no longer serves the rig. */
  LEASE_EXPIRED: 4408,
  TOO_LARGE: 4413,
  /** The room is at its connection cap (or its viewers' share of it); try again later. */
  ROOM_FULL: 4429,
  /** A document socket asked for the whole document too often. */
  TOO_MANY_SYNCS: 4420,
  /** The room replaced the document (a compacting rebuild): connect again and sync a fresh Y.Doc. */
  DOC_REPLACED: 4205,
  /**
   * A document socket's replica holds writes the room refused (or history no lineage of the room
   * wrote): no sync can bring it to the room's document. Start a fresh Y.Doc.
   */
  DOC_DIVERGED: 4409,
} as const;
export type CloseCode = (typeof CLOSE)[keyof typeof CLOSE];

/** Turns zod issues into one line a person can act on. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length ? i.path.join(".") : "args"}: ${i.message}`)
    .join("; ");
}

/** Exhaustiveness guard for switches over unions. */
export function unreachable(value: never): never {
  throw new Error(`unhandled case: ${JSON.stringify(value)}`);
}
