/**
 * A live, read-only replica of a room's document as Solid state: created inside a component, closed
 * with it (onCleanup). Yjs stays the source of truth; the store mirrors one Y.Map with `reconcile`,
 * so rows whose value did not change keep their identity.
 */
import { createSignal, onCleanup, type Accessor } from "solid-js";
import { createStore, reconcile } from "solid-js/store";
import type * as Y from "yjs";
import { DocReplica, type SyncStatus } from "../../client/doc-sync.ts";

export type LiveMap<T> = { rows: Record<string, T>; status: Accessor<SyncStatus>; staleSince: Accessor<number | null> };

export function createLiveMap<T>(address: { party: "main" | "rig"; room: string; token: string }, mapName: string): LiveMap<T> {
  const replica = new DocReplica({ host: location.host, secure: location.protocol === "https:", ...address });
  const [rows, setRows] = createStore<Record<string, T>>({});
  const [status, setStatus] = createSignal<SyncStatus>(replica.status);
  const [staleSince, setStaleSince] = createSignal<number | null>(replica.staleSince);
  let observed: { map: Y.Map<T>; handler: () => void } | null = null;

  const mirror = () => setRows(reconcile(Object.fromEntries(replica.doc.getMap<T>(mapName).entries())));
  const watch = () => {
    const map = replica.doc.getMap<T>(mapName);
    if (observed?.map === map) return;
    observed?.map.unobserve(observed.handler);
    observed = { map, handler: mirror };
    map.observe(mirror);
    mirror();
  };
  watch();
  const off = replica.onChange((r) => {
    watch(); // a reconnect brings a fresh doc
    if (r.status === "live") mirror();
    setStatus(r.status);
    setStaleSince(r.staleSince);
  });
  onCleanup(() => {
    off();
    observed?.map.unobserve(observed.handler);
    replica.close();
  });
  return { rows, status, staleSince };
}
