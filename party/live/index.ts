/**
 * The shared room machinery, as the rooms use it: the contract (contract.ts), the LiveRoom a room
 * has (room.ts), the gate its class runs (gate.ts), and the few helpers its tools and operations
 * answer with.
 */
export { callRoomThrough } from "./calls.ts";
export {
  tool,
  type Caller,
  type LiveServices,
  type OutputWatch,
  type OutputWatcher,
  type PartyName,
  type Refusal,
  type ReplyExtra,
  type RoomHooks,
  type RoomReply,
  type RoomSpec,
  type ToolSpec,
  type ToolTable,
} from "./contract.ts";
export { gate, type RoomExists } from "./gate.ts";
export { errorResponse, jsonResponse } from "./http.ts";
export { liveParty } from "./party.ts";
export { LIVE_OPTIONS, LiveRoom } from "./room.ts";
