import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { OctopusEmulator } from "../emulator/server";
import { reportedAccess } from "../provider/core/access";
import type { OctopusApiKeyResource } from "../provider/octopus/client";
import { fixturePaths, type Fixture } from "../harness/fixtures";
import { Engine, hostEnv } from "../harness/engine";
import { HostCallError, UNKNOWN } from "../harness/host";

// Least-privilege keys (`accessLevel`) and when a key was last used (`lastUsed`), through the real
// provider host, against the emulator's 2026.3 profile (read-only keys) and older ones (none).
// Every program names its server in `connection`, so one host serves every emulator here.

type Props = Record<string, unknown>;

let engine: Engine;
/** 2026.3 as documented: the create answer has no `AccessLevel`; a GET of the key has. */
let current: OctopusEmulator;
/** 2026.3 whose create answer carries `AccessLevel`. */
let answering: OctopusEmulator;
const older: Record<"2025.3" | "2025.4", OctopusEmulator> = {} as never;

const connectionTo = (emulator: OctopusEmulator) => ({
  address: emulator.url,
  apiKey: emulator.admin.apiKey,
});
/** A program for `emulator`'s service account. */
const program = (emulator: OctopusEmulator, extra: Props): Props => ({
  purpose: `access ${Math.random().toString(36).slice(2, 8)}`,
  userId: emulator.serviceAccount.id,
  expiresIn: "30d",
  connection: connectionTo(emulator),
  ...extra,
});
const keysWith = (emulator: OctopusEmulator, purpose: unknown) =>
  emulator.liveKeys(emulator.serviceAccount.id).filter((k) => k.Purpose === purpose);
const secretOf = (name: string) => engine.outputs(name).apiKey as string;
/** Requests `emulator` answered, since its last `resetStats`, on routes matching `route`. */
const served = (emulator: OctopusEmulator, route: RegExp) =>
  Object.entries(emulator.stats.byRoute)
    .filter(([name]) => route.test(name))
    .reduce((n, [, c]) => n + c, 0);
const CREATE = /^POST .*apikeys$/;
const READ_KEY = /^GET .*apikeys\/\{id\}$/;
const REVOKE = /^DELETE .*apikeys/;

