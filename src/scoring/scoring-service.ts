/**
 * `infermesh.scoring.v1.Scoring` over a scoring engine: ranked targets with per-scorer reasons,
 * admission (the same rule and answer as the router's 429), outcome reports that feed latency and
 * service-rate estimates, and a health check. For routers outside this process; meshd's own router
 * calls the engine directly.
 */
import { randomUUID } from 'node:crypto';
import { timestampNow } from '@bufbuild/protobuf/wkt';
import type { ConnectRouter, ServiceImpl } from '@connectrpc/connect';
import { excerpt, MeshError } from '../core/errors.ts';
import type { Protocol } from '../core/types.ts';
import { PROTOCOLS } from '../core/types.ts';
import { admit, DEFAULT_ADMISSION, type AdmissionPolicy } from './admission.ts';
import {
  HealthStatus,
  RequestOutcome,
  Scoring,
  SloClass as ProtoSloClass,
} from '../gen/infermesh/scoring/v1/scoring_pb.js';
import type { RouteTicket, ScoringEngine } from './engine.ts';
import type { EndpointView, ScoringRequest, SloClass } from './types.ts';

export interface ScoringServiceOptions {
  engine: ScoringEngine;
  admission?: AdmissionPolicy;
  /** Most admissions awaiting their outcome report; the oldest are dropped past it. */
  maxOpenAdmissions?: number;
}

const sloOf = (s: ProtoSloClass): SloClass | undefined =>
  s === ProtoSloClass.LATENCY ? 'latency' : s === ProtoSloClass.THROUGHPUT ? 'throughput' : undefined;

function createScoringService(options: ScoringServiceOptions): ServiceImpl<typeof Scoring> {
  const { engine } = options;
  const policy = options.admission ?? DEFAULT_ADMISSION;
  const maxOpen = options.maxOpenAdmissions ?? 100_000;
  const open = new Map<string, RouteTicket>();

  const findView = (endpointId: string, node: string, model: string): EndpointView | undefined =>
    engine.fleet
      .forModel(model)
      .find((v) => (endpointId ? v.endpointId === endpointId : v.state.node === node));

  return {
    scoreTargets(req) {
      const protocol =
        req.protocol && (PROTOCOLS as readonly string[]).includes(req.protocol)
          ? (req.protocol as Protocol)
          : undefined;
      const request: ScoringRequest = {
        model: req.model,
        promptTokens: req.estimatedTokens,
        maxTokens: req.maxTokens || undefined,
        blockHashes: req.promptBlockHashes,
        sloClass: sloOf(req.sloClass),
        timeoutMs: req.timeoutSeconds > 0 ? req.timeoutSeconds * 1000 : undefined,
        protocol,
        zone: req.zone || undefined,
        lora: req.loraAdapter || undefined,
        migProfile: req.filters.mig_profile,
        exclude: req.excludeEndpointIds.length > 0 ? new Set(req.excludeEndpointIds) : undefined,
        requestId: req.requestId,
      };
      const k = req.topK > 0 ? req.topK : 3;
      const decision = engine.decide(request, req.profile || undefined, k);
      const reason = engine.explain(decision);
      const targets = decision.top.slice(0, k).map((t) => {
        const v = engine.fleet.get(t.endpointId, req.model);
        const wait = v ? engine.predictWaitMs(v) : 0;
        return {
          nodeId: v?.state.node ?? '',
          gpuUuid: v?.gpu?.uuid ?? '',
          score: t.total,
          estimatedQueueTimeMs: wait,
          estimatedLatencyMs: v && Number.isFinite(v.observedP95Ms) ? v.observedP95Ms : wait,
          loadFactor: v ? Math.min(1, v.state.batchFullness ?? v.state.kvCacheUsage ?? 0) : 0,
          reason,
          endpointId: t.endpointId,
          endpointUrl: v?.state.endpointUrl ?? '',
          scores: t.scores,
        };
      });
      return { targets, requestId: req.requestId, timestamp: timestampNow() };
    },
    admit(req) {
      const view = findView(req.endpointId, req.targetNode, req.model);
      if (!view)
        throw new MeshError(
          'not_found',
          `no endpoint ${req.endpointId || req.targetNode} serves \`${excerpt(req.model)}\``,
        );
      const wait = engine.predictWaitMs(view);
      const verdict = admit(
        { predictedWaitMs: wait, sloClass: sloOf(req.sloClass), timeoutMs: req.timeoutSeconds * 1000 },
        policy,
      );
      let token = '';
      if (verdict.admitted) {
        token = randomUUID();
        open.set(token, engine.routed(view, { model: req.model, promptTokens: req.estimatedTokens }, wait));
        if (open.size > maxOpen) {
          const oldest = open.keys().next().value as string;
          const t = open.get(oldest);
          if (t) engine.finished(t, { ok: false });
          open.delete(oldest);
        }
      }
      return {
        admitted: verdict.admitted,
        reason: verdict.reason,
        estimatedWaitTimeMs: wait,
        requestId: req.requestId,
        admissionToken: token,
        retryAfterSeconds: verdict.retryAfterSeconds ?? 0,
      };
    },
    reportOutcome(req) {
      const ticket = open.get(req.admissionToken);
      if (!ticket) return { success: false, message: 'unknown or expired admission token' };
      open.delete(req.admissionToken);
      const ok = req.outcome === RequestOutcome.SUCCESS;
      if (ok && req.actualTtftMs > 0) engine.firstToken(ticket, req.actualTtftMs);
      engine.finished(ticket, { ok, e2eMs: req.actualLatencyMs > 0 ? req.actualLatencyMs : undefined });
      return { success: true, message: '' };
    },
    healthCheck() {
      const endpoints = engine.fleet.all();
      const routable = endpoints.filter((v) => v.state.loaded && v.state.health !== 'unhealthy').length;
      return {
        status: routable > 0 ? HealthStatus.SERVING : HealthStatus.NOT_SERVING,
        message: routable > 0 ? '' : 'no routable endpoint',
        details: {
          profile: engine.defaultProfile,
          endpoints: String(endpoints.length),
          routable: String(routable),
          models: engine.fleet.models().join(','),
        },
      };
    },
  };
}

/** Registers the Scoring service on a Connect router. */
export function scoringRoutes(options: ScoringServiceOptions): (router: ConnectRouter) => void {
  const impl = createScoringService(options);
  return (router) => {
    router.service(Scoring, impl);
  };
}
