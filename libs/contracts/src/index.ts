export { AuditActor, AuditRecord, auditCategories, auditOutcomes } from './audit/audit-record';
export type { AuditCategory, AuditOutcome } from './audit/audit-record';
export { ErrorCode, VivifiedError, errorStatus, isErrorEnvelope } from './errors';
export type { ErrorEnvelope, FieldError, VivifiedErrorOptions } from './errors';
export { classifications, formatClassification, headers, parseClassification } from './headers';
export type { Classification } from './headers';
export { InfoReply, InfoRequest } from './info/info.rpc';
export { defaultOpsPorts, opsPortEnv } from './ports';
export { PUBLIC, defineRpc } from './rpc';
export type { Access, RpcContract } from './rpc';
export { rpcContract, rpcContracts } from './rpc-map';
export type { RpcMap, RpcReply, RpcRequest, RpcSubject } from './rpc-map';
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
