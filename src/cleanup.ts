import * as core from '@actions/core';
import * as fs from 'fs';
import { Docker } from './adapters/docker';
import { messageOf } from './errors';
import { STATE, stateList } from './state';

/**
 * The post step: runs after the job's steps, also when they failed or the run was cancelled, and
 * removes whatever the main step may have left: containers, volumes and networks of a verification, the local image
 * tags the run created (each carries the run id, so another run's are never touched), and its
 * temporary directories. It never fails the job. (Registry credentials never touch disk except a
 * buildx push's own config dir, one of those temporary directories.)
 */
export async function cleanup(): Promise<void> {
  const docker = new Docker();
  try {
    const label = core.getState(STATE.label);
    if (label) {
      const removed = await docker.removeByLabel(label);
      if (removed.length) core.info(`removed what verification left: ${removed.join(', ')}`);
    }
    const tags = stateList(STATE.localTags);
    if (tags.length) {
      const removed = await docker.removeTags(tags);
      if (removed.length) core.info(`removed the run's local image tag(s): ${removed.join(', ')}`);
    }
    for (const dir of stateList(STATE.tempDirs)) {
      if (fs.existsSync(dir)) {
        fs.rmSync(dir, { recursive: true, force: true });
        core.info(`removed ${dir}`);
      }
    }
  } catch (e) {
    core.warning(`cleanup: ${messageOf(e)}`);
  }
}
