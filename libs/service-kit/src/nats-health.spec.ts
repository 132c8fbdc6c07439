import type { NatsConnection, Status } from 'nats';
import { DebugEvents, Events } from 'nats';
import { describe, expect, it, vi } from 'vitest';

import { ServiceMetrics } from './metrics';
import { NatsConnectionMonitor } from './nats-health';

/** A connection whose status events and close the test drives. */
function fakeConnection() {
  const queue: Status[] = [];
  let wake: (() => void) | undefined;
  let closed = false;
  let resolveClosed: () => void = () => undefined;
  const closedPromise = new Promise<void>((resolve) => (resolveClosed = resolve));
  async function* status(): AsyncGenerator<Status> {
    while (!closed || queue.length > 0) {
      const next = queue.shift();
      if (next) {
        yield next;
      } else {
        await new Promise<void>((resolve) => (wake = resolve));
      }
    }
  }
  const nc: Pick<NatsConnection, 'status' | 'closed' | 'isClosed'> = {
    status,
    closed: () => closedPromise,
    isClosed: () => closed,
  };

  return {
    nc,
    emit: (type: Status['type'], data = 'nats://127.0.0.1:4222') => {
      queue.push({ type, data });
      wake?.();
    },
    close: () => {
      closed = true;
      resolveClosed();
      wake?.();
    },
  };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe(NatsConnectionMonitor.name, () => {
  it('follows disconnects and reconnects in state, gauge, listeners and readiness', async () => {
    const connection = fakeConnection();
    const metrics = new ServiceMetrics({ service: 'policy', processMetrics: false });
    const logger = { info: vi.fn(), warn: vi.fn() };
    const sut = new NatsConnectionMonitor(connection.nc, { metrics, logger });
    const changes: boolean[] = [];
    sut.onChange((connected) => changes.push(connected));

    connection.emit(Events.Disconnect);
    await tick();
    const down = {
      state: sut.isConnected(),
      check: await sut.readinessCheck()(),
      text: await metrics.render(),
    };
    connection.emit(DebugEvents.Reconnecting);
    connection.emit(Events.Reconnect);
    await tick();

    expect(down.state).toBe(false);
    expect(down.check).toEqual({ ok: false, detail: 'disconnected' });
    expect(down.text).toContain('vivified_nats_connected{service="policy"} 0');
    expect(sut.isConnected()).toBe(true);
    expect(await sut.readinessCheck()()).toEqual({ ok: true });
    expect(await metrics.render()).toContain('vivified_nats_connected{service="policy"} 1');
    expect(changes).toEqual([false, true]);
    expect(logger.warn).toHaveBeenCalledWith({ server: 'nats://127.0.0.1:4222' }, 'NATS disconnected');
    connection.close();
  });

  it('counts a closed connection as down', async () => {
    const connection = fakeConnection();
    const sut = new NatsConnectionMonitor(connection.nc);
    const changes: boolean[] = [];
    const stop = sut.onChange((connected) => changes.push(connected));

    connection.close();
    await tick();
    stop();

    expect(sut.isConnected()).toBe(false);
    expect(changes).toEqual([false]);
  });
});
