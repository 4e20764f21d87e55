import type { EmulatorOptions } from "../emulator/options";
import { OctopusEmulator } from "../emulator/server";
import { Engine, hostEnv } from "../harness/engine";
import { UNKNOWN } from "../harness/host";

// Keys for AI agents (`actorType`) through the real provider host, on the emulator's 2026.3
// profile (which honours and reports ActorType), one that ignores it, and older ones (no such
// field). A label, not a permission: a server that ignores it keeps the key. Every program names
// its server in `connection`, so one host serves every emulator here.

type Props = Record<string, unknown>;

let engine: Engine;
const servers: Record<string, OctopusEmulator> = {};
const VARIANTS: Record<string, EmulatorOptions> = {
  "2026.3": { profile: "2026.3" },
  ignoring: { profile: "2026.3", actorTypeOnCreate: "ignored" },
  "2025.3": { profile: "2025.3" },
  "2025.4": { profile: "2025.4" },
};

const program = (server: OctopusEmulator, extra: Props = {}): Props => ({
  purpose: `actor ${Math.random().toString(36).slice(2, 8)}`,
  userId: server.serviceAccount.id,
  expiresIn: "30d",
  connection: { address: server.url, apiKey: server.admin.apiKey },
  ...extra,
});

/** The key as the server itself reports it (its `ActorType`, when it has one). */
async function onServer(server: OctopusEmulator, id: string): Promise<Props> {
  const answer = await fetch(`${server.url}/api/users/${server.serviceAccount.id}/apikeys/${id}`, {
    headers: { "X-Octopus-ApiKey": server.admin.apiKey },
  });
  return (await answer.json()) as Props;
}

beforeAll(async () => {
  for (const [name, options] of Object.entries(VARIANTS)) {
    servers[name] = await OctopusEmulator.start(options);
  }
  engine = await Engine.start({ env: hostEnv() });
});
afterAll(async () => {
  await engine?.close();
  for (const server of Object.values(servers)) await server.close();
});

test.each([
  ["agent", /must be "User" or "AiAgent", not "agent"; omit it for the server's default, "User"/],
  ["ai-agent", /did you mean "AiAgent"\?/],
  ["AIAGENT", /did you mean "AiAgent"\?/],
  [7, /must be "User" or "AiAgent", not a number/],
  [{ type: "AiAgent" }, /not an object/],
])(
  "check refuses actorType %p, naming the field and the fix, before any request",
  async (value, reason) => {
    const server = servers["2026.3"];
    server.resetStats();
    const news = { ...program(server, { actorType: value }), __provider: engine.providerText };
    const { failures } = await engine.host.check(engine.urn("refused"), {}, news);
    expect(failures).toEqual([{ property: "actorType", reason: expect.stringMatching(reason) }]);
    expect(server.stats.requests).toBe(0);
  },
);

describe("on Octopus 2026.3", () => {
  const server = () => servers["2026.3"];

  test("AiAgent is sent on create and reported; the same program is no change", async () => {
    const given = program(server(), { actorType: "AiAgent", accessLevel: "ReadOnly" });
    await engine.up("agent", given);
    const outs = engine.outputs("agent");
    expect(outs).toMatchObject({ actorType: "AiAgent", accessLevel: "ReadOnly" });
    expect(await onServer(server(), outs.apiKeyId as string)).toMatchObject({
      ActorType: "AiAgent",
      AccessLevel: "ReadOnly",
    });
    expect(await engine.up("agent", given)).toEqual({ step: "same" });
    await engine.refresh("agent");
    expect(engine.outputs("agent").actorType).toBe("AiAgent");
    await engine.destroy("agent");
  });

  test("a change of actorType replaces the key, new one first; naming the default keeps it", async () => {
    const base = program(server());
    await engine.up("changing", base);
    const first = engine.state.get("changing")!;
    expect(first.outputs.actorType).toBe("User");

    expect(await engine.up("changing", { ...base, actorType: "AiAgent" })).toEqual({
      step: "replace",
      replaces: ["actorType"],
    });
    const second = engine.state.get("changing")!;
    expect(server().hasKey(first.id)).toBe(false);
    expect(second.outputs.actorType).toBe("AiAgent");

    expect(await engine.up("changing", { ...base, actorType: "User" })).toEqual({
      step: "replace",
      replaces: ["actorType"],
    });
    const third = engine.state.get("changing")!;
    // "User" and the server's default are the same key: only the stored input changes.
    expect(await engine.up("changing", base)).toEqual({ step: "update" });
    expect(engine.state.get("changing")!.id).toBe(third.id);
    expect(await engine.up("changing", base)).toEqual({ step: "same" });
    await engine.destroy("changing");
  });

  test("an actorType not known yet (preview) may replace the key", async () => {
    await engine.up("previewed", program(server()));
    const stored = engine.state.get("previewed")!;
    const news = { ...stored.inputs, actorType: UNKNOWN };
    const diff = await engine.host.diff(stored.id, engine.urn("previewed"), stored.outputs, news);
    expect(diff.replaces).toEqual(["actorType"]);
    await engine.destroy("previewed");
  });
});

describe.each(["ignoring", "2025.3", "2025.4"])("on a server that ignores it (%s)", (name) => {
  test("the key is made and kept, and actorType says what the server reported", async () => {
    const server = servers[name];
    const given = program(server, { actorType: "AiAgent" });
    await engine.up(`ignored-${name}`, given);
    const { id, outputs } = engine.state.get(`ignored-${name}`)!;
    expect(server.hasKey(id)).toBe(true);
    // A 2026.3 server with the feature off makes a User key; older ones report no type at all.
    expect(outputs.actorType).toBe(name === "ignoring" ? "User" : null);
    expect((await onServer(server, id)).ActorType).toBe(name === "ignoring" ? "User" : undefined);
    expect(await engine.up(`ignored-${name}`, given)).toEqual({ step: "same" });
    await engine.refresh(`ignored-${name}`);
    expect(await engine.up(`ignored-${name}`, given)).toEqual({ step: "same" });
    await engine.destroy(`ignored-${name}`);
    expect(server.hasKey(id)).toBe(false);
  });
});
