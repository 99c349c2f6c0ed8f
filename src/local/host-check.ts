import type http from 'node:http';
import { isIP } from 'node:net';
import type { LocalHttpConfig } from '../config/schema-local.ts';
import { HttpError } from './respond.ts';

/**
 * Refuses a state change that a foreign web page could have sent through the driver's browser:
 * - DNS rebinding: a page at `evil.example` whose name is then pointed at the box sends requests
 *   the browser thinks are same-origin; they carry `Host: evil.example`. Allowed Hosts are IP
 *   literals (a page opened by address is the box's own origin), `localhost`, the listen host
 *   and `allowedHosts`.
 * - Cross-site requests carry an `Origin` that is not the Host; when present it must be
 *   `http://<Host>` (or https behind a proxy). Clients that send no Origin (curl, scripts) pass.
 *
 * Worked example, listening on 0.0.0.0:8080 with allowedHosts ["van-12.local"]: Host
 * `192.168.4.1:8080`, `[::1]:8080`, `localhost:8080`, `van-12.local` pass; `evil.example`
 * is refused; Host `192.168.4.1:8080` with Origin `http://evil.example` is refused.
 */
export function hostCheck(cfg: LocalHttpConfig): (req: http.IncomingMessage) => void {
  const names = new Set(['localhost', cfg.host, ...cfg.allowedHosts].map(canonical));
  return (req) => {
    const host = parse(`http://${req.headers.host ?? ''}`);
    const hostname = host && canonical(host.hostname);
    if (!hostname || (isIP(hostname) === 0 && !names.has(hostname))) {
      throw new HttpError(403, `refused: the request is addressed to "${req.headers.host ?? '(no Host header)'}", which is not this box; open the display by the box's IP address, or add the name to local.http.allowedHosts`);
    }
    const { origin } = req.headers;
    if (origin === undefined) return;
    const from = parse(origin);
    if (!from || (from.protocol !== 'http:' && from.protocol !== 'https:') || from.host !== host!.host) {
      throw new HttpError(403, `refused: a page from ${origin} may not change anything on this box; only the display's own page (http://${host!.host}) may`);
    }
  };
}

/** Lower case, no trailing dot, no IPv6 brackets: the form names are compared in. */
function canonical(name: string): string {
  return name.toLowerCase().replace(/\.$/, '').replace(/^\[(.*)\]$/, '$1');
}

/** `Origin: null` (a sandboxed frame, a file) and a garbled Host do not parse: both are refused. */
function parse(url: string): URL | undefined {
  try {
    return new URL(url);
  } catch {
    return undefined;
  }
}
