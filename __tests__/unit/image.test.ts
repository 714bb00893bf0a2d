import { InputError } from '../../src/errors';
import { parseImage } from '../../src/plan/image';

describe('parseImage', () => {
  test.each([
    {
      name: 'GHCR name with upper-case owner is lowercased',
      raw: 'ghcr.io/MyOrg/Worker',
      want: { name: 'ghcr.io/myorg/worker', registry: 'ghcr.io', repository: 'myorg/worker' },
    },
    { name: 'localhost with a port', raw: 'localhost:5000/a/b', want: { name: 'localhost:5000/a/b', registry: 'localhost:5000', repository: 'a/b' } },
    { name: 'plain localhost', raw: 'localhost/a', want: { name: 'localhost/a', registry: 'localhost', repository: 'a' } },
    { name: 'IP address with a port', raw: '127.0.0.1:5999/x/y', want: { name: '127.0.0.1:5999/x/y', registry: '127.0.0.1:5999', repository: 'x/y' } },
    {
      name: 'explicit docker.io host keeps official images under library/',
      raw: 'docker.io/worker',
      want: { name: 'docker.io/worker', registry: 'docker.io', repository: 'library/worker' },
    },
    {
      name: 'index.docker.io is Docker Hub',
      raw: 'index.docker.io/acme/worker',
      want: { name: 'index.docker.io/acme/worker', registry: 'docker.io', repository: 'acme/worker' },
    },
    { name: 'single name is a Docker Hub official image', raw: 'worker', want: { name: 'worker', registry: 'docker.io', repository: 'library/worker' } },
    { name: 'user/name is on Docker Hub', raw: 'someone/worker', want: { name: 'someone/worker', registry: 'docker.io', repository: 'someone/worker' } },
    {
      name: 'separators . _ __ - inside components',
      raw: 'ghcr.io/my-org/ml.worker__gpu_v2',
      want: { name: 'ghcr.io/my-org/ml.worker__gpu_v2', registry: 'ghcr.io', repository: 'my-org/ml.worker__gpu_v2' },
    },
    { name: 'surrounding whitespace is trimmed', raw: '  ghcr.io/o/w \n', want: { name: 'ghcr.io/o/w', registry: 'ghcr.io', repository: 'o/w' } },
  ])('$name', ({ raw, want }) => {
    expect(parseImage(raw)).toEqual(want);
  });

  test.each([
    { name: 'a tag', raw: 'ghcr.io/o/w:latest', says: 'includes a tag or digest' },
    { name: 'a digest', raw: `ghcr.io/o/w@sha256:${'0'.repeat(64)}`, says: 'includes a tag or digest' },
    { name: 'a tag on a registry with a port', raw: 'localhost:5000/a/b:1.0', says: 'includes a tag or digest' },
    { name: 'a component starting with -', raw: 'ghcr.io/o/-bad', says: 'is not a valid image name' },
    { name: 'a component ending with a separator', raw: 'ghcr.io/o/bad.', says: 'is not a valid image name' },
    { name: 'an empty component', raw: 'ghcr.io/o//w', says: 'is not a valid image name' },
    { name: 'a space inside', raw: 'ghcr.io/o/my worker', says: 'is not a valid image name' },
  ])('refuses $name', ({ raw, says }) => {
    const parse = () => parseImage(raw);
    expect(parse).toThrow(InputError);
    expect(parse).toThrow("Input 'image'");
    expect(parse).toThrow(says);
    expect(parse).toThrow(`'${raw}'`);
  });

  test('refuses an empty name as required', () => {
    const parse = () => parseImage('');
    expect(parse).toThrow(InputError);
    expect(parse).toThrow("Input 'image': is required");
  });
});
