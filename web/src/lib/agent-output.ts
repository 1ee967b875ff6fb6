/**
 * The live tail of one agent's output over its output socket
 * (`/parties/rig/<town>.<rigId>/output/<identity>`): the room sends the last lines of the current
 * or latest run, then each new line, and a `run` frame when a run starts or ends. Created inside a
 * component and closed with it; reconnects on its own, and a reconnect's replay adds no duplicates.
 */
import { createSignal, onCleanup, type Accessor } from "solid-js";
import { PERMANENT_CLOSES, openRoomSocket } from "../../../client/connection.ts";
import { applyFrame, emptyTail, parseOutputFrame, type Tail } from "./output-tail.ts";

export type OutputStatus = "connecting" | "live" | "reconnecting" | "closed";

const REFUSED: Record<number, string> = {
  4401: "This link's token is missing, invalid, expired or revoked.",
  4403: "Agent output is shown to operators, and to links made for this agent's page.",
  4404: "This agent or its rig no longer exists.",
};

export function createAgentOutput(address: { town: string; rigId: string; identity: string; token: string }): {
  tail: Accessor<Tail>;
  status: Accessor<OutputStatus>;
  refusal: Accessor<string | null>;
} {
  const [tail, setTail] = createSignal<Tail>(emptyTail);
  const [status, setStatus] = createSignal<OutputStatus>("connecting");
  const [refusal, setRefusal] = createSignal<string | null>(null);
  const socket = openRoomSocket({
    host: location.host,
    secure: location.protocol === "https:",
    party: "rig",
    room: `${address.town}.${address.rigId}`,
    token: address.token,
    path: `output/${address.identity.split("/").map(encodeURIComponent).join("/")}`,
  });
  socket.addEventListener("message", (event: MessageEvent) => {
    const frame = parseOutputFrame(event.data);
    if (!frame) return;
    setTail((t) => applyFrame(t, frame));
    setStatus("live");
  });
  socket.addEventListener("close", (event: CloseEvent) => {
    if (PERMANENT_CLOSES.has(event.code)) {
      setStatus("closed");
      setRefusal(REFUSED[event.code] ?? `The room closed the output socket (${event.code}${event.reason ? `: ${event.reason}` : ""}).`);
    } else setStatus("reconnecting");
  });
  onCleanup(() => socket.close());
  return { tail, status, refusal };
}
