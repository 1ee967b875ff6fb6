/**
 * A scripted stand-in of the Anthropic Messages API on 127.0.0.1, for the real Claude Code CLI: the
 * model is the only part of a test that is not real. It answers `POST /v1/messages` (Claude Code adds
 * `?beta=true`) as the API does when asked to stream: server-sent events `message_start`, then per
 * content block `content_block_start`, its deltas (`text_delta`, or `input_json_delta` for a
 * `tool_use`) and `content_block_stop`, then `message_delta` (stop reason and usage) and
 * `message_stop`. A request that is not streamed gets the same message as one JSON body.
 *
 * Requests that carry tools are the agent's turns: each test scripts them (`turn`), typically by the
 * task found in the conversation and how far it got. Requests without tools are the CLI's side
 * requests (a title, a summary): answered briefly. Every request is recorded with its headers and
 * body, so a test can read what the CLI sent (the key in `x-api-key`, the model, the messages, the
 * context a hook added).
 *
 * Agents reach it as an operator's local model gateway is reached: through `--agent-allow
 * 127.0.0.1:<port>`, with `ANTHROPIC_BASE_URL` given to them with `--agent-env`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** One request as the stand-in received it. */
export type StandInRequest = {
  at: number;
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  /** The JSON body (null when there was none, or it was not JSON). */
  body: MessagesBody | null;
  /** Whether it carried tools: one of the agent's turns, not a side request. */
  agentTurn: boolean;
};

/** The parts of a Messages API request the stand-in reads. */
export type MessagesBody = {
  model?: string;
  stream?: boolean;
  system?: string | { type: string; text?: string }[];
  tools?: { name: string }[];
  messages?: { role: string; content: string | ContentBlock[] }[];
  [key: string]: unknown;
};
export type ContentBlock = { type: string; text?: string; content?: unknown; tool_use_id?: string; id?: string; name?: string; input?: unknown };

/** A block of a scripted answer. */
export type Block = { type: "text"; text: string } | { type: "tool_use"; name: string; input: Record<string, unknown> };

/** Token counts a turn reports (the API's own field names); each defaults to a small number. */
export type TurnUsage = { input_tokens?: number; output_tokens?: number; cache_read_input_tokens?: number; cache_creation_input_tokens?: number };

/** One scripted answer of the model. */
export type Turn = {
  blocks: Block[];
  usage?: TurnUsage;
  /**
   * Streams the first text block slowly: `events` text deltas `everyMs` apart (a model thinking
   * aloud for `events × everyMs`), before the rest of the message.
   */
  pace?: { events: number; everyMs: number };
};

/** What a test scripts: the answer to one of the agent's turns (it may wait for the test, e.g. to send mail first). */
export type Script = (request: StandInRequest, index: number) => Turn | Promise<Turn>;

export type AnthropicStandIn = {
  port: number;
  /** `http://127.0.0.1:<port>`: the ANTHROPIC_BASE_URL agents are given. */
  url: string;
  /** Every request so far, in arrival order. */
  requests: StandInRequest[];
  /** The agent's turns so far (requests with tools). */
  turns: () => StandInRequest[];
  /** Replaces the script of the agent's turns. */
  script: (script: Script) => void;
  stop: () => Promise<void>;
};

const DEFAULT_USAGE: Required<TurnUsage> = { input_tokens: 100, output_tokens: 20, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 };

/** All the text of a request's conversation (system prompt, messages, tool results), to find a task or a mail in. */
export function conversationText(body: MessagesBody | null): string {
  if (!body) return "";
  const parts: string[] = [];
  const add = (value: unknown): void => {
    if (typeof value === "string") parts.push(value);
    else if (Array.isArray(value)) value.forEach(add);
    else if (value && typeof value === "object") {
      const block = value as ContentBlock;
      if (typeof block.text === "string") parts.push(block.text);
      if (block.content !== undefined) add(block.content);
      if (block.input !== undefined) parts.push(JSON.stringify(block.input));
    }
  };
  add(body.system);
  for (const message of body.messages ?? []) add(message.content);
  return parts.join("\n");
}

/** The text of the last user message of a request: what the agent's latest tool results (and what hooks added) said. */
export function lastUserText(body: MessagesBody | null): string {
  const last = [...(body?.messages ?? [])].reverse().find((m) => m.role === "user");
  return last ? conversationText({ messages: [last] }) : "";
}

/** How many tool results the conversation holds so far: how far the agent got. */
export function toolResults(body: MessagesBody | null): ContentBlock[] {
  return (body?.messages ?? []).flatMap((m) => (Array.isArray(m.content) ? m.content.filter((b) => b.type === "tool_result") : []));
}

