/**
 * Envoy's LEAST_REQUEST load balancer with static host weights, here set from the GPU type as an
 * operator would (H100 3 : A100 1 by default). Equal weights: the fewest active requests among
 * `choiceCount` random hosts. Unequal weights: an earliest-deadline-first schedule in which a
 * host re-enters after each pick with weight `w / (active + 1)^activeRequestBias`.
 */
import type { EndpointView, Picker, PickerFactory } from '../../../types.ts';
import { numParam } from '../../../plugin-params.ts';

/** Weights an operator would write for a fleet of H100s and A100s (about 3× the prefill speed). */
export const DEFAULT_GPU_WEIGHTS: Readonly<Record<string, number>> = { H100: 3, A100: 1 };

/** Reads `params.weights` (GPU type → weight), falling back to `DEFAULT_GPU_WEIGHTS`. */
function weightTable(params: Record<string, unknown>): [string, number][] {
  const raw = params.weights;
  const table =
    raw && typeof raw === 'object' && !Array.isArray(raw)
      ? Object.entries(raw as Record<string, unknown>).filter(
          (e): e is [string, number] => typeof e[1] === 'number' && Number.isFinite(e[1]) && e[1] > 0,
        )
      : Object.entries(DEFAULT_GPU_WEIGHTS);
  // Longest label first, so `H100-SXM` wins over `H100` when both are listed.
  return table
    .map(([k, w]): [string, number] => [k.toLowerCase(), w])
    .sort((a, b) => b[0].length - a[0].length);
}

export const createWeightedLeastRequestPicker: PickerFactory = (params) => {
  const table = weightTable(params);
  const unknownWeight = numParam(params, 'defaultWeight', 1);
  const bias = Math.max(0, numParam(params, 'activeRequestBias', 1));
  const choiceCount = Math.max(1, Math.floor(numParam(params, 'choiceCount', 2)));
  const weights = new WeakMap<EndpointView, { label: string; weight: number }>();
  /** EDF state per host: next deadline and an insertion order that breaks deadline ties. */
  const deadlines = new WeakMap<EndpointView, { at: number; order: number }>();
  let current = 0;
  let order = 0;

  /** Static weight: the operator's number for the endpoint's GPU type (label, else GPU name). */
  const weightOf = (v: EndpointView) => {
    const label = v.state.gpuType || v.gpu?.name || '';
    const cached = weights.get(v);
    if (cached && cached.label === label) return cached.weight;
    const l = label.toLowerCase();
    let weight = unknownWeight;
    for (const [key, w] of table) {
      if (l === key || l.includes(key)) {
        weight = w;
        break;
      }
    }
    weights.set(v, { label, weight });
    return weight;
  };
  const effective = (v: EndpointView) => weightOf(v) / Math.pow(v.inFlight + 1, bias);

  return {
    name: 'weighted-least-request',
    pick(cands, n, _totals, _req, ctx) {
      if (n < 2) return 0;
      const w0 = weightOf(cands[0]!);
      let equal = true;
      for (let i = 1; i < n && equal; i++) equal = weightOf(cands[i]!) === w0;
      if (equal) {
        // Envoy's unweighted path: `choiceCount` random draws, fewest active requests wins.
        let best = Math.floor(ctx.random() * n);
        for (let c = 1; c < choiceCount; c++) {
          const j = Math.floor(ctx.random() * n);
          if (cands[j]!.inFlight < cands[best]!.inFlight) best = j;
        }
        return best;
      }
      // Earliest deadline first; a host seen for the first time enters at now + 1/weight.
      let best = -1;
      let bestAt = Infinity;
      let bestOrder = Infinity;
      for (let i = 0; i < n; i++) {
        const v = cands[i]!;
        let d = deadlines.get(v);
        if (!d) deadlines.set(v, (d = { at: current + 1 / effective(v), order: order++ }));
        if (d.at < bestAt || (d.at === bestAt && d.order < bestOrder)) {
          best = i;
          bestAt = d.at;
          bestOrder = d.order;
        }
      }
      const v = cands[best]!;
      current = Math.max(current, bestAt);
      deadlines.set(v, { at: current + 1 / effective(v), order: order++ });
      return best;
    },
  } satisfies Picker;
};
