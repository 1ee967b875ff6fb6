/**
 * Reads a finished (or running) run's output with `gt_agent_log` over HTTP. Deliberately not
 * through client/tools.ts: that module brings the protocol's schemas (zod), and a viewer's bead
 * page needs one small call, not them.
 */
import { httpBase } from "../../../client/connection.ts";
import type { AgentLogResult } from "../../../party/protocol.ts";
import { parseLogResult } from "./output-tail.ts";

export class LogReadError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "LogReadError";
  }
}

export type LogQuery = { identity?: string; run?: string; bead_id?: string; after?: number; limit?: number };

export async function readAgentLog(address: { town: string; rigId: string; token: string }, query: LogQuery): Promise<AgentLogResult> {
  const base = httpBase({ host: location.host, secure: location.protocol === "https:", party: "rig", room: `${address.town}.${address.rigId}` });
  let response: Response;
  try {
    response = await fetch(`${base}/api/gt_agent_log`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${address.token}` },
      body: JSON.stringify(query),
    });
  } catch {
    throw new LogReadError("NETWORK", "The server could not be reached.");
  }
  const body = (await response.json().catch(() => null)) as { ok?: unknown; value?: unknown; error?: { code?: string; message?: string } } | null;
  if (body?.ok !== true) {
    const code = body?.error?.code ?? `HTTP_${response.status}`;
    throw new LogReadError(
      code,
      code === "FORBIDDEN"
        ? "Agent output is shown to operators, and to links made for this bead or agent."
        : (body?.error?.message ?? `HTTP ${response.status}`),
    );
  }
  const result = parseLogResult(body.value);
  if (!result) throw new LogReadError("BAD_REPLY", "The server's reply to gt_agent_log was not an agent log.");
  return result;
}
