import { Inject, Injectable } from '@nestjs/common';
import type { StoredEventEnvelope } from '@vivified/contracts';
import { dynamicSubjects, streams } from '@vivified/contracts';
import { decodeJson, encodeJson } from '@vivified/nats-transport';
import { NATS_CONNECTION } from '@vivified/service-kit';
import type { NatsConnection } from 'nats';
import { AckPolicy, DeliverPolicy, nanos } from 'nats';

/** A dead letter in `VIVIFIED_DLQ`: the stored envelope, why its last attempt failed and how many there were. */
export interface DeadLetter {
  subscriptionId: string;
  pluginId: string;
  eventType: string;
  attempts: number;
  error: { code: string; message: string; reason?: string };
  failedAt: string;
  envelope: StoredEventEnvelope;
}

/** A dead letter read back, with its stream sequence (to delete it once replayed). */
export interface StoredDeadLetter {
  seq: number;
  letter: DeadLetter;
}

/** `VIVIFIED_DLQ`: one subject per subscription, `vivified.dlq.<subscriptionId>`. */
@Injectable()
export class DeadLetters {
  constructor(@Inject(NATS_CONNECTION) private readonly nc: NatsConnection) {}

  /** Stores a dead letter (deduplicated per event and subscription); resolves once stored. */
  async store(letter: DeadLetter): Promise<void> {
    await this.nc.jetstream().publish(dynamicSubjects.deadLetter(letter.subscriptionId), encodeJson(letter), {
      msgID: `${letter.envelope.eventId}:${letter.subscriptionId}`,
    });
  }

  /** Up to `limit` dead letters of a subscription, oldest first. */
  async read(subscriptionId: string, limit: number): Promise<StoredDeadLetter[]> {
    const total = await this.count(subscriptionId);
    if (total === 0) {
      return [];
    }
    // a short-lived ephemeral reader: no acks, removed by the server if this process dies mid-read
    const jsm = await this.nc.jetstreamManager();
    const info = await jsm.consumers.add(streams.deadLetters.name, {
      filter_subject: dynamicSubjects.deadLetter(subscriptionId),
      ack_policy: AckPolicy.None,
      deliver_policy: DeliverPolicy.All,
      inactive_threshold: nanos(30_000),
    });
    const wanted = Math.min(limit, total);
    const letters: StoredDeadLetter[] = [];
    try {
      const consumer = await this.nc.jetstream().consumers.get(streams.deadLetters.name, info.name);
      while (letters.length < wanted) {
        const before = letters.length;
        const batch = await consumer.fetch({ max_messages: wanted - letters.length, expires: 1_000 });
        for await (const msg of batch) {
          letters.push({ seq: msg.seq, letter: decodeJson(msg.data) as DeadLetter });
        }
        if (letters.length === before) {
          break;
        }
      }
    } finally {
      await jsm.consumers.delete(streams.deadLetters.name, info.name).catch(() => undefined);
    }

    return letters;
  }

  /** Removes a replayed dead letter. */
  async remove(seq: number): Promise<void> {
    const jsm = await this.nc.jetstreamManager();
    await jsm.streams.deleteMessage(streams.deadLetters.name, seq, false);
  }

  /** How many dead letters a subscription has. */
  async count(subscriptionId: string): Promise<number> {
    const jsm = await this.nc.jetstreamManager();
    const subject = dynamicSubjects.deadLetter(subscriptionId);
    const info = await jsm.streams.info(streams.deadLetters.name, { subjects_filter: subject });

    return info.state.subjects?.[subject] ?? 0;
  }
}
