/**
 * One bead: why it failed (and each run's output), what an operator can do about it, its fields,
 * status history, branch and merge, the Mayor's reason, escalations and related mail.
 */
import { For, Show, createMemo, lazy, type JSX } from "solid-js";
import { useParams } from "@solidjs/router";
import { useRig } from "../stores/rig.tsx";
import { useTown } from "../stores/town.tsx";
import { shortId } from "../lib/time.ts";
import type { Bead, Escalation } from "../../../party/protocol.ts";
import { Ago, Badge, Empty, Loading, Mono, Panel } from "../ui/kit.tsx";
import { RigHeader } from "./rig-header.tsx";
import { MailTable } from "./mail-table.tsx";
import BeadRuns from "./bead-runs.tsx";
import { readsOutput } from "../lib/reach.ts";
import { NotInLink } from "../shell/not-in-reach.tsx";
import { HoldNote } from "./spend.tsx";
import { totalsLine } from "../lib/usage.ts";
import { runtimeLine } from "../lib/runtime.ts";
import { aboutBead } from "../lib/related.ts";
import { EscalationNotes } from "./escalation-notes.tsx";
import { BeadHistory } from "./bead-history.tsx";

const BeadActions = lazy(() => import("../actions/bead-actions.tsx"));
const EscalationActions = lazy(() => import("../actions/escalation-actions.tsx"));

// Who did what to this bead: operators only (it calls gt_audit, and loads zod with the tools).
const AuditTrail = lazy(() => import("./audit.tsx").then((m) => ({ default: m.AuditTrail })));

