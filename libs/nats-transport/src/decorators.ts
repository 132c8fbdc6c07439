import { EventPattern, MessagePattern } from '@nestjs/microservices';
import type { ConsumerDefinition, PayloadClass, RpcContract, RpcSubject } from '@vivified/contracts';
import { rpcContract } from '@vivified/contracts';

/** Key of our metadata in a Nest handler's `extras`. */
export const VIVIFIED_EXTRAS = 'vivified';

/** Pattern prefix that marks a JetStream consumer handler. */
export const CONSUMER_PATTERN_PREFIX = 'jetstream:';

/** Metadata of a request/reply handler. */
export interface RpcHandlerMeta {
  kind: 'rpc';
  contract: RpcContract;
}

/** Metadata of a JetStream consumer handler. */
export interface ConsumerHandlerMeta {
  kind: 'consumer';
  consumer: ConsumerDefinition;
  payload: PayloadClass;
  options: ConsumeOptions;
}

/** Options of {@link Consume}. */
export interface ConsumeOptions {
  /**
   * How many messages are handled at once; order is kept only with 1.
   * @default 1
   */
  concurrency?: number;
}

/**
 * Serves a request/reply subject of libs/contracts. The payload is validated against the contract's request
 * class and the access it declares is enforced before the method runs. Unknown subjects fail at startup. A
 * contract object may be given instead of a subject for contracts built at run time (lanes, tests).
 */
export function Handle(subjectOrContract: RpcSubject | RpcContract): MethodDecorator {
  const contract = typeof subjectOrContract === 'string' ? rpcContract(subjectOrContract) : subjectOrContract;
  if (!contract) {
    throw new Error(`no contract in libs/contracts for subject ${subjectOrContract as string}`);
  }
  const meta: RpcHandlerMeta = { kind: 'rpc', contract };

  return MessagePattern(contract.subject, { [VIVIFIED_EXTRAS]: meta });
}

/**
 * Consumes a durable JetStream consumer of libs/contracts: each message is validated against `payload`,
 * acked when the method returns, retried with the consumer's backoff when it throws, and terminated when it
 * can never be handled (invalid payload).
 */
export function Consume(
  consumer: ConsumerDefinition,
  payload: PayloadClass,
  options: ConsumeOptions = {},
): MethodDecorator {
  const meta: ConsumerHandlerMeta = { kind: 'consumer', consumer, payload, options };

  return EventPattern(`${CONSUMER_PATTERN_PREFIX}${consumer.stream}/${consumer.durable}`, {
    [VIVIFIED_EXTRAS]: meta,
  });
}
