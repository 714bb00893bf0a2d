import * as fs from 'fs';
import * as yaml from 'js-yaml';
import * as path from 'path';

/** The README's inputs and outputs tables name exactly what action.yml declares. */
const ROOT = path.join(__dirname, '../..');
const action = yaml.load(fs.readFileSync(path.join(ROOT, 'action.yml'), 'utf8')) as {
  inputs: Record<string, unknown>;
  outputs: Record<string, unknown>;
  description: string;
};
const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');

/** First-column names of the table under a `## heading`. */
function tableNames(heading: string): string[] {
  const section = readme.split(`\n## ${heading}\n`)[1]?.split('\n## ')[0] ?? '';
  return section
    .split('\n')
    .map((l) => /^\| `([^`]+)` \|/.exec(l)?.[1])
    .filter((n): n is string => n !== undefined);
}

test.each([
  { heading: 'Inputs', declared: () => Object.keys(action.inputs) },
  { heading: 'Outputs', declared: () => Object.keys(action.outputs) },
])('README $heading table lists what action.yml declares, once each', ({ heading, declared }) => {
  const listed = tableNames(heading);
  expect(listed.length).toBeGreaterThan(0);
  expect([...listed].sort()).toEqual([...declared()].sort());
});

test("action.yml's description fits the Marketplace's 125 characters", () => {
  expect(action.description.length).toBeLessThanOrEqual(125);
});

test('the license package.json names is in the repository', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { license: string };
  expect(fs.readFileSync(path.join(ROOT, 'LICENSE'), 'utf8')).toMatch(new RegExp(`^${pkg.license} License`));
});
