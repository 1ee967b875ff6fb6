/**
 * Commands a rig room owes its container (start an agent, merge a branch, stop an agent), kept in
 * room storage until the container acknowledges them through the matching tool
 * (gt_agent_started, gt_merge_result, gt_agent_exited). A container that connects, or reconnects
 * after a crash, is sent every pending command again, so none is lost with a socket.
 */
import { newId } from "./ids.ts";
import type { KeyValueStorage } from "./records.ts";

export type PendingCommand =
  | { id: string; kind: "start_agent"; identity: string; beadId: string; createdAt: number }
  | { id: string; kind: "merge"; identity: string; beadId: string; branch: string; createdAt: number }
  | { id: string; kind: "stop_agent"; identity: string; beadId?: string; reason: string; createdAt: number };

type NewCommand = PendingCommand extends infer C ? (C extends PendingCommand ? Omit<C, "id" | "createdAt"> : never) : never;

const PREFIX = "commands:";

export class CommandQueue {
  private readonly pending = new Map<string, PendingCommand>();

  constructor(private readonly storage: KeyValueStorage) {}

  async load(): Promise<void> {
    for (const command of (await this.storage.list<PendingCommand>({ prefix: PREFIX })).values()) this.pending.set(command.id, command);
  }

  /** Oldest first. */
  all(): PendingCommand[] {
    return [...this.pending.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  /** Storage entries for new commands, to persist in the same write as the change that owes them. */
  prepare(commands: NewCommand[], now: number): { entries: Record<string, PendingCommand>; commands: PendingCommand[] } {
    const made = commands.map((c) => ({ ...c, id: newId(), createdAt: now }) as PendingCommand);
    return { entries: Object.fromEntries(made.map((c) => [PREFIX + c.id, c])), commands: made };
  }

  /** Call once the prepared entries are persisted. */
  added(commands: PendingCommand[]): void {
    for (const c of commands) this.pending.set(c.id, c);
  }

  /** Storage keys of the commands an acknowledgement settles; forget them with `settled`. */
  matching(predicate: (c: PendingCommand) => boolean): PendingCommand[] {
    return this.all().filter(predicate);
  }

  keys(commands: PendingCommand[]): string[] {
    return commands.map((c) => PREFIX + c.id);
  }

  settled(commands: PendingCommand[]): void {
    for (const c of commands) this.pending.delete(c.id);
  }
}
