import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';

import { EnvelopeCipher } from './envelope';
import { CryptoError } from './errors';
import { StaticKekProvider } from './kek';
import { rewrapAll } from './rewrap';
import type { RewrapRow, RewrapSource } from './rewrap';

const k1 = randomBytes(32).toString('base64');
const k2 = randomBytes(32).toString('base64');

/** An in-memory table paged by id, recording every call. */
class MemorySource implements RewrapSource {
  readonly pages: Array<{ afterId: string | undefined; limit: number }> = [];
  readonly saves: string[] = [];

  constructor(readonly table: Map<string, RewrapRow>) {}

  rows(afterId: string | undefined, limit: number): Promise<RewrapRow[]> {
    this.pages.push({ afterId, limit });
    const ids = [...this.table.keys()].sort().filter((id) => afterId === undefined || id > afterId);

    return Promise.resolve(ids.slice(0, limit).map((id) => this.table.get(id)!));
  }

  save(id: string, sealed: string): Promise<void> {
    this.saves.push(id);
    this.table.set(id, { ...this.table.get(id)!, sealed });

    return Promise.resolve();
  }
}

async function seed(count: number): Promise<Map<string, RewrapRow>> {
  const cipher = new EnvelopeCipher(new StaticKekProvider(`v1:${k1}`));
  const table = new Map<string, RewrapRow>();
  for (let i = 0; i < count; i += 1) {
    const id = `rec-${String(i).padStart(4, '0')}`;
    const aad = `test.secret:${id}`;
    table.set(id, { id, aad, sealed: await cipher.encrypt(`value ${i}`, aad) });
  }

  return table;
}

describe(rewrapAll.name, () => {
  it('pages through the source and moves every record to the current KEK', async () => {
    const source = new MemorySource(await seed(23));
    const before = new Map([...source.table].map(([id, row]) => [id, row.sealed]));
    const cipher = new EnvelopeCipher(new StaticKekProvider(`v1:${k1},v2:${k2}`));

    const result = await rewrapAll(cipher, source, { batchSize: 5 });

    expect(result).toEqual({ scanned: 23, rewrapped: 23, failed: [] });
    expect(source.pages.map((page) => page.afterId)).toEqual([
      undefined,
      'rec-0004',
      'rec-0009',
      'rec-0014',
      'rec-0019',
    ]);
    for (const [id, row] of source.table) {
      expect(cipher.kekVersionOf(row.sealed)).toBe('v2');
      expect(row.sealed.split('.').slice(4)).toEqual(before.get(id)!.split('.').slice(4));
      expect(await cipher.decryptString(row.sealed, row.aad)).toBe(`value ${Number(id.slice(4))}`);
    }
    const v2Only = new EnvelopeCipher(new StaticKekProvider(`v2:${k2}`));
    const anyRow = source.table.get('rec-0000')!;
    expect(await v2Only.decryptString(anyRow.sealed, anyRow.aad)).toBe('value 0');
  });

  it('is idempotent: a second run saves nothing', async () => {
    const source = new MemorySource(await seed(10));
    const cipher = new EnvelopeCipher(new StaticKekProvider(`v1:${k1},v2:${k2}`));
    await rewrapAll(cipher, source, { batchSize: 10 });
    source.saves.length = 0;
    expect(await rewrapAll(cipher, source, { batchSize: 10 })).toEqual({
      scanned: 10,
      rewrapped: 0,
      failed: [],
    });
    expect(source.saves).toEqual([]);
    // An exact multiple of the batch size costs one extra, empty page.
    expect(source.pages.at(-1)).toEqual({ afterId: 'rec-0009', limit: 10 });
  });

  it('handles an empty source and uses 100 as the default batch size', async () => {
    const source = new MemorySource(new Map());
    const cipher = new EnvelopeCipher(new StaticKekProvider(`v1:${k1}`));
    expect(await rewrapAll(cipher, source)).toEqual({ scanned: 0, rewrapped: 0, failed: [] });
    expect(source.pages).toEqual([{ afterId: undefined, limit: 100 }]);
    await expect(rewrapAll(cipher, source, { batchSize: 0 })).rejects.toThrow(RangeError);
  });

  it('stops at a damaged record naming its id, or skips it with skipFailures', async () => {
    const table = await seed(6);
    const victim = table.get('rec-0003')!;
    table.set('rec-0003', { ...victim, aad: 'test.secret:moved' });
    const cipher = new EnvelopeCipher(new StaticKekProvider(`v1:${k1},v2:${k2}`));

    const error = await rewrapAll(cipher, new MemorySource(new Map(table)), { batchSize: 4 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CryptoError);
    expect((error as CryptoError).code).toBe('decrypt_failed');
    expect((error as CryptoError).message).toContain('rec-0003');

    const source = new MemorySource(new Map(table));
    const result = await rewrapAll(cipher, source, { batchSize: 4, skipFailures: true });
    expect(result).toEqual({ scanned: 6, rewrapped: 5, failed: ['rec-0003'] });
    expect(source.saves).not.toContain('rec-0003');
  });

  it('refuses a source that does not advance', async () => {
    const row = (await seed(1)).get('rec-0000')!;
    const stuck: RewrapSource = {
      rows: () => Promise.resolve([row]),
      save: () => Promise.resolve(),
    };
    const cipher = new EnvelopeCipher(new StaticKekProvider(`v1:${k1}`));
    await expect(rewrapAll(cipher, stuck, { batchSize: 1 })).rejects.toThrow(/same page twice/);
  });
});
