import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { realProviderText } from "../harness/engine";
import { startProviderHost, resourceUrn, type ProviderHost } from "../harness/host";
import { captureProviderText } from "../harness/mocks";
import { OctopusApiKey } from "../provider";

// The provider text stored in state loads this package by name from the project's folder, where
// the engine runs the dynamic provider host. A project where it is not installed there (pnpm
// links only direct dependencies at the top; Yarn Plug'n'Play has no node_modules) fails in the
// program, before any resource is registered, saying what to do — not in the host, which could
// only say "Cannot find module".

let project: string;
const cwd = process.cwd();
let host: ProviderHost | undefined;

beforeAll(() => {
  project = fs.mkdtempSync(path.join(os.tmpdir(), "octopusapikey-transitive-"));
  // The package only as a dependency of another package, as pnpm lays it out.
  fs.mkdirSync(path.join(project, "node_modules", "some-tool", "node_modules"), {
    recursive: true,
  });
  fs.writeFileSync(path.join(project, "package.json"), '{"name":"transitive","private":true}');
});

afterAll(async () => {
  process.chdir(cwd);
  await host?.close();
  fs.rmSync(project, { recursive: true, force: true });
});

test("the program says to make the package a direct dependency, and registers nothing", async () => {
  process.chdir(project);
  let error: unknown;
  const registered = await captureProviderText(() => {
    try {
      new OctopusApiKey("transitive", { purpose: "p" });
    } catch (e) {
      error = e;
    }
  }).catch(() => "nothing registered");
  process.chdir(cwd);
  expect(registered).toBe("nothing registered");
  // A RunError: Pulumi shows its message alone, without a stack.
  expect(pulumi.RunError.isInstance(error)).toBe(true);
  expect((error as Error).message).toContain(
    `pulumi-octopus-apikey cannot be loaded by name from ${fs.realpathSync(project)}`,
  );
  expect((error as Error).message).toMatch(/Make it a direct dependency of this Pulumi project/);
  expect((error as Error).message).toMatch(/pnpm add pulumi-octopus-apikey/);
});

test("found from the project's folder, the same program registers its key", async () => {
  const { registrations } = await captureProviderText(() => {
    new OctopusApiKey("direct", { purpose: "p" });
  });
  expect(registrations.map((r) => r.name)).toEqual(["direct"]);
});

test("what the host alone would say there: only that the module cannot be found", async () => {
  const { text } = await realProviderText();
  host = await startProviderHost({ cwd: project });
  await host.configure({});
  const failure = await host
    .check(resourceUrn("transitive"), {}, { purpose: "p", __provider: text })
    .then(
      () => "",
      (e: Error) => e.message,
    );
  expect(failure).toMatch(/Cannot find module 'pulumi-octopus-apikey'/);
});
