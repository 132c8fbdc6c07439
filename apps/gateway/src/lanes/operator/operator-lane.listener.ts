import type { OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { Inject, Injectable } from '@nestjs/common';
import { ErrorCode, subjects, VivifiedError } from '@vivified/contracts';
import { decodeJson, encodeJson, errorReply, toVivifiedError } from '@vivified/nats-transport';
import type { ServiceLogger } from '@vivified/service-kit';
import { NATS_CONNECTION, SERVICE_LOGGER } from '@vivified/service-kit';
import type { Msg, NatsConnection, Subscription } from 'nats';

import { OperatorLaneService } from './operator-lane.service';

/** Queue group of the lane: replicas of the gateway share the calls. */
const QUEUE = 'gateway';

/**
 * Serves `vivified.v1.rpc.>` with a queue-group subscription of its own: a wildcard subject cannot be a transport
 * contract, so each call is authenticated and authorized by {@link OperatorLaneService} through the sidecar.
 */
@Injectable()
export class OperatorLaneListener implements OnApplicationBootstrap, OnModuleDestroy {
  private subscription: Subscription | undefined;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly lane: OperatorLaneService,
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(SERVICE_LOGGER) private readonly logger: ServiceLogger,
  ) {}

  onApplicationBootstrap(): void {
    this.subscription = this.nc.subscribe(subjects.rpc.all, {
      queue: QUEUE,
      callback: (error, msg) => {
        if (error) {
          this.logger.error({ err: error }, 'operator-lane subscription error');

          return;
        }
        const work = this.handle(msg);
        this.inFlight.add(work);
        void work.finally(() => this.inFlight.delete(work));
      },
    });
  }

  async onModuleDestroy(): Promise<void> {
    if (this.subscription && !this.nc.isClosed()) {
      await this.subscription.drain();
    }
    await Promise.allSettled([...this.inFlight]);
  }

  private async handle(msg: Msg): Promise<void> {
    try {
      const parts = msg.subject.split('.');
      if (parts.length !== 5) {
        throw new VivifiedError(
          ErrorCode.BadRequest,
          'operator-lane subjects are vivified.v1.rpc.<target>.<op>',
          {
            reason: 'invalid_subject',
          },
        );
      }
      const result = await this.lane.call({
        target: parts[3],
        operation: parts[4],
        headers: msg.headers,
        payload: decodeJson(msg.data),
        raw: msg.data,
      });
      if (msg.reply) {
        msg.respond('raw' in result ? result.raw : encodeJson(result.value));
      }
    } catch (error) {
      const failure = toVivifiedError(error);
      if (failure.code === ErrorCode.Internal) {
        this.logger.error({ err: failure.cause ?? failure }, 'operator-lane call failed');
      }
      if (msg.reply) {
        const { headers, data } = errorReply(failure);
        msg.respond(data, { headers });
      }
    }
  }
}
