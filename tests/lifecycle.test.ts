import { PROFILES } from "../emulator/profiles";
import { realProviderText } from "../harness/engine";
import { lifecycleSuite } from "./support/lifecycle-suite";

// The lifecycle (./support/lifecycle-suite) through the dynamic resource's front door: the real
// @pulumi/pulumi provider host, on every Octopus version the emulator plays. The plugin's run is
// lifecycle-plugin.test.ts, a file of its own that a second Jest worker can run beside this one.

test("the resource declares apiKey secret and keeps credentials out of the provider text", async () => {
  const { text, registrations } = await realProviderText();
  const registration = registrations.find((r) => r.name === "captured");
  expect(registration?.type).toBe("pulumi-nodejs:dynamic/octopusdeploy:ApiKey");
  expect(registration?.additionalSecretOutputs).toEqual(
    expect.arrayContaining(["apiKey", "connection"]),
  );
  expect(text).not.toMatch(/API-[A-Z0-9]{8,}/);
});

lifecycleSuite("dynamic", PROFILES);
