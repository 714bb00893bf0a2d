import { sha256, type FetchedManifest, type RegistryClient } from '../../src/adapters/registry/client';
import { moveOrder, moveTags, readTags, type TagBefore } from '../../src/publish/tag-move';

const manifest = (n: string): FetchedManifest => {
  const body = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.docker.distribution.manifest.list.v2+json', manifests: [], n }));
  return { digest: sha256(body), mediaType: 'application/vnd.docker.distribution.manifest.list.v2+json', body, json: JSON.parse(body.toString()) };
};
const OLD = manifest('old');
const OTHER = manifest('other');
const NEW = manifest('new');

/**
 * An in-memory registry of tags for the tag-move logic (the real registry, with faults injected
 * in front of it, is in the end-to-end suite). `failPut(ref, n)` makes the next n PUTs of ref
 * throw; `lose` makes a PUT succeed on the registry and then throw (its answer lost).
 */
class FakeTags {
  readonly tags = new Map<string, FetchedManifest>();
  readonly byDigest = new Map<string, FetchedManifest>();
  readonly puts: string[] = [];
  private failures = new Map<string, number>();
  private lost = new Set<string>();
  deletes = false;
  name = 'reg.test/acme/worker';

  failPut(ref: string, times = Infinity): this {
    this.failures.set(ref, times);
    return this;
  }
  lose(ref: string): this {
    this.lost.add(ref);
    return this;
  }
  async getManifest(ref: string): Promise<FetchedManifest | undefined> {
    return this.tags.get(ref) ?? this.byDigest.get(ref);
  }
  async putManifest(ref: string, mediaType: string, body: Buffer): Promise<string> {
    this.puts.push(ref);
    const left = this.failures.get(ref) ?? 0;
    if (left > 0) {
      this.failures.set(ref, left - 1);
      throw new Error(`PUT ${ref}: HTTP 503`);
    }
    const m: FetchedManifest = { digest: sha256(body), mediaType, body, json: JSON.parse(body.toString()) };
    if (ref.startsWith('sha256:')) this.byDigest.set(ref, m);
    else this.tags.set(ref, m);
    if (this.lost.delete(ref)) throw new Error(`PUT ${ref}: socket hang up`);
    return m.digest;
  }
  async deleteTag(tag: string): Promise<boolean> {
    if (!this.deletes) return false;
    return this.tags.delete(tag);
  }
  client(): RegistryClient {
    return this as unknown as RegistryClient;
  }
}

const state = (tag: string, before?: FetchedManifest): TagBefore => ({ tag, before });
const now = (f: FakeTags) => Object.fromEntries([...f.tags.entries()].map(([t, m]) => [t, m === undefined ? undefined : m.digest]));

describe('moveOrder', () => {
  test.each([
    {
      name: 'existing tags first, new tags last, each in plan order',
      states: [state('abc1234'), state('latest', OLD), state('1.2', OTHER), state('1.2.3')],
      want: { already: [], order: ['latest', '1.2', 'abc1234', '1.2.3'] },
    },
    { name: 'a tag already on the target is not moved', states: [state('latest', NEW), state('abc1234')], want: { already: ['latest'], order: ['abc1234'] } },
    { name: 'nothing to do', states: [state('latest', NEW)], want: { already: ['latest'], order: [] } },
  ])('$name', ({ states, want }) => {
    expect(moveOrder(states, NEW.digest)).toEqual(want);
  });
});

