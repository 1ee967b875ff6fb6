/** A throwaway town on a running server, with token helpers, for integration tests. */
import WebSocket from "ws";
import type * as Y from "yjs";
import { signToken } from "../../party/auth.ts";
import type { Bead, LeaseFrame, Rig, StartAgentCommand, TokenInput } from "../../party/protocol.ts";
import { DocReplica } from "../../client/doc-sync.ts";
import { ToolCallError, ToolSocket, callHttp } from "../../client/tools.ts";

let counter = 0;

export type TestTown = ReturnType<typeof makeTown> extends Promise<infer T> ? T : never;

export async function makeTown(host: string, secret: string, prefix = "t") {
  const town = `${prefix}-${process.pid}-${Date.now().toString(36)}-${++counter}`.slice(0, 40);
  const exp = () => Math.floor(Date.now() / 1000) + 3600;
  const token = (payload: Omit<TokenInput, "town" | "exp"> & Partial<Pick<TokenInput, "exp" | "town">>) =>
    signToken({ town, exp: exp(), ...payload } as TokenInput, secret);
  const operator = await token({ role: "operator" });
  const container = await token({ role: "container" });
  const viewer = await token({ role: "viewer" });
  const townCall = <T = unknown>(tool: string, args: unknown = {}, asToken = operator) =>
    callHttp<T>({ host, party: "main", room: town, token: asToken }, tool, args);
  const rigRoom = (rig: Rig) => `${town}.${rig.id}`;
  const rigCall = <T = unknown>(rig: Rig, tool: string, args: unknown = {}, asToken = operator) =>
    callHttp<T>({ host, party: "rig", room: rigRoom(rig), token: asToken }, tool, args);
  const sockets: { close(): void }[] = [];
  let sessions = 0;

  return {
    town,
    host,
    secret,
    token,
    operator,
    container,
    viewer,
    townCall,
    rigCall,
    rigRoom,
    addRig: (name: string, extra: Record<string, unknown> = {}) => townCall<Rig>("gt_rig_add", { name, git_url: `/tmp/${name}.git`, ...extra }),
    /** Registers `<rig>/polecats/<name>` and returns an agent token for it. */
    async polecat(rig: Rig, name: string) {
      await rigCall(rig, "gt_agent_register", { name }, container);
      const identity = `${rig.name}/polecats/${name}`;
      return { identity, token: await token({ role: "agent", rig: rig.id, agent: identity }) };
    },
    /**
     * Holds `rig`'s lease as a container would (renewed until the socket closes, vouching for no
     * agent) and returns its socket and epoch.
     */
    async holdLease(rig: Rig) {
      // One container per test town, a new session per socket: a later holdLease takes the rig
      // over at once once the earlier socket is closed (a restart of the same container).
      const query = { container: `test-${town.slice(-40).replace(/[^A-Za-z0-9_-]/g, "")}`.slice(0, 64), session: `s${++sessions}` };
      const socket = new ToolSocket({ host, party: "rig", room: rigRoom(rig), token: container, WebSocket, query });
      sockets.push(socket);
      const lease = new Promise<LeaseFrame>((resolve) => {
        const off = socket.onLease((frame) => (off(), resolve(frame)));
      });
      await socket.ready;
      const frame = await lease;
      if (frame.state !== "held") throw new Error(`another container holds rig ${rig.name}`);
      const renew = setInterval(() => socket.call("gt_lease_renew", { epoch: frame.epoch }).catch(() => {}), frame.renew_ms);
      socket.socket.addEventListener("close", () => clearInterval(renew));
      return { socket, epoch: frame.epoch };
    },
    /**
     * Marks a rig's clone ready as its container would, then lets go of the socket: nothing is
     * dispatched (no container is connected), so its beads wait open; the Mayor may place work there.
     */
    async markReady(rig: Rig, diskBytes = 1) {
      const { socket, epoch } = await this.holdLease(rig);
      await rigCall(rig, "gt_rig_ready", { disk_bytes: diskBytes, epoch }, container);
      socket.close();
    },
    agentSocket(rig: Rig, agentToken: string) {
      const socket = new ToolSocket({ host, party: "rig", room: rigRoom(rig), token: agentToken, WebSocket });
      sockets.push(socket);
      return socket;
    },
    /** A replica of a room's document: the town's (or its `mail`), or the rig's. */
    replica(party: "main" | "rig", room: string, asToken = viewer, doc: "town" | "scope" | "mail" | "rig" = party === "main" ? "town" : "rig") {
      const replica = new DocReplica({ host, party, room, token: asToken, WebSocket, doc });
      sockets.push(replica);
      return replica;
    },
    closeAll() {
      for (const s of sockets.splice(0)) s.close();
    },
  };
}

