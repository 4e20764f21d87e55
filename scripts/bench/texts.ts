/* eslint-disable @typescript-eslint/no-require-imports */
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { OctopusApiKey } from "../../provider";
import { captureProviderText } from "../../harness/mocks";

/** The bench's own providers, compiled next to this file (dist/scripts/bench/providers). */
export const BENCH_PROVIDERS = ["sleep", "got", "got-state", "node-http", "probe"] as const;
export type BenchProviderName = (typeof BENCH_PROVIDERS)[number];

export type ProviderTexts = Record<"ours" | BenchProviderName, string>;

/**
 * A provider object shaped like this package's stub (provider/stub.ts): its only method,
 * `configure`, requires a module by absolute path and lets it attach the lifecycle methods.
 * Pulumi serializes `file` as a captured constant and leaves `require` free, so the host loads
 * the compiled module from disk, as it loads ours.
 */
function moduleProvider(file: string): pulumi.dynamic.ResourceProvider {
  return {
    configure(this: object, req: pulumi.dynamic.ConfigureRequest): Promise<void> {
      return Promise.resolve(require(file).attach(this, req));
    },
  } as pulumi.dynamic.ResourceProvider;
}

/**
 * The `__provider` texts the engine would store: ours (the real OctopusApiKey) and the bench's
 * providers, captured in one run of the Pulumi mocks (they are process-global: one run only).
 */
export async function providerTexts(): Promise<ProviderTexts> {
  // Resource is abstract; a subclass is how programs (and this package) use it.
  class Bench extends pulumi.dynamic.Resource {}
  const { registrations } = await captureProviderText(() => {
    new OctopusApiKey("ours", { purpose: "captured" });
    for (const name of BENCH_PROVIDERS) {
      const file = path.join(__dirname, "providers", `${name}.js`);
      new Bench(moduleProvider(file), name, {}, undefined, "bench", name);
    }
  });
  const text = (name: string): string => {
    const value = registrations.find((r) => r.name === name)?.inputs.__provider;
    if (typeof value !== "string") throw new Error(`no __provider was captured for ${name}`);
    return value;
  };
  const texts = { ours: text("ours") } as ProviderTexts;
  for (const name of BENCH_PROVIDERS) texts[name] = text(name);
  return texts;
}