/** What a request with `apiKey` gets: its status, without ever printing the key. */
async function send(
  emulator: OctopusEmulator,
  apiKey: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<number> {
  const answer = await fetch(`${emulator.url}${path}`, {
    method,
    headers: { "X-Octopus-ApiKey": apiKey, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  await answer.arrayBuffer();
  return answer.status;
}

async function failureOf(promise: Promise<unknown>): Promise<HostCallError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(HostCallError);
  return error as HostCallError;
}

/** No API key, with or without its `API-` prefix, in `text`. */
function expectNoSecret(text: string, secrets: string[]): void {
  expect(/API-[A-Z0-9]{8,}/.test(text)).toBe(false);
  for (const secret of secrets) expect(text.includes(secret.replace(/^API-/, ""))).toBe(false);
}

beforeAll(async () => {
  current = await OctopusEmulator.start({ profile: "2026.3" });
  answering = await OctopusEmulator.start({ profile: "2026.3", createdAnswerAccessLevel: true });
  older["2025.3"] = await OctopusEmulator.start({ profile: "2025.3" });
  older["2025.4"] = await OctopusEmulator.start({ profile: "2025.4" });
  engine = await Engine.start({ env: hostEnv() });
});
afterAll(async () => {
  await engine?.close();
  for (const emulator of [current, answering, ...Object.values(older)]) await emulator?.close();
});

describe("check", () => {
  test.each([
    ["Admin", /must be "FullAccess" or "ReadOnly", not "Admin"/],
    ["readonly", /did you mean "ReadOnly"\?/],
    ["read-only", /did you mean "ReadOnly"\?/],
    ["Custom", /must be "FullAccess" or "ReadOnly", not "Custom"/],
    [3, /must be "FullAccess" or "ReadOnly", not a number/],
    ["", /must be "FullAccess" or "ReadOnly"/],
  ])("refuses accessLevel %p, naming the field, before any request", async (value, reason) => {
    current.resetStats();
    const news = { ...program(current, { accessLevel: value }), __provider: engine.providerText };
    const { failures } = await engine.host.check(engine.urn("refused"), {}, news);
    expect(failures).toEqual([{ property: "accessLevel", reason: expect.stringMatching(reason) }]);
    expect(current.stats.requests).toBe(0);
  });

  test.each(["FullAccess", "ReadOnly", UNKNOWN, null])("accepts %p", async (value) => {
    const news = { ...program(current, { accessLevel: value }), __provider: engine.providerText };
    expect((await engine.host.check(engine.urn("accepted"), {}, news)).failures).toEqual([]);
  });
});

describe("on Octopus 2026.3", () => {
  test("ReadOnly is requested and reported; the key reads but cannot write", async () => {
    const name = "read-only";
    await engine.up(name, program(current, { accessLevel: "ReadOnly" }));
    const outs = engine.outputs(name);
    expect(outs).toMatchObject({ accessLevel: "ReadOnly", lastUsed: null });
    const [live, ...others] = keysWith(current, outs.purpose);
    expect(others).toEqual([]);
    expect(live).toMatchObject({ Id: outs.apiKeyId, accessLevel: "ReadOnly" });

    expect(await send(current, secretOf(name), "GET", "/api/users/me")).toBe(200);
    const userId = current.serviceAccount.id;
    const write = await send(current, secretOf(name), "POST", `/api/users/${userId}/apikeys`, {
      Purpose: "written by a read-only key",
    });
    expect(write).toBe(403);
    expect(keysWith(current, "written by a read-only key")).toEqual([]);

    expect(
      (await engine.up(name, program(current, { accessLevel: "ReadOnly", purpose: outs.purpose })))
        .step,
    ).toBe("same");
    await engine.destroy(name);
    expect(current.hasKey(outs.apiKeyId as string)).toBe(false);
  });

  test("the default makes one request and reports FullAccess once the server has said so", async () => {
    // The documented create answer names no level: the default costs no extra GET, and the
    // next refresh reports it. A server whose answer names it reports it at once.
    current.resetStats();
    await engine.up("default", program(current, {}));
    expect(served(current, CREATE)).toBe(1);
    expect(served(current, READ_KEY)).toBe(0);
    expect(engine.outputs("default").accessLevel).toBeNull();
    expect(keysWith(current, engine.outputs("default").purpose)[0].accessLevel).toBe("FullAccess");
    await engine.refresh("default");
    expect(engine.outputs("default").accessLevel).toBe("FullAccess");

    await engine.up("default-answered", program(answering, {}));
    expect(engine.outputs("default-answered").accessLevel).toBe("FullAccess");

    await engine.destroy("default");
    await engine.destroy("default-answered");
  });

  test("FullAccess asked for by name is read back and reported", async () => {
    current.resetStats();
    await engine.up("full", program(current, { accessLevel: "FullAccess" }));
    expect(engine.outputs("full").accessLevel).toBe("FullAccess");
    expect(served(current, READ_KEY)).toBe(1);
    await engine.destroy("full");
  });

  test("a change of level replaces the key, new one first; naming the default keeps it", async () => {
    const name = "changing";
    const base = program(current, {});
    await engine.up(name, base);
    const first = engine.state.get(name)!;

    const news = { ...base, accessLevel: "ReadOnly", __provider: engine.providerText };
    const checked = await engine.host.check(engine.urn(name), first.inputs, news);
    expect(
      await engine.host.diff(first.id, engine.urn(name), first.outputs, checked.inputs),
    ).toEqual({
      changes: "some",
      replaces: ["accessLevel"],
      deleteBeforeReplace: false,
    });
    expect(await engine.up(name, { ...base, accessLevel: "ReadOnly" })).toEqual({
      step: "replace",
      replaces: ["accessLevel"],
    });
    const second = engine.state.get(name)!;
    expect(second.id).not.toBe(first.id);
    expect(current.hasKey(first.id)).toBe(false);
    expect(keysWith(current, base.purpose)).toEqual([
      expect.objectContaining({ Id: second.id, accessLevel: "ReadOnly" }),
    ]);

    expect(await engine.up(name, { ...base, accessLevel: "FullAccess" })).toEqual({
      step: "replace",
      replaces: ["accessLevel"],
    });
    const third = engine.state.get(name)!;
    expect(current.hasKey(second.id)).toBe(false);
    expect(third.outputs.accessLevel).toBe("FullAccess");

    // "FullAccess" and the server's default are the same key: only the stored input changes.
    expect((await engine.up(name, base)).step).toBe("update");
    expect(engine.state.get(name)!.id).toBe(third.id);
    expect(engine.outputs(name).apiKey).toBe(third.outputs.apiKey);
    expect((await engine.up(name, base)).step).toBe("same");
    await engine.destroy(name);
  });

  test("an unknown level (preview) may replace the key", async () => {
    const name = "previewed";
    await engine.up(name, program(current, {}));
    const stored = engine.state.get(name)!;
    const news = { ...stored.inputs, accessLevel: UNKNOWN };
    const diff = await engine.host.diff(stored.id, engine.urn(name), stored.outputs, news);
    expect(diff.replaces).toEqual(["accessLevel"]);
    await engine.destroy(name);
  });

  test("a key meant to be read-only that the server reports otherwise is replaced", async () => {
    const name = "drifted";
    await engine.up(name, program(current, { accessLevel: "ReadOnly" }));
    const stored = engine.state.get(name)!;
    const reported = { ...stored.outputs, accessLevel: "FullAccess" };
    const diff = await engine.host.diff(stored.id, engine.urn(name), reported, stored.inputs);
    expect(diff).toMatchObject({ changes: "some", replaces: ["accessLevel"] });
    await engine.destroy(name);
  });

  test("lastUsed is null until the key authenticates, then its time; alone it is no diff", async () => {
    const name = "used";
    const used = program(current, { accessLevel: "ReadOnly" });
    await engine.up(name, used);
    expect(engine.outputs(name).lastUsed).toBeNull();
    await engine.refresh(name);
    expect(engine.outputs(name).lastUsed).toBeNull();

    const before = Date.now();
    expect(await send(current, secretOf(name), "GET", "/api/users/me")).toBe(200);
    const after = Date.now();
    await engine.refresh(name);
    const lastUsed = engine.outputs(name).lastUsed as string;
    expect(lastUsed).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    expect(Date.parse(lastUsed)).toBeGreaterThanOrEqual(before - 1_000);
    expect(Date.parse(lastUsed)).toBeLessThanOrEqual(after + 1_000);

    expect(await engine.up(name, used)).toEqual({ step: "same" });
    await engine.destroy(name);
  });

  test("a server that makes a full-access key for ReadOnly fails the create and keeps nothing", async () => {
    // A 2026.3 server behind something that drops the field: it reports the level it made.
    const proxy = await stripping(current);
    try {
      const asked = program(current, {
        accessLevel: "ReadOnly",
        connection: { address: proxy.url, apiKey: current.admin.apiKey },
      });
      const error = await failureOf(engine.up("stripped", asked));
      expect(error.message).toMatch(/accessLevel "ReadOnly" needs Octopus 2026\.3 or later/);
      expect(error.message).toMatch(/reported "FullAccess"/);
      expect(error.message).toMatch(/has been revoked/);
      expect(error.partial).toBeUndefined();
      expect(engine.state.has("stripped")).toBe(false);
      expect(keysWith(current, asked.purpose)).toEqual([]);
      expect(proxy.stripped()).toBe(1);
    } finally {
      await proxy.close();
    }
  });
});

describe.each(["2025.3", "2025.4"] as const)("on Octopus %s (no access levels)", (profile) => {
  const server = () => older[profile];

  test("a ReadOnly create fails, naming accessLevel and 2026.3, and leaves no live key", async () => {
    server().resetStats();
    const asked = program(server(), { accessLevel: "ReadOnly" });
    const error = await failureOf(engine.up("old-read-only", asked));
    expect(error.message).toMatch(/accessLevel "ReadOnly" needs Octopus 2026\.3 or later/);
    expect(error.message).toMatch(/no access level/);
    expect(error.message).toMatch(/has been revoked/);
    expectNoSecret(error.message, [server().admin.apiKey]);
    expectNoSecret(engine.host.output(), [server().admin.apiKey]);
    expect(error.partial).toBeUndefined();
    expect(engine.state.has("old-read-only")).toBe(false);
    expect(keysWith(server(), asked.purpose)).toEqual([]);
    // A key was made, read back, then revoked: the server's own count says so.
    expect(served(server(), CREATE)).toBe(1);
    expect(served(server(), READ_KEY)).toBe(1);
    expect(served(server(), REVOKE)).toBe(1);
  });

  test("when the revoke fails too, the message names the key to revoke by hand", async () => {
    const asked = program(server(), { accessLevel: "ReadOnly" });
    server().faults.add({ step: "revoke", kind: "status", status: 403 });
    let error: HostCallError;
    try {
      error = await failureOf(engine.up("old-unrevoked", asked));
    } finally {
      server().faults.clear();
    }
    const [left, ...more] = keysWith(server(), asked.purpose);
    expect(more).toEqual([]);
    expect(left).toBeDefined();
    try {
      expect(error.message).toMatch(/accessLevel "ReadOnly" needs Octopus 2026\.3/);
      expect(error.message).toContain(
        `revoke key ${left.Id} of ci-bot (${server().serviceAccount.id}) by hand`,
      );
      expectNoSecret(error.message, [server().admin.apiKey]);
      expect(engine.state.has("old-unrevoked")).toBe(false);
    } finally {
      server().revokeKey(left.Id);
    }
  });

  test("the default works and reports no level, and lastUsed stays null", async () => {
    const name = `old-default-${profile}`;
    const asked = program(server(), {});
    await engine.up(name, asked);
    expect(engine.outputs(name)).toMatchObject({ accessLevel: null, lastUsed: null });
    expect(await send(server(), secretOf(name), "GET", "/api/users/me")).toBe(200);
    await engine.refresh(name);
    expect(engine.outputs(name)).toMatchObject({ accessLevel: null, lastUsed: null });
    expect((await engine.up(name, asked)).step).toBe("same");
    // FullAccess by name is what the key already is: stored, not replaced.
    expect((await engine.up(name, { ...asked, accessLevel: "FullAccess" })).step).toBe("update");
    await engine.destroy(name);
  });
});

describe("what the server reports, read defensively", () => {
  const key = (fields: Props) =>
    ({
      Id: "apikeys-1",
      Purpose: "p",
      UserId: "Users-2",
      Created: "2026-01-01T00:00:00Z",
      Expires: null,
      ...fields,
    }) as unknown as OctopusApiKeyResource;

  test.each<[string, Props, { accessLevel: string | null; lastUsed: string | null }]>([
    ["no fields (before 2026.3)", {}, { accessLevel: null, lastUsed: null }],
    [
      "a level and a use in Octopus's offset form",
      { AccessLevel: "ReadOnly", LastUsedTimeStamp: "2026-11-28T03:16:43.373+01:00" },
      { accessLevel: "ReadOnly", lastUsed: "2026-11-28T02:16:43.373Z" },
    ],
    ["Custom", { AccessLevel: "Custom" }, { accessLevel: "Custom", lastUsed: null }],
    [
      "never used",
      { AccessLevel: "FullAccess", LastUsedTimeStamp: null, IsLastUsedTimestampKnown: true },
      { accessLevel: "FullAccess", lastUsed: null },
    ],
    [
      "use not tracked",
      { LastUsedTimeStamp: "2026-11-28T03:16:43Z", IsLastUsedTimestampKnown: false },
      { accessLevel: null, lastUsed: null },
    ],
    [
      ".NET's minimum time",
      { LastUsedTimeStamp: "0001-01-01T00:00:00+00:00" },
      { accessLevel: null, lastUsed: null },
    ],
    ["not a time", { LastUsedTimeStamp: "yesterday" }, { accessLevel: null, lastUsed: null }],
    [
      "wrong types",
      { AccessLevel: { Name: "ReadOnly" }, LastUsedTimeStamp: 1_700_000_000 },
      { accessLevel: null, lastUsed: null },
    ],
    ["a huge level", { AccessLevel: "R".repeat(100_000) }, { accessLevel: null, lastUsed: null }],
  ])("%s", (_, fields, expected) => {
    expect(reportedAccess(key(fields))).toEqual(expected);
  });
});

describe("state written by release 1", () => {
  test("reads as a key with the server's default level; naming FullAccess keeps it", async () => {
    const fixture = JSON.parse(fs.readFileSync(fixturePaths(1).outputs, "utf8")) as Fixture;
    const release = fixture.resources.find((r) => r.name === "by-id-with-connection")!;
    const made = current.createKey(current.serviceAccount.id, {
      purpose: release.outputs.purpose as string,
      expires: new Date(Date.now() + 90 * 86_400_000),
    });
    const connection = { ...(release.outputs.connection as Props), ...connectionTo(current) };
    const outputs = {
      ...release.outputs,
      apiKey: made.secret,
      apiKeyId: made.id,
      userId: current.serviceAccount.id,
      serverUrl: current.url,
      connection,
    };
    const inputs: Props = { ...release.inputs, userId: current.serviceAccount.id, connection };
    expect(outputs).not.toHaveProperty("accessLevel");

    const read = await engine.host.read(made.id, release.urn, outputs, inputs);
    expect(read.properties).toMatchObject({
      accessLevel: "FullAccess",
      lastUsed: null,
      stateVersion: 1,
    });
    // A bookkeeping field at its default is left out of the stored state.
    expect(read.properties.requestedAccessLevel ?? null).toBeNull();

    const { __provider: _, ...given } = inputs;
    const diffWith = async (extra: Props) => {
      const news = { ...given, ...extra, __provider: engine.providerText };
      const checked = await engine.host.check(release.urn, inputs, news);
      return engine.host.diff(made.id, release.urn, read.properties, checked.inputs);
    };
    expect(await diffWith({})).toMatchObject({ changes: "none", replaces: [] });
    expect(await diffWith({ accessLevel: "FullAccess" })).toMatchObject({
      changes: "some",
      replaces: [],
    });
    expect(await diffWith({ accessLevel: "ReadOnly" })).toMatchObject({
      changes: "some",
      replaces: ["accessLevel"],
    });
    await engine.host.delete(made.id, release.urn, read.properties);
    expect(current.hasKey(made.id)).toBe(false);
  });
});

/**
 * A reverse proxy in front of `emulator` that drops `AccessLevel` from create bodies, as a
 * server (or gateway) that ignores the field would; counts the bodies it changed.
 */
async function stripping(
  emulator: OctopusEmulator,
): Promise<{ url: string; stripped: () => number; close: () => Promise<void> }> {
  const upstream = new URL(emulator.url);
  let stripped = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      let body = Buffer.concat(chunks);
      if (req.method === "POST" && body.length > 0) {
        const parsed = JSON.parse(body.toString("utf8")) as Props;
        if ("AccessLevel" in parsed) {
          delete parsed.AccessLevel;
          stripped++;
        }
        body = Buffer.from(JSON.stringify(parsed));
      }
      const forwarded = http.request(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: upstream.host, "content-length": body.length },
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      forwarded.on("error", () => res.destroy());
      forwarded.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stripped: () => stripped,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
