// The floors of docs/benchmarks.md: a plain `ws` broadcast server in Node (no Yjs, no rooms).
// A text frame starting with "h" is a heartbeat: echoed to its sender only. Any other frame is
// sent to every other client. Prints {"port": N} once listening.
//
// `--durable <file>`: the durable floor. Each change is appended to <file> and fsync'd (one synced
// write per change, as a storage commit does) before it is broadcast: the physical limit of a
// fan-out that loses nothing a server acknowledged.
import { closeSync, fsyncSync, openSync, writeSync } from "node:fs";
import { WebSocketServer } from "ws";

const at = process.argv.indexOf("--durable");
const log = at > 0 ? openSync(process.argv[at + 1], "a") : null;

const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, maxPayload: 1 << 20 });
wss.on("listening", () => process.stdout.write(JSON.stringify({ port: wss.address().port }) + "\n"));
wss.on("connection", (ws) => {
  ws.on("message", (data, isBinary) => {
    if (!isBinary && data[0] === 0x68 /* h */) return ws.send(data, { binary: false });
    if (log !== null) {
      writeSync(log, data);
      fsyncSync(log);
    }
    for (const client of wss.clients) if (client !== ws && client.readyState === 1) client.send(data, { binary: isBinary });
  });
});
process.on("SIGTERM", () => {
  if (log !== null) closeSync(log);
  process.exit(0);
});
