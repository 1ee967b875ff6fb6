/**
 * The agents' output relay: what the container ships of each run (gt_agent_output) is kept by the
 * store's AgentOutput and relayed, line by line and once each, to the output sockets that watch its
 * agent and whose token may see it (a bead link: its bead's runs only).
 */
import type * as Party from "partykit/server";
import { scopeAllows, type AgentOutput } from "../agent-output.ts";
import { outputScope, type RoomRef } from "../access.ts";
import type { LiveServices, OutputWatch } from "../live/index.ts";
import { CLOSE, ToolError, type OutputLine, type RunInfo, type TokenPayload, type Usage } from "../protocol.ts";

/** What the relay uses: the store's output, the rig as it is now, and the room's output sockets. */
export type RelayHost = Pick<LiveServices, "roomId" | "outputWatchers" | "sendOutput" | "closeConnection"> & {
  output: AgentOutput;
  roomRef(): RoomRef | null;
  /** The rig's name for messages, or null while the rig does not exist. */
  rigName(): string | null;
  /** The agent's current run id, or null when the rig has no such agent. */
  currentRun(identity: string): string | undefined | null;
  /** Takes one of a link's output reads; false when its budget is spent. */
  takeRead(token: TokenPayload): boolean;
};

export class Relay {
  constructor(private readonly host: RelayHost) {}

  /** A run began: watchers of its agent hear of it (and of an earlier run it closed). */
  async runStarted(identity: string, run: string): Promise<void> {
    try {
      this.runs(await this.host.output.started(run, identity, Date.now()));
    } catch (error) {
      console.error(`[rig/${this.host.roomId()}] noting the start of run ${run} failed`, error);
    }
  }

  /** A run ended (`create`: even one that never printed), with what it used if it said: watchers of its agent hear how. */
  async runEnded(identity: string, run: string, exit: string, create: boolean, usage?: Usage): Promise<void> {
    try {
      this.runs(await this.host.output.ended(run, identity, exit, Date.now(), create, usage));
    } catch (error) {
      console.error(`[rig/${this.host.roomId()}] noting the end of run ${run} failed`, error);
    }
  }

  /** Whether a watcher's token may see this run (a bead link: its bead's runs only). */
  private mayWatch(token: TokenPayload, run: Pick<RunInfo, "identity" | "beadId">): boolean {
    const ref = this.host.roomRef();
    const scope = ref ? outputScope(token, ref) : null;
    return scope !== null && scopeAllows(scope, run);
  }

  /** New lines of a run, to the sockets that watch its agent and may see it, each line once. */
  lines(run: RunInfo, lines: OutputLine[]): void {
    if (!lines.length) return;
    for (const { connectionId, token, watch } of this.host.outputWatchers(run.identity)) {
      if (!watch.ready || !this.mayWatch(token, run)) continue;
      if (watch.run !== run.run) Object.assign(watch, { run: run.run, seq: 0 });
      const fresh = lines.filter((l) => l.seq > watch.seq);
      if (!fresh.length) continue;
      watch.seq = fresh.at(-1)!.seq;
      this.host.sendOutput(connectionId, { type: "output", run, lines: fresh });
    }
  }

  /** Runs that started or ended, to the sockets that watch their agents and may see them. */
  runs(runs: RunInfo[]): void {
    for (const run of runs) {
      for (const { connectionId, token, watch } of this.host.outputWatchers(run.identity)) {
        if (watch.ready && this.mayWatch(token, run)) this.host.sendOutput(connectionId, { type: "run", run });
      }
    }
  }

  /** An output socket's first frame: the last lines of its agent's current or latest run. */
  async socketReady(connection: Party.Connection, watch: OutputWatch, token: TokenPayload): Promise<void> {
    const current = this.host.currentRun(watch.identity);
    if (current === null)
      return this.host.closeConnection(connection.id, CLOSE.GONE, `no agent ${watch.identity} in rig ${this.host.rigName() ?? this.host.roomId()}`);
    // Its first frame is a read: a link opening sockets again and again pays for each, as gt_agent_log does.
    if (token.role === "viewer" && !this.host.takeRead(token)) {
      return this.host.closeConnection(connection.id, CLOSE.ROOM_FULL, "too many output reads for this link: try again later");
    }
    const ref = this.host.roomRef();
    const scope = ref ? outputScope(token, ref) : null;
    if (!scope)
      return this.host.closeConnection(
        connection.id,
        ref ? CLOSE.FORBIDDEN : CLOSE.GONE,
        "agents' output is for operators and links that name the agent or bead",
      );
    try {
      const { run, lines } = await this.host.output.backlog(watch.identity, scope, current);
      Object.assign(watch, { run: run?.run ?? null, seq: lines.at(-1)?.seq ?? 0 });
      if (this.host.sendOutput(connection.id, { type: "output", run, lines })) watch.ready = true;
    } catch (error) {
      if (!(error instanceof ToolError)) console.error(`[rig/${this.host.roomId()}] output backlog of ${watch.identity} failed`, error);
      this.host.closeConnection(
        connection.id,
        error instanceof ToolError && error.code === "UNKNOWN_RIG" ? CLOSE.GONE : 1011,
        "could not read the agent's output",
      );
    }
  }
}
