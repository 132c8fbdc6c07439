import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { PolicyDecideRequest, PolicySimulateRequest, subjects } from '@vivified/contracts';
import type { PolicyDecisionView, PolicySimulationView } from '@vivified/contracts';
import { Handle } from '@vivified/nats-transport';

import { DecisionsService } from './decisions.service';

@Controller()
export class DecisionsHandlers {
  constructor(private readonly decisions: DecisionsService) {}

  @Handle(subjects.policy.decision.decide)
  decide(@Payload() body: PolicyDecideRequest): PolicyDecisionView {
    return this.decisions.decide(body);
  }

  @Handle(subjects.policy.decision.simulate)
  simulate(@Payload() body: PolicySimulateRequest): PolicySimulationView {
    return this.decisions.simulate(body);
  }
}