/** Resolves when `predicate` holds after a change of `doc` (checked at once, too). */
/**
 * Resolves once `predicate(doc)` holds for the replica's current document (checked on every
 * document update and whenever the replica swaps in a fresh document).
 */
export function untilReplica<T>(r: DocReplica, predicate: (doc: Y.Doc) => T | undefined | false, timeoutMs = 30_000, label = "replica condition"): Promise<T> {
  return new Promise((resolve, reject) => {
    let doc: Y.Doc | null = null;
    const check = () => {
      if (r.doc !== doc) {
        doc?.off("update", check);
        doc = r.doc;
        doc.on("update", check);
      }
      if (r.status !== "live") return;
      const value = predicate(r.doc);
      if (value) finish(() => resolve(value));
    };
    const finish = (then: () => void) => {
      clearTimeout(timer);
      off();
      doc?.off("update", check);
      then();
    };
    const timer = setTimeout(() => finish(() => reject(new Error(`${label} not met in ${timeoutMs} ms`))), timeoutMs);
    const off = r.onChange(check);
    check();
  });
}

export function until<T>(
  subscribe: (cb: () => void) => () => void,
  predicate: () => T | undefined | false,
  timeoutMs = 10_000,
  label = "condition",
): Promise<T> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const value = predicate();
      if (value) {
        off();
        clearTimeout(timer);
        resolve(value);
      }
    };
    const timer = setTimeout(() => {
      off();
      reject(new Error(`${label} not met in ${timeoutMs} ms`));
    }, timeoutMs);
    const off = subscribe(check);
    check();
  });
}

/** The ToolCallError a call failed with; fails the test if the call succeeded. */
export function fails(call: Promise<unknown>): Promise<ToolCallError> {
  return call.then(
    (value) => {
      throw new Error(`expected the call to fail, it returned ${JSON.stringify(value)}`);
    },
    (error: unknown) => {
      if (!(error instanceof ToolCallError)) throw error;
      return error;
    },
  );
}

/**
 * Stands in for the town container of `rig`: holds its lease (renewed until the socket closes, but
 * vouching for no agent), then a new bead is dispatched to a polecat, which is `working` from the
 * start_agent command on. No heartbeat follows, so the witness marks it stalled after half its
 * timeout unless the caller sends some.
 */
export async function workingAgent(
  town: TestTown,
  rig: Rig,
  title = "Refactor the build",
  body?: string,
): Promise<{ bead: Bead; start: StartAgentCommand; epoch: number }> {
  const { socket: container, epoch } = await town.holdLease(rig);
  const started = new Promise<StartAgentCommand>((resolve) => {
    const off = container.onCommand((command) => {
      if (command.command !== "start_agent") return;
      off();
      resolve(command);
    });
  });
  await town.rigCall(rig, "gt_rig_ready", { disk_bytes: 1_000_000, epoch }, town.container);
  const bead = await town.rigCall<Bead>(rig, "gt_bead_create", { title, ...(body !== undefined ? { body } : {}) });
  return { bead, start: await started, epoch };
}
