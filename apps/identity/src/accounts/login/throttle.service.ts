import { Inject, Injectable } from '@nestjs/common';
import type { OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { KeyedHasher } from '@vivified/crypto';

import type { AccountsClock } from '../accounts.clock';
import { ACCOUNTS_CLOCK } from '../accounts.clock';
import { LOGIN_IP_HASHER } from '../accounts.crypto';
import { LoginStateRepository } from './login-state.repository';
import type { ThrottleVerdict } from './throttle';
import { throttlePolicy, throttleVerdict } from './throttle';

const PURGE_EVERY_MS = 10 * 60_000;

/** Per-address throttling of failed logins; addresses are stored as keyed hashes only. */
@Injectable()
export class ThrottleService implements OnModuleInit, OnModuleDestroy {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly states: LoginStateRepository,
    @Inject(LOGIN_IP_HASHER) private readonly hasher: KeyedHasher,
    @Inject(ACCOUNTS_CLOCK) private readonly clock: AccountsClock,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => {
      this.states.purgeThrottle(this.clock.now() - throttlePolicy.windowMs).catch(() => undefined);
    }, PURGE_EVERY_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** Whether an address may try now; an unknown address (a direct NATS caller) is never throttled. */
  async verdict(ip: string | undefined): Promise<ThrottleVerdict> {
    if (!ip) {
      return { throttled: false };
    }

    return throttleVerdict(await this.states.throttleWindow(this.key(ip)), this.clock.now());
  }

  async recordFailure(ip: string | undefined): Promise<void> {
    if (ip) {
      await this.states.recordIpFailure(this.key(ip), this.clock.now(), throttlePolicy.windowMs);
    }
  }

  private key(ip: string): string {
    return this.hasher.hash(ip.toLowerCase());
  }
}
