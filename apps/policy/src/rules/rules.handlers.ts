import { Controller } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import {
  PolicyBundleGetRequest,
  PolicyRulesGetRequest,
  PolicyRulesHistoryRequest,
  PolicyRulesPutRequest,
  subjects,
} from '@vivified/contracts';
import type { PolicyRulesHistoryReply, PolicyRulesView, SignedPolicyBundleView } from '@vivified/contracts';
import { Handle, NatsRequestContext } from '@vivified/nats-transport';

import { userActor } from '../caller';
import { RulesService } from './rules.service';

@Controller()
export class RulesHandlers {
  constructor(private readonly rules: RulesService) {}

  @Handle(subjects.policy.rules.get)
  get(@Payload() _body: PolicyRulesGetRequest): Promise<PolicyRulesView> {
    return this.rules.get();
  }

  @Handle(subjects.policy.rules.put)
  put(@Payload() body: PolicyRulesPutRequest, @Ctx() ctx: NatsRequestContext): Promise<PolicyRulesView> {
    return this.rules.put(userActor(ctx.principal), body);
  }

  @Handle(subjects.policy.rules.history)
  history(@Payload() body: PolicyRulesHistoryRequest): Promise<PolicyRulesHistoryReply> {
    return this.rules.history(body);
  }

  @Handle(subjects.policy.bundle.get)
  bundle(@Payload() _body: PolicyBundleGetRequest): Promise<SignedPolicyBundleView> {
    return this.rules.signedBundle();
  }
}
