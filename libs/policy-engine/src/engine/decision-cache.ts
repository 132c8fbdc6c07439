import type { PolicyBundle } from '../bundle/policy-bundle';
import type { PolicyDecision, PolicyInput, PolicyParty } from '../policy-types';
import { classificationBits } from './evaluation';
import type { PolicyDecider } from './policy-engine';
import { PolicyEngine } from './policy-engine';

/** Options of {@link CachedPolicyEngine}. */
export interface DecisionCacheOptions {
  /**
   * Most decisions kept; the least recently used go first.
   * @default 10000
   */
  readonly maxEntries?: number;
}

/** Counters of a decision cache. */
export interface DecisionCacheStats {
  /** Decisions answered from the cache. */
  readonly hits: number;
  /** Decisions evaluated. */
  readonly misses: number;
  /** Entries dropped to stay within maxEntries. */
  readonly evictions: number;
  /** Entries held. */
  readonly size: number;
}

interface Entry {
  readonly decision: PolicyDecision;
  /** Reuse window in epoch ms: infinite for decisions that do not read the clock. */
  readonly from: number;
  readonly until: number;
  /** Tick of the last refresh, for the LRU order. */
  stamp: number;
}

/** Thrown by the key builder for an input it cannot encode faithfully; such inputs are never cached. */
const UNCACHEABLE = new Error('uncacheable');

function seg(value: unknown): string {
  if (typeof value !== 'string') {
    throw UNCACHEABLE;
  }

  return `${value.length}:${value}`;
}

/** An optional string the engine treats alike whenever it is absent or not a string. */
function opt(value: unknown): string {
  return typeof value === 'string' ? `${value.length}:${value}` : '-';
}

function list(values: unknown): string {
  if (!Array.isArray(values)) {
    throw UNCACHEABLE;
  }
  let key = `${values.length}[`;
  for (let i = 0; i < values.length; i += 1) {
    key += seg(values[i]);
  }

  return key;
}

function party(value: PolicyParty | undefined): string {
  if (value === undefined) {
    return '-';
  }
  if (typeof value !== 'object' || value === null) {
    throw UNCACHEABLE;
  }

  return `P${seg(value.pluginId)}${list(value.traits)}`;
}

/**
 * The cache key of an input: every field a decision reads, each length-prefixed so that distinct inputs never
 * share a key — action, principal kind, id, status and traits (in the given order), resource type, id and
 * owner, the classifications as a set, source and target ids and traits, `context.operation` and
 * `context.domain`. `now` is not in it: decisions that read the clock carry a reuse window instead.
 * Throws for inputs it cannot encode (they are evaluated, never cached).
 */
export function decisionCacheKey(input: PolicyInput): string {
  const { principal, resource, context, now } = input;
  if (
    typeof principal !== 'object' ||
    principal === null ||
    typeof resource !== 'object' ||
    resource === null
  ) {
    throw UNCACHEABLE;
  }
  if (
    (context !== undefined && (typeof context !== 'object' || context === null)) ||
    (now !== undefined && !Number.isFinite(now))
  ) {
    throw UNCACHEABLE;
  }
  if (resource.id !== undefined && typeof resource.id !== 'string') {
    throw UNCACHEABLE;
  }
  if (resource.ownerPluginId !== undefined && typeof resource.ownerPluginId !== 'string') {
    throw UNCACHEABLE;
  }
  const classification = input.classification;
  const bits = Array.isArray(classification) ? classificationBits(classification) : -2;
  if (bits === -2) {
    throw UNCACHEABLE;
  }

  return (
    seg(input.action) +
    seg(principal.kind) +
    seg(principal.id) +
    seg(principal.status) +
    list(principal.traits) +
    seg(resource.type) +
    opt(resource.id) +
    opt(resource.ownerPluginId) +
    (bits >= 0 ? `c${bits}` : `C${list(classification)}`) +
    party(input.source) +
    party(input.target) +
    opt(context?.operation) +
    opt(context?.domain)
  );
}

/**
 * A {@link PolicyEngine} with a bounded LRU cache of decisions keyed by the bundle version and
 * {@link decisionCacheKey}. Decisions
 * made under a break-glass grant are reused only within the grant's window and only for inputs that carry
 * `now`; other decisions that read the clock are not cached. Simulations are never cached.
 */
export class CachedPolicyEngine implements PolicyDecider {
  private engine: PolicyEngine;
  private versionTag: string;
  private readonly entries = new Map<string, Entry>();
  private readonly maxEntries: number;
  private tick = 0;
  private hits = 0;
  private misses = 0;
  private evictions = 0;

  constructor(bundle: PolicyBundle | PolicyEngine, options: DecisionCacheOptions = {}) {
    this.engine = bundle instanceof PolicyEngine ? bundle : new PolicyEngine(bundle);
    this.versionTag = `v${this.engine.bundleVersion}|`;
    this.maxEntries = Math.max(1, Math.floor(options.maxEntries ?? 10_000));
  }

  /** The version of the current bundle. */
  get bundleVersion(): number {
    return this.engine.bundleVersion;
  }

  /** Swaps in a new bundle (hot reload) and drops every cached decision. @throws PolicyBundleError */
  setBundle(bundle: PolicyBundle): void {
    this.engine = new PolicyEngine(bundle);
    this.versionTag = `v${this.engine.bundleVersion}|`;
    this.clear();
  }

  /** Decides, from the cache when the same input was decided before with this bundle. */
  decide(input: PolicyInput): PolicyDecision {
    let key: string;
    try {
      key = this.versionTag + decisionCacheKey(input);
    } catch {
      this.misses += 1;

      return this.engine.decide(input);
    }
    const entry = this.entries.get(key);
    const tick = (this.tick += 1);
    if (
      entry !== undefined &&
      (entry.until === Number.POSITIVE_INFINITY || this.inWindow(entry, input.now))
    ) {
      if (tick - entry.stamp > this.maxEntries >> 1) {
        // refreshing only entries from the older half keeps hits cheap and the order close to LRU
        this.entries.delete(key);
        this.entries.set(key, entry);
        entry.stamp = tick;
      }
      this.hits += 1;

      return entry.decision;
    }
    this.misses += 1;
    const { decision, reuse } = this.engine.outcome(input);
    if (reuse.kind === 'never') {
      return decision;
    }
    if (entry !== undefined) {
      this.entries.delete(key);
    } else if (this.entries.size >= this.maxEntries) {
      this.entries.delete(this.entries.keys().next().value!);
      this.evictions += 1;
    }
    const window =
      reuse.kind === 'window'
        ? { from: reuse.from, until: reuse.until }
        : { from: Number.NEGATIVE_INFINITY, until: Number.POSITIVE_INFINITY };
    this.entries.set(key, { decision, ...window, stamp: tick });

    return decision;
  }

  /** Simulates with the current bundle; never cached. */
  simulate(input: PolicyInput): PolicyDecision {
    return this.engine.simulate(input);
  }

  /** Drops every cached decision. */
  clear(): void {
    this.entries.clear();
  }

  /** Hit, miss and eviction counters and the current size. */
  stats(): DecisionCacheStats {
    return { hits: this.hits, misses: this.misses, evictions: this.evictions, size: this.entries.size };
  }

  private inWindow(entry: Entry, now: number | undefined): boolean {
    return now !== undefined && entry.from <= now && now < entry.until;
  }
}
