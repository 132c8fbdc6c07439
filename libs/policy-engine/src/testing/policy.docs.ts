// The tables of docs/policy.md, rendered from the registry and the action catalogue (excluded from the build).
import { actionCatalog } from '../actions/action-catalog';
import { traitRegistry } from '../traits/trait-registry';

/** Header and rows of the trait table. */
export function traitTable(): { header: string[]; rows: string[][] } {
  const list = (values: readonly string[]) => (values.length === 0 ? '' : values.join(', '));

  return {
    header: [
      'trait',
      'category',
      'requires',
      'requires one of',
      'conflicts',
      'held by',
      'sensitive',
      'UI label / icon',
      'description',
    ],
    rows: traitRegistry
      .all()
      .map((definition) => [
        definition.legacy ? `${definition.name} → ${definition.aliasOf}` : definition.name,
        definition.legacy ? `${definition.category} (legacy alias)` : definition.category,
        list(definition.requires),
        list(definition.requiresAnyOf),
        list(definition.conflicts),
        list(definition.holders),
        definition.sensitive ? 'yes' : '',
        `${definition.uiLabel} / ${definition.uiIcon}`,
        definition.origin === 'used_undefined'
          ? `${definition.description} (used, undefined before)`
          : definition.description,
      ]),
  };
}

const GRANTS: Record<string, string> = {
  self: 'a user, on its own account',
  any_principal: 'any active principal',
  core_service: 'a core service (system_core)',
  operator: 'an operator allowlist rule (or a core service caller)',
  proxy: 'external_service + a proxy approval of context.domain',
  ui_feature: "the feature's requirements",
  event_publish: 'a plugin, or a core service',
  event_subscription: 'a plugin (its own subscriptions)',
  event_delivery: 'a core service (system_core)',
};

function grantText(spec: ReturnType<typeof actionCatalog>[number]): string {
  const grant = spec.grant;
  if (grant.kind === 'traits') {
    return `one of ${grant.anyOf.join(', ')}`;
  }
  if (grant.kind === 'own_plugin') {
    return grant.anyOf.length > 0
      ? `the plugin itself, or one of ${grant.anyOf.join(', ')}`
      : 'the plugin itself';
  }

  return GRANTS[grant.kind];
}

/** Header and rows of the action table (generic names, with the platform names that map to them). */
export function actionTable(): { header: string[]; rows: string[][] } {
  const all = actionCatalog();
  const generic = all.filter((spec) => spec.action === `${spec.resource}.${spec.verb}`);

  return {
    header: ['action', 'platform names', 'kinds', 'granted by', 'audit', 'description'],
    rows: generic.map((spec) => [
      spec.action,
      all
        .filter((other) => other.action !== spec.action && `${other.resource}.${other.verb}` === spec.action)
        .map((other) => other.action)
        .join(', '),
      spec.kinds.join(', '),
      grantText(spec),
      spec.detailed ? 'detailed' : 'standard',
      spec.description,
    ]),
  };
}

/** A markdown table. */
export function renderTable(table: { header: string[]; rows: string[][] }): string {
  const line = (cells: string[]) => `| ${cells.map((cell) => cell.replace(/\|/g, '\\|')).join(' | ')} |`;

  return [line(table.header), line(table.header.map(() => '---')), ...table.rows.map(line)].join('\n');
}

/** The rows of the markdown table that follows `marker` in a document, as trimmed cells. */
export function tableAfter(document: string, marker: string): string[][] {
  const start = document.indexOf(marker);
  if (start < 0) {
    return [];
  }
  const lines = document.slice(start + marker.length).split('\n');
  const first = lines.findIndex((line) => line.startsWith('|'));
  const rows: string[][] = [];
  for (const line of lines.slice(first)) {
    if (!line.startsWith('|')) {
      break;
    }
    rows.push(
      line
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((cell) => cell.trim().replace(/\\\|/g, '|')),
    );
  }

  return rows.filter((cells) => !cells.every((cell) => /^-+$/.test(cell)));
}
