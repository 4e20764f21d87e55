import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { OctopusEmulator, type SeededUser } from "../emulator/server";
import { INTERNAL_DEFAULTS, STATE_VERSION, upgradeState } from "../provider/core/state";
import { type Fixture, type FixtureResource, fixturePaths } from "../harness/fixtures";
import { emulatorEnv, Engine, realProviderText, repoRoot } from "../harness/engine";
import { HostCallError } from "../harness/host";

// Resources outlive releases: state written by one build is refreshed, replaced and destroyed by
// later ones, through the provider text stored with it. Everything here goes through the real
// provider host, as the engine drives it.

type Props = Record<string, unknown>;

let emulator: OctopusEmulator;
let engine: Engine;
let currentText: string;

beforeAll(async () => {
  emulator = await OctopusEmulator.start();
  currentText = (await realProviderText()).text;
  engine = await Engine.start({ env: emulatorEnv(emulator), providerText: currentText });
});
afterAll(async () => {
  await engine?.close();
  await emulator?.close();
});

describe("outputs stored by release 1", () => {
  const paths = fixturePaths(1);
  const fixture = JSON.parse(fs.readFileSync(paths.outputs, "utf8")) as Fixture;
  const releaseText = fs.readFileSync(paths.providerText, "utf8");

  test("the fixture is release 1's: state version 1, stored with its provider text", () => {
    expect(fixture.release).toBe(1);
    expect(fixture.resources.map((r) => r.name)).toEqual([
      "by-username",
      "by-id-with-connection",
      "own-key",
    ]);
    for (const { inputs, outputs } of fixture.resources) {
      expect(outputs.stateVersion).toBe(1);
      expect(outputs.__provider).toBe(releaseText);
      expect(inputs.__provider).toBe(releaseText);
      expect(outputs.apiKey).toMatch(/^API-/);
    }
  });

  /**
   * The fixture's resource as it would stand in a live stack: its key exists on this emulator
   * (made behind the API's back for the same user and purpose), so ids, secret and server are
   * this emulator's. Every other stored field, `stateVersion` and `__provider` included, is
   * release 1's, byte for byte.
   */
  function live(resource: FixtureResource): FixtureResource & { secret: string } {
    const users: SeededUser[] = [emulator.admin, emulator.serviceAccount, emulator.user];
    const user = users.find((u) => u.username === resource.outputs.username);
    if (!user) throw new Error(`the emulator has no user ${String(resource.outputs.username)}`);
    const key = emulator.createKey(user.id, {
      purpose: resource.outputs.purpose as string,
      expires: new Date(Date.now() + 90 * 86_400_000),
    });
    const connection = (c: unknown) =>
      c === null || c === undefined
        ? c
        : { ...(c as Props), address: emulator.url, apiKey: emulator.admin.apiKey };
    const inputs: Props = { ...resource.inputs };
    if ("userId" in inputs) inputs.userId = user.id;
    if ("connection" in inputs) inputs.connection = connection(inputs.connection);
    return {
      ...resource,
      id: key.id,
      secret: key.secret,
      inputs,
      outputs: {
        ...resource.outputs,
        apiKey: key.secret,
        apiKeyId: key.id,
        hint: key.secret.slice(0, 8),
        userId: user.id,
        serverUrl: emulator.url,
        connection: connection(resource.outputs.connection),
      },
    };
  }

  /** The inputs the program gives now: the stored ones, with today's provider text. */
  const programOf = (inputs: Props): Props => {
    const { __provider: _, ...program } = inputs;
    return program;
  };

  for (const name of ["by-username", "by-id-with-connection", "own-key"]) {
    test(`${name}: the current build refreshes, diffs and deletes it`, async () => {
      const stored = live(fixture.resources.find((r) => r.name === name) as FixtureResource);
      const { host } = engine;

      // Refresh: the engine sends the stored outputs and inputs, release 1's text in both.
      const read = await host.read(stored.id, stored.urn, stored.outputs, stored.inputs);
      expect(read.id).toBe(stored.id);
      expect(read.properties.apiKey).toBe(stored.secret);
      expect(read.properties.stateVersion).toBe(STATE_VERSION);
      expect(read.properties.__provider).toBe(releaseText);
      // Every field stays, except a bookkeeping field at its default, which is left out and
      // read back as that default.
      for (const field of Object.keys(stored.outputs)) {
        if (field in read.properties) continue;
        expect(Object.keys(INTERNAL_DEFAULTS)).toContain(field);
        expect(stored.outputs[field]).toEqual(
          INTERNAL_DEFAULTS[field as keyof typeof INTERNAL_DEFAULTS],
        );
      }
      expect(upgradeState(read.properties)).toMatchObject({
        purpose: stored.outputs.purpose,
        userId: stored.outputs.userId,
        username: stored.outputs.username,
        userSelector: stored.outputs.userSelector,
        expiresIn: stored.outputs.expiresIn,
        expiresAt: stored.outputs.expiresAt,
        rotateBefore: stored.outputs.rotateBefore,
        rotationTriggers: stored.outputs.rotationTriggers,
        connection: stored.outputs.connection,
        expired: false,
      });

      // `pulumi up` with the same program: Check, then Diff against the refreshed outputs.
      const same = { ...programOf(stored.inputs), __provider: currentText };
      const checked = await host.check(stored.urn, stored.inputs, same);
      expect(checked.failures).toEqual([]);
      expect(await host.diff(stored.id, stored.urn, read.properties, checked.inputs)).toEqual({
        changes: "none",
        replaces: [],
        deleteBeforeReplace: false,
      });

      // A new purpose replaces the key, release 1's key included.
      const renamed = { ...same, purpose: `${stored.outputs.purpose} (renamed)` };
      const rechecked = await host.check(stored.urn, stored.inputs, renamed);
      expect(await host.diff(stored.id, stored.urn, read.properties, rechecked.inputs)).toEqual({
        changes: "some",
        replaces: ["purpose"],
        deleteBeforeReplace: false,
      });

      // Destroy: with the stored outputs, release 1's text.
      expect(emulator.hasKey(stored.id)).toBe(true);
      await host.delete(stored.id, stored.urn, read.properties);
      expect(emulator.hasKey(stored.id)).toBe(false);
    });
  }
});

