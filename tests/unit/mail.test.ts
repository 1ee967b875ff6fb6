import { describe, expect, it } from "vitest";
import { acceptIncoming, markDelivered, markFailed, markRead, newMail, routeFromRig, routeFromTown, unread } from "../../party/mail.ts";
import { ToolError, type Agent, type Mail } from "../../party/protocol.ts";

const agents = new Map<string, Agent>([
  ["a/polecats/toast", { identity: "a/polecats/toast", role: "polecat", name: "toast", status: "idle" }],
  ["a/witness", { identity: "a/witness", role: "witness", name: "witness", status: "idle" }],
]);

function mail(fields: Partial<Mail> & { id: string }): Mail {
  return { from: "a/witness", to: "a/polecats/toast", subject: "s", body: "b", sentAt: 1, state: "delivered", ...fields };
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected a throw");
}

describe("routeFromRig", () => {
  it("routes a known agent of this rig locally", () => {
    expect(routeFromRig("a/polecats/toast", "a", agents)).toEqual({ kind: "local" });
    expect(routeFromRig("a/witness", "a", agents)).toEqual({ kind: "local" });
  });

  it("refuses an unknown agent of this rig with UNKNOWN_RECIPIENT", () => {
    const error = thrown(() => routeFromRig("a/polecats/maple", "a", agents));
    expect(error).toBeInstanceOf(ToolError);
    expect((error as ToolError).code).toBe("UNKNOWN_RECIPIENT");
    expect((error as ToolError).message).toContain("a/polecats/maple");
  });

  it("sends mail for another rig, the mayor or the operator through the town", () => {
    expect(routeFromRig("b/polecats/maple", "a", agents)).toEqual({ kind: "town" });
    expect(routeFromRig("ab/witness", "a", agents)).toEqual({ kind: "town" });
    expect(routeFromRig("mayor", "a", agents)).toEqual({ kind: "town" });
    expect(routeFromRig("operator", "a", agents)).toEqual({ kind: "town" });
  });

  it("refuses a malformed address with INVALID_ARGS", () => {
    expect((thrown(() => routeFromRig("a/polecats/", "a", agents)) as ToolError).code).toBe("INVALID_ARGS");
  });
});

describe("routeFromTown", () => {
  it("keeps mayor and operator mail in the town", () => {
    expect(routeFromTown("mayor")).toEqual({ kind: "local" });
    expect(routeFromTown("operator")).toEqual({ kind: "local" });
  });

  it("routes rig addresses to the named rig", () => {
    expect(routeFromTown("b/polecats/maple")).toEqual({ kind: "rig", rigName: "b" });
    expect(routeFromTown("c/refinery")).toEqual({ kind: "rig", rigName: "c" });
  });

  it("refuses a malformed address with INVALID_ARGS", () => {
    expect((thrown(() => routeFromTown("nobody")) as ToolError).code).toBe("INVALID_ARGS");
  });
});

describe("newMail", () => {
  it("starts queued with sentAt = now", () => {
    expect(newMail({ id: "M1", from: "mayor", to: "a/witness", subject: "s", body: "b" }, 42)).toEqual({
      id: "M1",
      from: "mayor",
      to: "a/witness",
      subject: "s",
      body: "b",
      sentAt: 42,
      state: "queued",
    });
  });
});

describe("acceptIncoming", () => {
  it("stores a new mail as delivered at now, dropping sender-side error and readAt", () => {
    const incoming = mail({ id: "M1", state: "queued", error: "HTTP 503", readAt: 5 });
    const { record, isNew } = acceptIncoming(undefined, incoming, 100);
    expect(isNew).toBe(true);
    expect(record).toEqual({ id: "M1", from: "a/witness", to: "a/polecats/toast", subject: "s", body: "b", sentAt: 1, state: "delivered", deliveredAt: 100 });
  });

  it("is idempotent by id: a retried delivery returns the stored record unchanged", () => {
    const incoming = mail({ id: "M1", state: "queued" });
    const first = acceptIncoming(undefined, incoming, 100).record;
    const second = acceptIncoming(first, incoming, 200);
    expect(second.isNew).toBe(false);
    expect(second.record).toBe(first);
    expect(second.record.deliveredAt).toBe(100);
  });

  it("does not resurrect a read mail on retry", () => {
    const read = markRead(acceptIncoming(undefined, mail({ id: "M1", state: "queued" }), 100).record, 150);
    expect(acceptIncoming(read, mail({ id: "M1", state: "queued" }), 200).record.state).toBe("read");
  });
});

describe("unread", () => {
  it("returns delivered mail for the recipient only, sorted by id", () => {
    const box = [
      mail({ id: "M3" }),
      mail({ id: "M1" }),
      mail({ id: "M2", state: "read" }),
      mail({ id: "M4", state: "queued" }),
      mail({ id: "M5", state: "failed" }),
      mail({ id: "M0", to: "a/witness" }),
      mail({ id: "M6" }),
    ];
    expect(unread(box, "a/polecats/toast").map((m) => m.id)).toEqual(["M1", "M3", "M6"]);
    expect(unread(box, "a/witness").map((m) => m.id)).toEqual(["M0"]);
    expect(unread(box, "b/witness")).toEqual([]);
  });
});

describe("state transitions", () => {
  it("markRead sets state read and readAt", () => {
    expect(markRead(mail({ id: "M1", deliveredAt: 10 }), 20)).toMatchObject({ state: "read", readAt: 20, deliveredAt: 10 });
  });

  it("markDelivered sets state delivered, deliveredAt and clears the error", () => {
    const next = markDelivered(mail({ id: "M1", state: "queued", error: "HTTP 503" }), 30);
    expect(next).toMatchObject({ state: "delivered", deliveredAt: 30 });
    expect(next.error).toBeUndefined();
  });

  it("markFailed sets state failed and the error", () => {
    expect(markFailed(mail({ id: "M1", state: "queued" }), "UNKNOWN_RECIPIENT: gone")).toMatchObject({ state: "failed", error: "UNKNOWN_RECIPIENT: gone" });
  });

  it("does not mutate its input", () => {
    const original = mail({ id: "M1", state: "queued" });
    markRead(original, 1);
    markDelivered(original, 1);
    markFailed(original, "x");
    expect(original).toEqual(mail({ id: "M1", state: "queued" }));
  });
});
