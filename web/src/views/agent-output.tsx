/**
 * An agent's live output (stdout and stderr of its current or latest run), streamed from its rig
 * room: follow the newest line, pause to read while lines keep arriving, search.
 */
import { Show, createMemo, createSignal } from "solid-js";
import { useTown } from "../stores/town.tsx";
import { useRig } from "../stores/rig.tsx";
import { createAgentOutput } from "../lib/agent-output.ts";
import { shortId } from "../lib/time.ts";
import { BADGE, tone } from "../lib/tone.ts";
import { Ago, Mono, Panel, btn, input } from "../ui/kit.tsx";
import { LogView } from "../ui/log-view.tsx";
import type { OutputLine } from "../../../party/protocol.ts";
import { runLine } from "../lib/usage.ts";

import { RunDownload } from "./run-download.tsx";

const STATUS_TEXT = { connecting: "Connecting…", live: "Live", reconnecting: "Reconnecting", closed: "Closed" } as const;

export default function AgentOutput(props: { identity: string }) {
  const town = useTown();
  const rig = useRig();
  const output = createAgentOutput({ town: town.town, rigId: rig.rig.id, identity: props.identity, token: town.session.token });
  const [follow, setFollow] = createSignal(true);
  const [frozen, setFrozen] = createSignal<OutputLine[] | null>(null);
  const [query, setQuery] = createSignal("");
  const run = () => output.tail().run;
  const base = createMemo(() => frozen() ?? output.tail().lines);
  const waiting = createMemo(() => {
    const f = frozen();
    if (!f) return 0;
    const last = f.length ? f[f.length - 1]!.seq : -1;
    return output.tail().lines.filter((l) => l.seq > last).length;
  });
  const shown = createMemo(() => {
    const q = query().toLowerCase();
    return q ? base().filter((l) => l.text.toLowerCase().includes(q)) : base();
  });
  const pause = () => setFrozen(output.tail().lines);
  const resume = () => {
    setFrozen(null);
    setFollow(true);
  };
  return (
    <Panel
      title="Output"
      testid="agent-output"
      actions={
        <span
          class={`inline-flex items-center gap-1.5 rounded-full px-2 py-0.5 text-xs ring-1 ring-inset ${BADGE[tone("sync", output.status())]}`}
          data-testid="output-status"
          data-status={output.status()}
        >
          {STATUS_TEXT[output.status()]}
        </span>
      }
    >
      <div class="flex flex-wrap items-center gap-2 border-b border-zinc-200 px-4 py-2 text-sm dark:border-zinc-800">
        <Show
          when={run()}
          fallback={<span class="text-zinc-500">{output.status() === "live" ? "No run yet: output appears when this agent starts work." : ""}</span>}
        >
          {(r) => (
            <span class="min-w-0 text-zinc-600 dark:text-zinc-300" data-testid="output-run" data-run={r().run} data-ended={r().endedAt ? "yes" : "no"}>
              run <Mono>{r().run.split(".").pop()}</Mono> of{" "}
              <a class="underline" href={`/t/${town.town}/rigs/${encodeURIComponent(rig.rig.name)}/beads/${r().beadId}`}>
                {rig.beads[r().beadId]?.title ?? <Mono>bead {shortId(r().beadId)}</Mono>}
              </a>{" "}
              · started <Ago at={r().startedAt} />
              <Show when={r().endedAt}>
                {" "}
                · ended <Ago at={r().endedAt} /> (<span data-testid="output-exit">{r().exit ?? "ended"}</span>)
              </Show>
              <Show when={r().dropped}> · {r().dropped} oldest lines dropped</Show>
              <Show when={r().usage}>
                {(u) => (
                  <span data-testid="output-run-usage" data-cost={u().costUsd ?? "unknown"}>
                    {" "}
                    · used {runLine(u())}
                  </span>
                )}
              </Show>
            </span>
          )}
        </Show>
        <div class="ml-auto flex flex-wrap items-center gap-2">
          <Show when={run()}>{(r) => <RunDownload run={r()} testid="output-download" />}</Show>
          <label class="flex items-center">
            <span class="sr-only">Search the output</span>
            <input
              type="search"
              class={`${input} w-48 py-1`}
              placeholder="Search output"
              data-testid="output-search"
              value={query()}
              onInput={(e) => setQuery(e.currentTarget.value)}
              onKeyDown={(e) => {
                if (e.key === "Escape" && query()) {
                  e.preventDefault();
                  setQuery("");
                }
              }}
            />
          </label>
          <Show
            when={frozen()}
            fallback={
              <button class={btn} data-testid="output-pause" onClick={pause} title="Stop adding new lines while you read">
                Pause
              </button>
            }
          >
            <button class={btn} data-testid="output-resume" onClick={resume}>
              Resume<Show when={waiting()}> ({waiting()} new)</Show>
            </button>
          </Show>
          <button class={btn} data-testid="output-follow" aria-pressed={follow()} onClick={() => setFollow(!follow())} title="Keep the newest line in view">
            {follow() ? "Following" : "Follow"}
          </button>
        </div>
      </div>
      <Show when={query()}>
        <p class="border-b border-zinc-200 px-4 py-1 text-xs text-zinc-500 dark:border-zinc-800" data-testid="output-matches">
          {shown().length} of {base().length} lines match “{query()}”
        </p>
      </Show>
      <Show when={output.refusal()}>
        <p class="px-4 py-2 text-sm text-rose-700 dark:text-rose-300" data-testid="output-refused">
          {output.refusal()}
        </p>
      </Show>
      <LogView
        lines={shown()}
        query={query()}
        follow={follow()}
        onScrollAway={() => setFollow(false)}
        empty={query() ? "No line matches." : output.status() === "live" ? "Nothing printed yet." : "Waiting for the output…"}
        testid="output-log"
        class="rounded-b-xl"
      />
    </Panel>
  );
}
