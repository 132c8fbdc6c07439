// Small network probes: does a port accept TCP, what does an HTTP endpoint answer.
import { get } from 'node:http';
import { connect } from 'node:net';

/** Resolves true when `host:port` accepts a TCP connection within `timeoutMs`. */
export function isPortOpen(host, port, timeoutMs = 1_000) {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (open) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** GETs a URL and resolves `{ status, body }`; rejects on a network error or after `timeoutMs`. */
export function httpGet(url, timeoutMs = 2_000) {
  return new Promise((resolve, reject) => {
    const request = get(url, { timeout: timeoutMs }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => {
        body = (body + chunk).slice(0, 4_000);
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on('error', reject);
  });
}

/** Hosts that mean "this machine", where `npm start` may run its own servers. */
export function isLoopback(host) {
  return ['127.0.0.1', 'localhost', '::1', '[::1]'].includes(host);
}

/** Waits `ms` milliseconds. */
export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
