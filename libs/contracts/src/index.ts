export { AuditActor, AuditRecord, auditCategories, auditOutcomes } from './audit/audit-record';
export type { AuditCategory, AuditOutcome } from './audit/audit-record';
export { AUDIT_BATCH_MAX_RECORDS, checkAuditBatch, checkAuditRecord } from './audit/audit-record-check';
export {
  AuditQueryReply,
  AuditQueryRequest,
  AuditRecordView,
  AuditVerifyProblem,
  AuditVerifyReply,
  AuditVerifyRequest,
  ComplianceReportReply,
  ComplianceReportRequest,
  ComplianceSafeguardView,
  auditContracts,
  auditQueryLimits,
  auditViewerTraits,
} from './audit/audit.rpc';
export { canonicalJson } from './canonical-json';
export {
  CONFIG_KEY_PATTERN,
  CONFIG_MASK,
  ConfigChangeView,
  ConfigEntryView,
  ConfigGetRequest,
  ConfigHistoryReply,
  ConfigHistoryRequest,
  ConfigPutRequest,
  ConfigValuesConstraint,
  ConfigVersionView,
  ConfigView,
  configCatalogProblems,
  configChangeProblems,
  configContracts,
  configLimits,
  configReaderTraits,
  configValueProblem,
  configWriterTraits,
  platformConfigCatalog,
  platformConfigKey,
} from './config/config.rpc';
export type {
  BooleanConfigKey,
  ConfigCatalog,
  ConfigKeySpec,
  ConfigValue,
  IntegerConfigKey,
  PlatformConfigEntry,
  PlatformConfigKey,
  StringConfigKey,
} from './config/config.rpc';
export { ErrorCode, VivifiedError, errorStatus, isErrorEnvelope } from './errors';
export type { ErrorEnvelope, FieldError, VivifiedErrorOptions } from './errors';
export { classifications, formatClassification, headers, parseClassification } from './headers';
export type { Classification } from './headers';
export {
  BACKUP_CODE_PATTERN,
  ChangePasswordReply,
  ChangePasswordRequest,
  BackupCodesReply,
  BackupCodesRequest,
  LOGIN_THROTTLED_REASON,
  LoginReply,
  SessionOrPasswordChangeReply,
  LoginRequest,
  LogoutAllReply,
  LogoutAllRequest,
  MeRequest,
  PASSWORD_MAX_LENGTH,
  RoleListReply,
  RoleListRequest,
  RoleView,
  TOTP_CODE_PATTERN,
  TotpDisableReply,
  TotpDisableRequest,
  TotpEnableReply,
  TotpEnableRequest,
  TotpSetupReply,
  TotpSetupRequest,
  UNKNOWN_ROLE_REASON,
  USERNAME_PATTERN,
  UserCreateRequest,
  UserGetRequest,
  UserListReply,
  UserListRequest,
  UserProfile,
  UserSetRolesRequest,
  UserUnlockRequest,
  UserUpdateRequest,
  UserView,
  accountsContracts,
  defaultRoleNames,
  loginRetryAfterSeconds,
} from './identity/accounts.rpc';
export {
  MFA_COVERAGE_MAX_IDS,
  MfaCoverageAdminUsers,
  MfaCoveragePhiUsers,
  MfaCoverageReply,
  MfaCoverageRequest,
  MfaCoverageUsers,
  mfaCoverageContracts,
  mfaCoverageReaderTraits,
} from './identity/accounts.rpc';
export { AccessToken, JwksEntry, TokenPair, parseSubject, tokenContract } from './identity/tokens';
export type { TokenClaims } from './identity/tokens';
export {
  ApiKeyList,
  ApiKeySummary,
  ApiKeyTokenRequest,
  CreateApiKeyRequest,
  CreatedApiKey,
  JwksReply,
  JwksRequest,
  ListApiKeysRequest,
  LogoutReply,
  LogoutRequest,
  PluginCredential,
  PluginCredentialRequest,
  PluginCredentialRevoked,
  PluginTokenRequest,
  RefreshRequest,
  RevokeApiKeyReply,
  RevokeApiKeyRequest,
  RotateKeyReply,
  RotateKeyRequest,
  ServiceTokenRequest,
  tokensContracts,
} from './identity/tokens.rpc';
export {
  PasskeyAssertionResponse,
  PasskeyAttestationResponse,
  PasskeyAuthenticationCredential,
  PasskeyList,
  PasskeyListRequest,
  PasskeyLoginOptionsReply,
  PasskeyLoginOptionsRequest,
  PasskeyLoginVerifyRequest,
  PasskeyRegisterOptionsReply,
  PasskeyRegisterOptionsRequest,
  PasskeyRegisterVerifyRequest,
  PasskeyRegistrationCredential,
  PasskeyRemoveReply,
  PasskeyRemoveRequest,
  PasskeySummary,
  webauthnContracts,
} from './identity/webauthn.rpc';
export type {
  PasskeyCreationOptionsJson,
  PasskeyDescriptorJson,
  PasskeyRequestOptionsJson,
} from './identity/webauthn.rpc';
export {
  DocumentStoredV1,
  EventFieldSpec,
  MessageSendRequestedV1,
  MessageSentV1,
  NotificationRequestedV1,
  NotificationSentV1,
  PatientRecordAccessedV1,
  UserCreatedV1,
  UserDeactivatedV1,
  UserUpdatedV1,
  canonicalEvent,
  canonicalEvents,
} from './events/canonical-events';
export type { CanonicalEventDefinition, EventFieldType } from './events/canonical-events';
export {
  EVENT_ID_PATTERN,
  EventEnvelope,
  EventPublishReply,
  EventSource,
  SCHEMA_VERSION_PATTERN,
  TRACE_ID_PATTERN,
} from './events/envelope';
export type { DeliveryAck, StoredEventEnvelope } from './events/envelope';
export {
  DeadLetterReplayReply,
  DeadLetterReplayRequest,
  EventSubscriptionRequest,
  EventTypeListReply,
  EventTypeListRequest,
  EventTypeRegisterRequest,
  EventTypeView,
  NAMESPACED_EVENT_TYPE_PATTERN,
  SubscriptionListReply,
  SubscriptionListRequest,
  SubscriptionResumeRequest,
  SubscriptionView,
  WebhookSecretReply,
  WebhookSecretRequest,
  eventPublishAccess,
  eventsContracts,
  subscriptionStates,
} from './events/events.rpc';
export type { SubscriptionState } from './events/events.rpc';
export { InfoReply, InfoRequest } from './info/info.rpc';
export { CallKey, CallKeyReply, CallKeyRequest, callTokenContract } from './lanes/call-token';
export type { CallTokenClaims } from './lanes/call-token';
export { lanesContracts } from './lanes/lanes.rpc';
export {
  PROXY_URL_MAX_LENGTH,
  ProxyRequest,
  ProxyResponse,
  proxyBodyEncodings,
  proxyMethods,
} from './lanes/proxy';
export type { ProxyBodyEncoding, ProxyMethod } from './lanes/proxy';
export { defaultOpsPorts, opsPortEnv } from './ports';
export {
  PolicyDecideRequest,
  PolicyDecisionView,
  PolicyPartyInput,
  PolicyPrincipalInput,
  PolicyResourceInput,
  PolicySimulateRequest,
  PolicySimulationView,
  PolicyTrailEntryView,
} from './policy/decision.rpc';
export { policyContracts, policyReaderTraits, policyWriterTraits } from './policy/policy.rpc';
export {
  PolicyBundleGetRequest,
  PolicyRulesGetRequest,
  PolicyRulesHistoryReply,
  PolicyRulesHistoryRequest,
  PolicyRulesPutRequest,
  PolicyRulesView,
  PolicyRuleVersionView,
  SignedPolicyBundleView,
  policyBundleKey,
  policyRuleLimits,
} from './policy/rules.rpc';
export type { AdminRuleBody, BreakGlassRuleBody, OperatorRuleBody, ProxyRuleBody } from './policy/rules.rpc';
export { TraitListReply, TraitListRequest, TraitView } from './policy/traits.rpc';
export { PUBLIC, defineRpc } from './rpc';
export type { Access, PrincipalKind, RpcContract } from './rpc';
export { rpcContract, rpcContracts } from './rpc-map';
export type { RpcMap, RpcReply, RpcRequest, RpcSubject } from './rpc-map';
export {
  auditLevels,
  BoundedJsonObjectConstraint,
  configSchemaProblem,
  CONTRACT_NAME_PATTERN,
  deliveryModes,
  EVENT_TYPE_PATTERN,
  HEALTH_CHECK_PATH_PATTERN,
  healthCheckTypes,
  HIPAA_CONTROL_PATTERN,
  ManifestCompliance,
  ManifestDelivery,
  ManifestEvents,
  ManifestHealthCheck,
  manifestLimits,
  ManifestOperation,
  ManifestResources,
  ManifestSecurity,
  OPERATION_NAME_PATTERN,
  PLUGIN_ID_PATTERN,
  PluginManifest,
  RATE_LIMIT_NAME_PATTERN,
  RateLimitMapConstraint,
  rateLimitsProblem,
  SEMVER_PATTERN,
  TRAIT_NAME_PATTERN,
} from './registry/manifest';
export type { DeliveryMode, HealthCheckType, ManifestAuditLevel } from './registry/manifest';
export { PluginStatusEntry, pluginStatuses } from './registry/plugin-status';
export type { PluginStatus } from './registry/plugin-status';
export {
  heartbeatStatuses,
  ManifestViolationView,
  PluginConfigGetRequest,
  PluginConfigHistoryReply,
  PluginConfigPutRequest,
  PluginConfigSelfReply,
  PluginConfigVersionView,
  PluginConfigView,
  PluginCredentialsView,
  pluginHealthStates,
  PluginHeartbeatReply,
  PluginHeartbeatRequest,
  PluginIdRequest,
  PluginLifecycleMessage,
  PluginListReply,
  PluginListRequest,
  PluginNatsCredentialsReply,
  PluginPendingUpgradeView,
  PluginRegisterRequest,
  PluginRegisterWithTokenRequest,
  PluginSensitiveView,
  PluginSummary,
  PluginTransitionReply,
  PluginTransitionRequest,
  PluginValidateReply,
  PluginValidateRequest,
  PluginView,
  RegistrationTokenCreated,
  RegistrationTokenCreateRequest,
  registrationTokenCreatorTraits,
  registrationTokenLimits,
  registryContracts,
  sensitiveApproverTraits,
} from './registry/registry.rpc';
export type { HeartbeatStatus, PluginHealth } from './registry/registry.rpc';
export { buckets, bucketsOwnedBy, consumers, streams, streamsOwnedBy } from './streams';
export type { BucketDefinition, ConsumerDefinition, StreamDefinition } from './streams';
export {
  SubjectTokenError,
  dynamicSubjects,
  eventTypeTokens,
  infoSubjects,
  serviceNames,
  subjectToken,
  subjects,
} from './subjects';
export type { ServiceName } from './subjects';
export { parsePayload, validatePayload } from './validation';
export type { PayloadClass, ValidationResult } from './validation';
export {
  RequiredPasswordChangeRequest,
  UserMfaResetReply,
  UserMfaResetRequest,
  UserPasswordResetReply,
  UserPasswordResetRequest,
} from './identity/accounts.rpc';
export { PasskeyLoginReply } from './identity/webauthn.rpc';
export {
  SessionRevocationEntry,
  sessionRevocationKey,
  userIdOfSessionRevocationKey,
} from './identity/sessions';
