import type { PolicyBundle } from '../bundle/policy-bundle';
import type { PolicyDecision, PolicyInput, PolicyParty } from '../policy-types';
import { listMask } from '../traits/trait-mask';
import { classificationBits } from './input-shape';
import type { PolicyDecider } from './policy-engine';
import { PolicyEngine } from './policy-engine';

/** Options of {@link CachedPolicyEngine}. */
export interface DecisionCacheOptions {
  /**
   * Most decisions kept (rounded down to an even number, at least 2); the least recently used go first.
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
  /** Entries held (one copied to the young generation on a hit counts twice until the old one is dropped). */
  readonly size: number;
}

/** The fields of an input a decision reads, normalized; filled in place for each lookup. */
interface Probe {
  action: string;
  kind: string;
  id: string;
  status: string;
  lo: number;
  hi: number;
  type: string;
  resourceId: string | undefined;
  owner: string | undefined;
  classes: number;
  sourceId: string | undefined;
  sourceLo: number;
  sourceHi: number;
  targetId: string | undefined;
  targetLo: number;
  targetHi: number;
  operation: string | undefined;
  domain: string | undefined;
}

/**
 * A cached decision with the fields it was made for. A class with every field set in the constructor: entries
 * built by object spread got const-tracked fields, which made comparing them an order of magnitude slower.
 */
class Entry implements Readonly<Probe> {
  readonly action: string;
  readonly kind: string;
  readonly id: string;
  readonly status: string;
  readonly lo: number;
  readonly hi: number;
  readonly type: string;
  readonly resourceId: string | undefined;
  readonly owner: string | undefined;
  readonly classes: number;
  readonly sourceId: string | undefined;
  readonly sourceLo: number;
  readonly sourceHi: number;
  readonly targetId: string | undefined;
  readonly targetLo: number;
  readonly targetHi: number;
  readonly operation: string | undefined;
  readonly domain: string | undefined;

  constructor(
    probe: Probe,
    readonly decision: PolicyDecision,
    /** Reuse window in epoch ms: infinite for decisions that do not read the clock. */
    readonly from: number,
    readonly until: number,
  ) {
    this.action = probe.action;
    this.kind = probe.kind;
    this.id = probe.id;
    this.status = probe.status;
    this.lo = probe.lo;
    this.hi = probe.hi;
    this.type = probe.type;
    this.resourceId = probe.resourceId;
    this.owner = probe.owner;
    this.classes = probe.classes;
    this.sourceId = probe.sourceId;
    this.sourceLo = probe.sourceLo;
    this.sourceHi = probe.sourceHi;
    this.targetId = probe.targetId;
    this.targetLo = probe.targetLo;
    this.targetHi = probe.targetHi;
    this.operation = probe.operation;
    this.domain = probe.domain;
  }
}

/** Entries kept for one action and principal (resource ids, classifications, lanes); beyond it the oldest goes. */
const MAX_VARIANTS = 64;

