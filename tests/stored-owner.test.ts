import { OctopusEmulator } from "../emulator/server";
import { emulatorEnv, Engine, failureMessage } from "../harness/engine";

// A stored key is refreshed and revoked under the user the state names. Octopus answers a key id
// that exists under another user with 400 "This ApiKey does not belong to the specified user."
// (its published swagger): that key is not gone, so refresh keeps the resource, destroy fails
// and keeps it, and the message says what happened; the key stays live.

const running: Array<{ close(): Promise<void> }> = [];
afterAll(() => Promise.all(running.map((r) => r.close())));

test.each(["badRequest", "notFound"] as const)(
  "state naming another owner (the server answers %s): nothing is revoked or forgotten while the key lives",
  async (answer) => {
    const emulator = await OctopusEmulator.start({ wrongOwnerAnswer: answer });
    const engine = await Engine.start({ env: emulatorEnv(emulator) });
    running.push(engine, emulator);
    await engine.up("owned", { purpose: `owned ${answer}`, username: "ci-bot" });
    const stored = engine.state.get("owned")!;
    engine.state.set("owned", {
      ...stored,
      outputs: { ...stored.outputs, userId: emulator.user.id },
    });

    if (answer === "badRequest") {
      const refreshed = await failureMessage(engine.refresh("owned"));
      expect(refreshed).toContain("does not belong to the specified user");
      expect(refreshed).toContain(`The state says ${stored.id} belongs to ${emulator.user.id}`);
      expect(engine.state.has("owned")).toBe(true);
      expect(await failureMessage(engine.destroy("owned"))).toContain("Nothing was revoked");
      expect(engine.state.has("owned")).toBe(true);
    } else {
      // A server that answers 404 instead cannot be told from a revoked key: refresh drops it.
      expect(await engine.refresh("owned")).toBe("gone");
    }
    expect(emulator.hasKey(stored.id)).toBe(true);

    engine.state.set("owned", stored);
    await engine.destroy("owned");
    expect(emulator.hasKey(stored.id)).toBe(false);
  },
);
