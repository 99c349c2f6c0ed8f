/** A byte source the driver can open, read and lose: a serial port, a TCP stream, a file replay. */
export interface LinkHandlers {
  data(chunk: Buffer): void;
  /** The link ended without being asked to: unplugged, connection closed, end of the replay. */
  lost(reason: string): void;
}

export interface Link {
  /** Releases the port or socket; resolves once it is released. Calls no handler afterwards. */
  close(): Promise<void>;
}

/** Opens the link or rejects (port absent, connection refused). */
export type Connect = (handlers: LinkHandlers) => Promise<Link>;
