import { Module } from '@nestjs/common';

import { CoreApi } from '../core/core-api';
import { CallKeyHandlers } from './call-token/call-key.handlers';
import { callTokenSignerProvider } from './call-token/call-token.provider';
import { LaneAuditQueue } from './lane-audit';
import { LaneMetrics } from './lane-metrics';
import { OperatorLaneController } from './operator/operator-lane.controller';
import { OperatorLaneListener } from './operator/operator-lane.listener';
import { OperatorLaneService } from './operator/operator-lane.service';
import { TargetBreakers } from './operator/target-breakers';
import { PluginDirectory } from './plugin-directory';
import { EgressClient, EgressResolver } from './proxy/egress.client';
import { ProxyLaneService } from './proxy/proxy-lane.service';
import { ProxyController } from './proxy/proxy.controller';
import { ProxyHandlers } from './proxy/proxy.handlers';

/** The operator lane (plugin-to-plugin RPC) and the proxy lane (governed egress), over NATS and HTTP. */
@Module({
  controllers: [CallKeyHandlers, OperatorLaneController, ProxyHandlers, ProxyController],
  providers: [
    CoreApi,
    LaneMetrics,
    LaneAuditQueue,
    PluginDirectory,
    callTokenSignerProvider,
    TargetBreakers,
    OperatorLaneService,
    OperatorLaneListener,
    EgressResolver,
    EgressClient,
    ProxyLaneService,
  ],
})
export class LanesModule {}
