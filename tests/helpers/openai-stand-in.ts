/**
 * A scripted stand-in of the OpenAI Responses API on 127.0.0.1, for the real Codex CLI: the model is
 * the only part of a test that is not real. It answers `POST /v1/responses` as the API does when
 * asked to stream: server-sent events `response.created`, then per output item
 * `response.output_item.added`, its deltas (`response.output_text.delta` for a message,
 * `response.function_call_arguments.delta` for a call) and `response.output_item.done`, then
 * `response.completed` with the turn's usage. Codex reads each item whole from its `done` event and
 * the usage from `response.completed`.
 *
 * Each request is one model call of the agent; a test scripts the answers (`script`), typically by
 * how far the conversation got (`functionOutputs`). A call is a plain function (`exec_command`, the
 * shell tool Codex offers a model it has no metadata for) or a function in a namespace (an MCP
 * server's tools: namespace `mcp__<server>`). Every request is recorded with its headers and body,
 * so a test can read what the CLI sent (the key in `authorization`, the model, the input, the tools).
 *
 * Codex reaches it as an operator's local gateway: a model provider in the rig user's Codex config
 * (`model_providers.<id>.base_url = "http://127.0.0.1:<port>/v1"`, `wire_api = "responses"`).
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** An input item of a Responses request (the parts the stand-in reads). */
export type InputItem = {
  type?: string;
  role?: string;
  content?: string | { type: string; text?: string }[];
  name?: string;
  namespace?: string;
  arguments?: string;
  call_id?: string;
  output?: unknown;
  [key: string]: unknown;
};
export type Tool = { type: string; name?: string; tools?: Tool[] };
export type ResponsesBody = { model?: string; stream?: boolean; input?: InputItem[]; tools?: Tool[]; [key: string]: unknown };

export type StandInRequest = { at: number; method: string; path: string; headers: IncomingMessage["headers"]; body: ResponsesBody | null };

/** An item of a scripted answer: a message, or a function call (in an MCP server's namespace, or a plain one). */
export type Item = { type: "text"; text: string } | { type: "call"; name: string; namespace?: string; args: Record<string, unknown> };

/** Token counts a turn reports (the API's field names); each defaults to a small number. */
export type TurnUsage = { input_tokens?: number; cached_tokens?: number; output_tokens?: number; reasoning_tokens?: number };

export type Turn = { items: Item[]; usage?: TurnUsage };
export type Script = (request: StandInRequest, index: number) => Turn | Promise<Turn>;

export const DEFAULT_TURN_USAGE: Required<TurnUsage> = { input_tokens: 1000, cached_tokens: 200, output_tokens: 50, reasoning_tokens: 10 };

/** The outputs of the function calls the conversation holds so far (what the tools answered): how far the agent got. */
export function functionOutputs(body: ResponsesBody | null): { call_id: string; output: string }[] {
  return (body?.input ?? [])
    .filter((i) => i.type === "function_call_output")
    .map((i) => ({ call_id: String(i.call_id), output: typeof i.output === "string" ? i.output : JSON.stringify(i.output) }));
}

/** The text of the user's messages (the prompt and what Codex adds about the environment). */
export function userText(body: ResponsesBody | null): string {
  return (body?.input ?? [])
    .filter((i) => i.type === "message" && i.role === "user")
    .flatMap((i) => (typeof i.content === "string" ? [i.content] : (i.content ?? []).map((c) => c.text ?? "")))
    .join("\n");
}

/** Every tool the request offers, by its full name (`namespace.name` inside a namespace). */
export function toolNames(body: ResponsesBody | null): string[] {
  const names: string[] = [];
  const walk = (tools: Tool[] | undefined, prefix: string): void => {
    for (const tool of tools ?? []) {
      if (tool.type === "namespace") walk(tool.tools, `${tool.name}.`);
      else names.push(`${prefix}${tool.name ?? tool.type}`);
    }
  };
  walk(body?.tools, "");
  return names;
}

