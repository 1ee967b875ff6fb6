/**
 * Every run of a bead with its output, read after it ended (`gt_agent_log {bead_id, run}`), so
 * "why did it fail" is answered on the bead: how each run ended and its last lines.
 */
import { For, Show, createEffect, createSignal, on, onCleanup } from "solid-js";
import { useTown } from "../stores/town.tsx";
import { useRig } from "../stores/rig.tsx";
import { LogReadError, readAgentLog } from "../lib/agent-log.ts";
import type { AgentLogResult, Bead } from "../../../party/protocol.ts";
import { agentName } from "../lib/attention.ts";
import { Ago, Empty, Loading, Mono, Panel } from "../ui/kit.tsx";
import { LogView } from "../ui/log-view.tsx";
import { runLine } from "../lib/usage.ts";
import { absolute } from "../lib/time.ts";
import { agedRuns, duration } from "../lib/runs.ts";
import { RunDownload } from "./run-download.tsx";

export default function BeadRuns(props: { bead: Bead }) {
  const town = useTown();
  const rig = useRig();
  const [chosen, setChosen] = createSignal<string | null>(null);
  const [log, setLog] = createSignal<AgentLogResult | null>(null);
  const [error, setError] = createSignal<string | null>(null);
  let asked = 0;
  // A read that could not reach the server is tried again (2 s, 4 s … up to 30 s apart) and when
  // the rig's connection is live again, so its error goes once the server answers.
  const [retry, setRetry] = createSignal(0);
  let failures = 0;
  let again: ReturnType<typeof setTimeout> | undefined;
  onCleanup(() => clearTimeout(again));
  createEffect(
    on(rig.sync.status, (status, before) => {
      if (status === "live" && before !== undefined && before !== "live" && error()) setRetry((n) => n + 1);
    }),
  );
  // Read again when the bead moves on (a run starts or ends changes its status or run count).
  createEffect(
    on(
      () => [props.bead.id, props.bead.status, props.bead.runs, chosen(), retry()] as const,
      ([beadId, , , run]) => {
        clearTimeout(again);
        const ask = ++asked;
        readAgentLog({ town: town.town, rigId: rig.rig.id, token: town.session.token }, { bead_id: beadId, ...(run ? { run } : {}), limit: 2000 }).then(
          (result) => {
            if (ask !== asked) return; // an older answer, overtaken by a newer question
            failures = 0;
            setLog(result);
            setError(null);
          },
          (e: unknown) => {
            if (ask !== asked) return;
            setError(e instanceof LogReadError ? e.message : String(e));
            if (e instanceof LogReadError && e.code === "NETWORK") again = setTimeout(() => setRetry((n) => n + 1), Math.min(30_000, 2000 * 2 ** failures++));
          },
        );
      },
    ),
  );
  onCleanup(() => (asked = -1));
  const current = () => log()?.run ?? null;
  // Runs the bead counts whose output aged out of its agents' last runs: said, never "no runs yet".
  const aged = () => {
    const l = log();
    return l ? agedRuns(props.bead.runs ?? 0, l.runs, l.aged ?? []) : null;
  };
  return (
    <Panel title="Runs and output" testid="bead-runs">
      <Show
        when={!error()}
        fallback={
          <p class="px-4 py-3 text-sm text-zinc-500" data-testid="bead-runs-error">
            {error()}
          </p>
        }
      >
        <Show when={log()} fallback={<Loading what="the runs" />}>
          {(l) => (
            <>
              <Show when={aged()}>
                {(a) => (
                  <div class="border-b border-zinc-200 px-4 py-2 text-sm dark:border-zinc-800" data-testid="bead-runs-aged" role="note">
                    <p class="text-zinc-600 dark:text-zinc-300">
                      Output of {l().runs.length ? "earlier runs" : "this bead's runs"}
                      <Show when={a().before}>{(at) => <> before {absolute(at())}</>}</Show> is no longer kept ({a().why}).
                      <Show when={a().unknown}>
                        {" "}
                        {a().unknown} {a().unknown === 1 ? "run is" : "runs are"} not remembered either: only the count in its details is known.
                      </Show>
                    </p>
                    <Show when={l().aged?.length}>
                      <ul class="mt-1 space-y-0.5 text-xs text-zinc-600 dark:text-zinc-400">
                        <For each={l().aged}>
                          {(r) => (
                            <li data-testid="bead-run-aged" data-run={r.run}>
                              Run {r.run.split(".").pop()} · <Mono>{r.identity}</Mono> · started {absolute(r.startedAt)}
                              {duration(r) ? ` · ran ${duration(r)}` : ""} · ended with <span class="font-semibold">{r.exit ?? "no exit status"}</span> ·{" "}
                              {r.lines} lines
                            </li>
                          )}
                        </For>
                      </ul>
                    </Show>
                  </div>
                )}
              </Show>
              <Show
                when={l().runs.length}
                fallback={
                  <Show when={!aged()}>
                    <Empty title="No runs yet.">Output shows here once a polecat has worked on this bead.</Empty>
                  </Show>
                }
              >
                <div class="flex flex-wrap gap-1.5 border-b border-zinc-200 px-4 py-2 dark:border-zinc-800" role="tablist" aria-label="Runs">
                  <For each={l().runs}>
                    {(r) => (
                      <button
                        role="tab"
                        aria-selected={current()?.run === r.run}
                        class={`rounded-md px-2 py-1 text-xs ring-1 ring-inset ${current()?.run === r.run ? "bg-zinc-900 text-white ring-zinc-900 dark:bg-zinc-100 dark:text-zinc-900" : "ring-zinc-300 hover:bg-zinc-50 dark:ring-zinc-700 dark:hover:bg-zinc-800"}`}
                        data-testid="bead-run"
                        data-run={r.run}
                        onClick={() => setChosen(r.run)}
                      >
                        Run {r.run.split(".").pop()} · {r.endedAt ? (r.exit ?? "ended") : "running"}
                      </button>
                    )}
                  </For>
                </div>
                <Show when={current()}>
                  {(r) => (
                    <div class="space-y-1 px-4 py-2 text-sm" data-testid="bead-run-detail" data-run={r().run}>
                      <p>
                        <a class="font-mono underline" href={`/t/${town.town}/rigs/${encodeURIComponent(rig.rig.name)}/agents/${agentName(r().identity)}`}>
                          {r().identity}
                        </a>{" "}
                        · started <Ago at={r().startedAt} />
                        <Show when={r().endedAt} fallback={<span> · still running (the agent's page shows it live)</span>}>
                          {" "}
                          · ended <Ago at={r().endedAt} /> with{" "}
                          <span class="font-semibold" data-testid="bead-run-exit">
                            {r().exit ?? "no exit status"}
                          </span>
                        </Show>
                      </p>
                      <Show when={r().usage}>
                        {(u) => (
                          <p class="text-xs text-zinc-600 dark:text-zinc-300" data-testid="bead-run-usage" data-cost={u().costUsd ?? "unknown"}>
                            Used: {runLine(u())}
                          </p>
                        )}
                      </Show>
                      <p class="flex flex-wrap items-center gap-x-1 text-xs text-zinc-500">
                        <RunDownload run={r()} testid="bead-run-download" />
                        {r().lines} lines, {r().bytes} bytes
                        <Show when={r().dropped}> · the {r().dropped} oldest were dropped (a run keeps its last 2,000 lines or 256 KB)</Show> · run{" "}
                        <Mono>{r().run}</Mono>
                      </p>
                    </div>
                  )}
                </Show>
                <LogView lines={l().lines} query="" follow empty="This run printed nothing." height="18rem" fit testid="bead-run-log" class="rounded-b-xl" />
              </Show>
            </>
          )}
        </Show>
      </Show>
    </Panel>
  );
}
