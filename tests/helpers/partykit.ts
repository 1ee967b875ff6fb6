/**
 * Runs a real `partykit dev` as its own process group, so the whole group (node, workerd, esbuild)
 * can be stopped or SIGKILLed at once (docs/development.md, "Tools and their quirks").
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
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

type PartykitConfig = { main: string; parties?: Record<string, string>; serve?: string | { path: string; [key: string]: unknown }; [key: string]: unknown };

/**
 * A config file for `partykit dev -c`: `base` (a partykit.json, or its contents) with `vars` in it,
 * written in a fresh directory of its own (mode 0700, the file 0600). The vars hold the town secret,
 * which on a command line (`--var`) every local user could read (/proc/<pid>/cmdline), the agents the
 * tests run included. Paths of a base file are made absolute, so the rooms still run (and hot-reload)
 * from where it points. Returns the file and a way to delete its directory.
 */
export function writeDevConfig(base: string | PartykitConfig, vars: Record<string, string>): { path: string; remove: () => void } {
  const from = typeof base === "string" ? dirname(base) : ROOT;
  const json: PartykitConfig = typeof base === "string" ? JSON.parse(readFileSync(base, "utf8")) : base;
  const serve = typeof json.serve === "string" ? resolve(from, json.serve) : json.serve ? { ...json.serve, path: resolve(from, json.serve.path) } : undefined;
  const config: PartykitConfig = {
    ...json,
    main: resolve(from, json.main),
    ...(json.parties ? { parties: Object.fromEntries(Object.entries(json.parties).map(([name, file]) => [name, resolve(from, file)])) } : {}),
    ...(serve ? { serve } : {}),
    vars: { ...(json.vars as Record<string, string> | undefined), ...vars },
  };
  const dir = mkdtempSync(join(tmpdir(), "townhall-partykit-"));
  const path = join(dir, "partykit.json");
  writeFileSync(path, JSON.stringify(config), { mode: 0o600 });
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * `config`: a partykit.json of its own (e.g. a snapshot of party/ that edits to the tree do not
 * hot-reload); the vars go into a copy of it (writeDevConfig), never on the command line.
 */
export async function startPartykit(options: {
  persistDir: string;
  vars: Record<string, string>;
  port?: number;
  serve?: string;
  config?: string;
}): Promise<DevServer> {
  const port = options.port ?? (await freePort());
  const config = writeDevConfig(options.config ?? join(ROOT, "partykit.json"), options.vars);
  const args = [
    "node_modules/partykit/dist/bin.mjs",
    "dev",
    "-c",
    config.path,
    "--port",
    String(port),
    "--persist",
    options.persistDir,
    "--disable-request-cf-fetch",
  ];
  if (options.serve) args.push("--serve", options.serve);
  const child = spawn(process.execPath, args, { cwd: ROOT, detached: true, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
  let log = "";
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  void exited.then(config.remove);
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
