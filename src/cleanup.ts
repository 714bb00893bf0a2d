import * as core from '@actions/core';
import { Docker } from './adapters/docker';
import { messageOf } from './errors';
import { STATE } from './state';

/**
 * The post step: runs after the job's steps, also when they failed or the run was cancelled, and
 * removes whatever the main step may have left (containers of a cancelled verification, the
 * registry login). It never fails the job.
 */
export async function cleanup(): Promise<void> {
  const docker = new Docker();
  try {
    const label = core.getState(STATE.label);
    if (label) {
      const removed = await docker.removeByLabel(label);
      if (removed.length) core.info(`removed ${removed.length} leftover container(s)`);
    }
    const registry = core.getState(STATE.registry);
    if (registry) {
      await docker.exec(['logout', registry]);
      core.info(`logged out of ${registry}`);
    }
  } catch (e) {
    core.warning(`cleanup: ${messageOf(e)}`);
  }
}
