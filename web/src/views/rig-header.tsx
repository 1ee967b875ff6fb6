import { Show, lazy, type JSX } from "solid-js";
import { useRig } from "../stores/rig.tsx";
import { useTown } from "../stores/town.tsx";
import { Badge, Crumbs, Mono, SyncBadge } from "../ui/kit.tsx";
import { boundaryGap, polecatCounts, polecatLine } from "../lib/words.ts";
import { runtimeLine } from "../lib/runtime.ts";

const RigActions = lazy(() => import("../actions/rig-actions.tsx"));

/** Breadcrumbs and the rig's identity and live status, on every rig view. */
export function RigHeader(props: { crumbs?: { href?: string; label: JSX.Element }[] }) {
  const town = useTown();
  const rig = useRig();
  const base = `/t/${town.town}`;
  // Polecats only: the rig's witness and refinery do not take beads.
  const polecats = () => polecatCounts(rig.rig, rig.sync.loaded() ? rig.agentList() : undefined);
  return (
    <div class="mb-4 space-y-2">
      <div class="flex flex-wrap items-center justify-between gap-2">
        <Crumbs
          items={[
            { href: base, label: "Overview" },
            { href: props.crumbs ? `${base}/rigs/${rig.rig.name}` : undefined, label: rig.rig.name },
            ...(props.crumbs ?? []),
          ]}
        />
        <div class="flex items-center gap-2">
          <SyncBadge sync={rig.sync} label={`Rig ${rig.rig.name}`} />
          <Show when={town.isOperator && !props.crumbs}>
            <RigActions />
          </Show>
        </div>
      </div>
      <Show when={!props.crumbs}>
        <div class="flex min-w-0 flex-wrap items-center gap-x-4 gap-y-1 text-sm text-zinc-500">
          <h1 class="text-xl font-semibold text-zinc-900 dark:text-zinc-100" data-testid="rig-title">
            {rig.rig.name}
          </h1>
          <Badge kind="rig" status={rig.rig.summary.status ?? rig.rig.status} />
          <Mono title="Git remote">{rig.rig.gitUrl}</Mono>
          <span>
            branch <Mono>{rig.rig.defaultBranch}</Mono>
          </span>
          <span data-testid="rig-polecats">{polecatLine(polecats(), rig.rig.maxPolecats)}</span>
          <Show when={rig.rig.capabilities.length}>
            <span>can do {rig.rig.capabilities.join(", ")}</span>
          </Show>
          <span data-testid="rig-runtime" title="How this rig's agents run (the registry's runtime and model; a change applies from the next run)">
            {/* The runtime is the registry's, which a session reading this rig's document alone does not read. */}
            {town.reach.kind === "rig" ? "how its agents run is not part of this link" : `runs ${runtimeLine(rig.rig)}`}
          </span>
        </div>
      </Show>
      <Show when={!props.crumbs && boundaryGap(rig.rig)}>
        {(gap) => (
          <p class="rounded-md bg-zinc-500/10 px-3 py-2 text-sm text-zinc-700 dark:text-zinc-300" data-testid="boundary-gap">
            Boundary not enforced. {gap()}.
          </p>
        )}
      </Show>
      <Show when={rig.sync.refusal()}>
        <p class="rounded-md bg-rose-500/10 px-3 py-2 text-sm text-rose-700 dark:text-rose-300">{rig.sync.refusal()}</p>
      </Show>
    </div>
  );
}
