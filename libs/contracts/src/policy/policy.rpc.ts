import type { Access } from '../rpc';
import { defineRpc } from '../rpc';
import { subjects } from '../subjects';
import {
  PolicyDecideRequest,
  PolicyDecisionView,
  PolicySimulateRequest,
  PolicySimulationView,
} from './decision.rpc';
import {
  PolicyBundleGetRequest,
  PolicyRulesGetRequest,
  PolicyRulesHistoryReply,
  PolicyRulesHistoryRequest,
  PolicyRulesPutRequest,
  PolicyRulesView,
  SignedPolicyBundleView,
} from './rules.rpc';
import { TraitListReply, TraitListRequest } from './traits.rpc';

/** Users who may read the admin rules, their history and the bundle (the same list as the engine's policy.read). */
export const policyReaderTraits = ['admin', 'security_admin', 'compliance_officer'] as const;

/** Users who may change the admin rules and run what-if decisions. */
export const policyWriterTraits = ['admin', 'security_admin'] as const;

const reader = (action: string): Access => ({ action, anyTrait: policyReaderTraits, kinds: ['user'] });
const writer = (action: string): Access => ({ action, anyTrait: policyWriterTraits, kinds: ['user'] });

/** The policy service's contracts, keyed by subject. Action names are the policy engine's platform actions. */
export const policyContracts = {
  [subjects.policy.rules.get]: defineRpc({
    subject: subjects.policy.rules.get,
    request: PolicyRulesGetRequest,
    reply: PolicyRulesView,
    access: reader('policy.rule.read'),
    summary: 'The current admin rules and their version.',
  }),
  [subjects.policy.rules.put]: defineRpc({
    subject: subjects.policy.rules.put,
    request: PolicyRulesPutRequest,
    reply: PolicyRulesView,
    access: writer('policy.rule.write'),
    summary: 'Replaces the admin rules: a new version, signed and published as the policy bundle.',
    timeoutMs: 10_000,
  }),
  [subjects.policy.rules.history]: defineRpc({
    subject: subjects.policy.rules.history,
    request: PolicyRulesHistoryRequest,
    reply: PolicyRulesHistoryReply,
    access: reader('policy.rule.read'),
    summary: 'Earlier versions of the admin rules, newest first, with who changed them and why.',
  }),
  [subjects.policy.bundle.get]: defineRpc({
    subject: subjects.policy.bundle.get,
    request: PolicyBundleGetRequest,
    reply: SignedPolicyBundleView,
    access: reader('policy.rule.read'),
    summary: 'The current signed policy bundle, as published to the vivified_policy bucket.',
  }),
  [subjects.policy.decision.decide]: defineRpc({
    subject: subjects.policy.decision.decide,
    request: PolicyDecideRequest,
    reply: PolicyDecisionView,
    access: { action: 'policy.decision.decide', kinds: ['service'] },
    summary: 'A decision (ARCHITECTURE §5) from the current bundle, for core services.',
    timeoutMs: 2_000,
  }),
  [subjects.policy.decision.simulate]: defineRpc({
    subject: subjects.policy.decision.simulate,
    request: PolicySimulateRequest,
    reply: PolicySimulationView,
    access: writer('policy.decision.simulate'),
    summary: 'What-if decision with the full rule trail, against the current rules or a draft set.',
  }),
  [subjects.policy.traits.list]: defineRpc({
    subject: subjects.policy.traits.list,
    request: TraitListRequest,
    reply: TraitListReply,
    access: { action: 'policy.trait.list' },
    summary: 'The trait vocabulary: categories, requires, conflicts, aliases.',
  }),
} as const;