export type OpenAiStandIn = {
  port: number;
  /** `http://127.0.0.1:<port>/v1`: a provider's base_url. */
  url: string;
  requests: StandInRequest[];
  script: (script: Script) => void;
  stop: () => Promise<void>;
};

export async function startOpenAiStandIn(initial: Script = () => ({ items: [{ type: "text", text: "Nothing to do." }] })): Promise<OpenAiStandIn> {
  let script = initial;
  const requests: StandInRequest[] = [];
  let count = 0;
  const open = new Set<ServerResponse>();

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      let body: ResponsesBody | null = null;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as ResponsesBody;
      } catch {
        body = null;
      }
      const path = req.url ?? "/";
      const request: StandInRequest = { at: Date.now(), method: req.method ?? "GET", path, headers: req.headers, body };
      requests.push(request);
      if (req.method !== "POST" || !/^\/v1\/responses(\?|$)/.test(path)) {
        res.writeHead(404, { "content-type": "application/json" });
        res.end(
          JSON.stringify({ error: { type: "invalid_request_error", message: `the stand-in answers POST /v1/responses only, not ${req.method} ${path}` } }),
        );
        return;
      }
      const index = count++;
      Promise.resolve()
        .then(() => script(request, index))
        .then(
          (turn) => respond(res, body, turn, index + 1),
          (error: unknown) => {
            res.writeHead(500, { "content-type": "application/json" });
            res.end(JSON.stringify({ error: { type: "server_error", message: `stand-in script failed: ${String(error)}` } }));
          },
        );
    });
  });

  const respond = (res: ServerResponse, body: ResponsesBody | null, turn: Turn, n: number): void => {
    const usage = { ...DEFAULT_TURN_USAGE, ...turn.usage };
    const id = `resp_standin_${n}`;
    open.add(res);
    res.on("close", () => open.delete(res));
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", "x-request-id": `req_${n}` });
    const send = (data: { type: string; [key: string]: unknown }) => res.write(`event: ${data.type}\ndata: ${JSON.stringify(data)}\n\n`);
    const base = { id, object: "response", model: body?.model ?? "stand-in", status: "in_progress", output: [] as unknown[] };
    send({ type: "response.created", response: base });
    const output = turn.items.map((item, index) => {
      if (item.type === "text") {
        const done = {
          type: "message",
          id: `msg_${n}_${index}`,
          role: "assistant",
          status: "completed",
          content: [{ type: "output_text", text: item.text, annotations: [] }],
        };
        send({ type: "response.output_item.added", output_index: index, item: { ...done, status: "in_progress", content: [] } });
        for (let at = 0; at < item.text.length; at += 64)
          send({ type: "response.output_text.delta", output_index: index, content_index: 0, item_id: done.id, delta: item.text.slice(at, at + 64) });
        send({ type: "response.output_item.done", output_index: index, item: done });
        return done;
      }
      const args = JSON.stringify(item.args);
      const done = {
        type: "function_call",
        id: `fc_${n}_${index}`,
        call_id: `call_${n}_${index}`,
        name: item.name,
        ...(item.namespace ? { namespace: item.namespace } : {}),
        arguments: args,
        status: "completed",
      };
      send({ type: "response.output_item.added", output_index: index, item: { ...done, arguments: "", status: "in_progress" } });
      send({ type: "response.function_call_arguments.delta", output_index: index, item_id: done.id, delta: args });
      send({ type: "response.output_item.done", output_index: index, item: done });
      return done;
    });
    send({
      type: "response.completed",
      response: {
        ...base,
        status: "completed",
        output,
        usage: {
          input_tokens: usage.input_tokens,
          input_tokens_details: { cached_tokens: usage.cached_tokens },
          output_tokens: usage.output_tokens,
          output_tokens_details: { reasoning_tokens: usage.reasoning_tokens },
          total_tokens: usage.input_tokens + usage.output_tokens,
        },
      },
    });
    res.end();
  };

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    script: (next) => {
      script = next;
    },
    stop: async () => {
      for (const res of open) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
