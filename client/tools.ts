/** Calling Townhall tools, over HTTP or a socket, with typed errors. */
import type PartySocket from "partysocket";
import type { CommandFrame, ErrorCode, EventFrame, HelloFrame, LeaseFrame } from "../party/protocol.ts";
import { serverFrame } from "../party/protocol/frames.ts";
import { PERMANENT_CLOSES, openRoomSocket, type RoomAddress } from "./connection.ts";
import { callHttp, ToolCallError } from "./tool-http.ts";

export { callHttp, ToolCallError };

type Pending = { resolve: (value: unknown) => void; reject: (error: Error) => void; timer: ReturnType<typeof setTimeout> };

/** A socket for tool calls (agents, the container, operators' scripts) that also receives events. */
export class ToolSocket {
  readonly socket: PartySocket;
  private readonly pending = new Map<string, Pending>();
  private readonly eventListeners = new Set<(event: EventFrame) => void>();
  private readonly commandListeners = new Set<(command: CommandFrame) => void>();
  private readonly helloListeners = new Set<(hello: HelloFrame) => void>();
  private readonly leaseListeners = new Set<(lease: LeaseFrame) => void>();
  private nextId = 0;
  /**
   * Resolves with the server's first hello once the socket is authorised; rejects if the socket is
   * refused for good (4401, 4403, 4404, 4413). Use onHello for every (re)connection.
   */
  readonly ready: Promise<HelloFrame>;
  /** The code of the last close, e.g. 4401 when the token was refused. */
  lastClose: { code: number; reason: string } | null = null;

  constructor(address: RoomAddress) {
    this.socket = openRoomSocket(address);
    let hello: (frame: HelloFrame) => void;
    let refused: (error: Error) => void;
    this.ready = new Promise((resolve, reject) => {
      hello = resolve;
      refused = reject;
    });
    this.ready.catch(() => {}); // observed by whoever awaits it
    this.socket.addEventListener("message", (event: MessageEvent) => {
      if (typeof event.data !== "string") return;
      const parsed = serverFrame.safeParse(JSON.parse(event.data));
      if (!parsed.success) return;
      const frame = parsed.data as { type: string; id?: string | null };
      if (frame.type === "hello") {
        hello(parsed.data as HelloFrame);
        for (const listener of this.helloListeners) listener(parsed.data as HelloFrame);
      } else if (frame.type === "event") for (const listener of this.eventListeners) listener(parsed.data as EventFrame);
      else if (frame.type === "command") for (const listener of this.commandListeners) listener(parsed.data as unknown as CommandFrame);
      else if (frame.type === "lease") for (const listener of this.leaseListeners) listener(parsed.data as LeaseFrame);
      else if (frame.type === "result") this.settle(parsed.data as never);
    });
    this.socket.addEventListener("close", (event: CloseEvent) => {
      this.lastClose = { code: event.code, reason: event.reason };
      if (PERMANENT_CLOSES.has(event.code)) refused(new ToolCallError("DISCONNECTED", `closed ${event.code} ${event.reason}`));
      for (const [id, p] of this.pending) {
        clearTimeout(p.timer);
        p.reject(new ToolCallError("DISCONNECTED", `socket closed (${event.code}) before the reply`));
        this.pending.delete(id);
      }
    });
  }

  private settle(frame: { id: string | null; ok: boolean; value?: unknown; error?: { code: ErrorCode; message: string; retry_after?: number } }): void {
    const pending = frame.id ? this.pending.get(frame.id) : undefined;
    if (!pending) return;
    this.pending.delete(frame.id!);
    clearTimeout(pending.timer);
    if (frame.ok) pending.resolve(frame.value);
    else pending.reject(new ToolCallError(frame.error!.code, frame.error!.message, undefined, frame.error!.retry_after));
  }

  call<T = unknown>(tool: string, args: unknown = {}, timeoutMs = 10_000): Promise<T> {
    const id = `c${++this.nextId}`;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new ToolCallError("TIMEOUT", `${tool} had no reply in ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.socket.send(JSON.stringify({ type: "call", id, tool, args }));
    });
  }

  onCommand(listener: (command: CommandFrame) => void): () => void {
    this.commandListeners.add(listener);
    return () => this.commandListeners.delete(listener);
  }

  /** A container socket's lease: held (with its epoch) or standing by; sent after every hello. */
  onLease(listener: (lease: LeaseFrame) => void): () => void {
    this.leaseListeners.add(listener);
    return () => this.leaseListeners.delete(listener);
  }

  onHello(listener: (hello: HelloFrame) => void): () => void {
    this.helloListeners.add(listener);
    return () => this.helloListeners.delete(listener);
  }

  onEvent(listener: (event: EventFrame) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  close(): void {
    this.socket.close();
  }
}
