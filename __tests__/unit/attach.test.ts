import * as http from 'http';
import type { AddressInfo } from 'net';
import { MEDIA, nextLink, RegistryClient, sha256, type Descriptor } from '../../src/adapters/registry/client';
import { DEFAULT_POLICY } from '../../src/adapters/registry/retry';
import { attachReport, EMPTY_CONFIG, mergeReferrers, referrersTag, reportArtifact, VERIFICATION_TYPE } from '../../src/publish/attach';

const HEX = 'ab'.repeat(32);
const SUBJECT: Descriptor = { mediaType: MEDIA.dockerManifest, digest: `sha256:${HEX}`, size: 527 };
const CREATED = '2026-01-02T03:04:05Z';
const REPORT = { platform: 'linux/amd64', passed: true, seen: { torch: '2.2.2+cu121', torchaudio: '2.2.2+cu121' }, findings: [] };

describe('reportArtifact', () => {
  test('an OCI image manifest with artifactType, the empty config, the report as its one layer, and the subject', () => {
    const a = reportArtifact(REPORT, SUBJECT, { created: CREATED, annotations: { 'org.opencontainers.image.revision': 'abc1234' } });
    const report = a.blobs[1];
    expect(JSON.parse(a.manifest.toString())).toEqual({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      artifactType: 'application/vnd.ml-image-build.verification.v1+json',
      config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a', size: 2 },
      layers: [
        {
          mediaType: VERIFICATION_TYPE,
          digest: report.descriptor.digest,
          size: report.descriptor.size,
          annotations: { 'org.opencontainers.image.title': 'verification.json' },
        },
      ],
      subject: SUBJECT,
      annotations: { 'org.opencontainers.image.created': CREATED, 'org.opencontainers.image.revision': 'abc1234' },
    });
    expect(a.blobs.map((b) => [b.descriptor.digest, b.descriptor.size])).toEqual(a.blobs.map((b) => [sha256(b.data), b.data.length]));
    expect(a.blobs[0]).toEqual({ descriptor: EMPTY_CONFIG, data: Buffer.from('{}') });
    expect(JSON.parse(report.data.toString())).toEqual(REPORT);
    expect(a.digest).toBe(sha256(a.manifest));
    expect(a.descriptor).toEqual({
      mediaType: MEDIA.ociManifest,
      digest: a.digest,
      size: a.manifest.length,
      artifactType: VERIFICATION_TYPE,
      annotations: { 'org.opencontainers.image.created': CREATED, 'org.opencontainers.image.revision': 'abc1234' },
    });
  });

  const digestOf = (report: unknown, created: Date | string = CREATED, annotations?: Record<string, string>) =>
    reportArtifact(report, SUBJECT, { created, annotations }).digest;
  test.each([
    {
      name: 'the report built in another key order',
      a: () => digestOf({ a: 1, b: { c: [1, { e: 2, d: 3 }] } }),
      b: () => digestOf({ b: { c: [1, { d: 3, e: 2 }] }, a: 1 }),
      same: true,
    },
    {
      name: 'annotations given in another order',
      a: () => digestOf(REPORT, CREATED, { x: '1', y: '2' }),
      b: () => digestOf(REPORT, CREATED, { y: '2', x: '1' }),
      same: true,
    },
    {
      name: 'a Date and its RFC 3339 form to the second',
      a: () => digestOf(REPORT, new Date('2026-01-02T03:04:05.678Z')),
      b: () => digestOf(REPORT, CREATED),
      same: true,
    },
    { name: 'undefined members, as JSON drops them', a: () => digestOf({ a: 1, b: undefined }), b: () => digestOf({ a: 1 }), same: true },
    { name: 'another report', a: () => digestOf(REPORT), b: () => digestOf({ ...REPORT, passed: false }), same: false },
    { name: 'another time', a: () => digestOf(REPORT), b: () => digestOf(REPORT, '2026-01-02T03:04:06Z'), same: false },
  ])('deterministic: $name gives the same digest: $same', ({ a, b, same }) => {
    expect(a() === b()).toBe(same);
  });

  test.each([
    { name: 'a report that is not JSON', report: undefined, subject: SUBJECT, created: CREATED, error: /report is not JSON/ },
    {
      name: 'a subject without a digest',
      report: REPORT,
      subject: { ...SUBJECT, digest: 'latest' },
      created: CREATED,
      error: /subject .* is not a manifest descriptor/,
    },
    { name: 'a subject without a size', report: REPORT, subject: { ...SUBJECT, size: -1 }, created: CREATED, error: /not a manifest descriptor/ },
    { name: 'a created time that is no time', report: REPORT, subject: SUBJECT, created: 'yesterday', error: /created 'yesterday' is not an RFC 3339 time/ },
  ])('refuses $name', ({ report, subject, created, error }) => {
    expect(() => reportArtifact(report, subject, { created })).toThrow(error);
  });
});

