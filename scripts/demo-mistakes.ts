/**
 * `npm run demo -- --mistakes`: makes each common mistake against the demo's own emulator and
 * prints the message the provider actually gives (what `pulumi up` would print), so a user can
 * see them before meeting them. Each mistake runs in a provider host of its own, configured the
 * way a user would (OCTOPUS_URL / OCTOPUS_API_KEY), and must fail: one that succeeds is revoked
 * and makes the command fail.
 */
import * as net from "node:net";
import type { OctopusEmulator } from "../emulator/server";
import { HostCallError, resourceUrn, startProviderHost } from "../harness/host";

type Props = Record<string, unknown>;

interface Mistake {
  title: string;
  /** How a user would make it. */
  how: string;
  /** Changes to the demo's environment (`undefined` removes a variable). */
  env?: Record<string, string | undefined>;
  inputs: Props;
}

/** A loopback port nothing listens on: bound by the OS, then released. */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function mistakes(emulator: OctopusEmulator): Promise<Mistake[]> {
  const port = await closedPort();
  const base = { purpose: "npm run demo --mistakes", expiresIn: "1d" };
  return [
    {
      title: "A wrong or revoked API key",
      how: "OCTOPUS_API_KEY=API-… that Octopus does not know",
      env: { OCTOPUS_API_KEY: `API-${"WRONGKEY".repeat(4)}`.slice(0, 30) },
      inputs: base,
    },
    {
      title: "A wrong address: nothing listens there",
      how: `OCTOPUS_URL=http://127.0.0.1:${port}`,
      env: { OCTOPUS_URL: `http://127.0.0.1:${port}` },
      inputs: base,
    },
    {
      title: "Plain http to a host that is not loopback",
      how: "OCTOPUS_URL=http://octopus.example.com",
      env: { OCTOPUS_URL: "http://octopus.example.com" },
      inputs: base,
    },
    {
      title: "No credential anywhere",
      how: "OCTOPUS_API_KEY unset, no octopusdeploy:apiKey, no connection.apiKey",
      env: { OCTOPUS_API_KEY: undefined, OCTOPUS_APIKEY: undefined },
      inputs: base,
    },
    {
      title: "The purpose missing",
      how: 'new OctopusApiKey("k", { expiresIn: "1d" })',
      inputs: { expiresIn: "1d" },
    },
    {
      title: "An expiry given two ways",
      how: 'expiresIn: "30d" and expiresAt: "2030-01-01T00:00:00Z"',
      inputs: { ...base, expiresAt: "2030-01-01T00:00:00Z", expiresIn: "30d" },
    },
    {
      title: "An expiry beyond the server's maximum",
      how: 'expiresIn: "400d"',
      inputs: { ...base, expiresIn: "400d" },
    },
    {
      title: "A key for an ordinary user, with an administrator's key",
      how: `username: "${emulator.user.username}" (not a service account)`,
      inputs: { ...base, username: emulator.user.username },
    },
    {
      title: "A username that does not exist",
      how: 'username: "no-such-user"',
      inputs: { ...base, username: "no-such-user" },
    },
  ];
}

/** Runs every mistake; resolves to the number that did not fail as they should. */
export async function showMistakes(
  emulator: OctopusEmulator,
  providerText: string,
  cwd: string,
): Promise<number> {
  const urn = resourceUrn("mistake");
  let unexpected = 0;
  for (const mistake of await mistakes(emulator)) {
    console.log(`\n▶ ${mistake.title}\n  (${mistake.how})`);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      OCTOPUS_URL: emulator.url,
      OCTOPUS_API_KEY: emulator.admin.apiKey,
    };
    for (const [name, value] of Object.entries(mistake.env ?? {})) {
      if (value === undefined) delete env[name];
      else env[name] = value;
    }
    const host = await startProviderHost({ cwd, env });
    try {
      await host.configure({});
      const news = { ...mistake.inputs, __provider: providerText };
      const checked = await host.check(urn, {}, news);
      if (checked.failures.length > 0) {
        const lines = checked.failures.map((f) => `${f.property}: ${f.reason}`);
        console.log(`  pulumi preview fails, before any key is made:\n    ${lines.join("\n    ")}`);
        continue;
      }
      try {
        const created = await host.create(urn, checked.inputs);
        unexpected += 1;
        console.log(`  UNEXPECTED: the key was created (${created.id}); revoking it`);
        await host.delete(created.id, urn, created.properties);
      } catch (error) {
        if (!(error instanceof HostCallError)) throw error;
        if (error.partial?.id) {
          unexpected += 1;
          console.log(`  UNEXPECTED: a key was left (${error.partial.id}); revoking it`);
          await host.delete(error.partial.id, urn, error.partial.properties);
        }
        console.log(`  pulumi up fails:\n    ${error.message.split("\n").join("\n    ")}`);
      }
    } finally {
      await host.close();
    }
  }
  return unexpected;
}
