/**
 * The lifecycle `npm run demo` drives through the real @pulumi/pulumi provider host, as the engine
 * would for `pulumi up`, `refresh`, a rotation and `destroy`: Check, Create, Read, a replacement
 * (Check, Diff, Create the new key, Delete the old one), Delete, and a last Read that must find the
 * key gone. Every key it creates is revoked before it returns, even when a step fails.
 */
import { HostCallError, resourceUrn, type ProviderHost } from "../harness/host";

type Props = Record<string, unknown>;

export interface LifecycleOptions {
  /** The resource's name in the stack (for its URN). */
  name: string;
  /** The program's inputs, without `__provider`. */
  inputs: Props;
  /** The `__provider` text of the package's resource. */
  providerText: string;
  /** Called after each step that changes the server, e.g. to list the emulator's keys. */
  afterStep?: () => void;
}

function step(title: string): void {
  console.log(`\n▶ ${title}`);
}

function describeKey(outs: Props): void {
  console.log(`  id       ${String(outs.apiKeyId)}`);
  console.log(`  apiKey   ${String(outs.hint)}…  (secret output: only its hint is shown)`);
  console.log(`  owner    ${String(outs.username)} (${String(outs.userId)})`);
  console.log(`  purpose  ${String(outs.purpose)}`);
  console.log(`  expires  ${String(outs.expires)}`);
  console.log(`  server   ${String(outs.serverUrl)}`);
}

function checked(result: { inputs: Props; failures: Array<{ property: string; reason: string }> }) {
  if (result.failures.length > 0) {
    throw new Error(result.failures.map((f) => `${f.property}: ${f.reason}`).join("; "));
  }
  return result.inputs;
}

/**
 * Runs the lifecycle on a configured host. Throws the first failure, after revoking every key it
 * created; a key it could not revoke is named in the error (id and purpose), never its secret.
 */
export async function runLifecycle(host: ProviderHost, options: LifecycleOptions): Promise<void> {
  const { name, providerText, afterStep = () => {} } = options;
  const urn = resourceUrn(name);
  const inputs = { ...options.inputs, __provider: providerText };
  /** Keys this run created and has not revoked yet, by id, with their stored outputs. */
  const live = new Map<string, Props>();

  const create = async (props: Props): Promise<{ id: string; properties: Props }> => {
    try {
      const created = await host.create(urn, props);
      live.set(created.id, created.properties);
      return created;
    } catch (error) {
      // A create that failed after the key existed still hands back its id: revoke it too.
      if (error instanceof HostCallError && error.partial?.id) {
        live.set(error.partial.id, error.partial.properties);
      }
      throw error;
    }
  };
  const revoke = async (id: string): Promise<void> => {
    await host.delete(id, urn, live.get(id)!);
    live.delete(id);
  };

  let failure: unknown;
  try {
    step(`Check ${name} (pulumi preview)`);
    const first = checked(await host.check(urn, {}, inputs));
    console.log("  inputs are valid; nothing has been sent to Octopus yet");

    step("Create (pulumi up)");
    const created = await create(first);
    describeKey(created.properties);
    afterStep();

    step("Read (pulumi refresh)");
    const read = await host.read(created.id, urn, created.properties, first);
    if (read.id !== created.id) throw new Error(`refresh did not find key ${created.id}`);
    live.set(created.id, read.properties);
    console.log(`  still there: ${created.id}; expires ${String(read.properties.expires)}`);

    step("Rotate (pulumi up after a rotationTriggers change: a replacement)");
    const rotated = { ...inputs, rotationTriggers: { demo: "rotated" } };
    const second = checked(await host.check(urn, first, rotated));
    const diff = await host.diff(created.id, urn, read.properties, second);
    console.log(`  diff: replace, because of ${diff.replaces.join(", ") || "(nothing?)"}`);
    if (diff.replaces.length === 0) throw new Error("a rotationTriggers change did not replace");
    const replacement = await create(second);
    console.log(`  created the new key ${replacement.id} first, then revoke the old one`);
    await revoke(created.id);
    describeKey(replacement.properties);
    afterStep();

    step("Delete (pulumi destroy)");
    await revoke(replacement.id);
    const gone = await host.read(replacement.id, urn, replacement.properties, second);
    const oldGone = await host.read(created.id, urn, read.properties, first);
    if (gone.id || oldGone.id) throw new Error("a revoked key is still on the server");
    console.log(`  revoked ${replacement.id}; a refresh finds neither key any more`);
    afterStep();
  } catch (error) {
    failure = error;
  }

  // Cleanup, after a failure too: revoke what this run created and has not revoked yet.
  const left: string[] = [];
  for (const [id, outs] of live) {
    try {
      await revoke(id);
      console.log(`  cleanup: revoked ${id}, created by this run`);
    } catch (error) {
      left.push(`${id} (purpose "${String(outs.purpose)}", owner ${String(outs.userId)})`);
      console.error(`  cleanup: could not revoke ${id}: ${(error as Error).message}`);
    }
  }
  if (left.length > 0) {
    const cause = failure === undefined ? "" : ` after: ${(failure as Error).message}`;
    throw new Error(
      `keys created by this run are still live; revoke them: ${left.join(", ")}${cause}`,
    );
  }
  if (failure !== undefined) throw failure;
}