describe('referrersTag (the spec table)', () => {
  test.each([
    { digest: `sha256:${'a'.repeat(64)}`, tag: `sha256-${'a'.repeat(64)}` },
    { digest: `sha512:${'a'.repeat(128)}`, tag: `sha512-${'a'.repeat(64)}` },
    {
      digest:
        'test+algorithm+using+algorithm+separators+and+lots+of+characters+to+excercise+overall+truncation:alsoSome=InTheEncodedSectionToShowHyphenReplacementAndLotsAndLotsOfCharactersToExcerciseEncodedTruncation',
      tag: 'test-algorithm-using-algorithm-s-alsoSome-InTheEncodedSectionToShowHyphenReplacementAndLotsAndLot',
    },
  ])('$digest', ({ digest, tag }) => {
    expect(referrersTag(digest)).toBe(tag);
  });
});

const ours = reportArtifact(REPORT, SUBJECT, { created: CREATED }).descriptor;
const other = {
  mediaType: MEDIA.ociManifest,
  digest: `sha256:${'cd'.repeat(32)}`,
  size: 600,
  artifactType: 'application/vnd.dev.cosign.artifact.sig.v1+json',
  annotations: { a: 'b' },
};
const fetched = (json: object) => ({ mediaType: (json as { mediaType?: string }).mediaType ?? '', json, body: Buffer.from(JSON.stringify(json)) });

describe('mergeReferrers', () => {
  test.each([
    { name: 'no tag yet: a new index of ours', current: undefined, manifests: [ours], added: true },
    { name: 'an empty index', current: fetched({ schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: [] }), manifests: [ours], added: true },
    {
      name: "another tool's referrer stays first",
      current: fetched({ schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: [other] }),
      manifests: [other, ours],
      added: true,
    },
    {
      name: 'ours already listed: not listed twice',
      current: fetched({ schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: [other, ours] }),
      manifests: [other, ours],
      added: false,
    },
  ])('$name', ({ current, manifests, added }) => {
    const r = mergeReferrers(current, ours);
    expect(r.added).toBe(added);
    expect(JSON.parse(r.body.toString())).toEqual({ schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests });
    if (!added) expect(r.body).toBe(current!.body);
  });

  test('the index keeps its own annotations', () => {
    const r = mergeReferrers(fetched({ schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: [], annotations: { k: 'v' } }), ours);
    expect(JSON.parse(r.body.toString()).annotations).toEqual({ k: 'v' });
  });

  test.each([
    { name: 'an image manifest', current: fetched({ schemaVersion: 2, mediaType: MEDIA.dockerManifest, config: {}, layers: [] }) },
    { name: 'a Docker manifest list', current: fetched({ schemaVersion: 2, mediaType: MEDIA.dockerList, manifests: [] }) },
  ])('a tag holding $name is not overwritten', ({ current }) => {
    expect(() => mergeReferrers(current, ours, 'reg.test/acme/worker:sha256-ab')).toThrow(
      /reg.test\/acme\/worker:sha256-ab holds a .*, not an OCI image index/,
    );
  });
});

describe('nextLink', () => {
  test.each([
    { header: undefined, want: undefined },
    { header: '</v2/a/referrers/sha256:x?n=1&last=y>; rel="next"', want: '/v2/a/referrers/sha256:x?n=1&last=y' },
    { header: '<https://r.test/p2>; rel=next', want: 'https://r.test/p2' },
    { header: '</first>; rel="prev", </second>; rel="next"', want: '/second' },
    { header: '</x>; rel="prev"', want: undefined },
  ])('$header', ({ header, want }) => {
    expect(nextLink(header)).toBe(want);
  });
});

interface Stored {
  type: string;
  body: Buffer;
}

/**
 * An in-memory registry over real HTTP on 127.0.0.1, enough for the referrers logic: blob
 * uploads, manifests by tag and digest, and optionally the referrers API, the OCI-Subject header
 * and conditional writes (Distribution 2.8 itself, with none of these, is in the end-to-end suite).
 */
class FakeRegistry {
  readonly blobs = new Map<string, Buffer>();
  readonly manifests = new Map<string, Stored>();
  readonly log: string[] = [];
  ociSubject = false;
  referrersApi = false;
  conditional = false;
  pageSize = 100;
  /** Runs after every PUT of a tag: another client writing at the wrong moment. */
  afterTagPut?: (tag: string) => void;
  /** Runs after every GET of a tag. */
  afterTagGet?: (tag: string) => void;
  private server = http.createServer((req, res) => this.handle(req, res));
  private uploads = 0;

