import * as core from '@actions/core';
import { Docker } from './adapters/docker';
import { messageOf } from './errors';
import { STATE } from './state';

/**
 * The post step: runs after the job's steps, also when they failed or the run was cancelled, and
 * removes whatever the main step may have left: containers of a failed or cancelled
 * verification. It never fails the job. (Registry credentials never touch disk: the action talks
 * to the registry itself, so there is no docker login to undo.)
 */
export async function cleanup(): Promise<void> {
  const docker = new Docker();
  try {
    const label = core.getState(STATE.label);
    if (label) {
      const removed = await docker.removeByLabel(label);
      if (removed.length) core.info(`removed ${removed.length} leftover container(s)`);
    }
  } catch (e) {
    core.warning(`cleanup: ${messageOf(e)}`);
  }
}
