/** One agent: status, hook, branch and worktree, what its runs used today, its live output, its controls, inbox and outbox. */
import { For, Show, createMemo, lazy } from "solid-js";
import type { Escalation } from "../../../party/protocol.ts";
import { EscalationNotes } from "./escalation-notes.tsx";
import { useParams } from "@solidjs/router";
import { useRig } from "../stores/rig.tsx";
import { useTown } from "../stores/town.tsx";
import { now, shortId } from "../lib/time.ts";
import { agentTodayLine } from "../lib/usage.ts";
import { Ago, Badge, BeadChip, Empty, Loading, Mono, Panel } from "../ui/kit.tsx";
import { withRigNames } from "../lib/words.ts";
import { RigHeader } from "./rig-header.tsx";
import { MailTable } from "./mail-table.tsx";
import AgentOutput from "./agent-output.tsx";
import { readsOutput } from "../lib/reach.ts";
import { NotInLink } from "../shell/not-in-reach.tsx";

const AgentActions = lazy(() => import("../actions/agent-actions.tsx"));
// Who did what to this agent: operators only (it calls gt_audit, and loads zod with the tools).
const AuditTrail = lazy(() => import("./audit.tsx").then((m) => ({ default: m.AuditTrail })));

export default function AgentView() {
  const params = useParams<{ name: string }>();
  const town = useTown();
  const rig = useRig();
  const agent = createMemo(() => rig.agentList().find((a) => a.name === params.name));
  const inbox = createMemo(() => rig.mailList().filter((m) => m.to === agent()?.identity));
  const outbox = createMemo(() => rig.mailList().filter((m) => m.from === agent()?.identity));
  // The escalations it raised, newest first, with how operators answered them (their notes).
  const raised = createMemo(() =>
    (Object.values(rig.escalations) as (Escalation | undefined)[])
      .filter((e): e is Escalation => !!e && e.from === agent()?.identity)
      .sort((a, b) => b.createdAt - a.createdAt),
  );
  const base = `/t/${town.town}/rigs/${rig.rig.name}`;
  return (
    <div>
      <RigHeader crumbs={[{ label: `agent ${params.name}` }]} />
      <Show when={rig.sync.loaded()} fallback={<Loading what="the agent" />}>
        <Show
          when={agent()}
          fallback={
            <Panel title="Agent not found">
              <Empty title={`Rig ${rig.rig.name} has no agent named “${params.name}”.`} />
            </Panel>
          }
        >
          {(a) => (
            <div class="space-y-4" data-testid="agent-detail">
              <Panel title={<span class="font-mono">{a().identity}</span>} actions={<Badge kind="agent" status={a().status} testid="agent-status" />}>
                <Show when={town.isOperator}>
                  <div class="border-b border-zinc-200 px-4 py-2 dark:border-zinc-800">
                    <AgentActions rig={rig.rig} identity={a().identity} running={!!a().run} />
                  </div>
                </Show>
                <dl class="grid gap-x-6 gap-y-2 px-4 py-3 text-sm sm:grid-cols-2 lg:grid-cols-4">
                  <div>
                    <dt class="text-zinc-500">Hook</dt>
                    <dd data-testid="agent-hook">
                      <Show when={a().hook} fallback={<span class="text-zinc-500">nothing hooked</span>}>
                        {(h) => (
                          <a class="underline" href={`${base}/beads/${h()}`}>
                            {rig.beads[h()]?.title ?? <Mono>{shortId(h())}</Mono>}
                          </a>
                        )}
                      </Show>
                    </dd>
                  </div>
                  <div>
                    <dt class="text-zinc-500">Branch</dt>
                    <dd>{a().branch ? <Mono>{a().branch}</Mono> : <span class="text-zinc-500">—</span>}</dd>
                  </div>
                  <div>
                    <dt class="text-zinc-500">Started</dt>
                    <dd>
                      <Ago at={a().startedAt} fallback="not running" />
                      <Show when={a().pid}>
                        {" "}
                        · pid <Mono>{a().pid}</Mono>
                      </Show>
                    </dd>
                  </div>
                  <div>
                    <dt class="text-zinc-500">Last run</dt>
                    <dd data-testid="agent-last-run">{a().lastExit ?? <span class="text-zinc-500">—</span>}</dd>
                  </div>
                  <div>
                    <dt class="text-zinc-500">Usage (UTC day)</dt>
                    <dd data-testid="agent-usage-today">{agentTodayLine(a().usage, now())}</dd>
                  </div>
                  <Show when={a().worktree}>
                    <div class="sm:col-span-2 lg:col-span-4">
                      <dt class="text-zinc-500">Worktree</dt>
                      <dd class="break-all">
                        {/* The room names the rig by its id in paths; a person knows it by its name. */}
                        <Mono title={a().worktree}>{withRigNames(a().worktree!, [rig.rig])}</Mono>
                      </dd>
                    </div>
                  </Show>
                </dl>
              </Panel>
              <Show
                when={readsOutput(town.session, rig.rig.id, { agent: a().name })}
                fallback={
                  <Panel title="Output" testid="agent-output">
                    <NotInLink what="This agent's output" why="it is shown to operators, and to links made for this agent" testid="output-refused" />
                  </Panel>
                }
              >
                <Show when={a().identity} keyed>
                  {(identity) => <AgentOutput identity={identity} />}
                </Show>
              </Show>
              <Show when={raised().length}>
                <Panel title={`Escalations it raised (${raised().length})`} testid="agent-escalations">
                  <ul class="divide-y divide-zinc-100 text-sm dark:divide-zinc-800/70">
                    <For each={raised()}>
                      {(e) => (
                        <li class="flex flex-wrap items-center gap-x-3 gap-y-1 px-4 py-2" data-testid="agent-escalation" data-status={e.status}>
                          <Badge kind="severity" status={e.severity} />
                          <span class="font-medium">{e.title}</span>
                          <span class="text-xs text-zinc-500">
                            <Ago at={e.createdAt} /> · {e.status}
                          </span>
                          <BeadChip rigBase={base} id={e.beadId} />
                          <EscalationNotes escalation={e} />
                        </li>
                      )}
                    </For>
                  </ul>
                </Panel>
              </Show>
              <div class="grid gap-4 lg:grid-cols-2" id="inbox">
                <Panel title={`Inbox (${inbox().length})`} testid="agent-inbox">
                  <MailTable mail={inbox()} empty="No mail to this agent." />
                </Panel>
                <Panel title={`Outbox (${outbox().length})`} testid="agent-outbox">
                  <MailTable mail={outbox()} empty="This agent has sent no mail." />
                </Panel>
              </div>
              <Show when={town.isOperator}>
                <AuditTrail
                  rig={rig.rig}
                  agent={a().identity}
                  watch={() => `${a().status}:${a().statusSince ?? ""}:${inbox().length}`}
                  title="Who did what to this agent"
                  testid="agent-audit"
                />
              </Show>
            </div>
          )}
        </Show>
      </Show>
    </div>
  );
}
