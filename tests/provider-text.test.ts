import { repoRoot, realProviderText } from "./support/engine";

// The `__provider` text is stored in every resource's inputs and outputs and evaluated by the
// engine's provider host on every refresh and destroy, for as long as the resource lives. These
// checks look at the text the real OctopusApiKey produces under setMocks, byte for byte.

const MAX_BYTES = 2048;
const PACKAGE = "pulumi-octopus-apikey";
const METHODS = ["configure", "check", "diff", "create", "read", "update", "delete"];

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
  expect(requires).toHaveLength(METHODS.length);
  for (const call of requires) expect(call).toBe(`require("${PACKAGE}")`);
  // Nothing else that could load code or pin a location.
  expect(text).not.toMatch(/\bimport\s*\(/);
  expect(text).not.toMatch(/__dirname|__filename|process\.|node_modules|dist\//);
  expect(text).not.toContain(repoRoot);
});

test("each method of the provider text forwards its arguments to the package's provider", async () => {
  const { text } = await captured();
  // Evaluated as the host's require-from-string does (a CommonJS module body), with a stand-in
  // package that records what it is asked for.
  const loaded: string[] = [];
  const calls: Array<[string, unknown[]]> = [];
  const standIn = {
    provider: Object.fromEntries(
      METHODS.map((m) => [m, (...args: unknown[]) => (calls.push([m, args]), `${m} result`)]),
    ),
  };
  const mod = { exports: {} as { handler?: () => Record<string, (...a: unknown[]) => unknown> } };
  new Function("exports", "require", "module", text)(
    mod.exports,
    (id: string) => (loaded.push(id), standIn),
    mod,
  );
  const provider = mod.exports.handler?.();
  expect(Object.keys(provider ?? {}).sort()).toEqual([...METHODS].sort());
  // Nothing is loaded until a method runs: evaluating old state never fails on its own.
  expect(loaded).toEqual([]);
  for (const method of METHODS) {
    expect(provider?.[method]("id-1", { a: 1 }, { b: 2 })).toBe(`${method} result`);
  }
  expect(calls).toEqual(METHODS.map((m) => [m, ["id-1", { a: 1 }, { b: 2 }]]));
  expect(new Set(loaded)).toEqual(new Set([PACKAGE]));
});
