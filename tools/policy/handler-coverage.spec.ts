import 'reflect-metadata';

import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { Controller, Module } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { PATTERN_EXTRAS_METADATA, PATTERN_METADATA } from '@nestjs/microservices/constants';
import type { RpcContract, ServiceName } from '@vivified/contracts';
import {
  defineRpc,
  infoSubjects,
  PUBLIC,
  rpcContract,
  rpcContracts,
  serviceNames,
} from '@vivified/contracts';
import { Handle } from '@vivified/nats-transport';
import type { ActionSpec } from '@vivified/policy-engine';
import { actionSpec } from '@vivified/policy-engine';
import { beforeAll, describe, expect, it } from 'vitest';

/**
 * ARCHITECTURE §1: no handler is reachable without the policy sidecar. The transport runs the sidecar before every
 * handler whose contract is not PUBLIC; this test makes sure that the sidecar can ever allow what a handler
 * serves: every handler the six services register, and every contract of libs/contracts, is either declared
 * PUBLIC in libs/contracts or names an action of the policy engine's vocabulary (an unknown action is denied
 * on every call). It reads the services' Nest metadata from their root modules, as `bootstrapService` gets them
 * from each `main.ts`, without starting anything.
 */

const ROOT = resolve(__dirname, '..', '..');
/** Where `@Handle` / `@Consume` of @vivified/nats-transport keep their metadata in Nest's pattern extras. */
const VIVIFIED_EXTRAS = 'vivified';

interface Handler {
  service: ServiceName;
  controller: string;
  method: string;
  pattern: unknown;
  meta: { kind: 'rpc'; contract: RpcContract } | { kind: 'consumer' } | undefined;
}

type ModuleRef = { name?: string } | { module: unknown } | { forwardRef: () => unknown } | undefined;

/** The root module class a service's main.ts hands to bootstrapService. */
async function rootModule(service: ServiceName): Promise<object> {
  const dir = join(ROOT, 'apps', service, 'src');
  const main = readFileSync(join(dir, 'main.ts'), 'utf8');
  const name = /\bmodule:\s*(\w+)/.exec(main)?.[1];
  if (name === undefined) {
    throw new Error(`apps/${service}/src/main.ts does not pass a module to bootstrapService`);
  }
  const from = new RegExp(`import\\s*\\{[^}]*\\b${name}\\b[^}]*\\}\\s*from\\s*'(\\.[^']+)'`).exec(main)?.[1];
  if (from === undefined) {
    throw new Error(`apps/${service}/src/main.ts does not import ${name} from a file of the app`);
  }
  const file = join(dir, `${from}.ts`);
  const loaded = (await import(file)) as Record<string, unknown>;
  const root = loaded[name];
  if (typeof root !== 'function') {
    throw new Error(`${file} does not export ${name}`);
  }

  return root;
}

function metadataList(key: string, target: object): unknown[] {
  const value: unknown = Reflect.getMetadata(key, target);

  return Array.isArray(value) ? (value as unknown[]) : [];
}

/** Every module class reachable from the root (static imports, dynamic modules, forward references). */
function moduleTree(root: object): Array<{ module: object; controllers: unknown[] }> {
  const seen = new Set<object>();
  const out: Array<{ module: object; controllers: unknown[] }> = [];
  const visit = (ref: unknown, extraImports: unknown[] = [], extraControllers: unknown[] = []): void => {
    const candidate = ref as ModuleRef;
    if (candidate === undefined || candidate === null) {
      return;
    }
    if (typeof candidate === 'object' && 'forwardRef' in candidate) {
      visit(candidate.forwardRef());

      return;
    }
    if (typeof candidate === 'object' && 'module' in candidate) {
      const dynamic = candidate as { module: unknown; imports?: unknown[]; controllers?: unknown[] };
      visit(dynamic.module, dynamic.imports ?? [], dynamic.controllers ?? []);

      return;
    }
    if (typeof candidate !== 'function') {
      return;
    }
    const controllers = [...metadataList('controllers', candidate), ...extraControllers];
    if (!seen.has(candidate)) {
      seen.add(candidate);
      out.push({ module: candidate, controllers });
      for (const imported of metadataList('imports', candidate)) {
        visit(imported);
      }
    } else if (extraControllers.length > 0) {
      out.push({ module: candidate, controllers: extraControllers });
    }
    for (const imported of extraImports) {
      visit(imported);
    }
  };
  visit(root);

  return out;
}

