/**
 * Runs a real `partykit dev` as its own process group, so the whole group (node, workerd, esbuild)
 * can be stopped or SIGKILLed at once (docs/development.md, "Tools and their quirks").
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export type DevServer = { host: string; port: number; process: ChildProcess; output: () => string; stop: () => Promise<void>; kill: () => Promise<void> };

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** `config`: a partykit.json of its own (e.g. a snapshot of party/ that edits to the tree do not hot-reload). */
export async function startPartykit(options: { persistDir: string; vars: Record<string, string>; port?: number; serve?: string; config?: string }): Promise<DevServer> {
  const port = options.port ?? (await freePort());
  const args = ["node_modules/partykit/dist/bin.mjs", "dev", ...(options.config ? ["-c", options.config] : []), "--port", String(port), "--persist", options.persistDir, "--disable-request-cf-fetch"];
  for (const [k, v] of Object.entries(options.vars)) args.push("--var", `${k}=${v}`);
  if (options.serve) args.push("--serve", options.serve);
  const child = spawn(process.execPath, args, { cwd: ROOT, detached: true, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
  let log = "";
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      log += chunk.toString();
      if (/Ready on/.test(log)) resolve();
      if (/ERROR|Error reloading/.test(log)) reject(new Error(`partykit dev failed:\n${log}`));
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => reject(new Error(`partykit dev exited (${code}) before it was ready:\n${log}`)));
  });
  const signalGroup = async (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      return; // already gone
    }
    await exited;
  };
  return {
    host: `127.0.0.1:${port}`,
    port,
    process: child,
    output: () => log,
    stop: () => signalGroup("SIGTERM"),
    kill: () => signalGroup("SIGKILL"),
  };
}
