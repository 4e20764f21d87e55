import {
  DEFAULT_PROFILE,
  OctopusEmulator,
  PROFILES,
  type EmulatorOptions,
} from "../emulator/server";
import { FULL_EXCEPTION_FRAME } from "../emulator/replies";

// Server profiles and the options for behaviour the real server does not document, all through
// real HTTP. Each rule's public source is in emulator/README.md.

// Response bodies are free-form JSON; the assertions below pin their shape.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json: Json;
}

const DAY = 24 * 60 * 60 * 1000;
const T0 = new Date("2026-01-02T10:11:12.123Z");
const at = (days: number, ms = 0): string =>
  new Date(T0.getTime() + days * DAY + ms).toISOString().replace("Z", "+00:00");
const ACCESS_FIELDS = [
  "AccessLevel",
  "ActorType",
  "IsLastUsedTimestampKnown",
  "LastUsedTimeStamp",
  "LastModifiedBy",
  "LastModifiedOn",
];

let emu: OctopusEmulator;

async function start(options: EmulatorOptions = {}): Promise<OctopusEmulator> {
  emu = await OctopusEmulator.start({ seed: 11, ...options });
  emu.setNow(T0);
  return emu;
}

afterEach(async () => {
  await emu?.close();
});

async function call(
  method: string,
  path: string,
  o: { key?: string; bearer?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { ...o.headers };
  if (o.key !== undefined) headers["X-Octopus-ApiKey"] = o.key;
  if (o.bearer !== undefined) headers.Authorization = `Bearer ${o.bearer}`;
  const body = o.body === undefined ? undefined : JSON.stringify(o.body);
  const res = await fetch(`${emu.url}${path}`, { method, headers, body });
  const text = await res.text();
  let json: Json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

const create = (userId: string, key: string, body: unknown): Promise<Reply> =>
  call("POST", `/api/users/${userId}/apikeys`, { key, body });
const getKey = (userId: string, keyId: string, key: string): Promise<Reply> =>
  call("GET", `/api/users/${userId}/apikeys/${keyId}`, { key });

describe("profiles", () => {
  test("PROFILES lists every version oldest first; the default is the newest", () => {
    expect(PROFILES).toEqual(["2025.3", "2025.4", "2026.3"]);
    expect(DEFAULT_PROFILE).toBe("2026.3");
  });

  test.each(PROFILES)("GET /api reports the version of profile %s", async (profile) => {
    await start({ profile });
    expect(emu.rules.name).toBe(profile);
    expect((await call("GET", "/api")).json.Version).toBe(`${profile}.5000`);
  });

  test("no profile means 2026.3; legacyNoExpiry alone means 2025.3; an unknown one is refused", async () => {
    await start();
    expect(emu.rules.name).toBe("2026.3");
    await emu.close();
    await start({ legacyNoExpiry: true });
    expect(emu.rules.name).toBe("2025.3");
    await emu.close();
    await expect(
      OctopusEmulator.start({ profile: "2019.1" as never }).then((e) => e.close()),
    ).rejects.toThrow(/Unknown emulator profile "2019.1"; known: 2025.3, 2025.4, 2026.3/);
  });
});

describe("2025.3 (2020.6–2025.3)", () => {
  beforeEach(() => start({ profile: "2025.3" }));

  test("omitted or null Expires never expires; there is no maximum", async () => {
    for (const body of [{ Purpose: "omitted" }, { Purpose: "null", Expires: null }]) {
      const res = await create(emu.user.id, emu.user.apiKey, body);
      expect(res.status).toBe(200);
      expect(res.json.Expires).toBeNull();
    }
    const far = await create(emu.user.id, emu.user.apiKey, { Purpose: "far", Expires: at(5000) });
    expect(far.status).toBe(200);
    expect(far.json.Expires).toBe(at(5000));
  });

  test("a key that never expires is refused to a caller whose own key expires, explicit or defaulted", async () => {
    const short = emu.createKey(emu.admin.id, {
      purpose: "short",
      expires: new Date(T0.getTime() + 10 * DAY),
    });
    const before = emu.liveKeys(emu.serviceAccount.id).length;
    const beyond = await create(emu.serviceAccount.id, short.secret, {
      Purpose: "p",
      Expires: at(11),
    });
    expect(beyond.status).toBe(400);
    expect(beyond.json.Errors[0]).toMatch(/cannot expire after the API key used to create it/);
    // The default (never) outlives the caller's key: refused too (go-octopusdeploy issue #109).
    for (const body of [{ Purpose: "omitted" }, { Purpose: "null", Expires: null }]) {
      const defaulted = await create(emu.serviceAccount.id, short.secret, body);
      expect(defaulted.status).toBe(400);
      expect(defaulted.json.Errors).toEqual([
        "The API key cannot expire after the API key used to create it, which expires 2026-01-12T10:11:12.123+00:00.",
      ]);
    }
    expect(emu.liveKeys(emu.serviceAccount.id)).toHaveLength(before);
    // An expiry within the caller's key's still works; so does the default for a caller whose
    // key never expires (the seeded ones) or who holds a bearer token.
    const within = await create(emu.serviceAccount.id, short.secret, {
      Purpose: "p",
      Expires: at(9),
    });
    expect(within.status).toBe(200);
    const admin = await create(emu.serviceAccount.id, emu.admin.apiKey, { Purpose: "d" });
    expect(admin.json.Expires).toBeNull();
    const token = emu.issueAccessToken(emu.serviceAccount.id);
    const byToken = await call("POST", `/api/users/${emu.serviceAccount.id}/apikeys`, {
      bearer: token,
      body: { Purpose: "t" },
    });
    expect(byToken.status).toBe(200);
    expect(byToken.json.Expires).toBeNull();
  });

  test("defaultExpiryVsCaller does not apply: the default is refused even with clip", async () => {
    await emu.close();
    await start({ profile: "2025.3", defaultExpiryVsCaller: "clip" });
    const short = emu.createKey(emu.admin.id, {
      purpose: "short",
      expires: new Date(T0.getTime() + 10 * DAY),
    });
    const res = await create(emu.serviceAccount.id, short.secret, { Purpose: "p" });
    expect(res.status).toBe(400);
    // With the docs' 180-day default, the default still may not outlive the caller's key.
    await emu.close();
    await start({ profile: "2025.3", defaultExpiryDays: 180 });
    const shortToo = emu.createKey(emu.admin.id, {
      purpose: "short",
      expires: new Date(T0.getTime() + 10 * DAY),
    });
    expect((await create(emu.serviceAccount.id, shortToo.secret, { Purpose: "p" })).status).toBe(
      400,
    );
  });

  test("keys have none of the 2026.3 fields, and AccessLevel in the body is ignored", async () => {
    const res = await create(emu.user.id, emu.user.apiKey, {
      Purpose: "wants read-only",
      AccessLevel: "ReadOnly",
    });
    expect(res.status).toBe(200);
    const read = await getKey(emu.user.id, res.json.Id, emu.user.apiKey);
    const listed = await call("GET", `/api/users/${emu.user.id}/apikeys`, { key: emu.user.apiKey });
    for (const resource of [res.json, read.json, listed.json.Items[0]]) {
      for (const field of ACCESS_FIELDS) expect(resource).not.toHaveProperty(field);
    }
    // The key it made is a full-access key: it can write.
    const write = await create(emu.user.id, res.json.ApiKey, { Purpose: "written" });
    expect(write.status).toBe(200);
    expect(emu.liveKeys(emu.user.id)[0].accessLevel).toBeNull();
  });

  test("/api/authentication has no expiry settings before 2025.4", async () => {
    const auth = await call("GET", "/api/authentication");
    expect(auth.status).toBe(200);
    expect(auth.json.UserApiKeysEnabled).toBe(true);
    expect(auth.json).not.toHaveProperty("ApiKeyDefaultExpiryDays");
    expect(auth.json).not.toHaveProperty("ApiKeyMaxExpiryDays");
  });

  test("defaultExpiryDays emulates the docs' reading that 2025.3 and below default to 180 days", async () => {
    await emu.close();
    await start({ profile: "2025.3", defaultExpiryDays: 180 });
    const res = await create(emu.user.id, emu.user.apiKey, { Purpose: "defaulted" });
    expect(res.json.Expires).toBe(at(180));
    const nulled = await create(emu.user.id, emu.user.apiKey, { Purpose: "n", Expires: null });
    expect(nulled.json.Expires).toBeNull();
  });
});

describe("2025.4", () => {
  beforeEach(() => start({ profile: "2025.4" }));

  test("default 180 days, null the maximum (366), beyond the maximum 400", async () => {
    expect((await create(emu.user.id, emu.user.apiKey, { Purpose: "d" })).json.Expires).toBe(
      at(180),
    );
    const nulled = await create(emu.user.id, emu.user.apiKey, { Purpose: "n", Expires: null });
    expect(nulled.json.Expires).toBe(at(366));
    const over = await create(emu.user.id, emu.user.apiKey, { Purpose: "o", Expires: at(367) });
    expect(over.status).toBe(400);
    const auth = await call("GET", "/api/authentication");
    expect(auth.json).toMatchObject({ ApiKeyDefaultExpiryDays: 180, ApiKeyMaxExpiryDays: 366 });
  });

  test("keys have none of the 2026.3 fields, and a ReadOnly request still makes a full-access key", async () => {
    const res = await create(emu.user.id, emu.user.apiKey, {
      Purpose: "wants read-only",
      AccessLevel: "ReadOnly",
    });
    const read = await getKey(emu.user.id, res.json.Id, emu.user.apiKey);
    for (const field of ACCESS_FIELDS) expect(read.json).not.toHaveProperty(field);
    expect((await create(emu.user.id, res.json.ApiKey, { Purpose: "w" })).status).toBe(200);
  });
});

describe("2026.3 key fields", () => {
  beforeEach(() => start({ profile: "2026.3" }));

  test("a read reports AccessLevel, ActorType, last use and who made it; seeded keys predate tracking", async () => {
    const res = await create(emu.serviceAccount.id, emu.admin.apiKey, { Purpose: "fields" });
    const read = await getKey(emu.serviceAccount.id, res.json.Id, emu.admin.apiKey);
    expect(read.json).toMatchObject({
      AccessLevel: "FullAccess",
      ActorType: "User",
      IsLastUsedTimestampKnown: true,
      LastUsedTimeStamp: null,
      LastModifiedBy: "admin",
      LastModifiedOn: "2026-01-02T10:11:12.123+00:00",
    });
    const seeded = (
      await call("GET", `/api/users/${emu.user.id}/apikeys`, { key: emu.admin.apiKey })
    ).json.Items.find((k: Json) => k.Purpose === "Emulator seed");
    expect(seeded.IsLastUsedTimestampKnown).toBe(false);
  });

  test("LastUsedTimeStamp is null until the key authenticates, then the time of its last use", async () => {
    const res = await create(emu.serviceAccount.id, emu.admin.apiKey, { Purpose: "used" });
    const lastUsed = async (): Promise<unknown> =>
      (await getKey(emu.serviceAccount.id, res.json.Id, emu.admin.apiKey)).json.LastUsedTimeStamp;
    expect(await lastUsed()).toBeNull();
    expect(emu.liveKeys(emu.serviceAccount.id)[0].lastUsed).toBeNull();

    emu.advance(60_000);
    expect((await call("GET", "/api/users/me", { key: res.json.ApiKey })).status).toBe(200);
    expect(await lastUsed()).toBe(at(0, 60_000));
    emu.advance(60_000);
    await call("GET", "/api/users/me", { key: res.json.ApiKey });
    expect(await lastUsed()).toBe(at(0, 120_000));
    expect(emu.liveKeys(emu.serviceAccount.id)[0].lastUsed).toBe(
      new Date(T0.getTime() + 120_000).toISOString(),
    );
    // A failed authentication (a wrong key) touches nothing.
    emu.advance(60_000);
    await call("GET", "/api/users/me", { key: "API-WRONGWRONGWRONGWRONG00000" });
    expect(await lastUsed()).toBe(at(0, 120_000));
  });

  test("AccessLevel in the create body is honoured (case-insensitively) and reported by a read", async () => {
    const res = await create(emu.serviceAccount.id, emu.admin.apiKey, {
      Purpose: "dashboard",
      AccessLevel: "readonly",
      ActorType: "AiAgent",
    });
    expect(res.status).toBe(200);
    expect(res.json).not.toHaveProperty("AccessLevel"); // as in the reference's created resource
    const read = await getKey(emu.serviceAccount.id, res.json.Id, emu.admin.apiKey);
    expect(read.json).toMatchObject({ AccessLevel: "ReadOnly", ActorType: "AiAgent" });
    expect(emu.liveKeys(emu.serviceAccount.id)[0].accessLevel).toBe("ReadOnly");
  });

  test("actorTypeOnCreate: ignored makes every key a User key, whatever (or however wrong) the body says", async () => {
    await emu.close();
    await start({ actorTypeOnCreate: "ignored" });
    for (const ActorType of ["AiAgent", "Robot"]) {
      const res = await create(emu.serviceAccount.id, emu.admin.apiKey, {
        Purpose: "agent",
        ActorType,
      });
      expect(res.status).toBe(200);
      expect(res.json.ActorType).toBe("User");
      const read = await getKey(emu.serviceAccount.id, res.json.Id, emu.admin.apiKey);
      expect(read.json.ActorType).toBe("User");
    }
    // AccessLevel is still honoured.
    const ro = await create(emu.serviceAccount.id, emu.admin.apiKey, {
      Purpose: "ro",
      AccessLevel: "ReadOnly",
      ActorType: "AiAgent",
    });
    expect((await getKey(emu.serviceAccount.id, ro.json.Id, emu.admin.apiKey)).json).toMatchObject({
      AccessLevel: "ReadOnly",
      ActorType: "User",
    });
  });

  test("ActorType is honoured by default: reported in the create answer, a read and the list", async () => {
    const res = await create(emu.serviceAccount.id, emu.admin.apiKey, {
      Purpose: "agent",
      ActorType: "AiAgent",
    });
    expect(res.json.ActorType).toBe("AiAgent");
    const listed = await call("GET", `/api/users/${emu.serviceAccount.id}/apikeys`, {
      key: emu.admin.apiKey,
    });
    expect(listed.json.Items[0]).toMatchObject({ Id: res.json.Id, ActorType: "AiAgent" });
    const plain = await create(emu.serviceAccount.id, emu.admin.apiKey, { Purpose: "person" });
    expect(plain.json.ActorType).toBe("User");
  });

  test("createdAnswerAccessLevel puts AccessLevel in the create answer too", async () => {
    await emu.close();
    await start({ createdAnswerAccessLevel: true });
    const res = await create(emu.serviceAccount.id, emu.admin.apiKey, {
      Purpose: "p",
      AccessLevel: "ReadOnly",
    });
    expect(res.json.AccessLevel).toBe("ReadOnly");
  });

  test("a ReadOnly key may GET, but every write answers 403 and changes nothing", async () => {
    const made = await create(emu.serviceAccount.id, emu.admin.apiKey, {
      Purpose: "read only",
      AccessLevel: "ReadOnly",
    });
    const readOnly = made.json.ApiKey as string;
    const keysPath = `/api/users/${emu.serviceAccount.id}/apikeys`;
    expect((await call("GET", "/api/users/me", { key: readOnly })).status).toBe(200);
    expect((await call("GET", keysPath, { key: readOnly })).status).toBe(200);
    expect((await call("GET", `${keysPath}/${made.json.Id}`, { key: readOnly })).status).toBe(200);

    const before = emu.liveKeys().length;
    const writes = [
      await call("POST", keysPath, { key: readOnly, body: { Purpose: "escalate" } }),
      await call("DELETE", `${keysPath}/${made.json.Id}`, { key: readOnly }),
      await call("PUT", `${keysPath}/${made.json.Id}`, { key: readOnly, body: {} }),
      await call("POST", `${keysPath}/${made.json.Id}`, {
        key: readOnly,
        headers: { "X-HTTP-Method-Override": "DELETE" },
      }),
    ];
    for (const res of writes) {
      expect(res.status).toBe(403);
      expect(res.json.ErrorMessage).toMatch(/^You do not have permission to perform this action/);
      expect(res.json.Errors.join(" ")).toMatch(/read-only access/);
    }
    expect(emu.liveKeys()).toHaveLength(before);
    expect(emu.hasKey(made.json.Id)).toBe(true);
    // The same writes with a full-access key go through.
    const full = await call("DELETE", `${keysPath}/${made.json.Id}`, { key: emu.admin.apiKey });
    expect(full.status).toBe(200);
  });

  test("a ReadOnly key made outside the API is enforced the same way", async () => {
    const { secret } = emu.createKey(emu.user.id, { purpose: "ro", accessLevel: "ReadOnly" });
    const res = await create(emu.user.id, secret, { Purpose: "x" });
    expect(res.status).toBe(403);
  });

  test("an unknown AccessLevel or ActorType, or Custom without scopes, is 400 and makes nothing", async () => {
    const before = emu.liveKeys(emu.serviceAccount.id).length;
    const errorsFor = async (body: Record<string, unknown>): Promise<string[]> => {
      const res = await create(emu.serviceAccount.id, emu.admin.apiKey, { Purpose: "p", ...body });
      expect(res.status).toBe(400);
      return res.json.Errors;
    };
    expect(await errorsFor({ AccessLevel: "Admin" })).toEqual([
      "The AccessLevel must be one of FullAccess, ReadOnly, Custom.",
    ]);
    expect(await errorsFor({ AccessLevel: 1 })).toHaveLength(1);
    expect(await errorsFor({ ActorType: "Robot" })).toEqual([
      "The ActorType must be one of User, AiAgent.",
    ]);
    expect((await errorsFor({ AccessLevel: "Custom" }))[0]).toMatch(/Custom access needs/);
    expect(emu.liveKeys(emu.serviceAccount.id)).toHaveLength(before);
  });
});

describe("deleteAnswer", () => {
  test.each([
    ["json", 200, "{}", "application/json; charset=utf-8"],
    ["noContent204", 204, "", null],
    ["empty200", 200, "", null],
  ] as const)(
    "%s answers %i with body %j and content type %s",
    async (deleteAnswer, status, body, type) => {
      await start({ deleteAnswer });
      const { id } = emu.createKey(emu.serviceAccount.id, { purpose: "to revoke" });
      const res = await call("DELETE", `/api/users/${emu.serviceAccount.id}/apikeys/${id}`, {
        key: emu.admin.apiKey,
      });
      expect(res.status).toBe(status);
      expect(res.text.replace(/\s/g, "")).toBe(body);
      expect(res.headers.get("content-type")).toBe(type);
      expect(emu.hasKey(id)).toBe(false);
      // Only a successful revoke changes its answer.
      const again = await call("DELETE", `/api/users/${emu.serviceAccount.id}/apikeys/${id}`, {
        key: emu.admin.apiKey,
      });
      expect(again.status).toBe(404);
    },
  );
});

describe("defaultExpiryVsCaller (2025.4+)", () => {
  const shortLived = (): string =>
    emu.createKey(emu.admin.id, {
      purpose: "short admin key",
      expires: new Date(T0.getTime() + 10 * DAY),
    }).secret;

  test.each(["2025.4", "2026.3"] as const)(
    "refuse (default) answers 400 to an omitted or null expiry beyond the caller's key on %s",
    async (profile) => {
      await start({ profile });
      const key = shortLived();
      const before = emu.liveKeys(emu.serviceAccount.id).length;
      for (const body of [{ Purpose: "omitted" }, { Purpose: "null", Expires: null }]) {
        const res = await create(emu.serviceAccount.id, key, body);
        expect(res.status).toBe(400);
        expect(res.json.Errors).toEqual([
          "The API key cannot expire after the API key used to create it, which expires 2026-01-12T10:11:12.123+00:00.",
        ]);
      }
      expect(emu.liveKeys(emu.serviceAccount.id)).toHaveLength(before);
    },
  );

  test("clip shortens an omitted or null expiry to the caller key's; an explicit one is still refused", async () => {
    await start({ defaultExpiryVsCaller: "clip" });
    const key = shortLived();
    for (const body of [{ Purpose: "omitted" }, { Purpose: "null", Expires: null }]) {
      const res = await create(emu.serviceAccount.id, key, body);
      expect(res.status).toBe(200);
      expect(res.json.Expires).toBe(at(10));
    }
    const explicit = await create(emu.serviceAccount.id, key, { Purpose: "e", Expires: at(11) });
    expect(explicit.status).toBe(400);
    // A caller whose key outlives the default gets the plain default.
    const admin = await create(emu.serviceAccount.id, emu.admin.apiKey, { Purpose: "d" });
    expect(admin.json.Expires).toBe(at(180));
  });
});

describe("expiresPrecision", () => {
  test("ms (default) keeps milliseconds; s cuts explicit and default expiries to whole seconds", async () => {
    await start();
    const ms = await create(emu.user.id, emu.user.apiKey, { Purpose: "p", Expires: at(5, 456) });
    expect(ms.json.Expires).toBe(at(5, 456));
    await emu.close();

    await start({ expiresPrecision: "s" });
    const explicit = await create(emu.user.id, emu.user.apiKey, {
      Purpose: "p",
      Expires: at(5, 456),
    });
    expect(explicit.json.Expires).toBe(at(5, 456 - 579)); // T0 has .123: 123 + 456 = 579 ms cut
    const read = await getKey(emu.user.id, explicit.json.Id, emu.user.apiKey);
    expect(read.json.Expires).toBe(explicit.json.Expires);
    expect(emu.liveKeys(emu.user.id)[0].expires).toMatch(/\.000Z$/);
    const defaulted = await create(emu.user.id, emu.user.apiKey, { Purpose: "d" });
    expect(defaulted.json.Expires).toBe(at(180, -123));
  });
});

describe("expiresPrecision: datetime (SQL Server's 1/300 s)", () => {
  test("rounds the stored milliseconds to .xx0, .xx3 or .xx7, as Microsoft's table shows", async () => {
    await start({ expiresPrecision: "datetime" });
    // T0 is .123; the offsets make the sent expiry end in each last digit 0–9.
    const expected: Record<number, string> = {
      0: "120",
      1: "120",
      2: "123",
      3: "123",
      4: "123",
      5: "127",
      6: "127",
      7: "127",
      8: "127",
      9: "130",
    };
    for (let last = 0; last <= 9; last++) {
      const sent = new Date(T0.getTime() + 5 * DAY + (last - 3));
      const res = await create(emu.user.id, emu.user.apiKey, {
        Purpose: `d${last}`,
        Expires: sent.toISOString(),
      });
      expect(res.json.Expires).toBe(
        sent.toISOString().replace(/\.\d{3}Z$/, `.${expected[last]}+00:00`),
      );
      const read = await getKey(emu.user.id, res.json.Id, emu.user.apiKey);
      expect(read.json.Expires).toBe(res.json.Expires);
    }
    // .999 rounds up into the next second.
    const edge = await create(emu.user.id, emu.user.apiKey, {
      Purpose: "edge",
      Expires: "2026-02-01T23:59:59.999Z",
    });
    expect(edge.json.Expires).toBe("2026-02-02T00:00:00.000+00:00");
    // The default expiry is stored the same way (T0 + 180 days ends in .123: unchanged), and
    // Created is not rounded.
    const defaulted = await create(emu.user.id, emu.user.apiKey, { Purpose: "d" });
    expect(defaulted.json.Expires).toBe(at(180));
    emu.advance(5);
    const later = await create(emu.user.id, emu.user.apiKey, { Purpose: "later" });
    expect(later.json.Created).toBe(at(0, 5));
    expect(later.json.Expires).toBe(at(180, 4)); // .128 becomes .127
  });
});

describe("dateHeaderOffsetMs", () => {
  test("stamps the Date header that far off the server clock, as a reverse proxy would; bodies keep the server's", async () => {
    await start();
    const date = async (): Promise<number> =>
      Date.parse((await call("GET", "/api")).headers.get("date") ?? "");
    expect(await date()).toBe(Date.parse("2026-01-02T10:11:12Z"));
    await emu.close();

    await start({ dateHeaderOffsetMs: -7_000 });
    expect(await date()).toBe(Date.parse("2026-01-02T10:11:05Z"));
    const made = await create(emu.user.id, emu.user.apiKey, { Purpose: "p" });
    expect(made.json.Created).toBe(at(0));
    await emu.close();

    await start({ dateHeaderOffsetMs: 4_500 });
    expect(await date()).toBe(Date.parse("2026-01-02T10:11:16Z"));
  });
});

describe("GET /api/authentication", () => {
  test.each([
    ["2025.3", {}],
    ["2025.4", { ApiKeyDefaultExpiryDays: 180, ApiKeyMaxExpiryDays: 366 }],
    ["2026.3", { ApiKeyDefaultExpiryDays: 180, ApiKeyMaxExpiryDays: 366 }],
  ] as const)(
    "on %s answers anyone, with the key policy fields of the profile",
    async (profile, fields) => {
      await start({ profile });
      const res = await call("GET", "/api/authentication");
      expect(res.status).toBe(200);
      expect(res.json.UserApiKeysEnabled).toBe(true);
      for (const field of ["ApiKeyDefaultExpiryDays", "ApiKeyMaxExpiryDays"] as const) {
        if (field in fields)
          expect(res.json[field]).toBe((fields as Record<string, number>)[field]);
        else expect(res.json).not.toHaveProperty(field);
      }
    },
  );

  test("reports the configured default and maximum, and the User API Keys setting as it changes", async () => {
    await start({ defaultExpiryDays: 30, maxExpiryDays: 90 });
    expect((await call("GET", "/api/authentication")).json).toMatchObject({
      ApiKeyDefaultExpiryDays: 30,
      ApiKeyMaxExpiryDays: 90,
      UserApiKeysEnabled: true,
    });
    emu.setUserApiKeysEnabled(false);
    expect((await call("GET", "/api/authentication")).json.UserApiKeysEnabled).toBe(false);
  });

  test("userApiKeysSetting: false is a server before 2023.2: no UserApiKeysEnabled, and the setting cannot be turned off", async () => {
    await start({ profile: "2025.3", userApiKeysSetting: false });
    const res = await call("GET", "/api/authentication");
    expect(res.status).toBe(200);
    expect(res.json).not.toHaveProperty("UserApiKeysEnabled");
    expect(() => emu.setUserApiKeysEnabled(false)).toThrow(/no User API Keys setting/);
    expect((await create(emu.user.id, emu.user.apiKey, { Purpose: "mine" })).status).toBe(200);
    await expect(
      OctopusEmulator.start({ userApiKeysSetting: false, userApiKeysEnabled: false }),
    ).rejects.toThrow(/needs the User API Keys setting/);
  });

  test("authenticationEndpoint: missing answers 404, like any route the server lacks", async () => {
    await start({ authenticationEndpoint: "missing" });
    for (const key of [undefined, emu.admin.apiKey]) {
      const res = await call("GET", "/api/authentication", { key });
      expect(res.status).toBe(404);
      expect(res.json.ErrorMessage).toBe("The resource you requested was not found.");
    }
  });

  test("authenticationEndpoint: authenticated answers 401 without valid credentials, 200 to any caller", async () => {
    await start({ authenticationEndpoint: "authenticated" });
    for (const key of [undefined, "API-NOPENOPENOPENOPENOPE000000"]) {
      const res = await call("GET", "/api/authentication", { key });
      expect(res.status).toBe(401);
      expect(res.json.ErrorMessage).toMatch(/^You must be logged in/);
    }
    expect((await call("GET", "/api/authentication", { key: emu.user.apiKey })).status).toBe(200);
    const token = emu.issueAccessToken(emu.serviceAccount.id);
    expect((await call("GET", "/api/authentication", { bearer: token })).status).toBe(200);
  });

  test("authenticationEndpoint: administrators answers 401 anonymously, 403 to others, 200 to administrators", async () => {
    await start({ authenticationEndpoint: "administrators", errorBodies: "helpText" });
    expect((await call("GET", "/api/authentication")).status).toBe(401);
    const other = await call("GET", "/api/authentication", { key: emu.user.apiKey });
    expect(other.status).toBe(403);
    expect(other.json.ErrorMessage).toMatch(/Missing permission: ConfigureServer$/);
    expect(other.json).not.toHaveProperty("Errors");
    const admin = await call("GET", "/api/authentication", { key: emu.admin.apiKey });
    expect(admin.status).toBe(200);
    expect(admin.json.ApiKeyMaxExpiryDays).toBe(366);
  });
});

describe("errorBodies: helpText", () => {
  beforeEach(() => start({ errorBodies: "helpText" }));

  const expectHelpTextShape = (res: Reply, status: number): void => {
    expect(res.status).toBe(status);
    expect(Object.keys(res.json).sort()).toEqual([
      "Details",
      "ErrorMessage",
      "FullException",
      "HelpText",
    ]);
    expect(typeof res.json.HelpText).toBe("string");
    expect(res.json.FullException).toContain(FULL_EXCEPTION_FRAME);
  };

  test("a 401 carries ErrorMessage, HelpText, Details and a stack trace, and no Errors", async () => {
    const res = await call("GET", "/api/users/me", { key: "API-NOPENOPENOPENOPENOPE000000" });
    expectHelpTextShape(res, 401);
    expect(res.json.ErrorMessage).toMatch(/^You must be logged in/);
  });

  test("403s: a missing permission, another user's key, and an injected 403", async () => {
    const perm = await call("GET", `/api/users/${emu.admin.id}`, { key: emu.user.apiKey });
    expectHelpTextShape(perm, 403);
    expect(perm.json.ErrorMessage).toMatch(/Missing permission: UserView$/);
    expect(perm.json.Details).toEqual({ MissingPermission: "UserView" });

    const other = await create(emu.user.id, emu.admin.apiKey, { Purpose: "for jane" });
    expectHelpTextShape(other, 403);
    expect(other.json.HelpText).toMatch(/own user account or for service accounts/);

    emu.faults.add({ step: "lookup", kind: "status", status: 403 });
    expectHelpTextShape(await call("GET", "/api/users/me", { key: emu.admin.apiKey }), 403);
  });

  test("validation errors (400) keep their Errors list", async () => {
    const res = await create(emu.user.id, emu.user.apiKey, {});
    expect(res.status).toBe(400);
    expect(res.json.Errors).toEqual(["Please provide a purpose for the API key."]);
  });
});

describe("userApiKeysEnabled (2023.2+)", () => {
  test("off: users may not make keys for themselves, administrators included; service accounts still get keys", async () => {
    await start({ userApiKeysEnabled: false });
    expect((await call("GET", "/api/authentication")).json.UserApiKeysEnabled).toBe(false);
    for (const [userId, key] of [
      [emu.user.id, emu.user.apiKey],
      [emu.admin.id, emu.admin.apiKey],
    ]) {
      const res = await create(userId, key, { Purpose: "mine" });
      expect(res.status).toBe(403);
      expect(res.json.ErrorMessage).toMatch(/^You do not have permission/);
      expect(res.json.Errors.join(" ")).toMatch(
        /User API Keys.*UserApiKeysEnabled.*service accounts/,
      );
    }
    expect(emu.liveKeys(emu.user.id)).toHaveLength(1);
    const forBot = await create(emu.serviceAccount.id, emu.admin.apiKey, { Purpose: "bot" });
    expect(forBot.status).toBe(200);
    const botSelf = await create(emu.serviceAccount.id, emu.serviceAccount.apiKey, {
      Purpose: "bot self",
    });
    expect(botSelf.status).toBe(200);
    // Existing user keys keep working, reads and revokes included.
    expect((await call("GET", "/api/users/me", { key: emu.user.apiKey })).status).toBe(200);

    emu.setUserApiKeysEnabled(true);
    expect((await create(emu.user.id, emu.user.apiKey, { Purpose: "mine" })).status).toBe(200);
  });

  test("setUserApiKeysEnabled(false) at run time; helpText bodies name the setting in HelpText", async () => {
    await start({ errorBodies: "helpText" });
    expect((await create(emu.user.id, emu.user.apiKey, { Purpose: "a" })).status).toBe(200);
    emu.setUserApiKeysEnabled(false);
    const res = await create(emu.user.id, emu.user.apiKey, { Purpose: "b" });
    expect(res.status).toBe(403);
    expect(res.json.HelpText).toMatch(/UserApiKeysEnabled/);
    expect(res.json).not.toHaveProperty("Errors");
  });
});

describe("bearer access tokens", () => {
  test("live one hour by default, then answer 401", async () => {
    await start();
    const token = emu.issueAccessToken(emu.serviceAccount.id);
    emu.advance(60 * 60 * 1000 - 1);
    expect((await call("GET", "/api/users/me", { bearer: token })).status).toBe(200);
    emu.advance(1);
    const expired = await call("GET", "/api/users/me", { bearer: token });
    expect(expired.status).toBe(401);
    expect(expired.json.ErrorMessage).toMatch(/^You must be logged in/);
  });

  test("accessTokenLifetimeMs sets the default lifetime", async () => {
    await start({ accessTokenLifetimeMs: 5 * 60 * 1000 });
    const token = emu.issueAccessToken(emu.serviceAccount.id);
    emu.advance(5 * 60 * 1000);
    expect((await call("GET", "/api/users/me", { bearer: token })).status).toBe(401);
  });
});

describe("UserId in the create body and user ids in paths", () => {
  beforeEach(() => start());

  test("a UserId naming the path's user (any case) is accepted; null is as if absent", async () => {
    for (const UserId of [emu.serviceAccount.id, emu.serviceAccount.id.toUpperCase(), null]) {
      const res = await create(emu.serviceAccount.id, emu.admin.apiKey, { Purpose: "p", UserId });
      expect(res.status).toBe(200);
      expect(res.json.UserId).toBe(emu.serviceAccount.id);
    }
  });

  test("a UserId naming another user, or not a string, is 400 and makes nothing", async () => {
    const before = emu.liveKeys().length;
    for (const UserId of [emu.admin.id, "Users-999", 2, {}]) {
      const res = await create(emu.serviceAccount.id, emu.admin.apiKey, { Purpose: "p", UserId });
      expect(res.status).toBe(400);
      expect(res.json.Errors).toEqual([
        `The UserId in the request body does not match the user the key is for (${emu.serviceAccount.id}).`,
      ]);
    }
    expect(emu.liveKeys()).toHaveLength(before);
  });

  test("user ids in paths match case-insensitively, as Octopus' database does", async () => {
    const lower = emu.serviceAccount.id.toLowerCase(); // "users-2"
    expect(lower).not.toBe(emu.serviceAccount.id);
    const user = await call("GET", `/api/users/${lower}`, { key: emu.admin.apiKey });
    expect(user.json.Id).toBe(emu.serviceAccount.id);
    const made = await create(lower, emu.admin.apiKey, { Purpose: "lower" });
    expect(made.status).toBe(200);
    expect(made.json.UserId).toBe(emu.serviceAccount.id);
    const list = await call("GET", `/api/users/${lower}/apikeys`, { key: emu.admin.apiKey });
    expect(list.json.TotalResults).toBe(2);
    const upper = emu.serviceAccount.id.toUpperCase();
    const del = await call("DELETE", `/api/users/${upper}/apikeys/${made.json.Id}`, {
      key: emu.admin.apiKey,
    });
    expect(del.status).toBe(200);
    expect(emu.hasKey(made.json.Id)).toBe(false);
  });
});