/** The message handlers of a controller class (methods with Nest's microservice pattern metadata). */
function handlersOf(service: ServiceName, controller: { name: string; prototype: object }): Handler[] {
  const handlers: Handler[] = [];
  const names = new Set<string>();
  for (let proto: object | null = controller.prototype; proto && proto !== Object.prototype; ) {
    Object.getOwnPropertyNames(proto).forEach((name) => names.add(name));
    proto = Object.getPrototypeOf(proto) as object | null;
  }
  for (const method of names) {
    if (method === 'constructor') {
      continue;
    }
    const fn: unknown = (controller.prototype as Record<string, unknown>)[method];
    if (typeof fn !== 'function') {
      continue;
    }
    const pattern: unknown = Reflect.getMetadata(PATTERN_METADATA, fn);
    if (pattern === undefined) {
      continue;
    }
    const extras = Reflect.getMetadata(PATTERN_EXTRAS_METADATA, fn) as Record<string, unknown> | undefined;
    handlers.push({
      service,
      controller: controller.name,
      method,
      pattern,
      meta: extras?.[VIVIFIED_EXTRAS] as Handler['meta'],
    });
  }

  return handlers;
}

/** Why a contract could never be served to anyone, or undefined when it is public or its action is known. */
function contractProblem(contract: RpcContract): string | undefined {
  const access = contract.access;
  if (access.public === true) {
    return undefined;
  }
  if (typeof access.action !== 'string' || access.action.length === 0) {
    return 'declares no policy action';
  }

  return actionSpec(access.action) === undefined
    ? `names the action ${access.action}, which the policy engine does not know (every call is denied)`
    : undefined;
}

/**
 * Where a contract's own checks and the engine's grant disagree: a kind the contract lets through that the engine
 * never grants, or a trait of `anyTrait` that passes the contract check while the engine's trait grant does not
 * list it (a holder of only that trait is denied).
 */
function accessMismatches(contract: RpcContract, spec: ActionSpec): string[] {
  const access = contract.access;
  if (access.public === true) {
    return [];
  }
  const problems: string[] = [];
  for (const kind of access.kinds ?? ['user', 'plugin', 'service']) {
    if (!spec.kinds.includes(kind)) {
      problems.push(`${contract.subject}: kind ${kind} passes the contract, the engine never grants it`);
    }
  }
  if (spec.grant.kind === 'traits') {
    const anyOf = spec.grant.anyOf;
    for (const trait of access.anyTrait ?? []) {
      if (!anyOf.includes(trait)) {
        problems.push(
          `${contract.subject}: anyTrait ${trait} passes the contract, the engine grants only ${anyOf.join('|')}`,
        );
      }
    }
  }

  return problems;
}

/**
 * Known disagreements between a contract and the engine, reported to their owners. A holder of the trait is
 * denied by the engine (default deny wins), so none opens anything; the list is explicit so that a new one fails
 * here and a fixed one is removed.
 */
const KNOWN_MISMATCHES: readonly string[] = [];

