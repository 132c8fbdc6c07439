import { startTelemetry } from '@vivified/service-kit/telemetry';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** This app's version, from its package.json. */
export const { version } = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as {
  version: string;
};

// Loaded before anything else so the http and pg instrumentations patch those modules on first require.
export const telemetry = startTelemetry({ service: 'audit', version });
