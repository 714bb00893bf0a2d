import type { FetchedManifest, RegistryClient } from '../adapters/registry/client';

/**
 * Moving every tag to the new manifest list as one step, as far as a registry allows: the
 * registry API has no transaction, so the tags are read first, moved one by one, and on a
 * failure that outlasts the retries the ones already moved are put back. At the end the run
 * knows, and says, where every tag points.
 */
export interface TagBefore {
  tag: string;
  /** The manifest the tag named before the run; undefined when the tag did not exist. */
  before?: FetchedManifest;
}

export type TagFate =
  | 'moved' // now names the new list
  | 'already' // named the new list before the run
  | 'unchanged' // not touched (an earlier tag failed)
  | 'restored' // was moved, then put back where it was
  | 'removed' // did not exist, was created, then deleted again
  | 'left' // did not exist, was created, could not be deleted (the registry does not delete tags)
  | 'failed' // its own move failed; reading it back tells where it is
  | 'unknown'; // could be neither moved nor put back nor read

export interface TagReport {
  tag: string;
  before?: string;
  /** Digest the tag names now; undefined when it does not exist; 'unknown' when it could not be read. */
  now?: string;
  fate: TagFate;
}

export interface TagMoveResult {
  ok: boolean;
  tags: TagReport[];
  error?: Error;
}

/**
 * The order of the moves. Tags that exist are moved first: if one of them fails, no new tag has
 * been created yet, and every tag moved so far can be put back exactly. New tags come last:
 * creating one is the step that may not be undone (many registries cannot delete a tag).
 */
export function moveOrder(states: TagBefore[], target: string): { already: string[]; order: string[] } {
  const already = states.filter((s) => s.before?.digest === target).map((s) => s.tag);
  const todo = states.filter((s) => !already.includes(s.tag));
  return { already, order: [...todo.filter((s) => s.before), ...todo.filter((s) => !s.before)].map((s) => s.tag) };
}

export async function readTags(client: RegistryClient, tags: string[]): Promise<TagBefore[]> {
  const out: TagBefore[] = [];
  for (const tag of tags) out.push({ tag, before: await client.getManifest(tag) });
  return out;
}

async function currentDigest(client: RegistryClient, tag: string): Promise<string | undefined> {
  try {
    return (await client.getManifest(tag))?.digest;
  } catch {
    return 'unknown';
  }
}

export async function moveTags(
  client: RegistryClient,
  states: TagBefore[],
  list: { digest: string; mediaType: string; body: Buffer },
  log: (s: string) => void,
): Promise<TagMoveResult> {
  const report = new Map<string, TagReport>(states.map((s) => [s.tag, { tag: s.tag, before: s.before?.digest, now: s.before?.digest, fate: 'unchanged' }]));
  const { already, order } = moveOrder(states, list.digest);
  for (const t of already) report.get(t)!.fate = 'already';

  // The list exists by digest before any tag names it.
  try {
    await client.putManifest(list.digest, list.mediaType, list.body, `writing the manifest list ${client.name}@${list.digest}`);
  } catch (e) {
    return { ok: false, tags: [...report.values()], error: e as Error };
  }

  const moved: string[] = [];
  for (const tag of order) {
    try {
      await client.putManifest(tag, list.mediaType, list.body, `moving tag ${client.name}:${tag}`);
      moved.push(tag);
      Object.assign(report.get(tag)!, { now: list.digest, fate: 'moved' });
      log(`${client.name}:${tag} -> ${list.digest}`);
    } catch (e) {
      // The registry may have taken the PUT and lost the answer: look before undoing.
      const now = await currentDigest(client, tag);
      Object.assign(report.get(tag)!, { now, fate: 'failed' });
      if (now === list.digest) moved.push(tag);
      log(`moving ${client.name}:${tag} failed: ${(e as Error).message}; putting back the ${moved.length} tag(s) already moved`);
      await rollback(client, states, moved, report, log);
      return { ok: false, tags: [...report.values()], error: e as Error };
    }
  }
  return { ok: true, tags: [...report.values()] };
}

async function rollback(client: RegistryClient, states: TagBefore[], moved: string[], report: Map<string, TagReport>, log: (s: string) => void): Promise<void> {
  for (const tag of [...moved].reverse()) {
    const before = states.find((s) => s.tag === tag)?.before;
    const r = report.get(tag)!;
    try {
      if (before) {
        await client.putManifest(tag, before.mediaType, before.body, `putting ${client.name}:${tag} back`);
        Object.assign(r, { now: before.digest, fate: 'restored' });
        log(`${client.name}:${tag} put back to ${before.digest}`);
      } else if (await client.deleteTag(tag)) {
        Object.assign(r, { now: undefined, fate: 'removed' });
        log(`${client.name}:${tag} removed again (it did not exist before)`);
      } else {
        Object.assign(r, { fate: 'left' });
        log(`${client.name}:${tag} did not exist before and stays on the new list: this registry does not delete tags`);
      }
    } catch (e) {
      Object.assign(r, { now: await currentDigest(client, tag), fate: 'unknown' });
      log(`could not put ${client.name}:${tag} back: ${(e as Error).message}`);
    }
  }
}
