/** One bead: its fields, status history, branch and merge, the Mayor's reason and related mail. */
import { For, Show, createMemo, type JSX } from "solid-js";
import { useParams } from "@solidjs/router";
import { useRig } from "../stores/rig.tsx";
import { useTown } from "../stores/town.tsx";
import { absolute, shortId } from "../lib/time.ts";
import { DOT, label, tone } from "../lib/tone.ts";
import { Ago, Badge, Empty, Loading, Mono, Panel } from "../ui/kit.tsx";
import { RigHeader } from "./rig-header.tsx";
import { MailTable } from "./mail-table.tsx";

export default function BeadView() {
  const params = useParams<{ bead: string }>();
  const town = useTown();
  const rig = useRig();
  const bead = () => rig.beads[params.bead];
  const base = `/t/${town.town}/rigs/${rig.rig.name}`;
  // Mail that names the bead, or went to or from whoever holds it.
  const related = createMemo(() => {
    const b = bead();
    if (!b) return [];
    const short = shortId(b.id);
    return rig.mailList().filter((m) => m.subject.includes(short) || m.body.includes(b.id) || (b.assignee && (m.from === b.assignee || m.to === b.assignee)));
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
              <div class="space-y-4 lg:col-span-2">
                <Panel title={<span data-testid="bead-title">{b().title}</span>} actions={<Badge kind="bead" status={b().status} testid="bead-status" />}>
                  <div class="px-4 py-3 text-sm">
                    <Show when={b().body} fallback={<p class="text-zinc-500">No description.</p>}>
                      <pre class="whitespace-pre-wrap break-words font-sans">{b().body}</pre>
                    </Show>
                  </div>
                </Panel>
                <Panel title="Status history" testid="bead-history">
                  <Show when={b().history?.length} fallback={<Empty title="No status changes recorded yet." />}>
                    <ol class="relative space-y-3 px-4 py-3 text-sm">
                      <For each={[...(b().history ?? [])].reverse()}>
                        {(h) => (
                          <li class="flex gap-3">
                            <span class={`mt-1.5 size-2 shrink-0 rounded-full ${DOT[tone("bead", h.status)]}`} />
                            <div class="min-w-0">
                              <span class="font-medium">{label(h.status)}</span>
                              <Show when={h.note}>
                                <span class="text-zinc-500"> — {h.note}</span>
                              </Show>
                              <div class="text-xs text-zinc-500" title={absolute(h.at)}>
                                <Ago at={h.at} />
                              </div>
                            </div>
                          </li>
                        )}
                      </For>
                    </ol>
                  </Show>
                </Panel>
                <Panel title={`Related mail (${related().length})`}>
                  <MailTable mail={related()} empty="No mail about this bead." />
                </Panel>
              </div>
              <Panel title="Details">
                <dl class="divide-y divide-zinc-100 text-sm dark:divide-zinc-800/70">
                  <Field name="Id">
                    <Mono>{b().id}</Mono>
                  </Field>
                  <Field name="Priority">{b().priority}</Field>
                  <Field name="Assignee">
                    <Show when={b().assignee} fallback={<span class="text-zinc-500">nobody yet</span>}>
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

function Field(props: { name: string; children: JSX.Element }) {
  return (
    <div class="grid grid-cols-[7rem_1fr] gap-2 px-4 py-2">
      <dt class="text-zinc-500">{props.name}</dt>
      <dd class="min-w-0 break-words">{props.children}</dd>
    </div>
  );
}
