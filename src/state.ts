import * as core from '@actions/core';

/** Keys of the state the main step hands to the post step. */
export const STATE = {
  /** Label on every container the run starts. */
  label: 'container-label',
  /** JSON list of the local image tags the run created. */
  localTags: 'local-tags',
  /** JSON list of the temporary directories the run made. */
  tempDirs: 'temp-dirs',
};

/**
 * Lists handed to the post step as they grow, so a run cancelled at any moment has told the
 * post step everything it made before that moment.
 */
export class Leftovers {
  readonly localTags: string[] = [];
  readonly tempDirs: string[] = [];

  addLocalTag(ref: string): void {
    if (!this.localTags.includes(ref)) this.localTags.push(ref);
    core.saveState(STATE.localTags, JSON.stringify(this.localTags));
  }

  addTempDir(dir: string): void {
    this.tempDirs.push(dir);
    core.saveState(STATE.tempDirs, JSON.stringify(this.tempDirs));
  }
}

export function stateList(key: string): string[] {
  try {
    const v: unknown = JSON.parse(core.getState(key) || '[]');
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}
