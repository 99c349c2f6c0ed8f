/** The MQTT contract's topic names, in one place: `{root}/{gatewayId}/{leaf}`. */
export interface Topics {
  status: string;
  latest: string;
  telemetry: string;
  events: string;
  /** `cmd/+` subscription filter and the prefix commands arrive under. */
  commands: string;
}

export function topicsFor(root: string, gatewayId: string): Topics {
  const base = `${root.replace(/\/+$/, '')}/${gatewayId}`;
  return {
    status: `${base}/status`,
    latest: `${base}/latest`,
    telemetry: `${base}/telemetry`,
    events: `${base}/events`,
    commands: `${base}/cmd/`,
  };
}