  async start(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return this;
  }
  stop(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }
  client(): RegistryClient {
    const port = (this.server.address() as AddressInfo).port;
    return new RegistryClient({ registry: `127.0.0.1:${port}`, repository: 'acme/worker', policy: { ...DEFAULT_POLICY, attempts: 2, baseDelayMs: 1 } });
  }
  /** Stores a manifest by digest and, given one, under a tag; returns the digest. */
  put(tag: string | undefined, type: string, json: object): string {
    const body = Buffer.from(JSON.stringify(json));
    if (tag) this.manifests.set(tag, { type, body });
    this.manifests.set(sha256(body), { type, body });
    return sha256(body);
  }
  index(tag: string): { manifests: Array<{ digest: string; artifactType?: string }> } | undefined {
    const m = this.manifests.get(tag);
    return m && JSON.parse(m.body.toString());
  }
  count(pattern: RegExp): number {
    return this.log.filter((l) => pattern.test(l)).length;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const url = new URL(req.url!, 'http://x');
      this.log.push(`${req.method} ${url.pathname}`);
      const m = /^\/v2\/acme\/worker\/(blobs\/uploads|blobs|manifests|referrers)\/?(.*)$/.exec(url.pathname);
      const up = /^\/upload\/\d+$/.test(url.pathname);
      const send = (status: number, headers: Record<string, string | number> = {}, data?: Buffer | string) => {
        res.writeHead(status, headers);
        res.end(data);
      };
      if (req.method === 'POST' && m?.[1] === 'blobs/uploads') return send(202, { Location: `/upload/${++this.uploads}`, 'Content-Length': 0 });
      if (req.method === 'PUT' && up) {
        this.blobs.set(url.searchParams.get('digest')!, body);
        return send(201, { 'Content-Length': 0 });
      }
      if (!m) return send(404, {}, '404 page not found');
      const [, kind, ref] = m;
      if (kind === 'blobs') {
        const b = this.blobs.get(ref);
        return b ? send(200, { 'Content-Length': b.length }, req.method === 'HEAD' ? undefined : b) : send(404, { 'Content-Length': 0 });
      }
      if (kind === 'manifests' && req.method === 'GET') {
        const s = this.manifests.get(ref);
        if (!ref.startsWith('sha256:')) this.afterTagGet?.(ref);
        if (!s) return send(404, { 'Content-Type': 'application/json' }, '{"errors":[{"code":"MANIFEST_UNKNOWN"}]}');
        return send(200, { 'Content-Type': s.type, 'Docker-Content-Digest': sha256(s.body), ETag: `"${sha256(s.body)}"` }, s.body);
      }
      if (kind === 'manifests' && req.method === 'PUT') {
        const current = this.manifests.get(ref);
        const ifMatch = req.headers['if-match'];
        if (this.conditional && ifMatch && (!current || ifMatch !== `"${sha256(current.body)}"`))
          return send(412, { 'Content-Type': 'application/json' }, '{"errors":[{"code":"PRECONDITION_FAILED"}]}');
        const type = String(req.headers['content-type']);
        this.manifests.set(ref, { type, body });
        this.manifests.set(sha256(body), { type, body });
        const subject = JSON.parse(body.toString()).subject?.digest as string | undefined;
        send(201, { 'Docker-Content-Digest': sha256(body), ...(this.ociSubject && subject ? { 'OCI-Subject': subject } : {}), 'Content-Length': 0 });
        if (!ref.startsWith('sha256:')) this.afterTagPut?.(ref);
        return;
      }
      if (kind === 'referrers' && this.referrersApi) {
        const all = [...this.manifests.entries()]
          .filter(([k, s]) => k.startsWith('sha256:') && JSON.parse(s.body.toString()).subject?.digest === ref)
          .map(([digest, s]) => ({ mediaType: s.type, digest, size: s.body.length, artifactType: JSON.parse(s.body.toString()).artifactType }));
        const from = Number(url.searchParams.get('from') ?? 0);
        const page = all.slice(from, from + this.pageSize);
        const more: Record<string, string> =
          from + this.pageSize < all.length ? { Link: `</v2/acme/worker/referrers/${ref}?from=${from + this.pageSize}>; rel="next"` } : {};
        return send(200, { 'Content-Type': MEDIA.ociIndex, ...more }, JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: page }));
      }
      send(404, { 'Content-Type': 'text/plain' }, '404 page not found');
    });
  }
}

