import { parallelism } from '../../src/main';

// Platforms side by side: at most one per two cores unless `parallel` says otherwise, never more than there are.
test.each([
  { name: '4-core hosted runner, two platforms', setting: 'auto' as const, jobs: 2, cores: 4, want: 2 },
  { name: '2 cores: one at a time', setting: 'auto' as const, jobs: 2, cores: 2, want: 1 },
  { name: '1 core', setting: 'auto' as const, jobs: 2, cores: 1, want: 1 },
  { name: '16 cores, three images of two platforms', setting: 'auto' as const, jobs: 6, cores: 16, want: 6 },
  { name: '16 cores, one platform', setting: 'auto' as const, jobs: 1, cores: 16, want: 1 },
  { name: 'given: 2 on 2 cores', setting: 2, jobs: 2, cores: 2, want: 2 },
  { name: 'given more than there are platforms', setting: 8, jobs: 2, cores: 2, want: 2 },
  { name: 'given 1', setting: 1, jobs: 4, cores: 32, want: 1 },
])('$name: $want', ({ setting, jobs, cores, want }) => {
  expect(parallelism(setting, jobs, cores)).toBe(want);
});
