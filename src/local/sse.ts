import type { ServerResponse } from 'node:http';

/** Server-sent events to every open display; a comment line every 15 s keeps proxies from closing it. */
export class SseHub {
  private readonly clients = new Set<ServerResponse>();
  private readonly heartbeat = setInterval(() => this.write(': keep-alive\n\n'), 15_000);

  constructor() {
    this.heartbeat.unref();
  }

  add(res: ServerResponse, first?: { event: string; data: unknown }): void {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    this.clients.add(res);
    res.once('close', () => this.clients.delete(res));
    if (first) res.write(frame(first.event, first.data));
  }

  send(event: string, data: unknown): void {
    this.write(frame(event, data));
  }

  get size(): number {
    return this.clients.size;
  }

  private write(text: string): void {
    for (const res of this.clients) res.write(text);
  }

  close(): void {
    clearInterval(this.heartbeat);
    for (const res of this.clients) res.end();
    this.clients.clear();
  }
}

function frame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}
