import './threads';
import { run } from './main';

// A cancelled run may still hold a socket or a timer once its report is written; the runner
// waits for this process before the post step, so it ends as soon as run() has unwound.
void run().finally(() => setTimeout(() => process.exit(), 100).unref());
