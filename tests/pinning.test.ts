import { pinningSuite } from "./support/pinning-suite";

// Pinning (./support/pinning-suite) through the dynamic resource's front door, the real
// @pulumi/pulumi provider host; pinning-plugin.test.ts runs it through the plugin.

pinningSuite("dynamic");
