// The services themselves are shared with the demo (scripts/local-services.js); this file adds the
// registry queries the assertions need.

const services = require('../../../scripts/local-services.js') as {
  startRegistry: () => Promise<{ host: string; user: string; password: string; stop: () => void }>;
  startWheelIndex: (versions?: string, opts?: { htmlOnly?: boolean }) => Promise<{ url: string; stop: () => void; requests: () => IndexRequest[] }>;
  LOCAL_BASE_ARGS: string;
};

export const LOCAL_BASE_ARGS = services.LOCAL_BASE_ARGS;

const REFERRERS_TAG = /^sha256-[0-9a-f]{64}$/;

export class Registry {
  host = '';
  user = '';
  password = '';
  private stopper = () => {};

  async start(): Promise<this> {
    const r = await services.startRegistry();
    Object.assign(this, { host: r.host, user: r.user, password: r.password });
    this.stopper = r.stop;
    return this;
  }

  stop(): void {
    this.stopper();
  }

  private get auth(): Record<string, string> {
    return { Authorization: `Basic ${Buffer.from(`${this.user}:${this.password}`).toString('base64')}` };
  }

  /** Tags of a repository; [] when the registry has never heard of it. */
  async tags(repository: string): Promise<string[]> {
    const r = await fetch(`http://${this.host}/v2/${repository}/tags/list`, { headers: this.auth });
    if (r.status === 404) return [];
    const j = (await r.json()) as { tags: string[] | null };
    return j.tags ?? [];
  }

  /** Tags a user would pull: all but the `sha256-<hex>` tags of the OCI referrers fallback. */
  async imageTags(repository: string): Promise<string[]> {
    return (await this.tags(repository)).filter((t) => !REFERRERS_TAG.test(t));
  }

  /** The referrers fallback tags (`sha256-<hex>` of the image each lists artifacts for). */
  async referrerTags(repository: string): Promise<string[]> {
    return (await this.tags(repository)).filter((t) => REFERRERS_TAG.test(t));
  }

  async manifest(repository: string, ref: string): Promise<{ digest: string; json: any }> {
    const r = await fetch(`http://${this.host}/v2/${repository}/manifests/${ref}`, {
      headers: {
        ...this.auth,
        Accept:
          'application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json',
      },
    });
    if (!r.ok) throw new Error(`manifest ${repository}:${ref}: HTTP ${r.status}`);
    return { digest: r.headers.get('docker-content-digest') ?? '', json: await r.json() };
  }

  async blob(repository: string, digest: string): Promise<any> {
    const r = await fetch(`http://${this.host}/v2/${repository}/blobs/${digest}`, { headers: this.auth });
    if (!r.ok) throw new Error(`blob ${digest}: HTTP ${r.status}`);
    return r.json();
  }
}

/** One request the stub index answered: what it was asked (Accept) and in which form it answered. */
export interface IndexRequest {
  path: string;
  accept: string;
  status: number;
  answered: 'json' | 'html' | 'file' | 'redirect' | 'error';
}

export class WheelIndex {
  url = '';
  private stopper = () => {};
  private reader: () => IndexRequest[] = () => [];

  /** `htmlOnly`: answer PEP 503 HTML whatever the Accept header asks, as a static index does. */
  async start(versions = '2.2.2', opts: { htmlOnly?: boolean } = {}): Promise<this> {
    const r = await services.startWheelIndex(versions, opts);
    this.url = r.url;
    this.stopper = r.stop;
    this.reader = r.requests;
    return this;
  }

  /** Requests so far, from the server's own log. */
  requests(): IndexRequest[] {
    return this.reader();
  }

  stop(): void {
    this.stopper();
  }
}
