import * as fs from 'fs';
import * as path from 'path';
import { ACTION_VERSION } from '../../src/version';

test("the version written into attached reports is package.json's", () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '../../package.json'), 'utf8')) as { version: string };
  expect(ACTION_VERSION).toBe(pkg.version);
});
