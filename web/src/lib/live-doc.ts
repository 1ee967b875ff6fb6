/**
 * A live, read-only replica of one room's document as Solid stores: created inside a component or
 * provider and closed with it (onCleanup). Yjs stays the source of truth.
 *
 * Each named Y.Map is mirrored into a store keyed like the map. A change touches only the keys it
 * changed (so a rig of 10k beads does not reconcile 10k rows per edit); a new connection brings a
 * fresh Y.Doc, which is mirrored whole with `reconcile` once it is synced, so rows that did not
 * change keep their identity and nothing flickers to empty while reconnecting. What is mirrored is
 * what is shown, so its strings have their invisible characters marked (lib/shown-text.ts).
 */
import { createSignal, onCleanup, type Accessor } from "solid-js";
import { createStore, reconcile, type SetStoreFunction } from "solid-js/store";
import type * as Y from "yjs";
import { DocReplica, type SyncStatus } from "../../../client/doc-sync.ts";
import { shown } from "./shown-text.ts";

export type Sync = {
  status: Accessor<SyncStatus>;
  /** When the data stopped being live; null while live. */
  staleSince: Accessor<number | null>;
  /** True once the first full document arrived: until then "no rows" means "not known yet". */
  loaded: Accessor<boolean>;
  /** Why the room refused us for good (bad or expired token, removed rig), for a person to read. */
  refusal: Accessor<string | null>;
};

type Mirror = { bind(doc: Y.Doc): () => void };

function mapMirror<T>(name: string, set: SetStoreFunction<Record<string, T>>): Mirror {
  return {
    bind(doc) {
      const map = doc.getMap<T>(name);
      set(reconcile(Object.fromEntries([...map.entries()].map(([key, value]) => [key, shown(value)]))));
      const onChange = (event: Y.YMapEvent<T>) => {
        for (const [key, change] of event.changes.keys) {
          if (change.action === "delete") set(key, undefined as T);
          else set(key, reconcile(shown(map.get(key) as T)));
        }
      };
      map.observe(onChange);
      return () => map.unobserve(onChange);
    },
  };
}

function arrayMirror<T>(name: string, set: (rows: T[]) => void): Mirror {
  return {
    bind(doc) {
      const array = doc.getArray<T>(name);
      const copy = () => set(array.toArray().map(shown));
      copy();
      array.observe(copy);
      return () => array.unobserve(copy);
    },
  };
}

const REFUSALS: Record<number, string> = {
  4401: "This link's token is missing, invalid, expired or revoked. Ask an operator for a new link.",
  4403: "This token is not allowed to see this room.",
  4404: "This rig no longer exists: it was removed.",
  4420: "This page asked for the whole document too often; reload it.",
};

export function createLiveDoc<M extends string, A extends string>(
  address: { party: "main" | "rig"; room: string; token: string; doc: "town" | "scope" | "mail" | "rig" },
  shape: { maps: readonly M[]; arrays: readonly A[] },
) {
  const replica = new DocReplica({ host: location.host, secure: location.protocol === "https:", ...address });
  const [status, setStatus] = createSignal<SyncStatus>(replica.status);
  const [staleSince, setStaleSince] = createSignal<number | null>(replica.staleSince);
  const [loaded, setLoaded] = createSignal(false);
  const [refusal, setRefusal] = createSignal<string | null>(null);

  const maps = {} as Record<M, Record<string, unknown>>;
  const arrays = {} as Record<A, Accessor<unknown[]>>;
  const mirrors: Mirror[] = [];
  for (const name of shape.maps) {
    const [rows, setRows] = createStore<Record<string, unknown>>({});
    maps[name] = rows;
    mirrors.push(mapMirror(name, setRows));
  }
  for (const name of shape.arrays) {
    const [rows, setRows] = createSignal<unknown[]>([], { equals: false });
    arrays[name] = rows;
    mirrors.push(arrayMirror(name, setRows));
  }

  let bound: { doc: Y.Doc; unbind: (() => void)[] } | null = null;
  const off = replica.onChange((r) => {
    if (r.status === "live" && bound?.doc !== r.doc) {
      bound?.unbind.forEach((u) => u());
      bound = { doc: r.doc, unbind: mirrors.map((m) => m.bind(r.doc)) };
      setLoaded(true);
    }
    if (r.status === "closed" && r.lastClose) setRefusal(REFUSALS[r.lastClose.code] ?? null);
    setStatus(r.status);
    setStaleSince(r.staleSince);
  });
  onCleanup(() => {
    off();
    bound?.unbind.forEach((u) => u());
    replica.close();
  });

  const sync: Sync = { status, staleSince, loaded, refusal };
  return {
    sync,
    map: <T>(name: M) => maps[name] as Record<string, T>,
    array: <T>(name: A) => arrays[name] as Accessor<T[]>,
  };
}
