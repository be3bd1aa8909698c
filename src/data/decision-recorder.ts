/**
 * Where the router reports its decisions for people to look at (the dashboard's decision
 * explorer), and what it costs: nothing while no one watches. A pick asks `watching()` (one
 * shared-memory load); only then does the engine explain the decision (scores per scorer,
 * weights), and only then is the lease wrapped to report the attempt's outcome (first token,
 * end, status, output tokens) joined to the decision by its id.
 */
import type { DecisionKind, DecisionOutcome, DecisionRecord } from '../core/decision-record.ts';
import type { AdmissionResult } from '../scoring/admission.ts';
import type { Decision } from '../scoring/types.ts';
import type { PickHints } from './request-hints.ts';
import type { RouteLease } from './route-decider.ts';

/** A router thread's outlet for decisions; the agent wires it to the node's decision ring. */
export interface DecisionRecorder {
  /** The router thread that decides through it (0: the main thread or the only one). */
  readonly worker: number;
  /** True while someone watches; read on every pick, so it must be cheap. */
  watching(): boolean;
  decided(record: DecisionRecord): void;
  outcome(id: string, outcome: DecisionOutcome): void;
}

/** Candidates a watched decision explains (the engine's `explainTop`, 3, is for logs and traces). */
export const WATCHED_CANDIDATES = 8;

/** Longest JSON answer kept to read its `usage` from (a bigger one reports no token count). */
const MAX_JSON_BODY = 256 * 1024;

/** SSE events that carry no token: the end marker, a `usage`-only chunk, a role or finish chunk. */
const NO_TOKEN = ['[DONE]', '"choices":[]', '"content":""', '"text":""'];
/** Longest pattern counted: a chunk boundary can cut one this long. */
const CARRY = 16;

/**
 * Counts an answer's output tokens from the bytes relayed: the events of an SSE stream (one
 * token each on vLLM-style streams) less those that carry none (`NO_TOKEN`), or the
 * `usage.completion_tokens` (TGI: `details.generated_tokens`) of a JSON answer.
 */
export function createTokenCounter(): { add(chunk: Buffer): void; tokens(): number | undefined } {
  let events = 0;
  let empty = 0;
  let carry = '';
  let body = '';
  let sse: boolean | undefined;
  return {
    add(chunk) {
      const text = chunk.toString('utf8');
      sse ??= text.startsWith('data:') || text.startsWith('event:') || text.startsWith(':');
      if (!sse) {
        if (body.length + text.length <= MAX_JSON_BODY) body += text;
        return;
      }
      // The previous chunk's tail joins this one, so a pattern cut in two is found once.
      const joined = carry + text;
      events += occurrences(joined, 'data:', carry.length);
      for (const p of NO_TOKEN) empty += occurrences(joined, p, carry.length);
      carry = joined.slice(-CARRY);
    },
    tokens() {
      if (sse) return Math.max(0, events - empty);
      try {
        const json = JSON.parse(body) as {
          usage?: { completion_tokens?: unknown };
          details?: { generated_tokens?: unknown };
        };
        const n = json.usage?.completion_tokens ?? json.details?.generated_tokens;
        return typeof n === 'number' ? n : undefined;
      } catch {
        return undefined;
      }
    },
  };
}

/** Occurrences of `needle` in `text` that end after `from` (those before were counted already). */
function occurrences(text: string, needle: string, from: number): number {
  let n = 0;
  for (let i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + needle.length))
    if (i + needle.length > from) n++;
  return n;
}

/**
 * Wraps a watched decision's lease: the engine still hears every report, and the recorder gets
 * the attempt's outcome once, at its end.
 */
export function watchedLease(lease: RouteLease, id: string, recorder: DecisionRecorder): RouteLease {
  const sentAt = performance.now();
  const counter = createTokenCounter();
  let ttftMs: number | undefined;
  let withdrawn = false;
  let ended = false;
  return {
    firstToken() {
      ttftMs ??= performance.now() - sentAt;
      lease.firstToken();
    },
    withdrawn() {
      withdrawn = true;
      lease.withdrawn();
    },
    end(ok, status) {
      lease.end(ok, status);
      if (ended) return;
      ended = true;
      const outputTokens = counter.tokens();
      recorder.outcome(id, {
        ok,
        e2eMs: Math.round(performance.now() - sentAt),
        ...(status !== undefined ? { status } : {}),
        ...(ttftMs !== undefined ? { ttftMs: Math.round(ttftMs) } : {}),
        ...(outputTokens !== undefined && ok ? { outputTokens } : {}),
        ...(withdrawn ? { withdrawn } : {}),
      });
    },
    relayed: (chunk) => counter.add(chunk),
  };
}

let sequence = 0;

/** What one pick knew, for `describeDecision`. */
export interface PickFacts {
  model: string;
  hints: PickHints;
  kind: DecisionKind;
  /** The engine's explained decision; absent when it threw (`error`). */
  decision?: Decision;
  admission?: AdmissionResult;
  /** The mesh error code that stopped the request here. */
  error?: string;
}

/** A watched pick as a record (its id unique in the node: thread and sequence). */
export function describeDecision(recorder: DecisionRecorder, facts: PickFacts): DecisionRecord {
  const { decision, hints, admission } = facts;
  return {
    id: `${recorder.worker}-${++sequence}`,
    requestId: hints.requestId ?? '',
    at: Date.now(),
    model: facts.model,
    profile: decision?.profile ?? '',
    kind: facts.kind,
    worker: recorder.worker,
    ...(hints.sloClass ? { sloClass: hints.sloClass } : {}),
    ...(hints.promptTokens !== undefined ? { promptTokens: hints.promptTokens } : {}),
    ...(hints.maxTokens !== undefined ? { maxTokens: hints.maxTokens } : {}),
    candidates: decision?.candidates ?? 0,
    weights: decision?.weights ?? {},
    top: decision?.top.map((t) => ({ endpointId: t.endpointId, total: t.total, scores: t.scores })) ?? [],
    ...(decision ? { chosen: decision.target.endpointId } : {}),
    ...(decision ? { predictedWaitMs: Math.round(decision.predictedWaitMs) } : {}),
    ...(admission
      ? { admission: { admitted: admission.admitted, limitMs: admission.limitMs, reason: admission.reason } }
      : {}),
    ...(facts.error ? { error: facts.error } : {}),
  };
}