describe("a later release installed over this one", () => {
  let project: string;
  let later: Engine | undefined;

  /**
   * A Pulumi project whose node_modules holds "build B": this package as built, then changed the
   * way a later release would change it (state version 2, read marks what it refreshed, every
   * method announces itself on stderr). Every other package is the repository's own.
   */
  function installLaterBuild(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "octopus-apikey-upgrade-"));
    fs.writeFileSync(
      path.join(dir, "package.json"),
      JSON.stringify({ name: "upgrade-project", private: true }),
    );
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: upgrade-project\nruntime: nodejs\n");
    const modules = path.join(dir, "node_modules");
    fs.mkdirSync(modules);
    for (const entry of fs.readdirSync(path.join(repoRoot, "node_modules"))) {
      if (entry === "pulumi-octopus-apikey" || entry.startsWith(".")) continue;
      fs.symlinkSync(path.join(repoRoot, "node_modules", entry), path.join(modules, entry));
    }
    const pkg = path.join(modules, "pulumi-octopus-apikey");
    fs.mkdirSync(path.join(pkg, "dist"), { recursive: true });
    fs.copyFileSync(path.join(repoRoot, "package.json"), path.join(pkg, "package.json"));
    fs.cpSync(path.join(repoRoot, "dist", "provider"), path.join(pkg, "dist", "provider"), {
      recursive: true,
    });

    const state = path.join(pkg, "dist", "provider", "core", "state.js");
    const before = fs.readFileSync(state, "utf8");
    const after = before.replace("exports.STATE_VERSION = 1;", "exports.STATE_VERSION = 2;");
    if (after === before) throw new Error(`state.js no longer sets STATE_VERSION = 1: ${state}`);
    fs.writeFileSync(state, after);
    fs.appendFileSync(
      path.join(pkg, "dist", "provider", "index.js"),
      `
// ---- build B ----
for (const method of ["configure", "check", "diff", "create", "read", "update", "delete"]) {
  const original = exports.provider[method].bind(exports.provider);
  exports.provider[method] = async (...args) => {
    process.stderr.write("[build B] " + method + "\\n");
    const result = await original(...args);
    if (method === "read" && result.id) result.props = { ...result.props, readBy: "build B" };
    return result;
  };
}
`,
    );
    return dir;
  }

  beforeAll(() => {
    project = installLaterBuild();
  });
  afterAll(async () => {
    await later?.close();
    if (project) fs.rmSync(project, { recursive: true, force: true });
  });

  /**
   * The host's output once it holds `text`: build B writes to stderr, which may reach this
   * process after the gRPC answer of the call that wrote it (at most 2 s later).
   */
  async function printed(engine: Engine, text: string): Promise<string> {
    for (let waited = 0; waited < 2_000 && !engine.host.output().includes(text); waited += 50) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return engine.host.output();
  }

  test("a key created by this build is refreshed, replaced and destroyed by build B", async () => {
    // Build A: this repository, the host in the repository root.
    const program = { purpose: "made by build A", username: "ci-bot", expiresIn: "30d" };
    expect(await engine.up("upgraded", program)).toEqual({ step: "create" });
    const created = engine.state.get("upgraded")!;
    expect(created.outputs.stateVersion).toBe(1);
    expect(created.outputs.__provider).toBe(currentText);
    expect(engine.host.output()).not.toContain("[build B]");

    // Build B: a host in the other project. The stored provider text is unchanged, and only
    // names the package, so it now runs build B's code.
    later = await Engine.start({
      cwd: project,
      env: emulatorEnv(emulator),
      providerText: currentText,
    });
    later.state.set("upgraded", structuredClone(created));

    expect(await later.refresh("upgraded")).toBe("kept");
    const refreshed = later.outputs("upgraded");
    expect(refreshed.__provider).toBe(created.outputs.__provider);
    expect(refreshed).toMatchObject({ readBy: "build B", stateVersion: 2 });
    expect(refreshed.apiKey).toBe(created.outputs.apiKey);
    expect(await printed(later, "[build B] read")).toContain("[build B] read");

    // Build A refuses state from the newer release instead of misreading it.
    const refused = await engine.host
      .read(created.id, engine.urn("upgraded"), refreshed, created.inputs)
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(HostCallError);
    expect((refused as Error).message).toMatch(
      /written by a newer pulumi-octopus-apikey \(state version 2\); upgrade the package/,
    );

    expect(await later.up("upgraded", program)).toEqual({ step: "same" });
    expect(await printed(later, "[build B] diff")).toContain("[build B] diff");

    const replaced = await later.up("upgraded", { ...program, purpose: "made by build B" });
    expect(replaced).toEqual({ step: "replace", replaces: ["purpose"] });
    const second = later.state.get("upgraded")!;
    expect(second.id).not.toBe(created.id);
    expect(second.outputs.stateVersion).toBe(2);
    expect(emulator.hasKey(created.id)).toBe(false);
    expect(emulator.hasKey(second.id)).toBe(true);

    await later.destroy("upgraded");
    expect(emulator.hasKey(second.id)).toBe(false);
    expect(await printed(later, "[build B] delete")).toMatch(
      /\[build B\] create[\s\S]*\[build B\] delete/,
    );
    engine.state.delete("upgraded");
  });
});
