/**
 * Derived documents (party/live/derived.ts) with the town's scope (party/town/scope.ts): a part is
 * built as a new lineage counted in storage, holds only what its token may read, and follows the
 * source document, leaving out whatever leaves its scope.
 */
import { describe, expect, it } from "vitest";
import * as Y from "yjs";
import { DerivedDocs } from "../../party/live/derived.ts";
import type { TokenPayload } from "../../party/protocol.ts";
import { SCOPE_DOC } from "../../party/town/scope.ts";
import { FakeStorage } from "../helpers/fake-storage.ts";

const A = "01J0000000000000000000AAA1";
const B = "01J0000000000000000000BBB1";
const C1 = "01J0000000000000000000CCC1";
const C2 = "01J0000000000000000000CCC2";
const token = (t: Partial<TokenPayload>): TokenPayload => ({ sub: "x", town: "demo", iat: 1, exp: 2, jti: "j", role: "viewer", ...t });
const convoy = (id: string, rigId: string, rigName: string, status = "open") => ({
  id,
  title: `convoy of ${rigName}`,
  status: "open",
  createdAt: 1,
  beads: [{ rigId, rigName, beadId: id, title: `${rigName} work`, status, reason: "", rev: 1 }],
});

describe("derived documents", () => {
  it("build a token's part as a new lineage, keep it in step with the source, and hold nothing outside it", async () => {
    const source = new Y.Doc();
    source.getMap("rigs").set(A, { id: A, name: "alpha" });
    source.getMap("rigs").set(B, { id: B, name: "beta" });
    source.getMap("convoys").set(C1, convoy(C1, A, "alpha"));
    source.getMap("convoys").set(C2, convoy(C2, B, "beta"));
    const storage = new FakeStorage();
    await storage.put({ "lineage:scope": 7 });
    const updates: string[] = [];
    const derived = new DerivedDocs(
      SCOPE_DOC,
      storage,
      () => source,
      (key) => updates.push(key),
    );
    // As party/live/docs.ts does: every change of the source document is told.
    source.on("update", () => derived.sourceChanged());

    const link = token({ view: { kind: "convoy", convoy: C1 } });
    const key = (await derived.open(link))!;
    const doc = derived.doc(key)!;
    expect(doc.clientID).toBe(8);
    expect(await storage.get("lineage:scope")).toBe(8);
    expect([...doc.getMap("convoys").keys()]).toEqual([C1]);
    expect(JSON.stringify(doc.toJSON())).not.toContain("beta");
    expect(await derived.open(token({ view: { kind: "convoy", convoy: C1 } }))).toBe(key); // shared, not built again
    expect(await derived.open(token({ role: "operator" }))).toBeNull(); // the town-wide read the town document

    // The source changes: the part follows (its convoy), and ignores what is not its own.
    updates.length = 0;
    source.getMap("convoys").set(C1, convoy(C1, A, "alpha", "closed"));
    source.getMap("convoys").set(C2, convoy(C2, B, "beta", "closed"));
    await Promise.resolve(); // the part catches up in a microtask
    expect((doc.getMap("convoys").get(C1) as { beads: { status: string }[] }).beads[0]!.status).toBe("closed");
    expect(updates).toEqual([key]);
    updates.length = 0;
    source.getMap("rigs").set(B, { id: B, name: "beta renamed" });
    await Promise.resolve(); // the part catches up in a microtask
    expect(updates).toEqual([]); // nothing of its part changed: no update went out

    // A rig-scoped operator: its rig, and the convoys it is in; one it leaves is taken out.
    const op = (await derived.open(token({ role: "operator", rig: A })))!;
    const opDoc = derived.doc(op)!;
    expect(opDoc.clientID).toBe(9);
    expect([[...opDoc.getMap("rigs").keys()], [...opDoc.getMap("convoys").keys()]]).toEqual([[A], [C1]]);
    source.getMap("convoys").set(C1, convoy(C1, B, "beta"));
    await Promise.resolve(); // the part catches up in a microtask
    expect(opDoc.getMap("convoys").size).toBe(0);

    // Dropped with its last socket: the next build is a newer lineage.
    derived.drop(key);
    expect(derived.doc(key)).toBeUndefined();
    expect(derived.doc((await derived.open(link))!)!.clientID).toBe(10);
  });
});
