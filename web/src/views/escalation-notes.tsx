/**
 * The notes written on an escalation when it was acknowledged or resolved, each with when and which
 * (an older record has only its last `note`): what agents and other operators are told to read.
 */
import { For, Show } from "solid-js";
import type { Escalation, EscalationNote } from "../../../party/protocol.ts";
import { absolute } from "../lib/time.ts";
import { Ago } from "../ui/kit.tsx";

/** Every note on `e`, oldest first. */
export function notesOf(e: Escalation): EscalationNote[] {
  if (e.notes?.length) return e.notes;
  if (!e.note) return [];
  const status = e.status === "open" ? "acknowledged" : e.status;
  return [{ at: (status === "resolved" ? e.resolvedAt : e.acknowledgedAt) ?? e.createdAt, status, note: e.note }];
}

export function EscalationNotes(props: { escalation: Escalation }) {
  return (
    <Show when={notesOf(props.escalation).length}>
      <ul class="w-full space-y-0.5 text-xs text-zinc-600 dark:text-zinc-400" data-testid="escalation-notes">
        <For each={notesOf(props.escalation)}>
          {(n) => (
            <li data-testid="escalation-note" data-status={n.status}>
              <span class="font-medium">{n.status === "resolved" ? "Resolved" : "Acknowledged"}</span>{" "}
              <span title={absolute(n.at)}>
                <Ago at={n.at} />
              </span>
              : <span class="whitespace-pre-wrap break-words">{n.note}</span>
            </li>
          )}
        </For>
      </ul>
    </Show>
  );
}
