import { createRequire } from "node:module";
import type * as grpcModule from "@grpc/grpc-js";
import type * as engineGrpc from "@pulumi/pulumi/proto/engine_grpc_pb";
import type * as enginePb from "@pulumi/pulumi/proto/engine_pb";
import type * as pluginPb from "@pulumi/pulumi/proto/plugin_pb";
import type * as providerGrpc from "@pulumi/pulumi/proto/provider_grpc_pb";
import type * as providerPb from "@pulumi/pulumi/proto/provider_pb";
import type * as emptyPb from "google-protobuf/google/protobuf/empty_pb";
import type * as structPb from "google-protobuf/google/protobuf/struct_pb";

/**
 * gRPC and Pulumi's protocol, loaded from the `@pulumi/pulumi` this package resolves (its peer
 * dependency): the generated `pulumirpc` modules it ships, with the `@grpc/grpc-js` and
 * `google-protobuf` they were generated for. The plugin adds no runtime dependency, and its
 * messages always match the modules that encode them.
 */
export interface Protocol {
  grpc: typeof grpcModule;
  provider: typeof providerPb;
  rpc: typeof providerGrpc;
  plugin: typeof pluginPb;
  /** The engine's own service, which the plugin calls to log (./engine-log). */
  engine: typeof enginePb;
  engineRpc: typeof engineGrpc;
  struct: typeof structPb;
  empty: typeof emptyPb;
}

export function loadProtocol(): Protocol {
  const load = createRequire(require.resolve("@pulumi/pulumi/package.json"));
  return {
    grpc: load("@grpc/grpc-js"),
    provider: load("./proto/provider_pb"),
    rpc: load("./proto/provider_grpc_pb"),
    plugin: load("./proto/plugin_pb"),
    engine: load("./proto/engine_pb"),
    engineRpc: load("./proto/engine_grpc_pb"),
    struct: load("google-protobuf/google/protobuf/struct_pb"),
    empty: load("google-protobuf/google/protobuf/empty_pb"),
  };
}

type Props = Record<string, unknown>;

/** A Struct from the wire as plain JavaScript (`{}` when absent). */
export function fromStruct(struct: structPb.Struct | undefined): Props {
  return struct ? (struct.toJavaScript() as Props) : {};
}

export function toStruct(p: Protocol, props: Props): structPb.Struct {
  return p.struct.Struct.fromJavaScript(props as Record<string, structPb.JavaScriptValue>);
}
