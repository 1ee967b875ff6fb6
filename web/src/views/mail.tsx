/**
 * Town mail: the Mayor's and the operator's mail (the town's `mail` document), who mails whom and
 * unread per inbox among it, and each rig's mail waiting (its summary's `queuedMail`, from the town
 * document) with a link to that rig's page, where its mail is shown. Town sockets only: a
 * town-level view never opens a rig's document (a town of 100 rigs would be 100 sockets and 100
 * whole documents for one page; tests/e2e/large.test.ts keeps it so).
 */
import { For, Show, createMemo, createSignal, lazy } from "solid-js";
import type { Mail } from "../../../party/protocol.ts";
import { useTown } from "../stores/town.tsx";
import { createLiveDoc } from "../lib/live-doc.ts";
import { Crumbs, Empty, Loading, Panel, SyncBadge, input } from "../ui/kit.tsx";
import { MailTable } from "./mail-table.tsx";
import { readsTownMail } from "../lib/reach.ts";
import { NotInReach } from "../shell/not-in-reach.tsx";

const SendMail = lazy(() => import("../actions/send-mail.tsx"));

export default function MailView() {
  const town = useTown();
  return (
    <Show when={readsTownMail(town.session)} fallback={<NotInReach what="The town's mail" />}>
      <TownMailView />
    </Show>
  );
}

function TownMailView() {
  const town = useTown();
  const townMail = createLiveDoc({ party: "main", room: town.town, doc: "mail", token: town.session.token }, { maps: ["mail"], arrays: [] });
  const all = createMemo(() =>
    Object.values(townMail.map<Mail>("mail"))
      .filter((m): m is Mail => !!m)
      .sort((a, b) => b.sentAt - a.sentAt),
  );
  /** Rigs with mail waiting (queued or unread), from their summaries in the town document. */
  const rigMail = createMemo(() =>
    town
      .sortedRigs()
      .filter((r) => (r.summary?.queuedMail ?? 0) > 0)
      .map((r) => ({ name: r.name, n: r.summary.queuedMail })),
  );
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
  return (
    <div class="space-y-4">
      <div class="flex flex-wrap items-center justify-between gap-2">
        <Crumbs items={[{ href: `/t/${town.town}`, label: "Overview" }, { label: "Mail" }]} />
        <div class="flex items-center gap-2">
          <span class="text-xs text-zinc-500" data-testid="mail-sources">
            Mayor and operator mail; a rig's own mail is on its page
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
                      <button
                        class="flex w-full items-center justify-between px-4 py-1.5 text-left hover:bg-zinc-50 dark:hover:bg-zinc-800/40"
                        onClick={() => setFilter(who)}
                        data-testid="unread-row"
                        data-agent={who}
                      >
                        <span class="truncate font-mono text-xs">{who}</span>
                        <span class="rounded-full bg-blue-500/10 px-2 text-xs font-medium tabular-nums text-blue-700 dark:text-blue-300">{n}</span>
                      </button>
                    </li>
                  )}
                </For>
              </ul>
            </Show>
          </Panel>
          <Panel title="Rig mail waiting" testid="rig-mail-waiting">
            <Show when={rigMail().length} fallback={<Empty title="No rig has mail waiting." />}>
              <ul class="divide-y divide-zinc-100 text-sm dark:divide-zinc-800/70">
                <For each={rigMail()}>
                  {(r) => (
                    <li>
                      <a
                        class="flex items-center justify-between px-4 py-1.5 hover:bg-zinc-50 dark:hover:bg-zinc-800/40"
                        href={`/t/${town.town}/rigs/${r.name}`}
                        data-testid="rig-mail-row"
                        data-rig={r.name}
                      >
                        <span class="truncate font-mono text-xs">{r.name}</span>
                        <span class="rounded-full bg-blue-500/10 px-2 text-xs font-medium tabular-nums text-blue-700 dark:text-blue-300">{r.n}</span>
                      </a>
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
          title={`Town mail (${all().length})`}
          testid="town-mail-panel"
          actions={
            <input
              class={`${input} max-w-48 py-1 text-xs`}
              placeholder="Filter by agent or subject"
              value={filter()}
              onInput={(e) => setFilter(e.currentTarget.value)}
              aria-label="Filter mail"
            />
          }
        >
          <Show when={townMail.sync.loaded()} fallback={<Loading what="mail" />}>
            <MailTable mail={shown()} empty={filter() ? "No mail matches this filter." : "No mail in this town yet."} />
          </Show>
        </Panel>
      </div>
    </div>
  );
}