export async function startAnthropicStandIn(initial: Script = () => ({ blocks: [{ type: "text", text: "Nothing to do." }] })): Promise<AnthropicStandIn> {
  let script = initial;
  const requests: StandInRequest[] = [];
  let turnCount = 0;
  let messageCount = 0;
  const open = new Set<ServerResponse>();

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      let body: MessagesBody | null = null;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as MessagesBody;
      } catch {
        body = null;
      }
      const path = req.url ?? "/";
      const agentTurn = Array.isArray(body?.tools) && body.tools.length > 0;
      const request: StandInRequest = { at: Date.now(), method: req.method ?? "GET", path, headers: req.headers, body, agentTurn };
      requests.push(request);
      if (req.method !== "POST" || !/^\/v1\/messages(\?|$)/.test(path)) {
        res.writeHead(404, { "content-type": "application/json" });
        res.end(JSON.stringify({ type: "error", error: { type: "not_found_error", message: `the stand-in answers POST /v1/messages only, not ${req.method} ${path}` } }));
        return;
      }
      const answer = agentTurn ? Promise.resolve(script(request, turnCount++)) : Promise.resolve<Turn>({ blocks: [{ type: "text", text: "OK." }] });
      answer.then(
        (turn) => respond(res, body, turn, `msg_standin_${++messageCount}`),
        (error: unknown) => {
          res.writeHead(500, { "content-type": "application/json" });
          res.end(JSON.stringify({ type: "error", error: { type: "api_error", message: `stand-in script failed: ${String(error)}` } }));
        },
      );
    });
  });

  const respond = async (res: ServerResponse, body: MessagesBody | null, turn: Turn, id: string): Promise<void> => {
    const usage = { ...DEFAULT_USAGE, ...turn.usage };
    const model = body?.model ?? "claude-stand-in";
    const content = turn.blocks.map((block, i) =>
      block.type === "text" ? { type: "text", text: block.text } : { type: "tool_use", id: `toolu_standin_${id}_${i}`, name: block.name, input: block.input },
    );
    const stopReason = turn.blocks.some((b) => b.type === "tool_use") ? "tool_use" : "end_turn";
    if (!body?.stream) {
      res.writeHead(200, { "content-type": "application/json", "request-id": `req_${id}` });
      res.end(JSON.stringify({ id, type: "message", role: "assistant", model, content, stop_reason: stopReason, stop_sequence: null, usage }));
      return;
    }
    open.add(res);
    res.on("close", () => open.delete(res));
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", "request-id": `req_${id}` });
    const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    send("message_start", {
      type: "message_start",
      message: {
        id,
        type: "message",
        role: "assistant",
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: {
          input_tokens: usage.input_tokens,
          cache_read_input_tokens: usage.cache_read_input_tokens,
          cache_creation_input_tokens: usage.cache_creation_input_tokens,
          output_tokens: 1,
        },
      },
    });
    let paced = false;
    for (const [index, block] of content.entries()) {
      if (block.type === "text") {
        send("content_block_start", { type: "content_block_start", index, content_block: { type: "text", text: "" } });
        const text = block.text!;
        if (turn.pace && !paced) {
          paced = true;
          // Thinking aloud: many small deltas over time, then the rest of the text.
          for (let n = 0; n < turn.pace.events; n++) {
            if (res.destroyed) return;
            send("content_block_delta", { type: "content_block_delta", index, delta: { type: "text_delta", text: n === 0 ? "Thinking" : "." } });
            await pause(turn.pace.everyMs);
          }
          send("content_block_delta", { type: "content_block_delta", index, delta: { type: "text_delta", text: ` ${text}` } });
        } else {
          for (let at = 0; at < text.length; at += 64)
            send("content_block_delta", { type: "content_block_delta", index, delta: { type: "text_delta", text: text.slice(at, at + 64) } });
        }
      } else {
        send("content_block_start", { type: "content_block_start", index, content_block: { type: "tool_use", id: block.id, name: block.name, input: {} } });
        const json = JSON.stringify(block.input);
        // Split as the API does: the CLI must join the partial JSON itself.
        for (let at = 0; at < json.length; at += 40)
          send("content_block_delta", { type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json: json.slice(at, at + 40) } });
      }
      send("content_block_stop", { type: "content_block_stop", index });
    }
    send("message_delta", { type: "message_delta", delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: usage.output_tokens } });
    send("message_stop", { type: "message_stop" });
    res.end();
  };

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    requests,
    turns: () => requests.filter((r) => r.agentTurn),
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
