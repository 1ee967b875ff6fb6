/**
 * The PartyKit class of a live room, written once for both parties. PartyKit wants a class: the
 * gate as its static onBeforeRequest and onBeforeConnect (they run before any room starts), and
 * the handlers on the instance, each of which this one hands to the LiveRoom the room makes.
 */
import type * as Party from "partykit/server";
import { gate, type RoomExists } from "./gate.ts";
import { LIVE_OPTIONS, type LiveRoom } from "./room.ts";

/**
 * The class for `partykit.json` (a room file's default export): `make` builds the room's wiring
 * around its LiveRoom; `exists`, when given, is the gate's question whether the room a request
 * names exists.
 */
export function liveParty(make: (room: Party.Room) => LiveRoom, exists?: RoomExists) {
  return class LiveParty implements Party.Server {
    static onBeforeRequest(req: Party.Request, lobby: Party.Lobby): Promise<Request | Response> {
      return gate(req, lobby, "http", exists);
    }

    static onBeforeConnect(req: Party.Request, lobby: Party.Lobby): Promise<Request | Response> {
      return gate(req, lobby, "socket", exists);
    }

    readonly options = LIVE_OPTIONS;
    private readonly live: LiveRoom;

    constructor(readonly room: Party.Room) {
      this.live = make(room);
    }

    onStart(): Promise<void> {
      return this.live.onStart();
    }

    onConnect(connection: Party.Connection, ctx: Party.ConnectionContext): Promise<void> {
      return this.live.onConnect(connection, ctx);
    }

    onMessage(message: string | ArrayBuffer | ArrayBufferView, connection: Party.Connection): Promise<void> {
      return this.live.onMessage(message, connection);
    }

    onClose(connection: Party.Connection): void {
      this.live.onClose(connection);
    }

    onError(connection: Party.Connection): void {
      this.live.onError(connection);
    }

    onRequest(request: Party.Request): Promise<Response> {
      return this.live.onRequest(request);
    }

    onAlarm(): Promise<void> {
      return this.live.onAlarm();
    }
  };
}