function emptyProbe(): Probe {
  return {
    action: '',
    kind: '',
    id: '',
    status: '',
    lo: 0,
    hi: 0,
    type: '',
    resourceId: undefined,
    owner: undefined,
    classes: 0,
    sourceId: undefined,
    sourceLo: 0,
    sourceHi: 0,
    targetId: undefined,
    targetLo: 0,
    targetHi: 0,
    operation: undefined,
    domain: undefined,
  };
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function fillParty(probe: Probe, party: PolicyParty | undefined, side: 'source' | 'target'): boolean {
  let id: string | undefined;
  let lo = 0;
  let hi = 0;
  if (party !== undefined) {
    if (
      typeof party !== 'object' ||
      party === null ||
      typeof party.pluginId !== 'string' ||
      !Array.isArray(party.traits)
    ) {
      return false;
    }
    const mask = listMask(party.traits);
    if (mask === undefined) {
      return false;
    }
    ({ lo, hi } = mask.mask);
    id = party.pluginId;
  }
  if (side === 'source') {
    probe.sourceId = id;
    probe.sourceLo = lo;
    probe.sourceHi = hi;
  } else {
    probe.targetId = id;
    probe.targetLo = lo;
    probe.targetHi = hi;
  }

  return true;
}

/**
 * Fills the probe with every field a decision reads: action; principal kind, id and status; the principal's
 * traits as their canonical mask (a decision reads nothing else of them: aliases resolved, unknown names
 * ignored, order and duplicates irrelevant); resource type, id and owner; the classifications as a set; source
 * and target ids and trait masks; `context.operation` and `context.domain` (the engine treats a value that is
 * not a string like an absent one). `now` is not a field: decisions that read the clock carry a reuse window.
 * False for an input that cannot be keyed faithfully (malformed, or an unknown classification): it is
 * evaluated and never cached.
 */
function fill(probe: Probe, input: PolicyInput): boolean {
  if (typeof input !== 'object' || input === null) {
    return false;
  }
  const { principal, resource, context, now } = input;
  if (
    typeof input.action !== 'string' ||
    typeof principal !== 'object' ||
    principal === null ||
    typeof principal.kind !== 'string' ||
    typeof principal.id !== 'string' ||
    typeof principal.status !== 'string' ||
    !Array.isArray(principal.traits) ||
    typeof resource !== 'object' ||
    resource === null ||
    typeof resource.type !== 'string' ||
    (resource.id !== undefined && typeof resource.id !== 'string') ||
    (resource.ownerPluginId !== undefined && typeof resource.ownerPluginId !== 'string') ||
    !Array.isArray(input.classification) ||
    (context !== undefined && (typeof context !== 'object' || context === null)) ||
    (now !== undefined && !Number.isFinite(now))
  ) {
    return false;
  }
  const traits = listMask(principal.traits);
  const classes = classificationBits(input.classification);
  if (
    traits === undefined ||
    classes < 0 ||
    !fillParty(probe, input.source, 'source') ||
    !fillParty(probe, input.target, 'target')
  ) {
    return false;
  }
  probe.action = input.action;
  probe.kind = principal.kind;
  probe.id = principal.id;
  probe.status = principal.status;
  probe.lo = traits.mask.lo;
  probe.hi = traits.mask.hi;
  probe.type = resource.type;
  probe.resourceId = resource.id;
  probe.owner = resource.ownerPluginId;
  probe.classes = classes;
  probe.operation = optionalString(context?.operation);
  probe.domain = optionalString(context?.domain);

  return true;
}

/** True when an entry was made for the probe's fields (action and principal id match by index). */
function sameFields(entry: Readonly<Probe>, probe: Readonly<Probe>): boolean {
  return (
    entry.resourceId === probe.resourceId &&
    entry.lo === probe.lo &&
    entry.hi === probe.hi &&
    entry.classes === probe.classes &&
    entry.status === probe.status &&
    entry.kind === probe.kind &&
    entry.type === probe.type &&
    entry.owner === probe.owner &&
    entry.sourceId === probe.sourceId &&
    entry.sourceLo === probe.sourceLo &&
    entry.sourceHi === probe.sourceHi &&
    entry.targetId === probe.targetId &&
    entry.targetLo === probe.targetLo &&
    entry.targetHi === probe.targetHi &&
    entry.operation === probe.operation &&
    entry.domain === probe.domain
  );
}

/** One generation of the cache: action → principal id → the entries made for those. */
class Generation {
  private readonly root = new Map<string, Map<string, Entry[]>>();
  size = 0;

  find(probe: Probe): Entry | undefined {
    const variants = this.root.get(probe.action)?.get(probe.id);
    if (variants === undefined) {
      return undefined;
    }
    for (let i = 0; i < variants.length; i += 1) {
      if (sameFields(variants[i], probe)) {
        return variants[i];
      }
    }

    return undefined;
  }

  /** Adds an entry, replacing one made for the same fields. */
  add(entry: Entry): void {
    let byPrincipal = this.root.get(entry.action);
    if (byPrincipal === undefined) {
      byPrincipal = new Map();
      this.root.set(entry.action, byPrincipal);
    }
    let variants = byPrincipal.get(entry.id);
    if (variants === undefined) {
      variants = [];
      byPrincipal.set(entry.id, variants);
    }
    for (let i = 0; i < variants.length; i += 1) {
      if (sameFields(variants[i], entry)) {
        variants[i] = entry;

        return;
      }
    }
    if (variants.length >= MAX_VARIANTS) {
      variants.shift();
      this.size -= 1;
    }
    variants.push(entry);
    this.size += 1;
  }
}

/**
 * A {@link PolicyEngine} with a bounded cache of its decisions, reused only for inputs equal in every field a
 * decision reads: action, principal kind, id, status and canonical traits, resource type, id and owner, the
 * classifications as a set, source and target ids and traits, `context.operation` and `context.domain`; the
 * cache belongs to one bundle version (`setBundle` drops it). Eviction is least-recently-used by generations:
 * entries live in a young and an old generation of half the size each; a hit in the old one copies the entry
 * to the young one, and when the young one is full the old one is dropped whole. A hit costs two map lookups
 * and a field comparison, with no string building; a trait list is reduced to its mask once per list object.
 *
 * Decisions made under a break-glass grant are reused only within the grant's window and only for inputs that
 * carry `now`; other decisions that read the clock are not cached. Simulations are never cached.
 */
export class CachedPolicyEngine implements PolicyDecider {
  private engine: PolicyEngine;
  private young = new Generation();
  private old = new Generation();
  private readonly generation: number;
  private readonly probe = emptyProbe();
  private hits = 0;
  private misses = 0;
  private evictions = 0;

  /** @throws PolicyBundleError when given a bundle that does not validate. */
  constructor(bundle: PolicyBundle | PolicyEngine, options: DecisionCacheOptions = {}) {
    this.engine = bundle instanceof PolicyEngine ? bundle : new PolicyEngine(bundle);
    this.generation = Math.max(1, Math.floor((options.maxEntries ?? 10_000) / 2));
  }

  /** The version of the current bundle. */
  get bundleVersion(): number {
    return this.engine.bundleVersion;
  }

  /** Swaps in a new bundle (hot reload) and drops every cached decision. @throws PolicyBundleError */
  setBundle(bundle: PolicyBundle): void {
    this.engine = new PolicyEngine(bundle);
    this.clear();
  }

  /** Decides, from the cache when an input equal in every field the decision reads was decided before. */
  decide(input: PolicyInput): PolicyDecision {
    const probe = this.probe;
    if (!fill(probe, input)) {
      this.misses += 1;

      return this.engine.decide(input);
    }
    let entry = this.young.find(probe);
    if (entry === undefined) {
      entry = this.old.find(probe);
      if (entry !== undefined) {
        this.store(entry);
      }
    }
    if (entry !== undefined && (entry.until === Number.POSITIVE_INFINITY || inWindow(entry, input.now))) {
      this.hits += 1;

      return entry.decision;
    }
    this.misses += 1;
    const { decision, reuse } = this.engine.outcome(input);
    if (reuse.kind === 'never') {
      return decision;
    }
    const from = reuse.kind === 'window' ? reuse.from : Number.NEGATIVE_INFINITY;
    const until = reuse.kind === 'window' ? reuse.until : Number.POSITIVE_INFINITY;
    this.store(new Entry(probe, decision, from, until));

    return decision;
  }

  /** Simulates with the current bundle; never cached. */
  simulate(input: PolicyInput): PolicyDecision {
    return this.engine.simulate(input);
  }

  /** Drops every cached decision. */
  clear(): void {
    this.young = new Generation();
    this.old = new Generation();
  }

  /** Hit, miss and eviction counters and the number of entries held. */
  stats(): DecisionCacheStats {
    return {
      hits: this.hits,
      misses: this.misses,
      evictions: this.evictions,
      size: this.young.size + this.old.size,
    };
  }

  private store(entry: Entry): void {
    if (this.young.size >= this.generation) {
      this.evictions += this.old.size;
      this.old = this.young;
      this.young = new Generation();
    }
    this.young.add(entry);
  }
}

function inWindow(entry: Entry, now: number | undefined): boolean {
  return now !== undefined && entry.from <= now && now < entry.until;
}
