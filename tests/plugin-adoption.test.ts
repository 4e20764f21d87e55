import * as fs from "node:fs";
import * as path from "node:path";
import { OctopusEmulator, type SeededUser } from "../emulator/server";
import { isSecret, launchPlugin, type Plugin, pluginUrn, reveal, secret } from "../harness/plugin";
import { emulatorEnv, Engine } from "../harness/engine";

// A stack that used the dynamic `OctopusApiKey` moves to the plugin's `ApiKey` with an alias
// (`pulumi-nodejs:dynamic/octopusdeploy:ApiKey`, in the schema) and keeps its keys. The engine
// then sends the plugin the dynamic resource's stored state as it is, `__provider` included:
// DiffConfig between the two providers, Check with the old inputs, Diff with the old outputs,
// and later Read and Delete. Secrets arrive wrapped (the plugin accepts secrets): the key, and
// the `connection` the dynamic resource stores as a secret input and output.

type Props = Record<string, unknown>;
interface Stored {
  id: string;
  inputs: Props;
  outputs: Props;
}

const repoRoot = path.resolve(__dirname, "..", "..");
const fixture = JSON.parse(
  fs.readFileSync(path.join(repoRoot, "tests", "__fixtures__", "release-1-outputs.json"), "utf8"),
) as { resources: Array<Stored & { name: string }> };

let emulator: OctopusEmulator;
let plugin: Plugin;

beforeAll(async () => {
  emulator = await OctopusEmulator.start();
  // The dynamic resource read octopusdeploy:* stack config or OCTOPUS_URL / OCTOPUS_API_KEY; the
  // environment serves both front doors alike.
  plugin = await launchPlugin({ env: emulatorEnv(emulator) });
  await plugin.configure({});
});
afterAll(async () => {
  await plugin?.close();
  await emulator?.close();
});

/** State as the engine sends it to a plugin that accepts secrets. */
function onTheWire({ id, inputs, outputs }: Stored): Stored {
  const wrap = (props: Props, names: string[]) =>
    Object.fromEntries(
      Object.entries(props).map(([k, v]) => [k, names.includes(k) && v !== null ? secret(v) : v]),
    );
  return {
    id,
    inputs: wrap(inputs, ["connection"]),
    outputs: wrap(outputs, ["apiKey", "connection"]),
  };
}

/** The program's inputs for the same key: the stored ones, without the provider text. */
function programOf(inputs: Props): Props {
  const { __provider: _dropped, ...program } = reveal(inputs) as Props;
  return program;
}

/** What the engine does when the program moves the resource to the plugin, then refresh and destroy. */
async function adopt(name: string, stored: Stored): Promise<void> {
  const urn = pluginUrn(name);
  // The provider moves from `pulumi-nodejs` to `octopusapikey`: its DiffConfig replaces nothing.
  expect((await plugin.diffConfig({ version: "3.248.0" }, {})).replaces).toEqual([]);

  const checked = await plugin.check(urn, stored.inputs, programOf(stored.inputs));
  expect(checked.failures).toEqual([]);
  expect(checked.inputs).not.toHaveProperty("__provider");
  const diff = await plugin.diff(stored.id, urn, stored.outputs, checked.inputs, stored.inputs);
  expect(diff).toEqual({ changes: "none", replaces: [], deleteBeforeReplace: false, detailed: {} });

  // A "same" step keeps the old outputs, provider text and all; a refresh reads them.
  const read = await plugin.read(stored.id, urn, stored.outputs, stored.inputs);
  expect(read.id).toBe(stored.id);
  expect(read.properties.apiKey).toEqual(stored.outputs.apiKey);
  expect(isSecret(read.properties.apiKey)).toBe(true);
  expect(read.properties).not.toHaveProperty("__provider");
  // It hands back the stored inputs without the provider text, secrets still wrapped.
  const { __provider: _text, ...inputs } = stored.inputs;
  expect(read.inputs).toEqual(inputs);

  // `pulumi up` after the refresh: still nothing to do; a new purpose replaces as before.
  const again = await plugin.diff(stored.id, urn, read.properties, checked.inputs, inputs);
  expect(again.changes).toBe("none");
  const renamed = await plugin.check(urn, inputs, { ...programOf(inputs), purpose: "renamed" });
  const replaced = await plugin.diff(stored.id, urn, read.properties, renamed.inputs, inputs);
  expect(replaced.replaces).toEqual(["purpose"]);

  expect(emulator.hasKey(stored.id)).toBe(true);
  await plugin.delete(stored.id, urn, read.properties);
  expect(emulator.hasKey(stored.id)).toBe(false);
}

describe("release 1's stored state", () => {
  /** The fixture's resource as it would stand in a live stack, its key on this emulator. */
  function live({ inputs, outputs }: Stored): Stored {
    const users: SeededUser[] = [emulator.admin, emulator.serviceAccount, emulator.user];
    const user = users.find((u) => u.username === outputs.username) as SeededUser;
    const key = emulator.createKey(user.id, {
      purpose: outputs.purpose as string,
      expires: new Date(Date.now() + 90 * 86_400_000),
    });
    const connection = (c: unknown) =>
      c ? { ...(c as Props), address: emulator.url, apiKey: emulator.admin.apiKey } : c;
    const liveInputs: Props = { ...inputs };
    if ("userId" in liveInputs) liveInputs.userId = user.id;
    if ("connection" in liveInputs) liveInputs.connection = connection(liveInputs.connection);
    return onTheWire({
      id: key.id,
      inputs: liveInputs,
      outputs: {
        ...outputs,
        apiKey: key.secret,
        apiKeyId: key.id,
        hint: key.secret.slice(0, 8),
        userId: user.id,
        serverUrl: emulator.url,
        connection: connection(outputs.connection),
      },
    });
  }

  for (const resource of fixture.resources) {
    test(`${resource.name}: adopted without a replacement, refreshed and destroyed`, async () => {
      expect(resource.inputs.__provider).toEqual(expect.any(String));
      await adopt(resource.name, live(resource));
    });
  }
});

test("a key the dynamic resource made with this build moves to the plugin", async () => {
  // The stored provider text never changes between releases: release 1's is this build's.
  const providerText = fixture.resources[0].inputs.__provider as string;
  const dynamic = await Engine.start({ env: emulatorEnv(emulator), providerText });
  try {
    await dynamic.up("made-by-dynamic", {
      purpose: "dynamic, then plugin",
      username: "ci-bot",
      expiresIn: "60d",
    });
    const stored = dynamic.state.get("made-by-dynamic") as Stored;
    expect(stored.outputs.__provider).toEqual(expect.any(String));
    await adopt("made-by-dynamic", onTheWire(stored));
  } finally {
    await dynamic.close();
  }
});