describe('attachReport', () => {
  let reg: FakeRegistry;
  beforeEach(async () => {
    reg = await new FakeRegistry().start();
  });
  afterEach(() => reg.stop());
  const tag = `sha256-${HEX}`;
  const attach = (report: unknown = REPORT) => attachReport(reg.client(), SUBJECT, report, { created: CREATED });

  test.each([
    {
      name: 'the PUT answered with OCI-Subject: the registry lists it, no API query, no tag',
      ociSubject: true,
      referrersApi: true,
      via: 'referrers-api',
      referrersGets: 0,
    },
    {
      name: 'no OCI-Subject but a referrers API: the registry lists it, no tag',
      ociSubject: false,
      referrersApi: true,
      via: 'referrers-api',
      referrersGets: 1,
    },
    { name: 'neither: the referrers tag lists it', ociSubject: false, referrersApi: false, via: 'tag-schema', referrersGets: 1 },
  ])('$name', async ({ ociSubject, referrersApi, via, referrersGets }) => {
    Object.assign(reg, { ociSubject, referrersApi });
    const r = await attach();
    const art = reportArtifact(REPORT, SUBJECT, { created: CREATED });
    expect(r).toEqual({ digest: art.digest, via, ...(via === 'tag-schema' ? { tag } : {}) });
    expect(reg.manifests.get(art.digest)?.body).toEqual(art.manifest);
    for (const b of art.blobs) expect(reg.blobs.get(b.descriptor.digest)).toEqual(b.data);
    expect(reg.count(/^GET .*\/referrers\//)).toBe(referrersGets);
    expect(reg.manifests.has(tag)).toBe(via === 'tag-schema');
    if (via === 'tag-schema') expect(reg.index(tag)).toEqual({ schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: [art.descriptor] });
  });

  test("tag schema: another tool's referrer is kept, two reports are both listed, the same report again is not listed twice", async () => {
    reg.put(tag, MEDIA.ociIndex, { schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: [other] });
    const first = await attach();
    const second = await attach({ ...REPORT, passed: false });
    const uploadsBefore = reg.count(/^POST .*blobs\/uploads/);
    const tagPutsBefore = reg.count(new RegExp(`^PUT .*manifests/${tag}$`));
    const again = await attach();
    expect(again).toEqual(first);
    expect(reg.count(/^POST .*blobs\/uploads/)).toBe(uploadsBefore); // blobs already there are not sent again
    expect(reg.count(new RegExp(`^PUT .*manifests/${tag}$`))).toBe(tagPutsBefore);
    expect(reg.index(tag)!.manifests.map((d) => d.digest)).toEqual([other.digest, first.digest, second.digest]);
  });

  test('tag schema: a tag holding something else is left alone and the error names it', async () => {
    reg.put(tag, MEDIA.dockerManifest, { schemaVersion: 2, mediaType: MEDIA.dockerManifest, config: {}, layers: [] });
    const before = reg.manifests.get(tag);
    await expect(attach()).rejects.toThrow(
      new RegExp(`acme/worker:${tag} holds a application/vnd.docker.distribution.manifest.v2\\+json, not an OCI image index`),
    );
    expect(reg.manifests.get(tag)).toBe(before);
  });

  test('tag schema, conditional writes: another writer between read and write gets a 412, the next round lists both', async () => {
    reg.conditional = true;
    reg.put(tag, MEDIA.ociIndex, { schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: [] });
    let raced = false;
    reg.afterTagGet = () => {
      if (raced) return;
      raced = true;
      reg.put(tag, MEDIA.ociIndex, { schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: [other] });
    };
    const r = await attach();
    expect(reg.count(new RegExp(`^PUT .*manifests/${tag}$`))).toBe(2);
    expect(reg.index(tag)!.manifests.map((d) => d.digest)).toEqual([other.digest, r.digest]);
  });

  test('tag schema, no conditional writes: a writer that drops ours right after is caught by the read back', async () => {
    let raced = false;
    reg.afterTagPut = () => {
      if (raced) return;
      raced = true;
      reg.put(tag, MEDIA.ociIndex, { schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: [other] });
    };
    const r = await attach();
    expect(reg.index(tag)!.manifests.map((d) => d.digest)).toEqual([other.digest, r.digest]);
  });

  test('tag schema: a writer that always wins fails the attach after bounded rounds, naming the tag', async () => {
    reg.afterTagPut = () => reg.put(tag, MEDIA.ociIndex, { schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: [other] });
    await expect(attach()).rejects.toThrow(new RegExp(`acme/worker:${tag}: after 3 writes the tag still does not list`));
    expect(reg.count(new RegExp(`^PUT .*manifests/${tag}$`))).toBe(3);
  });
});
