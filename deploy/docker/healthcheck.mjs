// Docker HEALTHCHECK of a service container: GET /health on the service's ops port (ARCHITECTURE §9), exit 0
// on 200. The port is VIVIFIED_<SERVICE>_OPS_PORT when set, else the service's default.
import { get } from 'node:http';

const defaultPorts = {
  identity: 9101,
  policy: 9102,
  registry: 9103,
  audit: 9104,
  'event-router': 9105,
  gateway: 9106,
};

const service = process.env.VIVIFIED_SERVICE ?? '';
const port = Number(
  process.env[`VIVIFIED_${service.toUpperCase().replaceAll('-', '_')}_OPS_PORT`] || defaultPorts[service],
);
if (!port) {
  process.stderr.write(`unknown VIVIFIED_SERVICE ${JSON.stringify(service)}\n`);
  process.exit(1);
}

const request = get({ host: '127.0.0.1', port, path: '/health', timeout: 2_500 }, (response) => {
  response.resume();
  process.exit(response.statusCode === 200 ? 0 : 1);
});
request.on('timeout', () => request.destroy(new Error('timed out')));
request.on('error', (error) => {
  process.stderr.write(`GET /health on port ${port}: ${error.message}\n`);
  process.exit(1);
});