describe('moveTags', () => {
  const setup = () => {
    const f = new FakeTags();
    f.tags.set('latest', OLD);
    f.tags.set('1.2', OTHER);
    return f;
  };
  const list = { digest: NEW.digest, mediaType: NEW.mediaType, body: NEW.body };
  const run = async (f: FakeTags) => moveTags(f.client(), await readTags(f.client(), ['1.2.3', 'latest', '1.2']), list, () => undefined);

  test('all move: every tag names the list, the list was written by digest first', async () => {
    const f = setup();
    const r = await run(f);
    expect(r.ok).toBe(true);
    expect(f.puts[0]).toBe(NEW.digest);
    expect(now(f)).toEqual({ latest: NEW.digest, '1.2': NEW.digest, '1.2.3': NEW.digest });
    expect(r.tags.map((t) => [t.tag, t.fate, t.now])).toEqual([
      ['1.2.3', 'moved', NEW.digest],
      ['latest', 'moved', NEW.digest],
      ['1.2', 'moved', NEW.digest],
    ]);
  });

  test('the second existing tag fails: the first is put back, the new tag was never created', async () => {
    const f = setup().failPut('1.2');
    const r = await run(f);
    expect(r.ok).toBe(false);
    expect(r.error?.message).toMatch(/PUT 1.2: HTTP 503/);
    expect(now(f)).toEqual({ latest: OLD.digest, '1.2': OTHER.digest });
    expect(Object.fromEntries(r.tags.map((t) => [t.tag, [t.fate, t.now]]))).toEqual({
      latest: ['restored', OLD.digest],
      '1.2': ['failed', OTHER.digest],
      '1.2.3': ['unchanged', undefined],
    });
  });

  test('the new tag fails last: every existing tag is put back exactly', async () => {
    const f = setup().failPut('1.2.3');
    const r = await run(f);
    expect(r.ok).toBe(false);
    expect(now(f)).toEqual({ latest: OLD.digest, '1.2': OTHER.digest });
    expect(r.tags.find((t) => t.tag === '1.2.3')).toMatchObject({ fate: 'failed', now: undefined });
  });

  test('a PUT whose answer was lost took effect: it is read back and put back too', async () => {
    const f = setup().lose('1.2');
    const r = await run(f);
    expect(r.ok).toBe(false);
    expect(now(f)).toEqual({ latest: OLD.digest, '1.2': OTHER.digest });
    expect(r.tags.find((t) => t.tag === '1.2')).toMatchObject({ fate: 'restored', now: OTHER.digest });
  });

  test('two new tags, the second fails: the first cannot be deleted here and is reported as left on the new list', async () => {
    const f = new FakeTags().failPut('b');
    const r = await moveTags(f.client(), await readTags(f.client(), ['a', 'b']), list, () => undefined);
    expect(r.ok).toBe(false);
    expect(r.tags.find((t) => t.tag === 'a')).toMatchObject({ fate: 'left', now: NEW.digest });
  });

  test('...and is deleted where the registry deletes tags', async () => {
    const f = new FakeTags().failPut('b');
    f.deletes = true;
    const r = await moveTags(f.client(), await readTags(f.client(), ['a', 'b']), list, () => undefined);
    expect(r.tags.find((t) => t.tag === 'a')).toMatchObject({ fate: 'removed', now: undefined });
    expect(now(f)).toEqual({});
  });

  test('putting back fails too: the tag is reported with where it points now', async () => {
    const f = setup().failPut('1.2.3');
    const origPut = f.putManifest.bind(f);
    let restores = 0;
    f.putManifest = async (ref, mt, body) => {
      if (ref === 'latest' && body.equals(OLD.body)) {
        restores++;
        throw new Error('PUT latest: HTTP 500');
      }
      return origPut(ref, mt, body);
    };
    const r = await run(f);
    expect(restores).toBe(1);
    expect(r.tags.find((t) => t.tag === 'latest')).toMatchObject({ fate: 'unknown', now: NEW.digest });
  });

  test('writing the list by digest fails: no tag is touched', async () => {
    const f = setup().failPut(NEW.digest);
    const r = await run(f);
    expect(r.ok).toBe(false);
    expect(f.puts).toEqual([NEW.digest]);
    expect(r.tags.every((t) => t.fate === 'unchanged')).toBe(true);
  });

  test('a tag already on the list is left alone', async () => {
    const f = setup();
    f.tags.set('latest', NEW);
    const r = await run(f);
    expect(r.ok).toBe(true);
    expect(f.puts).not.toContain('latest');
    expect(r.tags.find((t) => t.tag === 'latest')?.fate).toBe('already');
  });
});
