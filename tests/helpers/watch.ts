/** Live views of a test town's documents, and a stand-in for the town container over one socket. */
import { readFileSync, readdirSync } from "node:fs";
import type { Agent, Bead, CommandFrame, Escalation, FeedEvent, LeaseFrame, Mail, Rig } from "../../party/protocol.ts";
import type { ToolSocket } from "../../client/tools.ts";
import { until, type TestTown } from "./town.ts";

/** A rig's beads, agents, escalations and mail as a replica sees them, and a wait on them. */
export async function watchRig(town: TestTown, rig: Rig) {
  const replica = town.replica("rig", town.rigRoom(rig));
  await replica.whenSynced();
  const beads = () => [...replica.doc.getMap<Bead>("beads").values()];
  const agents = () => [...replica.doc.getMap<Agent>("agents").values()];
  const escalations = () => [...replica.doc.getMap<Escalation>("escalations").values()];
  const mail = () => [...replica.doc.getMap<Mail>("mail").values()];
  const events = () => replica.doc.getArray<FeedEvent>("events").toArray();
  // A rebuilt document arrives as a new Y.Doc: listen on whichever is current.
  const when = <T>(predicate: () => T | undefined | false, timeoutMs = 45_000) =>
    until(
      (cb) => {
        let doc = replica.doc;
        doc.on("update", cb);
        const off = replica.onChange(() => {
          doc.off("update", cb);
          doc = replica.doc;
          doc.on("update", cb);
          cb();
        });
        return () => (doc.off("update", cb), off());
      },
      predicate,
      timeoutMs,
      predicate.toString().slice(0, 160),
    );
  return { replica, beads, agents, escalations, mail, events, when };
}

export type RigWatch = Awaited<ReturnType<typeof watchRig>>;

export function processAlive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

/**
 * The machine's pid of a process an agent reported by its own pid: agents run in PID namespaces
 * of their own (container/sandbox.ts), so `$!` inside one is not the pid the machine knows. Found
 * by the process group it shares with the run (`pgid`: the pid the container reports), and the last
 * of its `NSpid` (its pid in its innermost namespace). Without a namespace, the pid is the same.
 */
export function hostPidOf(agentPid: number, pgid: number): number {
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]) !== pgid) continue;
      const nspid = /^NSpid:\s+(.*)$/m
        .exec(readFileSync(`/proc/${name}/status`, "utf8"))?.[1]
        ?.trim()
        .split(/\s+/)
        .map(Number);
      if (nspid?.at(-1) === agentPid) return Number(name);
    } catch {
      // gone meanwhile
    }
  }
  throw new Error(`no process ${agentPid} in process group ${pgid}`);
}

/**
 * Stands in for the town container of `rig` on one socket: keeps its lease renewed (when the room
 * grants leases), records every command, and acknowledges only what the test asks for. Every
 * acknowledgement carries the lease's epoch.
 */
export async function standIn(town: TestTown, rig: Rig, options: { renew?: boolean } = {}) {
  const socket: ToolSocket = town.agentSocket(rig, town.container);
  const commands: CommandFrame[] = [];
  const waiters: { match: (c: CommandFrame) => boolean; resolve: (c: CommandFrame) => void }[] = [];
  socket.onCommand((command) => {
    commands.push(command);
    for (const w of [...waiters]) if (w.match(command)) (waiters.splice(waiters.indexOf(w), 1), w.resolve(command));
  });
  const lease = new Promise<LeaseFrame>((resolve) => {
    const off = socket.onLease((frame) => (off(), resolve(frame)));
  });
  await socket.ready;
  const frame = await lease;
  const epoch = frame.state === "held" ? frame.epoch : undefined;
  let timer: ReturnType<typeof setInterval> | null = null;
  /** Vouched-for agents, with when each last printed (undefined: printing now, as a working agent does). */
  const renewing = new Map<string, number | undefined>();
  let renewals = 0;
  const renewalWaiters: { at: number; resolve: () => void }[] = [];
  if (options.renew !== false) {
    timer = setInterval(() => {
      // Vouched-for agents are alive, and printing (progress) unless silent since a time the test gave.
      const agents = [...renewing].map(([identity, since]) => ({ identity, quiet_ms: since === undefined ? 0 : Math.max(0, Date.now() - since) }));
      socket
        .call("gt_lease_renew", epoch === undefined ? {} : { epoch, agents })
        .then(() => {
          renewals += 1;
          for (const w of [...renewalWaiters]) if (renewals >= w.at) (renewalWaiters.splice(renewalWaiters.indexOf(w), 1), w.resolve());
        })
        .catch(() => {});
    }, frame.renew_ms);
  }
  // As the container does: its acknowledgements carry the epoch; other calls do not take one.
  const fenced = new Set(["gt_rig_ready", "gt_agent_started", "gt_agent_exited", "gt_merge_result", "gt_heartbeat"]);
  const withEpoch = (tool: string, args: Record<string, unknown>) => (epoch === undefined || !fenced.has(tool) ? args : { ...args, epoch });
  return {
    socket,
    epoch,
    commands,
    /** The first command (already received or still to come) that matches. */
    next(match: (c: CommandFrame) => boolean): Promise<CommandFrame> {
      const seen = commands.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve) => waiters.push({ match, resolve }));
    },
    /** Calls a container tool with the lease's epoch. */
    ack<T = unknown>(tool: string, args: Record<string, unknown>) {
      return socket.call<T>(tool, withEpoch(tool, args));
    },
    /**
     * Vouches for these agents' processes in every renewal (the container's heartbeat); `silentSince`:
     * the agent printed nothing since then (its quiet_ms grows, as the container reports a thinking agent).
     */
    vouch(identity: string, on = true, silentSince?: number) {
      if (on) renewing.set(identity, silentSince);
      else renewing.delete(identity);
    },
    /** Resolves once the room has accepted `n` more renewals. */
    renewed(n: number): Promise<void> {
      return new Promise((resolve) => renewalWaiters.push({ at: renewals + n, resolve }));
    },
    stop() {
      if (timer) clearInterval(timer);
      socket.close();
    },
  };
}
