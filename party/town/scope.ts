/**
 * The town's `scope` document: the part of the town document a token scoped below the town may read
 * (party/access.ts townScope), built per token by the LiveRoom (party/live/derived.ts). A convoy link
 * reads its convoy (its beads carry their rigs' names) and nothing of any rig's registry entry; a
 * rig-scoped operator reads its rigs' entries and the convoys with a bead in one of them. Neither
 * reads the town's feed or usage (they speak of every rig).
 */
import { townScope, type TownScope } from "../access.ts";
import type { DerivedDocSpec, Picked } from "../live/derived.ts";
import { TOWN_DOC, type Convoy, type Rig } from "../protocol.ts";

type Source = { rigs: Iterable<[string, Rig]>; convoys: Iterable<[string, Convoy]> };

/** What of the town a scope shows: per collection, key → record. */
export function pickScope(scope: TownScope, source: Source): Picked {
  const rigs: Record<string, Rig> = {};
  const convoys: Record<string, Convoy> = {};
  if (scope.kind === "convoy") {
    for (const [id, convoy] of source.convoys) if (id === scope.convoy) convoys[id] = convoy;
  } else {
    const ids = new Set(scope.rigs);
    for (const [id, rig] of source.rigs) if (ids.has(id)) rigs[id] = rig;
    for (const [id, convoy] of source.convoys) if (convoy.beads.some((b) => ids.has(b.rigId))) convoys[id] = convoy;
  }
  return { [TOWN_DOC.rigs]: rigs, [TOWN_DOC.convoys]: convoys };
}

/** The key tokens that see the same part share. */
export function scopeKey(scope: TownScope): string {
  return scope.kind === "convoy" ? `convoy:${scope.convoy}` : `rigs:${[...scope.rigs].sort().join(",")}`;
}

export const SCOPE_DOC: DerivedDocSpec = {
  name: "scope",
  from: "town",
  collections: [TOWN_DOC.rigs, TOWN_DOC.convoys],
  part(token) {
    const scope = townScope(token);
    if (!scope) return null;
    return {
      key: scopeKey(scope),
      pick: (map) =>
        pickScope(scope, {
          rigs: (map(TOWN_DOC.rigs) as unknown as Map<string, Rig>).entries(),
          convoys: (map(TOWN_DOC.convoys) as unknown as Map<string, Convoy>).entries(),
        }),
    };
  },
};
