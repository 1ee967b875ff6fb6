/**
 * A stand-in for a rig's container in the dashboard tests: holds the lease, reports runs started
 * and ended, prints agent output through `gt_agent_output` (as the container's supervisor does),
 * keeps chosen agents alive with heartbeats, and acknowledges stop commands as a real container
 * would (the process ends on SIGTERM).
 */
import type { Bead, Rig, StartAgentCommand, StopAgentCommand, Usage } from "../../party/protocol.ts";
import type { E2ETown } from "./fixtures.ts";

export type StandIn = Awaited<ReturnType<typeof standIn>>;

export async function standIn(t: E2ETown, rig: Rig) {
  const { socket, epoch } = await t.holdLease(rig);
  const starts: StartAgentCommand[] = [];
  const stops: StopAgentCommand[] = [];
  const waiters = new Set<() => void>();
  const beats = new Map<string, ReturnType<typeof setInterval>>();
  const notify = () => waiters.forEach((w) => w());
  socket.onCommand((command) => {
    if (command.command === "start_agent") starts.push(command);
    if (command.command === "stop_agent") {
      stops.push(command);
      clearInterval(beats.get(command.run));
      void t
        .rigCall(rig, "gt_agent_exited", { as: command.identity, bead_id: command.bead_id, run: command.run, epoch, signal: "SIGTERM" }, t.container)
        .catch(() => {});
    }
    notify();
  });
  socket.socket.addEventListener("close", () => beats.forEach(clearInterval));
  await t.rigCall(rig, "gt_rig_ready", { disk_bytes: 1_000_000, epoch }, t.container);

  /** Resolves with the first command (seen or to come) that `match` accepts and `skip` has not had. */
  function next<C>(list: C[], match: (c: C) => boolean, skip: C[], label: string, timeoutMs = 20_000): Promise<C> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = list.find((c) => match(c) && !skip.includes(c));
        if (!found) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(found);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no ${label} in ${timeoutMs} ms`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  }

  const self = {
    epoch,
    socket,
    starts,
    stops,
    /** The next start of `beadId` after the ones in `seen`. */
    nextStart: (beadId: string, seen: StartAgentCommand[] = []) => next(starts, (c) => c.bead.id === beadId, seen, `start_agent for ${beadId}`),
    nextStop: (run: string) => next(stops, (c) => c.run === run, [], `stop_agent for ${run}`),
    /** The container started the agent's process, and keeps it alive with heartbeats until it ends. */
    async started(start: StartAgentCommand) {
      await t.rigCall(rig, "gt_agent_started", { as: start.identity, bead_id: start.bead.id, run: start.run, epoch, pid: 4242 }, t.container);
      beats.set(
        start.run,
        setInterval(() => void t.rigCall(rig, "gt_heartbeat", {}, start.token).catch(() => {}), 500),
      );
    },
    /** Lines the agent printed, as the supervisor forwards them. */
    print: (start: StartAgentCommand, lines: string[], stream: "out" | "err" = "out") =>
      t.rigCall<{ stored: number }>(
        rig,
        "gt_agent_output",
        { epoch, run: start.run, identity: start.identity, lines: lines.map((text) => ({ at: Date.now(), stream, text })) },
        t.container,
      ),
    /** The agent's process ended with `code` before it was done (reporting what it used, if `usage`). */
    async exit(start: StartAgentCommand, code: number, usage?: Usage) {
      clearInterval(beats.get(start.run));
      await t.rigCall(rig, "gt_agent_exited", { as: start.identity, bead_id: start.bead.id, run: start.run, epoch, code, usage }, t.container);
    },
    /**
     * A bead whose every run prints a failure and exits 4, until the room gives up on it (GT_MAX_RUNS,
     * 3 by default): failed, with the witness's escalation.
     */
    async failingBead(
      title: string,
      lines: (run: number) => string[] = (n) => [`run ${n}: npm test`, "Error: Cannot find module 'left-pad'"],
    ): Promise<{ bead: Bead; runs: StartAgentCommand[] }> {
      const bead = await t.rigCall<Bead>(rig, "gt_bead_create", { title });
      const runs: StartAgentCommand[] = [];
      for (let n = 1; ; n++) {
        const start = await self.nextStart(bead.id, runs);
        runs.push(start);
        await self.started(start);
        await self.print(start, lines(n).slice(0, -1));
        await self.print(start, lines(n).slice(-1), "err");
        await self.exit(start, 4);
        const now = await t.rigCall<Bead>(rig, "gt_bead_status", { bead_id: bead.id });
        if (now.status === "failed") return { bead: now, runs };
        if (n >= 10) throw new Error(`bead ${bead.id} did not fail after ${n} runs`);
      }
    },
    close() {
      beats.forEach(clearInterval);
      socket.close();
    },
  };
  return self;
}
