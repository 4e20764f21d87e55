import { repoRoot, realProviderText } from "../harness/engine";

// The `__provider` text is stored in every resource's inputs and outputs and evaluated by the
// engine's provider host on every refresh and destroy, for as long as the resource lives. These
// checks look at the text the real OctopusApiKey produces under setMocks, byte for byte.

const MAX_BYTES = 2048;
const PACKAGE = "pulumi-octopus-apikey";
const LIFECYCLE = ["check", "diff", "create", "read", "update", "delete"];

// Recognisable fakes: if any part of the connection were captured, these would show up.
const FAKE_API_KEY = "API-PROVIDERTEXTFAKEKEY0000000001";
const FAKE_ACCESS_TOKEN = "eyJfake.provider-text-access-token.c2lnbmF0dXJl";
const FAKE_ADDRESS = "https://octopus.provider-text.example.com";

const captured = () =>
  realProviderText({
    purpose: "provider text",
    username: "ci-bot",
    connection: { address: FAKE_ADDRESS, apiKey: FAKE_API_KEY, accessToken: FAKE_ACCESS_TOKEN },
  });

test(`the provider text is at most ${MAX_BYTES} bytes`, async () => {
  const { text } = await captured();
  const bytes = Buffer.byteLength(text, "utf8");
  console.log(`__provider text: ${bytes} bytes (limit ${MAX_BYTES})`);
  expect(bytes).toBeLessThanOrEqual(MAX_BYTES);
});

test("the provider text holds no credential given to the resource", async () => {
  const { text, registrations } = await captured();
  // The capture really saw these credentials: they are in the registered inputs, as a secret.
  const inputs = JSON.stringify(registrations.find((r) => r.name === "captured")?.inputs);
  expect(inputs).toContain(FAKE_API_KEY);
  expect(inputs).toContain(FAKE_ACCESS_TOKEN);

  for (const secret of [FAKE_API_KEY, FAKE_ACCESS_TOKEN]) {
    expect(text).not.toContain(secret);
    expect(text).not.toContain(Buffer.from(secret).toString("base64"));
  }
  expect(text).not.toContain(FAKE_ADDRESS);
  expect(text).not.toMatch(/API-[A-Z0-9]{8,}/);
});

test(`the provider text requires nothing but "${PACKAGE}"`, async () => {
  const { text } = await captured();
  const requires = [...text.matchAll(/\brequire\b\s*(\(\s*[^)]*\))?/g)].map((m) => m[0]);
  expect(requires).toHaveLength(1);
  for (const call of requires) expect(call).toBe(`require("${PACKAGE}")`);
  // Nothing else that could load code or pin a location.
  expect(text).not.toMatch(/\bimport\s*\(/);
  expect(text).not.toMatch(/__dirname|__filename|process\.|node_modules|dist\//);
  expect(text).not.toContain(repoRoot);
});

test("configuring the provider text attaches the installed package's provider to the host's object", async () => {
  const { text } = await captured();
  // Evaluated as the host's require-from-string does (a CommonJS module body), with a stand-in
  // package that records what it is asked for.
  const loaded: string[] = [];
  const calls: Array<[string, unknown[]]> = [];
  const standIn = {
    provider: {
      attach(target: Record<string, unknown>, req: unknown) {
        calls.push(["attach", [req]]);
        for (const m of LIFECYCLE) {
          target[m] = (...args: unknown[]) => (calls.push([m, args]), `${m} result`);
        }
        return "configured";
      },
    },
  };
  const mod = { exports: {} as { handler?: () => Record<string, (...a: unknown[]) => unknown> } };
  new Function("exports", "require", "module", text)(
    mod.exports,
    (id: string) => (loaded.push(id), standIn),
    mod,
  );
  const provider = mod.exports.handler?.() as Record<string, (...a: unknown[]) => unknown>;
  expect(Object.keys(provider)).toEqual(["configure"]);
  // Nothing is loaded until the host configures: evaluating old state never fails on its own.
  expect(loaded).toEqual([]);

  // The host calls configure as a method of the object it deserialized, then looks methods up.
  const req = { config: {} };
  expect(provider.configure(req)).toBe("configured");
  expect(new Set(loaded)).toEqual(new Set([PACKAGE]));
  for (const method of LIFECYCLE) {
    expect(provider[method]("id-1", { a: 1 }, { b: 2 })).toBe(`${method} result`);
  }
  expect(calls).toEqual([
    ["attach", [req]],
    ...LIFECYCLE.map((m) => [m, ["id-1", { a: 1 }, { b: 2 }]]),
  ]);
});

test("the real provider attaches every lifecycle method, bound to itself", async () => {
  const { provider } = await import("../provider/index.js");
  const target: Record<string, unknown> = {};
  await provider.attach(target, { config: { get: () => undefined } } as never);
  expect(Object.keys(target).sort()).toEqual([...LIFECYCLE].sort());
  const check = target.check as (olds: object, news: object) => Promise<{ failures: unknown[] }>;
  const result = await check({}, { purpose: 42 });
  expect(result.failures).toEqual(
    expect.arrayContaining([expect.objectContaining({ property: "purpose" })]),
  );
});
