import * as fs from 'fs';
import * as http from 'http';
import * as https from 'https';
import { MEDIA } from './manifest';

export interface Credentials {
  username: string;
  password: string;
}

export interface FetchedManifest {
  digest: string;
  mediaType: string;
  size: number;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/**
 * A small client of the registry HTTP API (distribution spec) for what the docker CLI cannot do
 * without experimental features or the buildx plugin: read manifests and configs by digest, and
 * put a manifest list under several tags. Handles both Basic and Bearer-token challenges
 * (Distribution with htpasswd; GHCR and Docker Hub).
 */
export class RegistryClient {
  private authHeader?: string;

  constructor(
    private readonly host: string,
    private readonly repository: string,
    private readonly creds?: Credentials,
  ) {}

  /** Docker treats loopback registries as plain HTTP; everything else is HTTPS. */
  get baseUrl(): string {
    const h = this.host === 'docker.io' ? 'registry-1.docker.io' : this.host;
    const plain = /^(localhost|127\.\d+\.\d+\.\d+)(:\d+)?$/.test(h);
    return `${plain ? 'http' : 'https'}://${h}`;
  }

  private async request(method: string, path: string, headers: Record<string, string>, body?: string): Promise<Response> {
    const send = () =>
      fetch(`${this.baseUrl}/v2/${this.repository}/${path}`, {
        method,
        headers: { ...headers, ...(this.authHeader ? { Authorization: this.authHeader } : {}) },
        body,
      });
    let r = await send();
    if (r.status === 401 && r.headers.get('www-authenticate')) {
      await this.authenticate(r.headers.get('www-authenticate')!);
      r = await send();
    }
    return r;
  }

  private basic(): string | undefined {
    return this.creds && this.creds.username ? `Basic ${Buffer.from(`${this.creds.username}:${this.creds.password}`).toString('base64')}` : undefined;
  }

  private async authenticate(challenge: string): Promise<void> {
    const scheme = challenge.split(' ')[0].toLowerCase();
    if (scheme === 'basic') {
      this.authHeader = this.basic();
      return;
    }
    const params: Record<string, string> = {};
    for (const m of challenge.matchAll(/(\w+)="([^"]*)"/g)) params[m[1]] = m[2];
    if (!params.realm) throw new Error(`registry ${this.host} sent an auth challenge without a realm`);
    const url = new URL(params.realm);
    if (params.service) url.searchParams.set('service', params.service);
    url.searchParams.set('scope', `repository:${this.repository}:pull,push`);
    const basic = this.basic();
    const r = await fetch(url, { headers: basic ? { Authorization: basic } : {} });
    if (!r.ok) throw new Error(`registry ${this.host} refused a token for ${this.repository} (HTTP ${r.status})`);
    const j = (await r.json()) as { token?: string; access_token?: string };
    this.authHeader = `Bearer ${j.token ?? j.access_token}`;
  }

  async manifest(reference: string): Promise<FetchedManifest> {
    const r = await this.request('GET', `manifests/${reference}`, {
      Accept: [MEDIA.dockerManifest, MEDIA.ociManifest, MEDIA.dockerList, MEDIA.ociIndex].join(', '),
    });
    const text = await r.text();
    if (!r.ok) throw new Error(`GET manifest ${this.repository}@${reference} from ${this.host}: HTTP ${r.status} ${text.slice(0, 200)}`);
    const json = JSON.parse(text);
    return {
      digest: r.headers.get('docker-content-digest') ?? '',
      mediaType: json.mediaType ?? r.headers.get('content-type') ?? '',
      size: Buffer.byteLength(text),
      json,
    };
  }

  async blobJson(digest: string): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
    const r = await this.request('GET', `blobs/${digest}`, {});
    if (!r.ok) throw new Error(`GET blob ${this.repository}@${digest} from ${this.host}: HTTP ${r.status}`);
    return r.json();
  }

  /** Checks the credentials before anything is uploaded, so a bad password moves and pushes nothing. */
  async checkAccess(): Promise<void> {
    const r = await this.request('HEAD', `blobs/sha256:${'0'.repeat(64)}`, {});
    if (r.status === 401 || r.status === 403) {
      throw new Error(`registry ${this.host} refused ${this.creds?.username ? `user '${this.creds.username}'` : 'anonymous access'} for ${this.repository} (HTTP ${r.status})`);
    }
  }

  async hasBlob(digest: string): Promise<boolean> {
    const r = await this.request('HEAD', `blobs/${digest}`, {});
    return r.ok;
  }

  /** Monolithic upload: POST for a session, then one PUT with the whole blob streamed from a file. */
  async uploadBlob(digest: string, file: string, start: number, size: number): Promise<void> {
    if (await this.hasBlob(digest)) return;
    const session = await this.request('POST', 'blobs/uploads/', { 'Content-Length': '0' });
    const location = session.headers.get('location');
    if (session.status !== 202 || !location) throw new Error(`starting an upload to ${this.host}/${this.repository}: HTTP ${session.status}`);
    const url = new URL(location, this.baseUrl);
    url.searchParams.set('digest', digest);
    const status = await this.putFile(url, file, start, size);
    if (status.code !== 201) throw new Error(`uploading ${digest} to ${this.host}/${this.repository}: HTTP ${status.code} ${status.text.slice(0, 200)}`);
  }

  /**
   * PUT of a file range through node's http client, piped with backpressure: the layer never
   * sits in memory (fetch with a stream body buffered whole layers here).
   */
  private putFile(url: URL, file: string, start: number, size: number): Promise<{ code: number; text: string }> {
    const client = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = client.request(
        url,
        {
          method: 'PUT',
          headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(size), ...(this.authHeader ? { Authorization: this.authHeader } : {}) },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (text += d));
          res.on('end', () => resolve({ code: res.statusCode ?? 0, text }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      if (size === 0) {
        req.end();
        return;
      }
      const source = fs.createReadStream(file, { start, end: start + size - 1 });
      source.on('error', (e) => req.destroy(e));
      source.pipe(req);
    });
  }

  async putManifest(tag: string, mediaType: string, body: string): Promise<string> {
    const r = await this.request('PUT', `manifests/${tag}`, { 'Content-Type': mediaType }, body);
    if (!r.ok) throw new Error(`PUT manifest ${this.repository}:${tag} to ${this.host}: HTTP ${r.status} ${(await r.text()).slice(0, 300)}`);
    return r.headers.get('docker-content-digest') ?? '';
  }
}
