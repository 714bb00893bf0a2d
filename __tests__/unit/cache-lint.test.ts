import * as fs from 'fs';
import * as path from 'path';
import { cacheBusters } from '../../src/lint/cache-lint';

const lines = (...l: string[]) => l.join('\n');

test.each([
  {
    name: 'BUILD_TIME before the torch install',
    text: lines('FROM python:3.11', 'ARG BUILD_TIME', 'RUN pip install torch==2.2.2', 'COPY . /app'),
    want: [{ line: 2, arg: 'BUILD_TIME', run: 3 }],
  },
  {
    name: 'both, with defaults, before two RUNs: each ARG once, at the first RUN',
    text: lines('FROM python:3.11', 'ARG BUILD_COMMIT=dev', 'ARG BUILD_TIME=unknown', 'RUN pip install torch==2.2.2', 'RUN useradd worker'),
    want: [
      { line: 2, arg: 'BUILD_COMMIT', run: 4 },
      { line: 3, arg: 'BUILD_TIME', run: 4 },
    ],
  },
  {
    name: 'declared after the last RUN: nothing',
    text: lines('FROM python:3.11', 'RUN pip install torch==2.2.2', 'ARG BUILD_TIME', 'ENV BUILD_TIME=${BUILD_TIME}', 'COPY . /app'),
    want: [],
  },
  {
    name: 'a global ARG before FROM is not seen by the stage',
    text: lines('ARG BUILD_TIME', 'FROM python:3.11', 'RUN pip install torch==2.2.2'),
    want: [],
  },
  {
    name: 'per stage: a second stage that declares it again before its RUN',
    text: lines('FROM python:3.11 AS deps', 'RUN pip install torch==2.2.2', 'FROM deps', 'ARG BUILD_COMMIT', 'RUN echo "$BUILD_COMMIT" > /commit'),
    want: [{ line: 4, arg: 'BUILD_COMMIT', run: 5 }],
  },
  {
    name: 'other args do not change every run',
    text: lines('FROM python:3.11', 'ARG TORCH_VERSION', 'RUN pip install torch==$TORCH_VERSION'),
    want: [],
  },
  {
    name: 'lower-case instructions and continuation lines',
    text: lines('from python:3.11', 'arg BUILD_TIME', 'run pip install \\', '  torch==2.2.2'),
    want: [{ line: 2, arg: 'BUILD_TIME', run: 3 }],
  },
])('$name', ({ text, want }) => {
  const got = cacheBusters(text);
  expect(got.map((f) => f.line)).toEqual(want.map((w) => w.line));
  got.forEach((f, i) => expect(f.problem).toMatch(new RegExp(`^ARG ${want[i].arg} is declared before the RUN at line ${want[i].run}; `)));
});

test('the bundled example declares them after its expensive layers', () => {
  expect(cacheBusters(fs.readFileSync(path.join(__dirname, '../../examples/worker/Dockerfile'), 'utf8'))).toEqual([]);
});
