export { natsServerBinary, startNatsServer } from './nats-server';
export type { NatsServerOptions, TestNatsServer } from './nats-server';
export { freePort, isListening } from './ports';
export { createTestDatabase, testServerUrl } from './postgres';
export type { TestDatabase } from './postgres';
export { TestAuthority } from './test-authority';
export type { TestPrincipal } from './test-authority';
export { uniqueName, waitFor } from './wait';
export type { WaitOptions } from './wait';
