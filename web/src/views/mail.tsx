/**
 * Town mail: mail across every rig plus the Mayor's and operator's, who mails whom, unread per
 * agent. The Mayor's and operator's mail is the town's mail document; rig mail lives in each rig's
 * document, so this view opens every rig's doc while it is shown.
 */
import { For, Show, createMemo, createSignal, lazy, onCleanup } from "solid-js";
import type { Mail, MailState, Rig } from "../../../party/protocol.ts";
import { useTown } from "../stores/town.tsx";
import { createLiveDoc, type Sync } from "../lib/live-doc.ts";
import { Crumbs, Empty, Loading, Panel, SyncBadge, input } from "../ui/kit.tsx";
import { MailTable } from "./mail-table.tsx";

const SendMail = lazy(() => import("../actions/send-mail.tsx"));

type Source = { rig: string; mail: Record<string, Mail>; sync: Sync };

// The same mail can sit in the sender's and the recipient's rig: keep the copy furthest along.
const PROGRESS: Record<MailState, number> = { queued: 0, delivered: 1, read: 2, failed: 2 };

export default function MailView() {
  const town = useTown();
  const townMail = createLiveDoc({ party: "main", room: town.town, doc: "mail", token: town.session.token }, { maps: ["mail"], arrays: [] });
  const [sources, setSources] = createSignal<Source[]>([]);
  const all = createMemo(() => {
    const byId = new Map<string, Mail>();
    for (const list of [townMail.map<Mail>("mail"), ...sources().map((s) => s.mail)]) {
      for (const mail of Object.values(list)) {
        if (!mail) continue;
        const seen = byId.get(mail.id);
        if (!seen || PROGRESS[mail.state] > PROGRESS[seen.state]) byId.set(mail.id, mail);
      }
    }
    return [...byId.values()].sort((a, b) => b.sentAt - a.sentAt);
  });
  const unread = createMemo(() => {
    const count = new Map<string, number>();
    for (const m of all()) if (m.state === "queued" || m.state === "delivered") count.set(m.to, (count.get(m.to) ?? 0) + 1);
    return [...count.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  });
  const pairs = createMemo(() => {
    const count = new Map<string, { from: string; to: string; n: number; last: number }>();
    for (const m of all()) {
      const key = `${m.from}\u0000${m.to}`;
      const p = count.get(key) ?? { from: m.from, to: m.to, n: 0, last: 0 };
      p.n++;
      p.last = Math.max(p.last, m.sentAt);
      count.set(key, p);
    }
    return [...count.values()].sort((a, b) => b.n - a.n || b.last - a.last).slice(0, 40);
  });
  const [filter, setFilter] = createSignal("");
  const shown = createMemo(() => {
    const f = filter().trim().toLowerCase();
    const list = f ? all().filter((m) => m.from.toLowerCase().includes(f) || m.to.toLowerCase().includes(f) || m.subject.toLowerCase().includes(f)) : all();
    return list.slice(0, 200);
  });
  const liveRigs = () => sources().filter((s) => s.sync.status() === "live").length;
  return (
    <div class="space-y-4">
      <For each={town.sortedRigs()}>{(rig) => <RigMailSource rig={rig} token={town.session.token} town={town.town} onSource={setSources} />}</For>
      <div class="flex flex-wrap items-center justify-between gap-2">
        <Crumbs items={[{ href: `/t/${town.town}`, label: "Overview" }, { label: "Mail" }]} />
        <div class="flex items-center gap-2">
          <span class="text-xs text-zinc-500" data-testid="mail-sources">
            {liveRigs()}/{sources().length} rigs live
          </span>
          <SyncBadge sync={town.sync} label="Town mail" />
          <Show when={town.isOperator}>
            <SendMail />
          </Show>
        </div>
      </div>
      <div class="grid gap-4 lg:grid-cols-3">
        <div class="space-y-4">
          <Panel title="Unread per agent" testid="unread-panel">
            <Show when={unread().length} fallback={<Empty title="Everyone has read their mail." />}>
              <ul class="divide-y divide-zinc-100 text-sm dark:divide-zinc-800/70">
                <For each={unread()}>
                  {([who, n]) => (
                    <li>
                      <button class="flex w-full items-center justify-between px-4 py-1.5 text-left hover:bg-zinc-50 dark:hover:bg-zinc-800/40" onClick={() => setFilter(who)} data-testid="unread-row" data-agent={who}>
                        <span class="truncate font-mono text-xs">{who}</span>
                        <span class="rounded-full bg-blue-500/10 px-2 text-xs font-medium tabular-nums text-blue-700 dark:text-blue-300">{n}</span>
                      </button>
                    </li>
                  )}
                </For>
              </ul>
            </Show>
          </Panel>
          <Panel title="Who mails whom" testid="pairs-panel">
            <Show when={pairs().length} fallback={<Empty title="No mail yet." />}>
              <ul class="divide-y divide-zinc-100 text-xs dark:divide-zinc-800/70">
                <For each={pairs()}>
                  {(p) => (
                    <li class="flex items-center gap-2 px-4 py-1.5">
                      <span class="min-w-0 flex-1 truncate font-mono">
                        {p.from} <span class="text-zinc-400">→</span> {p.to}
                      </span>
                      <span class="tabular-nums text-zinc-500">{p.n}</span>
                    </li>
                  )}
                </For>
              </ul>
            </Show>
          </Panel>
        </div>
        <Panel
          class="lg:col-span-2"
          title={`All mail (${all().length})`}
          testid="town-mail-panel"
          actions={<input class={`${input} max-w-48 py-1 text-xs`} placeholder="Filter by agent or subject" value={filter()} onInput={(e) => setFilter(e.currentTarget.value)} aria-label="Filter mail" />}
        >
          <Show when={townMail.sync.loaded()} fallback={<Loading what="mail" />}>
            <MailTable mail={shown()} empty={filter() ? "No mail matches this filter." : "No mail in this town yet."} />
          </Show>
        </Panel>
      </div>
    </div>
  );
}

function RigMailSource(props: { rig: Rig; town: string; token: string; onSource: (fn: (s: Source[]) => Source[]) => void }) {
  const doc = createLiveDoc({ party: "rig", room: `${props.town}.${props.rig.id}`, doc: "rig", token: props.token }, { maps: ["mail"], arrays: [] });
  const source: Source = { rig: props.rig.name, mail: doc.map<Mail>("mail"), sync: doc.sync };
  props.onSource((s) => [...s, source]);
  onCleanup(() => props.onSource((s) => s.filter((x) => x !== source)));
  return null;
}
