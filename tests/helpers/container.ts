/** Runs the real town container (`container/main.ts`) as its own process group. */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { TS_LOADER } from "../../container/runtimes.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export type ContainerProcess = { child: ChildProcess; output: () => string; waitFor: (pattern: RegExp) => Promise<void>; kill: () => Promise<void>; stop: () => Promise<void> };

export function spawnContainer(args: { host: string; town: string; token: string; workspace: string; extra?: string[] }): ContainerProcess {
  const child = spawn(
    process.execPath,
    ["--import", TS_LOADER, "container/main.ts", "--host", args.host, "--town", args.town, "--token", args.token, "--workspace", args.workspace, "--heartbeat-ms", "250", ...(args.extra ?? [])],
    { cwd: ROOT, detached: true, stdio: ["ignore", "pipe", "pipe"] },
  );
  let log = "";
  const waiters: { pattern: RegExp; resolve: () => void }[] = [];
  const onData = (chunk: Buffer) => {
    log += chunk.toString();
    for (const w of [...waiters]) if (w.pattern.test(log)) (waiters.splice(waiters.indexOf(w), 1), w.resolve());
  };
  child.stdout!.on("data", onData);
  child.stderr!.on("data", onData);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const signal = async (sig: NodeJS.Signals) => {
    try {
      process.kill(sig === "SIGKILL" ? child.pid! : -child.pid!, sig); // SIGKILL: the supervisor alone, as a crash would
    } catch {
      return;
    }
    await exited;
  };
  return {
    child,
    output: () => log,
    waitFor: (pattern) => (pattern.test(log) ? Promise.resolve() : new Promise((resolve) => waiters.push({ pattern, resolve }))),
    kill: () => signal("SIGKILL"),
    stop: () => signal("SIGTERM"),
  };
}
