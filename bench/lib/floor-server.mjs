// The floor of docs/benchmarks.md: a plain `ws` broadcast server in Node (no Yjs, no rooms, no storage).
// A text frame starting with "h" is a heartbeat: echoed to its sender only. Any other frame is
// sent to every other client. Prints {"port": N} once listening.
import { WebSocketServer } from "ws";

const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, maxPayload: 1 << 20 });
wss.on("listening", () => process.stdout.write(JSON.stringify({ port: wss.address().port }) + "\n"));
wss.on("connection", (ws) => {
  ws.on("message", (data, isBinary) => {
    if (!isBinary && data[0] === 0x68 /* h */) return ws.send(data, { binary: false });
    for (const client of wss.clients) if (client !== ws && client.readyState === 1) client.send(data, { binary: isBinary });
  });
});
process.on("SIGTERM", () => process.exit(0));