export default function BeadView() {
  const params = useParams<{ bead: string }>();
  const town = useTown();
  const rig = useRig();
  const bead = () => rig.beads[params.bead];
  const base = `/t/${town.town}/rigs/${rig.rig.name}`;
  const escalations = createMemo(() =>
    (Object.values(rig.escalations) as (Escalation | undefined)[])
      .filter((e): e is Escalation => !!e && e.beadId === params.bead)
      .sort((a, b) => b.createdAt - a.createdAt),
  );
  // Mail that names the bead (lib/related.ts): not all mail of whoever holds it, which is about other beads too.
  const related = createMemo(() => {
    const b = bead();
    return b ? rig.mailList().filter((m) => aboutBead(m, b)) : [];
  });
  return (
    <div>
      <RigHeader crumbs={[{ label: <Mono>bead {shortId(params.bead)}</Mono> }]} />
      <Show when={rig.sync.loaded()} fallback={<Loading what="the bead" />}>
        <Show
          when={bead()}
          fallback={
            <Panel title="Bead not found">
              <Empty title="This rig has no such bead.">
                It may be an old closed bead that left the live board (ask <code class="font-mono">gt_bead_status</code>), or the link is wrong.
              </Empty>
            </Panel>
          }
        >
          {(b) => (
            <div class="grid gap-4 lg:grid-cols-3" data-testid="bead-detail">
              <div class="min-w-0 space-y-4 lg:col-span-2">
                <Panel title={<span data-testid="bead-title">{b().title}</span>} actions={<Badge kind="bead" status={b().status} testid="bead-status" />}>
                  <Show when={b().status === "failed"}>
                    <div class="border-b border-rose-200 bg-rose-500/5 px-4 py-3 text-sm dark:border-rose-900/60" data-testid="bead-failure" role="note">
                      <p class="font-medium text-rose-700 dark:text-rose-300">Failed: {b().failure ?? "no reason was recorded"}</p>
                      <p class="mt-0.5 text-zinc-600 dark:text-zinc-400" data-testid="bead-attempts">
                        {attempts(b())}
                        <Show when={b().assignee}>
                          {(a) => (
                            <>
                              {" "}
                              · last held by <Mono>{a()}</Mono>
                            </>
                          )}
                        </Show>
                        . Each run is below, with its output while it is kept.
                      </p>
                    </div>
                  </Show>
                  {/* An open bead waits for a polecat; while the rig's budget holds dispatch, say that is why. */}
                  <Show when={b().status === "open" && rig.rig.summary.usage?.hold}>
                    {(hold) => (
                      <div class="border-b border-zinc-200 px-4 py-2 dark:border-zinc-800" data-testid="bead-hold">
                        <HoldNote hold={hold()} />
                      </div>
                    )}
                  </Show>
                  <Show when={b().movedTo}>
                    {(m) => (
                      <p class="border-b border-zinc-200 bg-sky-500/5 px-4 py-2 text-sm dark:border-zinc-800" data-testid="bead-moved-to">
                        Moved to{" "}
                        <a class="font-medium underline" href={`/t/${town.town}/rigs/${encodeURIComponent(m().rig)}/beads/${m().beadId}`}>
                          {m().rig} as bead {shortId(m().beadId)}
                        </a>
                        ; work on it goes on there.
                      </p>
                    )}
                  </Show>
                  <Show when={b().movedFrom}>
                    {(m) => (
                      <p class="border-b border-zinc-200 px-4 py-2 text-sm text-zinc-600 dark:border-zinc-800 dark:text-zinc-400" data-testid="bead-moved-from">
                        Moved here from{" "}
                        <a class="underline" href={`/t/${town.town}/rigs/${encodeURIComponent(m().rig)}/beads/${m().beadId}`}>
                          {m().rig} (bead {shortId(m().beadId)})
                        </a>
                        .
                      </p>
                    )}
                  </Show>
                  <div class="px-4 py-3 text-sm">
                    <Show when={b().body} fallback={<p class="text-zinc-500">No description.</p>}>
                      <pre class="whitespace-pre-wrap break-words font-sans">{b().body}</pre>
                    </Show>
                  </div>
                  {/* Mounted for closed beads too: a move's result stays on screen after the bead closes as moved. */}
                  <Show when={town.isOperator}>
                    <BeadActions bead={b()} />
                  </Show>
                </Panel>
                <Show when={escalations().length}>
                  <Panel title={`Escalations (${escalations().length})`} testid="bead-escalations">
                    <ul class="divide-y divide-zinc-100 text-sm dark:divide-zinc-800/70">
                      <For each={escalations()}>
                        {(e) => (
                          <li class="space-y-1 px-4 py-2.5" data-testid="bead-escalation" data-status={e.status}>
                            <div class="flex flex-wrap items-center gap-2">
                              <Badge kind="severity" status={e.severity} />
                              <span class="font-medium">{e.title}</span>
                              <span class="text-xs text-zinc-500">
                                from {e.from} · <Ago at={e.createdAt} /> · {e.status}
                              </span>
                              <Show when={town.isOperator && e.status !== "resolved"}>
                                <span class="ml-auto">
                                  <EscalationActions rig={rig.rig} escalation={e} compact />
                                </span>
                              </Show>
                            </div>
                            <Show when={e.body}>
                              <p class="whitespace-pre-wrap break-words text-zinc-600 dark:text-zinc-400">{e.body}</p>
                            </Show>
                            <EscalationNotes escalation={e} />
                          </li>
                        )}
                      </For>
                    </ul>
                  </Panel>
                </Show>
                <Show
                  when={readsOutput(town.session, rig.rig.id, { bead: b().id })}
                  fallback={
                    <Panel title="Runs and output" testid="bead-runs">
                      <NotInLink
                        what="This bead's runs and their output"
                        why="they are shown to operators, and to links made for this bead"
                        testid="bead-runs-error"
                      />
                    </Panel>
                  }
                >
                  <BeadRuns bead={b()} />
                </Show>
                <Panel title="Status history" testid="bead-history">
                  <BeadHistory bead={b()} />
                </Panel>
                <Panel title={`Related mail (${related().length})`}>
                  <MailTable mail={related()} empty="No mail about this bead." />
                </Panel>
                <Show when={town.isOperator}>
                  <AuditTrail rig={rig.rig} bead={b().id} watch={() => b().rev} title="Who did what to this bead" testid="bead-audit" />
                </Show>
              </div>
              <Panel title="Details">
                <dl class="divide-y divide-zinc-100 text-sm dark:divide-zinc-800/70">
                  <Field name="Id">
                    <Mono>{b().id}</Mono>
                  </Field>
                  <Field name="Priority">{b().priority}</Field>
                  <Field name={b().status === "failed" || b().status === "closed" ? "Last assignee" : "Assignee"}>
                    <Show
                      when={b().assignee}
                      fallback={
                        <span class="text-zinc-500">
                          {b().status === "open" && rig.rig.summary.usage?.hold ? "waiting: the rig's budget holds new runs" : unassigned(b())}
                        </span>
                      }
                    >
                      {(a) => (
                        <a class="underline" href={`${base}/agents/${a().split("/").pop()}`} data-testid="bead-assignee">
                          {a()}
                        </a>
                      )}
                    </Show>
                  </Field>
                  <Field name="Branch">
                    <Show when={b().branch} fallback={<span class="text-zinc-500">—</span>}>
                      {(x) => <Mono>{x()}</Mono>}
                    </Show>
                  </Field>
                  <Field name="Merge commit">
                    <Show when={b().mergeCommit} fallback={<span class="text-zinc-500">not merged</span>}>
                      {(x) => <Mono title={x()}>{x().slice(0, 12)}</Mono>}
                    </Show>
                  </Field>
                  <Show when={(b().attempts ?? 0) > 0 || (b().runs ?? 0) > 0}>
                    <Field name="Attempts">
                      <span data-testid="bead-attempt-count">{b().attempts ?? 0} failed</span> of {b().runs ?? 0} run{b().runs === 1 ? "" : "s"}
                    </Field>
                  </Show>
                  <Field name="Model">
                    <span data-testid="bead-model">
                      <Show when={b().model} fallback={<span class="text-zinc-500">the rig's: {runtimeLine(rig.rig)}</span>}>
                        {(m) => <Mono>{m()}</Mono>}
                      </Show>
                    </span>
                  </Field>
                  <Field name="Used">
                    <span data-testid="bead-usage">{b().usage ? totalsLine(b().usage) : <span class="text-zinc-500">nothing reported yet</span>}</span>
                  </Field>
                  <Field name="Requires">{b().requires.length ? b().requires.join(", ") : <span class="text-zinc-500">nothing special</span>}</Field>
                  <Show when={b().convoyId}>
                    {(c) => (
                      <Field name="Convoy">
                        <a class="underline" href={`/t/${town.town}/convoys/${c()}`}>
                          {town.convoys[c()]?.title ?? shortId(c())}
                        </a>
                      </Field>
                    )}
                  </Show>
                  <Show when={b().reason}>
                    {(r) => (
                      <Field name="Why this rig">
                        <span class="text-zinc-600 dark:text-zinc-300" data-testid="bead-reason">
                          {r()}
                        </span>
                      </Field>
                    )}
                  </Show>
                  <Field name="Created">
                    <Ago at={b().createdAt} />
                  </Field>
                  <Field name="Updated">
                    <Ago at={b().updatedAt} />
                  </Field>
                </dl>
              </Panel>
            </div>
          )}
        </Show>
      </Show>
    </div>
  );
}

/** What the bead's lack of an assignee means in its state: never "nobody yet" for a bead that is over. */
function unassigned(b: Bead): string {
  switch (b.status) {
    case "open":
      return "waiting for a free polecat";
    case "failed":
      return "none: it failed";
    case "closed":
      return b.movedTo ? "none: it moved" : "none";
    default:
      return "none";
  }
}

function attempts(b: Bead): string {
  const n = b.attempts ?? 0;
  const runs = b.runs ?? 0;
  if (!runs) return "It failed before any polecat ran it";
  return `${n} failed attempt${n === 1 ? "" : "s"} over ${runs} run${runs === 1 ? "" : "s"}`;
}

function Field(props: { name: string; children: JSX.Element }) {
  return (
    <div class="grid grid-cols-[7rem_1fr] gap-2 px-4 py-2">
      <dt class="text-zinc-500">{props.name}</dt>
      <dd class="min-w-0 break-words">{props.children}</dd>
    </div>
  );
}
