/**
 * Carries out what a step of the work machine owes the world, once the store wrote it: lease frames
 * and commands to the container's socket (a start carries a fresh agent token, minted here), closes,
 * the witness's nudges as mail, runs noted for their output's watchers; and after every write, the
 * notices it stored sent on, the summary pushed, retention looked at.
 */
import { signToken } from "../auth.ts";
import { newId } from "../ids.ts";
import type { PostOffice } from "../post-office.ts";
import type { LiveServices } from "../live/index.ts";
import type { CommandFrame, LeaseFrame } from "../protocol.ts";
import { owedCommands, type OwedCommand, type Transition } from "../work/index.ts";
import { leaseTiming, type RigEnv } from "./config.ts";
import type { Relay } from "./relay.ts";
import type { RigStore, Written } from "./store/index.ts";
import type { SummaryPush } from "./summary-push.ts";

const AGENT_TOKEN_TTL_S = 24 * 3600;

export type EffectsHost = Pick<LiveServices, "secret" | "sendTo" | "closeConnection"> & {
  store: RigStore;
  post: () => PostOffice;
  relay: Relay;
  summary: SummaryPush;
  env: () => RigEnv;
  /** Retention may have work (a bead closed). */
  retireSoon(): void;
};

export class Effects {
  constructor(private readonly host: EffectsHost) {}

  /**
   * The effects of a step, in order. A lease granted in this step sends every owed command itself.
   * `noted` settles once the runs it noted are noted (their watchers told): the caller awaits it
   * outside the room's serial lane.
   */
  async carry(t: Transition): Promise<{ noted: Promise<void> }> {
    const notes: Promise<void>[] = [];
    const granted = t.effects.some((e) => e.kind === "lease" && e.frame.state === "held");
    // A run's usage goes on its output's record with its end (the usage effect comes first).
    const usage = new Map(t.effects.flatMap((e) => (e.kind === "usage" ? [[e.run, e.usage] as const] : [])));
    for (const effect of t.effects) {
      switch (effect.kind) {
        case "lease": {
          const timing = leaseTiming(this.host.env());
          const frame: LeaseFrame =
            effect.frame.state === "held"
              ? { type: "lease", state: "held", epoch: effect.frame.epoch, ...timing }
              : { type: "lease", state: "standby", ...timing };
          this.host.sendTo(effect.connection, frame);
          if (effect.frame.state === "held") for (const command of owedCommands(this.host.store.workState())) await this.sendCommand(command);
          break;
        }
        case "command":
          if (!granted) await this.sendCommand(effect.command);
          break;
        case "close":
          this.host.closeConnection(effect.connection, effect.code, effect.reason);
          break;
        case "nudge":
          // The witness's nudge: mail from `<rig>/witness` to the agent, like any mail it gets.
          const from = `${this.host.store.requireMeta().name}/witness`;
          await this.host
            .post()
            .receive({ id: newId(), from, to: effect.identity, subject: effect.subject, body: effect.body, sentAt: Date.now(), state: "queued" });
          break;
        case "run_started":
          notes.push(this.host.relay.runStarted(effect.identity, effect.run));
          break;
        case "run_ended":
          notes.push(this.host.relay.runEnded(effect.identity, effect.run, effect.exit, effect.create, usage.get(effect.run)));
          break;
        case "feed":
        case "escalate":
        case "persist_lease":
        case "moved":
        case "convoy":
        case "closed":
        case "usage":
          break; // stored with the step's records
      }
    }
    await this.host.store.outbox.scheduleAlarm();
    return { noted: Promise.all(notes).then(() => {}) };
  }

  /** After a write: the notices it stored go to the outbox (sent at once when due), the summary follows. */
  async written(written: Written): Promise<void> {
    const { outbox } = this.host.store;
    const now = Date.now();
    for (const notice of written.notices) await outbox.added(notice);
    if (written.counted && !written.notices.length) await outbox.scheduleAlarm(); // wake at the next hour: the chart shifts
    if (written.notices.some((n) => n.nextAttemptAt <= now)) void outbox.flush();
    this.host.summary.schedule();
    if (written.closed) this.host.retireSoon();
  }

  /** Sends an owed command to the lease holder, if connected; it stays owed until acknowledged. */
  private async sendCommand(command: OwedCommand): Promise<void> {
    const connection = this.host.store.lease.holder?.connection;
    if (!connection) return;
    const frame = await this.commandFrame(command);
    if (frame) this.host.sendTo(connection, frame);
  }

  private async commandFrame(command: OwedCommand): Promise<CommandFrame | null> {
    const { store } = this.host;
    const meta = store.requireMeta();
    const epoch = store.lease.holder!.epoch;
    switch (command.kind) {
      case "start_agent": {
        const agent = store.agent(command.identity);
        const live = store.bead(command.beadId);
        if (!agent?.run || agent.run.id !== command.run || !live || !agent.branch) return null;
        const bead = await store.wholeBead(live);
        const exp = Math.floor(Date.now() / 1000) + AGENT_TOKEN_TTL_S;
        const token = await signToken({ role: "agent", town: meta.town, rig: meta.rigId, agent: agent.identity, run: command.run, exp }, this.host.secret());
        return {
          type: "command",
          command: "start_agent",
          id: command.id,
          epoch,
          run: command.run,
          identity: agent.identity,
          name: agent.name,
          bead,
          branch: agent.branch,
          rig: { id: meta.rigId, name: meta.name, defaultBranch: meta.defaultBranch },
          token,
          ...(bead.model ? { model: bead.model } : {}),
        };
      }
      case "merge": {
        const bead = store.bead(command.beadId);
        const { id, beadId, branch, identity, attempt } = command;
        return { type: "command", command: "merge", id, epoch, bead_id: beadId, branch, identity, title: bead?.title ?? beadId, attempt };
      }
      case "stop_agent": {
        const { id, identity, beadId, run, reason } = command;
        return { type: "command", command: "stop_agent", id, epoch, identity, bead_id: beadId, run, reason };
      }
    }
  }
}
