/**
 * Partial selection of the best totals, O(n·k) with no allocation: k is small (an explanation's
 * top 3, a top-k picker), so an insertion into a sorted prefix beats sorting every candidate.
 */

/**
 * Writes into `out` the indices of the `k` highest `totals[0..n)`, best first, and returns how many
 * were written (`min(k, n)`). A `pinned` index is written first whatever its total (the picker's
 * choice leads an explanation) and the rest are ranked after it. Ties keep the earlier index.
 */
export function selectTop(totals: Float64Array, n: number, k: number, out: Int32Array, pinned = -1): number {
  let m = 0;
  if (pinned >= 0) out[m++] = pinned;
  const first = m;
  if (k <= first) return m;
  for (let i = 0; i < n; i++) {
    if (i === pinned) continue;
    const s = totals[i]!;
    if (m < k) m++;
    else if (s <= totals[out[k - 1]!]!) continue;
    let j = m - 1;
    while (j > first && totals[out[j - 1]!]! < s) {
      out[j] = out[j - 1]!;
      j--;
    }
    out[j] = i;
  }
  return m;
}
