// A deployment robot's key: created for the service account "ci-bot" with an administrator's
// credentials (stack config octopusdeploy:address / octopusdeploy:apiKey, or OCTOPUS_URL /
// OCTOPUS_API_KEY), then stored in a Kubernetes Secret for the pods that deploy with it.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { OctopusApiKey } from "pulumi-octopus-apikey";

const config = new pulumi.Config();
const serviceAccount = config.get("serviceAccount") ?? "ci-bot";

const key = new OctopusApiKey("ci-bot-key", {
  purpose: `Deployments from the ${pulumi.getStack()} cluster`,
  username: serviceAccount,
  expiresIn: "180d",
});

// `key.apiKey` is a secret output: Pulumi keeps it encrypted in state and in this Secret's inputs.
const secret = new k8s.core.v1.Secret("octopus-api-key", {
  metadata: { name: "octopus-api-key", namespace: config.get("namespace") ?? "default" },
  type: "Opaque",
  stringData: {
    OCTOPUS_URL: key.serverUrl,
    OCTOPUS_API_KEY: key.apiKey,
  },
});

export const secretName = secret.metadata.name;
export const keyHint = key.hint;
export const keyExpires = key.expires;
