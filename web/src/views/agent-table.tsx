import { For, Show } from "solid-js";
import type { Agent } from "../../../party/protocol.ts";
import { shortId } from "../lib/time.ts";
import { Badge, Empty, Mono } from "../ui/kit.tsx";

export function AgentTable(props: { agents: Agent[]; base: string }) {
  return (
    <Show when={props.agents.length} fallback={<Empty title="No agents yet.">Polecats appear when work is slung to this rig.</Empty>}>
      <ul class="divide-y divide-zinc-100 dark:divide-zinc-800/70">
        <For each={props.agents}>
          {(agent) => (
            <li data-testid="agent-row" data-agent={agent.identity} data-status={agent.status}>
              <a
                href={`${props.base}/agents/${agent.name}`}
                class="grid grid-cols-[1fr_auto] items-center gap-x-3 gap-y-0.5 px-4 py-2 text-sm compact:py-1 hover:bg-zinc-50 focus-visible:outline-2 focus-visible:outline-blue-500 sm:grid-cols-[10rem_6rem_1fr] dark:hover:bg-zinc-800/40"
              >
                <span class="truncate font-medium">
                  {agent.name}
                  <span class="ml-1 text-xs font-normal text-zinc-500">{agent.role}</span>
                </span>
                <span class="justify-self-end sm:justify-self-start">
                  <Badge kind="agent" status={agent.status} testid="agent-status" />
                </span>
                <span class="col-span-2 min-w-0 truncate text-xs text-zinc-500 sm:col-span-1">
                  <Show when={agent.hook} fallback={agent.lastExit ? `last run: ${agent.lastExit}` : "no hook"}>
                    {(hook) => (
                      <>
                        hook <Mono class="text-zinc-700 dark:text-zinc-300">{shortId(hook())}</Mono>
                        <Show when={agent.branch}>
                          {(b) => (
                            <>
                              {" "}
                              on <Mono class="text-zinc-700 dark:text-zinc-300">{b()}</Mono>
                            </>
                          )}
                        </Show>
                      </>
                    )}
                  </Show>
                </span>
              </a>
            </li>
          )}
        </For>
      </ul>
    </Show>
  );
}
