/**
 * gt's tool call over HTTP, with node:http(s) rather than fetch: on Node 20 the first fetch of a
 * process loads undici, about 90 ms of CPU, which gt would pay on every call an agent makes (a bare
 * `node` starts in about 60). The contract of client/tool-http.ts's callHttp, which the dashboard
 * shares and so keeps fetch: resolves with the tool's value; rejects with ToolCallError when the tool
 * answered an error, with SyntaxError when the reply is not JSON, and otherwise (the request itself
 * failed) with an Error whose `cause` is the socket's error (`code` ECONNREFUSED, ECONNRESET, …).
 * A reply's `nudge` (the witness's) is noted for gt to show (nudge.ts).
 */
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { httpBase, tokenOf, type RoomAddress } from "../../client/connection.ts";
import { ToolCallError } from "../../client/tool-http.ts";
import type { ErrorCode } from "../../party/protocol.ts";
import { noteNudge } from "./nudge.ts";

type Reply<T> = { ok: boolean; value?: T; error?: { code: ErrorCode; message: string; retry_after?: number }; nudge?: unknown };

/** `POST /parties/<party>/<room>/api/<tool>`; resolves with the value or rejects as above. */
export function postTool<T = unknown>(address: Omit<RoomAddress, "WebSocket">, tool: string, args: unknown = {}): Promise<T> {
  const url = new URL(`${httpBase(address)}/api/${tool}`);
  const body = JSON.stringify(args);
  const headers = { "content-type": "application/json", "content-length": Buffer.byteLength(body), authorization: `Bearer ${tokenOf(address)}` };
  return new Promise<T>((resolve, reject) => {
    const failed = (error: Error) => reject(new Error(`${tool}: ${error.message}`, { cause: error }));
    const req = (url.protocol === "https:" ? httpsRequest : httpRequest)(url, { method: "POST", headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("error", failed);
      res.on("end", () => {
        if (!res.complete) return failed(Object.assign(new Error("the reply was cut off"), { code: "ECONNRESET" }));
        let reply: Reply<T>;
        try {
          reply = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Reply<T>;
        } catch (error) {
          return reject(error); // SyntaxError: not a tool reply
        }
        // The witness's nudge rides on any reply, a refusal's too: noted for gt to show (nudge.ts).
        if (reply && typeof reply === "object" && reply.nudge !== undefined) noteNudge(reply.nudge);
        if (!reply.ok)
          reject(
            new ToolCallError(reply.error?.code ?? "INTERNAL", reply.error?.message ?? `HTTP ${res.statusCode}`, res.statusCode, reply.error?.retry_after),
          );
        else resolve(reply.value as T);
      });
    });
    req.on("error", failed);
    req.end(body);
  });
}
