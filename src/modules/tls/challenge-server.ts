import { createServer, type Server } from 'node:http';

const PREFIX = '/.well-known/acme-challenge/';

/**
 * The plain-HTTP listener an ACME CA connects to (port 80) for HTTP-01: answers challenge tokens, and sends
 * every other request to the HTTPS port, so `http://` links keep working.
 */
export function createChallengeServer(options: {
  challenge: (token: string) => Promise<string | undefined>;
  /** The domains served: a redirect goes to the requested one if listed, else to the first. */
  domains: string[];
  httpsPort: number;
}): Server {
  return createServer((request, response) => {
    const url = request.url ?? '/';
    if (url.startsWith(PREFIX) && (request.method === 'GET' || request.method === 'HEAD')) {
      const token = url.slice(PREFIX.length);
      if (!/^[A-Za-z0-9_-]{1,256}$/.test(token)) return void response.writeHead(404).end();
      options.challenge(token).then(
        (answer) => {
          if (answer === undefined) return void response.writeHead(404).end();
          response.writeHead(200, { 'content-type': 'text/plain' }).end(request.method === 'HEAD' ? '' : answer);
        },
        () => void response.writeHead(503).end(),
      );
      return;
    }
    const host = (request.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
    const name = options.domains.includes(host) ? host : options.domains[0];
    const port = options.httpsPort === 443 ? '' : `:${options.httpsPort}`;
    response.writeHead(308, { location: `https://${name}${port}${url.startsWith('/') ? url : '/'}` }).end();
  });
}