describe('handler coverage: every handler of the six services is guarded by an action the engine knows', () => {
  const handlers: Handler[] = [];

  beforeAll(async () => {
    for (const service of serviceNames) {
      expect(existsSync(join(ROOT, 'apps', service, 'src', 'main.ts')), `apps/${service}/src/main.ts`).toBe(
        true,
      );
      const root = await rootModule(service);
      for (const { controllers } of moduleTree(root)) {
        for (const controller of controllers) {
          handlers.push(...handlersOf(service, controller as { name: string; prototype: object }));
        }
      }
    }
  }, 60_000);

  it('finds the handlers of every service (its info handler at least)', () => {
    for (const service of serviceNames) {
      const served = handlers
        .filter((handler) => handler.service === service && handler.meta?.kind === 'rpc')
        .map((handler) => (handler.meta as { contract: RpcContract }).contract.subject);

      expect(served, service).toContain(infoSubjects[service]);
    }
  });

  it('registers no handler without @Handle or @Consume (which carry the contract and its access)', () => {
    const raw = handlers
      .filter((handler) => handler.meta === undefined)
      .map(
        (handler) =>
          `${handler.service} ${handler.controller}.${handler.method} ${JSON.stringify(handler.pattern)}`,
      );

    expect(raw).toEqual([]);
  });

  it('guards every request handler with PUBLIC or an action of the policy engine', () => {
    const problems = handlers.flatMap((handler) => {
      if (handler.meta?.kind !== 'rpc') {
        return [];
      }
      const problem = contractProblem(handler.meta.contract);

      return problem === undefined
        ? []
        : [
            `${handler.service} ${handler.controller}.${handler.method} (${handler.meta.contract.subject}) ${problem}`,
          ];
    });

    expect(handlers.filter((handler) => handler.meta?.kind === 'rpc').length).toBeGreaterThanOrEqual(
      serviceNames.length,
    );
    expect(problems).toEqual([]);
  });

  it('declares public handlers in libs/contracts only: a public handler serves the contract of its subject there', () => {
    const elsewhere = handlers.flatMap((handler) => {
      if (handler.meta?.kind !== 'rpc' || handler.meta.contract.access.public !== true) {
        return [];
      }
      const declared = rpcContract(handler.meta.contract.subject);

      return declared?.access.public === true
        ? []
        : [`${handler.service} ${handler.controller}.${handler.method} (${handler.meta.contract.subject})`];
    });

    expect(elsewhere).toEqual([]);
  });

  it('gives every contract of libs/contracts PUBLIC or an action of the policy engine', () => {
    const contracts = Object.values(rpcContracts) as RpcContract[];
    const problems = contracts.flatMap((contract) => {
      const problem = contractProblem(contract);

      return problem === undefined ? [] : [`${contract.subject} ${problem}`];
    });

    expect(contracts.length).toBeGreaterThan(serviceNames.length);
    expect(problems).toEqual([]);
  });

  it("keeps contracts' kinds and anyTrait within what the engine grants, the known gaps aside", () => {
    const mismatches = (Object.values(rpcContracts) as RpcContract[]).flatMap((contract) => {
      const spec = contract.access.public === true ? undefined : actionSpec(contract.access.action);

      return spec === undefined ? [] : accessMismatches(contract, spec);
    });

    expect(mismatches).toEqual(KNOWN_MISMATCHES);
  });
});

describe('handler coverage walker', () => {
  class Body {}
  const unknownAction = defineRpc({
    subject: 'walker.thing.unknown',
    request: Body,
    reply: Body,
    access: { action: 'walker.thing.unknown' },
    summary: 'a handler whose action the engine does not know',
  });
  const publicHere = defineRpc({
    subject: 'walker.thing.public',
    request: Body,
    reply: Body,
    access: PUBLIC,
    summary: 'a public handler declared outside libs/contracts',
  });

  @Controller()
  class Handlers {
    @Handle(unknownAction)
    unknown(): object {
      return {};
    }

    @Handle(publicHere)
    open(): object {
      return {};
    }

    // eslint-disable-next-line vivified/handler-declares-access -- the raw pattern the walker must report
    @MessagePattern('walker.thing.raw')
    raw(): object {
      return {};
    }
  }

  @Module({ controllers: [Handlers] })
  class Inner {}

  @Module({ imports: [{ forwardRef: () => Inner }] })
  class Root {}

  it('finds handlers through imports and reports an unknown action, a raw pattern and a public contract', () => {
    const found = moduleTree(Root).flatMap(({ controllers }) =>
      controllers.flatMap((controller) =>
        handlersOf('policy', controller as { name: string; prototype: object }),
      ),
    );

    expect(found.map((handler) => handler.method).sort()).toEqual(['open', 'raw', 'unknown']);
    const unknown = found.find((handler) => handler.method === 'unknown');
    const open = found.find((handler) => handler.method === 'open');
    expect(unknown?.meta?.kind === 'rpc' && contractProblem(unknown.meta.contract)).toMatch(
      /does not know \(every call is denied\)/,
    );
    expect(found.find((handler) => handler.method === 'raw')?.meta).toBeUndefined();
    expect(open?.meta?.kind === 'rpc' && rpcContract(open.meta.contract.subject)).toBeUndefined();
  });
});
