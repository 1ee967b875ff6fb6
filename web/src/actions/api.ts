/**
 * Operator tool calls from the dashboard. This module (and so zod, through the protocol module) is
 * loaded only when an operator's controls are shown, never for viewers.
 */
import { callHttp, ToolCallError } from "../../../client/tools.ts";
import type { Rig } from "../../../party/protocol.ts";
import type { TownStore } from "../stores/town.tsx";

export function townTool<T>(town: TownStore, tool: string, args: unknown): Promise<T> {
  return callHttp<T>({ host: location.host, secure: location.protocol === "https:", party: "main", room: town.town, token: town.session.token }, tool, args);
}

/** A tool of one rig's room (beads, agents, escalations live there), the same call `gt` makes. */
export function rigTool<T>(town: TownStore, rig: Pick<Rig, "id">, tool: string, args: unknown): Promise<T> {
  return callHttp<T>(
    { host: location.host, secure: location.protocol === "https:", party: "rig", room: `${town.town}.${rig.id}`, token: town.session.token },
    tool,
    args,
  );
}

/** The message a person should read for a failed call: the server's own words, which name the cause. */
export function describe(error: unknown): string {
  if (error instanceof ToolCallError) {
    const message = error.message.replace(/^[A-Z_]+: /, "");
    switch (error.code) {
      case "NO_ELIGIBLE_RIG":
        return `No rig can take this: ${message}`;
      case "UNAUTHORIZED":
        return "Your token was refused (expired?). Open a fresh operator link.";
      case "FORBIDDEN":
        return "Your token may not do this.";
      default:
        return message;
    }
  }
  if (error instanceof TypeError) return "The server could not be reached. Check the connection and try again.";
  return error instanceof Error ? error.message : String(error);
}

/** Capabilities typed as "ts, web" or "ts web". */
export const splitList = (text: string) =>
  text
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);
