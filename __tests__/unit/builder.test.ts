import { builderProblem } from '../../src/builder/builder';

describe('builderProblem', () => {
  test.each([
    { name: 'buildx present: any CLI builds', buildx: true, client: '28.2.2', refused: false },
    { name: "no buildx, Debian's 20.10 CLI: engine BuildKit", buildx: false, client: '20.10.24+dfsg1', refused: false },
    { name: 'no buildx, 22.06 CLI: engine BuildKit', buildx: false, client: '22.06.0', refused: false },
    { name: 'no buildx, 23.0 CLI: refused up front', buildx: false, client: '23.0.0', refused: true },
    { name: 'no buildx, 28 CLI: refused up front', buildx: false, client: '28.2.2', refused: true },
    { name: 'no buildx, unreadable version: let the build speak', buildx: false, client: '', refused: false },
  ])('$name', ({ buildx, client, refused }) => {
    const problem = builderProblem(buildx, client);
    if (refused) {
      expect(problem).toContain(`docker CLI on PATH (${client})`);
      expect(problem).toContain('docker/setup-buildx-action');
    } else {
      expect(problem).toBeUndefined();
    }
  });
});
