/** The MQTT contract's topic names, in one place: `{root}/{gatewayId}/{leaf}`. */
export interface Topics {
  status: string;
  latest: string;
  telemetry: string;
  events: string;
  /** `cmd/+` subscription filter and the prefix commands arrive under. */
  commands: string;
  /** The only prefix replies go under, so that broker ACLs can scope what a gateway may publish. */
  replies: string;
  /** Retained by a receiver: how far this gateway's records are stored (end-to-end.ts). */
  committed: string;
}

/** Whether `topic` is a reply topic of this gateway: `{replies}` followed by a non-empty, wildcard-free rest. */
export function isReplyTopic(topics: Topics, topic: string): boolean {
  return topic.startsWith(topics.replies) && topic.length > topics.replies.length && !/[#+\u0000]/.test(topic);
}

export function topicsFor(root: string, gatewayId: string): Topics {
  const base = `${root.replace(/\/+$/, '')}/${gatewayId}`;
  return {
    status: `${base}/status`,
    latest: `${base}/latest`,
    telemetry: `${base}/telemetry`,
    events: `${base}/events`,
    commands: `${base}/cmd/`,
    replies: `${base}/reply/`,
    committed: `${base}/committed`,
  };
}
