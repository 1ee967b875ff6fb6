/** Runs the real town container (`container/main.ts`) as its own process group. */
import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { deleteRigUser, isolating, mayorUserName, rigUserName } from "../../container/rig-user.ts";
import { TS_LOADER } from "../../container/runtimes.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export type ContainerProcess = {
  child: ChildProcess;
  output: () => string;
  waitFor: (pattern: RegExp) => Promise<void>;
  kill: () => Promise<void>;
  stop: () => Promise<void>;
};

/** `env`: added to the container's environment (e.g. the agents' keys that --agent-env names: never on its command line). */
export function spawnContainer(args: {
  host: string;
  town: string;
  token: string;
  workspace: string;
  extra?: string[];
  env?: Record<string, string>;
}): ContainerProcess {
  // As root (here and in CI) the container runs each rig as its own user, who must pass through the
  // test's directory (mkdtemp makes it 0700) to its rig directory and to the bare remotes beside it.
  chmodSync(dirname(args.workspace), 0o711);
  const child = spawn(
    process.execPath,
    [
      "--import",
      TS_LOADER,
      "container/main.ts",
      "--host",
      args.host,
      "--town",
      args.town,
      "--workspace",
      args.workspace,
      "--heartbeat-ms",
      "250",
      ...(args.extra ?? []),
    ],
    // The token in the environment, as npm start passes it: a command line is readable by every local user.
    { cwd: ROOT, detached: true, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...args.env, GT_CONTAINER_TOKEN: args.token } },
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
    stop: async () => {
      await signal("SIGTERM");
      await deleteRigUsers(args.workspace);
    },
  };
}

/**
 * The users the container made for its rigs and its Mayor, deleted once it has stopped (with
 * whatever their agents left running), or every test run would leave them behind (system uids are
 * few: 100–999). The container itself never deletes its Mayor's user (container/mayor.ts).
 */
export async function deleteRigUsers(workspace: string): Promise<void> {
  if (!isolating()) return;
  try {
    await deleteRigUser(mayorUserName(readFileSync(join(workspace, "container-id"), "utf8").trim()));
  } catch {
    // no container id yet, or no Mayor
  }
  let ids: string[];
  try {
    ids = readdirSync(join(workspace, "rigs"));
  } catch {
    return; // never got that far
  }
  // Another container of the test may have deleted one already, or may still be stopping its agents.
  for (const id of ids) await deleteRigUser(rigUserName(id)).catch(() => {});
}
