import * as pulumi from "@pulumi/pulumi";
import type { RegisterResourceRequest } from "@pulumi/pulumi/proto/resource_pb";

/** One resource registration as the engine would receive it. */
export interface Registration {
  type: string;
  name: string;
  /** The registered inputs; secret inputs stay wrapped (`{ "4dabf18193072939515e22adb298388d": ..., value }`). */
  inputs: Record<string, unknown>;
  /** `additionalSecretOutputs` from the RegisterResourceRequest (mocks' `newResource` does not show it). */
  additionalSecretOutputs?: string[];
}

type RegisterResource = (
  request: RegisterResourceRequest,
  callback: (...args: unknown[]) => void,
) => void;

/**
 * Runs `make()` (which constructs resources) under `pulumi.runtime.setMocks` (project
 * `pulumi-octopus-apikey`, stack `test`, not a preview) and returns the `__provider` text the engine
 * would store for the first dynamic resource, plus every registration.
 *
 * `additionalSecretOutputs` is read from the RegisterResourceRequest itself: the mock monitor returned
 * by `pulumi.runtime.getMonitor()` is wrapped, since `MockResourceArgs` carries no resource options.
 * Mocks are process-global: do not run two captures at once.
 */
export async function captureProviderText(
  make: () => void,
): Promise<{ text: string; registrations: Registration[] }> {
  const registrations: Registration[] = [];
  const secretOutputs = new Map<string, string[]>();
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        const { type, name, inputs } = args;
        registrations.push({
          type,
          name,
          inputs,
          additionalSecretOutputs: secretOutputs.get(`${type}::${name}`) ?? [],
        });
        return { id: `${args.name}-id`, state: args.inputs };
      },
      call: (args) => args.inputs,
    },
    "pulumi-octopus-apikey",
    "test",
    false,
  );
  const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource: RegisterResource };
  const registerResource = monitor.registerResource.bind(monitor);
  monitor.registerResource = (request, callback) => {
    const key = `${request.getType()}::${request.getName()}`;
    secretOutputs.set(key, request.getAdditionalsecretoutputsList());
    registerResource(request, callback);
  };

  make();
  // Waits for every pending registration (they hold the SDK's RPC keep-alive), then drops the mock monitor.
  await pulumi.runtime.disconnect();

  const text = registrations.map((r) => r.inputs.__provider).find((t) => typeof t === "string");
  if (typeof text !== "string") {
    throw new Error(
      `no dynamic resource registered a __provider (got ${registrations.length} registrations)`,
    );
  }
  return { text, registrations };
}
