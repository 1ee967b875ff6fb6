/**
 * Runs a floor broadcast server (floor-server.mjs) as its own process, and plain ws clients for it.
 * `durable`: a file the server appends and fsyncs each change to before broadcasting it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";
import { killOnExit } from "./server.ts";

export type Floor = { port: number; pid: number; child: ChildProcess; stop: () => Promise<void> };

export async function startFloor(options: { durable?: string } = {}): Promise<Floor> {
  const args = [fileURLToPath(new URL("./floor-server.mjs", import.meta.url)), ...(options.durable ? ["--durable", options.durable] : [])];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise<number>((resolve, reject) => {
    let buf = "";
    child.stdout!.on("data", (c: Buffer) => {
      buf += c.toString();
      const line = buf.split("\n")[0];
      if (buf.includes("\n")) resolve(JSON.parse(line!).port);
    });
    child.once("exit", (code) => reject(new Error(`floor server exited ${code}`)));
  });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const forget = killOnExit(child.pid!);
  return {
    port,
    pid: child.pid!,
    child,
    stop: async () => {
      child.kill("SIGTERM");
      await exited;
      forget();
    },
  };
}

export function floorClient(port: number): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
    ws.once("open", () => resolve(ws));
    ws.once("error", reject);
  });
}

/** Opens `n` clients, `batch` at a time. */
export async function floorClients(port: number, n: number, batch = 50): Promise<WebSocket[]> {
  const out: WebSocket[] = [];
  for (let i = 0; i < n; i += batch) out.push(...(await Promise.all(Array.from({ length: Math.min(batch, n - i) }, () => floorClient(port)))));
  return out;
}
