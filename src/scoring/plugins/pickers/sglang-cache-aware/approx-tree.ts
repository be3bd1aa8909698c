/**
 * SGLang router's approximate radix tree, over what this router knows of a prompt: its chained
 * block hashes. One multi-tenant tree (a tenant is an endpoint): a node is a full prompt block,
 * named by its chained hash, so a hash names the whole prefix up to it and the tree needs no
 * parent links. A tenant's size is the tokens of the nodes it holds (SGLang counts characters);
 * the trailing partial block of a prompt is a leaf of its own, so every request grows the tree of
 * the endpoint it went to, as SGLang's text does. Eviction removes a tenant's least recently used
 * leaves until it fits (SGLang's `evict_tenant_by_size`).
 *
 * Recency is kept per tenant as an insertion-ordered map: an insert touches the leaf first and the
 * root last, so an ancestor is always more recent than its descendants and the oldest entry is
 * always one of the tenant's leaves.
 */

/** Keys of tail (partial-block) leaves start above every 32-bit hash and are never matched. */
const TAIL_BASE = 2 ** 32;

interface Tenant {
  /** Node key → its tokens, least recently used first. */
  readonly lru: Map<number, number>;
  tokens: number;
}

export interface ApproxTree<T> {
  /** Records that `tenant` was sent a prompt of these full blocks plus `tailTokens` more tokens. */
  insert(tenant: T, hashes: ArrayLike<number>, blockTokens: number, tailTokens: number): void;
  /**
   * The longest leading run of `hashes` some tenant accepted by `isCandidate` holds, in blocks;
   * those tenants are written to `out` (cleared first).
   */
  match(hashes: ArrayLike<number>, isCandidate: (t: T) => boolean, out: T[]): number;
  /** Tokens a tenant's tree holds (0 for a tenant never sent anything). */
  size(tenant: T): number;
  /** Evicts each tenant's least recently used leaves until it holds at most `maxTokens`. */
  evict(maxTokens: number): void;
}

export function createApproxTree<T>(): ApproxTree<T> {
  const holders = new Map<number, Set<T>>();
  const tenants = new Map<T, Tenant>();
  let nextTail = TAIL_BASE;

  const touch = (t: Tenant, tenant: T, key: number, tokens: number) => {
    const had = t.lru.get(key);
    if (had !== undefined) {
      t.lru.delete(key);
      t.lru.set(key, had);
      return;
    }
    t.lru.set(key, tokens);
    t.tokens += tokens;
    if (key >= TAIL_BASE) return;
    let set = holders.get(key);
    if (!set) holders.set(key, (set = new Set()));
    set.add(tenant);
  };

  return {
    insert(tenant, hashes, blockTokens, tailTokens) {
      let t = tenants.get(tenant);
      if (!t) tenants.set(tenant, (t = { lru: new Map(), tokens: 0 }));
      if (tailTokens > 0) touch(t, tenant, nextTail++, tailTokens);
      for (let i = hashes.length - 1; i >= 0; i--) touch(t, tenant, hashes[i] ?? 0, blockTokens);
    },
    match(hashes, isCandidate, out) {
      out.length = 0;
      let depth = 0;
      let last: Set<T> | undefined;
      for (let i = 0; i < hashes.length; i++) {
        const set = holders.get(hashes[i] ?? 0);
        if (!set) break;
        let any = false;
        for (const tenant of set) {
          if (isCandidate(tenant)) {
            any = true;
            break;
          }
        }
        if (!any) break;
        depth = i + 1;
        last = set;
      }
      if (last) for (const tenant of last) if (isCandidate(tenant)) out.push(tenant);
      return depth;
    },
    size: (tenant) => tenants.get(tenant)?.tokens ?? 0,
    evict(maxTokens) {
      for (const [tenant, t] of tenants) {
        while (t.tokens > maxTokens && t.lru.size > 0) {
          const [key, tokens] = t.lru.entries().next().value as [number, number];
          t.lru.delete(key);
          t.tokens -= tokens;
          if (key >= TAIL_BASE) continue;
          const set = holders.get(key);
          set?.delete(tenant);
          if (set?.size === 0) holders.delete(key);
        }
      }
    },
  };
}
