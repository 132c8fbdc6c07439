import { Body, Controller, Get, Post, Put, Query } from '@nestjs/common';
import { ApiQuery, ApiTags } from '@nestjs/swagger';
import {
  PolicyRulesHistoryReply,
  PolicyRulesPutRequest,
  PolicyRulesView,
  PolicySimulateRequest,
  PolicySimulationView,
  SignedPolicyBundleView,
  subjects,
  TraitListReply,
} from '@vivified/contracts';

import type { EdgeCaller } from '../core/core-api';
import { CoreApi } from '../core/core-api';
import { Caller } from '../http/caller.decorator';
import { Endpoint } from '../http/endpoint.decorator';

/** A query-string integer as the contract wants it; anything else is passed on for the contract to refuse. */
const integer = (value: string | undefined): number | string | undefined =>
  value !== undefined && /^\d{1,9}$/.test(value) ? Number(value) : value;

/** Admin rules, what-if decisions and the trait vocabulary (ARCHITECTURE §7), onto the policy service. */
@ApiTags('policy')
@Controller()
export class PolicyController {
  constructor(private readonly core: CoreApi) {}

  @Get('v1/policy/rules')
  @Endpoint({ summary: 'The current admin rules and their version.', reply: PolicyRulesView, auth: true })
  rules(@Caller() caller: EdgeCaller) {
    return this.core.call(subjects.policy.rules.get, {}, caller);
  }

  @Put('v1/policy/rules')
  @Endpoint({
    summary:
      'Replaces the admin rules (operator allowlist, proxy approvals, break-glass grants): a new version, ' +
      'signed and published to every service. 400 lists every problem; 409 when expectedVersion is stale.',
    body: PolicyRulesPutRequest,
    reply: PolicyRulesView,
    auth: true,
  })
  putRules(@Body() body: unknown, @Caller() caller: EdgeCaller) {
    return this.core.call(subjects.policy.rules.put, body, caller);
  }

  @Get('v1/policy/rules/history')
  @ApiQuery({ name: 'limit', required: false, type: Number })
  @ApiQuery({ name: 'before', required: false, type: Number })
  @Endpoint({
    summary: 'Earlier versions of the admin rules, newest first.',
    reply: PolicyRulesHistoryReply,
    auth: true,
  })
  history(
    @Query('limit') limit: string | undefined,
    @Query('before') before: string | undefined,
    @Caller() caller: EdgeCaller,
  ) {
    const query = {
      ...(limit === undefined ? {} : { limit: integer(limit) }),
      ...(before === undefined ? {} : { before: integer(before) }),
    };

    return this.core.call(subjects.policy.rules.history, query, caller);
  }

  @Post('v1/policy/simulate')
  @Endpoint({
    summary:
      'What-if decision (a §5 input → a §5 output with the full rule trail), optionally with draft rules.',
    body: PolicySimulateRequest,
    reply: PolicySimulationView,
    auth: true,
  })
  simulate(@Body() body: unknown, @Caller() caller: EdgeCaller) {
    return this.core.call(subjects.policy.decision.simulate, body, caller);
  }

  @Get('v1/policy/bundle')
  @Endpoint({
    summary: 'The current signed policy bundle (ADR-0006).',
    reply: SignedPolicyBundleView,
    auth: true,
  })
  bundle(@Caller() caller: EdgeCaller) {
    return this.core.call(subjects.policy.bundle.get, {}, caller);
  }

  @Get('v1/traits')
  @Endpoint({
    summary: 'The trait vocabulary: categories, requires, conflicts, aliases.',
    reply: TraitListReply,
    auth: true,
  })
  traits(@Caller() caller: EdgeCaller) {
    return this.core.call(subjects.policy.traits.list, {}, caller);
  }
}
