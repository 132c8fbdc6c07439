// what the lanes use of the gateway around them, re-exported so the lane folders import one level up
export type { GatewayConfig } from '../config';
export { CoreApi } from '../core/core-api';
export { callerOf } from '../http/caller.decorator';
export { Endpoint } from '../http/endpoint.decorator';
