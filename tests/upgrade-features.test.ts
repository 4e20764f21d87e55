import * as fs from "node:fs";
import { OctopusEmulator } from "../emulator/server";
import { emulatorEnv, Engine } from "../harness/engine";
import { type Fixture, fixturePaths } from "../harness/fixtures";

// State written before `onRotation`, `actorType` and the retiring key existed — release 1's
// (tests/__fixtures__) and the current release's shape — reads as today's behaviour through the
// real provider host: no retiring key, the server's default actor type, and a program may opt in.

type Props = Record<string, unknown>;
const NEW_FIELDS = ["actorType", "retiringKeyId", "retiringKeyExpires", "requestedActorType"];

let emulator: OctopusEmulator;
const engines: Engine[] = [];

beforeAll(async () => {
  emulator = await OctopusEmulator.start();
});
afterAll(async () => {
  for (const engine of engines) await engine.close();
  await emulator?.close();
});

async function start(fakeNow?: string): Promise<Engine> {
  const engine = await Engine.start({
    env: emulatorEnv(emulator, fakeNow ? { OCTOPUS_APIKEY_FAKE_NOW: fakeNow } : {}),
  });
  engines.push(engine);
  return engine;
}

test("release 1's rotating key: refreshed without a retiring key, then rotated with an overlap when the program asks", async () => {
  const fixture = JSON.parse(fs.readFileSync(fixturePaths(1).outputs, "utf8")) as Fixture;
  const release = fixture.resources.find((r) => r.name === "by-username")!;
  for (const field of NEW_FIELDS) expect(release.outputs).not.toHaveProperty(field);
  const expires = release.outputs.expires as string;
  // Inside its rotation window (14 days before it expires), by both clocks.
  const inWindow = new Date(Date.parse(expires) - 7 * 86_400_000).toISOString();
  emulator.setNow(new Date(inWindow));
  const made = emulator.createKey(emulator.serviceAccount.id, {
    purpose: release.outputs.purpose as string,
    expires: new Date(expires),
  });
  const engine = await start(inWindow);
  const outputs = {
    ...release.outputs,
    apiKey: made.secret,
    apiKeyId: made.id,
    hint: made.secret.slice(0, 8),
    serverUrl: emulator.url,
  };
  engine.state.set("old", { id: made.id, inputs: release.inputs, outputs });
  expect(await engine.refresh("old")).toBe("kept");
  expect(engine.outputs("old")).toMatchObject({
    actorType: "User",
    retiringKeyId: null,
    retiringKeyExpires: null,
  });

  const { __provider: _, ...program } = release.inputs;
  const rotated = await engine.up("old", { ...program, onRotation: "expire" });
  expect(rotated).toEqual({ step: "replace", replaces: ["rotateBefore"] });
  expect(emulator.hasKey(made.id)).toBe(true);
  expect(engine.outputs("old")).toMatchObject({
    retiringKeyId: made.id,
    retiringKeyExpires: expires,
  });
  await engine.destroy("old");
  expect(emulator.hasKey(made.id)).toBe(false);
  emulator.setNow(new Date());
});

test("the current release's shape: read, diffed and deleted as before; actorType opts in", async () => {
  const engine = await start();
  const program = { purpose: "current shape", username: "ci-bot", expiresIn: "30d" };
  await engine.up("current", program);
  const stored = engine.state.get("current")!;
  const before: Props = { ...stored.outputs };
  for (const field of NEW_FIELDS) delete before[field];
  engine.state.set("current", { ...stored, outputs: before });

  expect(await engine.up("current", program)).toEqual({ step: "same" });
  expect(await engine.up("current", { ...program, onRotation: "expire" })).toEqual({
    step: "same",
  });
  expect(await engine.up("current", { ...program, actorType: "User" })).toEqual({
    step: "update",
  });
  expect(engine.outputs("current").apiKey).toBe(stored.outputs.apiKey);
  expect(await engine.up("current", { ...program, actorType: "AiAgent" })).toEqual({
    step: "replace",
    replaces: ["actorType"],
  });
  expect(emulator.hasKey(stored.id)).toBe(false);
  await engine.destroy("current");
});
