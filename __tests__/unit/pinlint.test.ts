import * as fs from 'fs';
import * as path from 'path';
import { lintContext, pathInContext, type FileSystem } from '../../src/lint/context';
import { lintDockerfile } from '../../src/lint/dockerfile';
import { DEFAULT_PINNED, formatFindings, pinAnnotations, repositoryPath, type Annotation, type PinFinding, type Planned } from '../../src/lint/findings';
import { lintPlan } from '../../src/lint/lint';
import type { Plan } from '../../src/plan/plan';
import { PhaseError } from '../../src/errors';
import { inputs } from './fixtures';
import { lintPyproject } from '../../src/lint/pyproject';
import { sameVersion } from '../../src/lint/requirement';
import { lintRequirements } from '../../src/lint/requirements';

/** The plan of the example worker: torch and torchaudio 2.2.2; the other checked packages only need ==. */
const PLAN: Planned = { torch: '2.2.2', torchaudio: '2.2.2' };
const FIXTURES = path.join(__dirname, '..', 'fixtures', 'pinlint');
const EXAMPLE_DOCKERFILE = path.join(__dirname, '..', '..', 'examples', 'worker', 'Dockerfile');

/** Text from lines; single-quoted in the rows so ${TORCH_VERSION} stays literal. */
const text = (...lines: string[]) => lines.join('\n');
/** "line package: problem", the part of a finding each row states. */
const brief = (findings: PinFinding[]) => findings.map((f) => `${f.line} ${f.package}: ${f.problem}`);

interface Row {
  name: string;
  text: string;
  want: string[];
  planned?: Planned;
  packages?: string[];
}

const RANGE_OPERATORS = ['>=', '<=', '>', '<', '~=', '!='];

describe('sameVersion (PEP 440, public versions)', () => {
  test.each([
    { name: 'trailing zeros do not count', a: '2.2', b: '2.2.0', same: true },
    { name: 'a local label does not count', a: '2.2.2+cu121', b: '2.2.2', same: true },
    { name: 'two local labels do not count', a: '2.2.2+cu121', b: '2.2.2+cpu', same: true },
    { name: 'epoch 0 is the default epoch', a: '0!2.2.2', b: '2.2.2', same: true },
    { name: 'another epoch is another version', a: '1!2.2.2', b: '2.2.2', same: false },
    { name: 'a leading v and case do not count', a: 'V2.2.0RC1', b: '2.2rc1', same: true },
    { name: 'spelled pre-release forms are one version', a: '2.2.0-RC.1', b: '2.2.0rc1', same: true },
    { name: '-1 is the post-release .post1', a: '2.2.2-1', b: '2.2.2.post1', same: true },
    { name: 'a post-release is another version', a: '2.2.2.post1', b: '2.2.2', same: false },
    { name: 'a pre-release is another version', a: '2.2.2rc1', b: '2.2.2', same: false },
    { name: 'another patch is another version', a: '2.2.1', b: '2.2.2', same: false },
    { name: 'text that is no version is compared as written, case aside', a: 'Nightly', b: 'nightly', same: true },
    { name: 'text that is no version never equals a version', a: 'latest', b: '2.2.2', same: false },
  ])('$name', ({ a, b, same }) => {
    expect(sameVersion(a, b)).toBe(same);
    expect(sameVersion(b, a)).toBe(same);
  });
});

describe('lintRequirements', () => {
  test.each<Row>([
    // Accepted
    { name: 'exact pins matching the plan', text: text('torch==2.2.2', 'torchaudio==2.2.2'), want: [] },
    { name: 'a local version label (+cu121) matches the public plan version', text: 'torch==2.2.2+cu121', want: [] },
    { name: '=== is an exact pin', text: 'torch===2.2.2', want: [] },
    { name: 'spaces around == are allowed', text: 'torch == 2.2.2', want: [] },
    { name: 'the plan version compares as PEP 440 (2.2 is 2.2.0)', text: 'torch==2.2', planned: { torch: '2.2.0' }, want: [] },
    { name: 'an epoch 0 pin matches the plan', text: 'torch==0!2.2.2', want: [] },
    { name: 'a plan version with a local label compares by its public part', text: 'torch==2.2.2', planned: { torch: '2.2.2+cu121' }, want: [] },
    {
      name: 'a post-release is not the planned version',
      text: 'torch==2.2.2.post1',
      want: ['1 torch: torch==2.2.2.post1 disagrees with the plan (torch 2.2.2)'],
    },
    { name: 'another epoch is not the planned version', text: 'torch==1!2.2.2', want: ['1 torch: torch==1!2.2.2 disagrees with the plan (torch 2.2.2)'] },
    { name: 'a package the plan does not version only needs ==', text: text('pyannote.audio==3.1.1', 'openai-whisper==20231117'), want: [] },
    { name: 'packages not listed are ignored', text: text('numpy>=1.26', 'requests', 'fastapi~=0.110'), want: [] },
    { name: 'only the given packages are checked', text: 'torchaudio>=2', packages: ['torch'], want: [] },
    // Unpinned and ranges
    { name: 'no specifier is unpinned', text: 'torch', want: ['1 torch: torch is unpinned; pin it exactly (torch==2.2.2)'] },
    ...RANGE_OPERATORS.map((op) => ({
      name: `${op} is a range`,
      text: `torch${op}2.1`,
      want: [`1 torch: torch${op}2.1 is a range; pin it exactly (torch==2.2.2)`],
    })),
    { name: '==2.2.* is a range', text: 'torch==2.2.*', want: ['1 torch: torch==2.2.* is a range; pin it exactly (torch==2.2.2)'] },
    { name: 'a comma list is a range', text: 'torch>=2.1,<2.3', want: ['1 torch: torch>=2.1,<2.3 is a range; pin it exactly (torch==2.2.2)'] },
    { name: 'a comma list with spaces is a range', text: 'torch >= 2.1, < 2.3', want: ['1 torch: torch>=2.1,<2.3 is a range; pin it exactly (torch==2.2.2)'] },
    {
      name: 'an unplanned package with a range is told to use ==',
      text: 'pyannote.audio>=3',
      want: ['1 pyannote.audio: pyannote.audio>=3 is a range; pin it exactly with =='],
    },
    // Disagreeing with the plan
    { name: 'an exact pin other than the plan', text: 'torch==2.1.0', want: ['1 torch: torch==2.1.0 disagrees with the plan (torch 2.2.2)'] },
    {
      name: 'a local label does not hide another public version',
      text: 'torchaudio==2.1.0+cu121',
      want: ['1 torchaudio: torchaudio==2.1.0+cu121 disagrees with the plan (torchaudio 2.2.2)'],
    },
    {
      name: 'plan keys are normalized too',
      text: 'pyannote.audio==3.0.0',
      planned: { 'Pyannote-Audio': '3.1.1' },
      want: ['1 pyannote.audio: pyannote.audio==3.0.0 disagrees with the plan (pyannote.audio 3.1.1)'],
    },
    // Names, extras, markers
    {
      name: 'Pyannote_Audio matches pyannote.audio',
      text: 'Pyannote_Audio>=3.1',
      want: ['1 Pyannote_Audio: Pyannote_Audio>=3.1 is a range; pin it exactly with =='],
    },
    { name: 'pyannote-audio matches pyannote.audio', text: 'pyannote-audio', want: ['1 pyannote-audio: pyannote-audio is unpinned; pin it exactly with =='] },
    { name: 'TORCH matches torch', text: 'TORCH>2', want: ['1 TORCH: TORCH>2 is a range; pin it exactly (TORCH==2.2.2)'] },
    { name: 'openai_whisper matches openai-whisper', text: 'openai_whisper', want: ['1 openai_whisper: openai_whisper is unpinned; pin it exactly with =='] },
    { name: 'extras with an exact pin are fine', text: 'torch[opt-einsum]==2.2.2', want: [] },
    { name: 'extras with a range are reported', text: 'torch[opt] >= 2', want: ['1 torch: torch[opt]>=2 is a range; pin it exactly (torch==2.2.2)'] },
    { name: 'an environment marker after an exact pin is fine', text: 'torch==2.2.2 ; platform_machine == "x86_64"', want: [] },
    {
      name: 'the == inside a marker is not a pin',
      text: "torch ; sys_platform == 'linux'",
      want: ['1 torch: torch is unpinned; pin it exactly (torch==2.2.2)'],
    },
    { name: 'a PEP 508 parenthesized specifier', text: 'torch (==2.2.2)', want: [] },
    // File syntax
    { name: 'comment lines are skipped', text: text('# torch>=2', '   # torchaudio', 'torch==2.2.2'), want: [] },
    { name: 'a trailing comment is dropped', text: 'torch==2.2.2  # was torch>=2', want: [] },
    {
      name: 'a trailing comment does not hide a range',
      text: 'torchaudio>=2.1 # fixme',
      want: ['1 torchaudio: torchaudio>=2.1 is a range; pin it exactly (torchaudio==2.2.2)'],
    },
    {
      name: 'line numbers count blank and comment lines',
      text: text('', '# header', '', 'numpy', 'torchaudio'),
      want: ['5 torchaudio: torchaudio is unpinned; pin it exactly (torchaudio==2.2.2)'],
    },
    {
      name: 'option lines are not requirements',
      text: text(
        '--index-url https://pypi.org/simple',
        '--extra-index-url ${TORCH_INDEX_URL}',
        '-f https://download.pytorch.org/whl/torch_stable.html',
        '-c constraints.txt',
        '-r other.txt',
        '--pre',
        '--prefer-binary',
      ),
      want: [],
    },
    {
      name: 'a continuation reports the line the requirement starts on',
      text: text('numpy \\', '  ==1.26.4', 'torch \\', '  >=2.1 \\', '  ; python_version >= "3.8"'),
      want: ['3 torch: torch>=2.1 is a range; pin it exactly (torch==2.2.2)'],
    },
    { name: 'a continued exact pin is fine', text: text('torch\\', '==2.2.2'), want: [] },
    { name: 'CRLF line endings', text: 'numpy\r\ntorch>=2\r\n', want: ['2 torch: torch>=2 is a range; pin it exactly (torch==2.2.2)'] },
    { name: 'a per-requirement --hash is not part of the pin', text: 'torch==2.2.2 --hash=sha256:0123', want: [] },
    {
      name: 'a per-requirement --hash does not make a pin',
      text: 'torch --hash=sha256:0123',
      want: ['1 torch: torch is unpinned; pin it exactly (torch==2.2.2)'],
    },
    // Placeholders
    { name: '${TORCH_VERSION} is pinned to the plan', text: 'torch==${TORCH_VERSION}', want: [] },
    { name: '$TORCH_VERSION is pinned to the plan', text: 'torch==$TORCH_VERSION', want: [] },
    {
      name: '${TORCHAUDIO_VERSION} and ${TORCHVISION_VERSION}',
      text: text('torchaudio==${TORCHAUDIO_VERSION}', 'torchvision==${TORCHVISION_VERSION}'),
      planned: { ...PLAN, torchvision: '0.17.2' },
      want: [],
    },
    { name: 'a placeholder with a local label', text: 'torch==${TORCH_VERSION}+cu121', want: [] },
    { name: 'a placeholder for another build arg is an exact pin', text: text('pyannote.audio==${PYANNOTE_VERSION}', 'torch==${MY_TORCH}'), want: [] },
    { name: 'a placeholder with a default', text: 'torch==${FIXTURE_TORCH_PIN:-$TORCH_VERSION}', want: [] },
    {
      name: "torch's placeholder on torchaudio disagrees when the plan versions differ",
      text: 'torchaudio==${TORCH_VERSION}',
      planned: { torch: '2.0.1', torchaudio: '2.0.2' },
      want: ['1 torchaudio: torchaudio==${TORCH_VERSION} disagrees with the plan (torchaudio 2.0.2; it resolves to 2.0.1)'],
    },
    {
      name: 'a placeholder after a range operator is still a range',
      text: 'torch>=${TORCH_VERSION}',
      want: ['1 torch: torch>=${TORCH_VERSION} is a range; pin it exactly (torch==2.2.2)'],
    },
    // URL and path requirements
    {
      name: 'name @ wheel URL carrying the planned version',
      text: 'torch @ https://download.pytorch.org/whl/cu121/torch-2.2.2%2Bcu121-cp311-cp311-linux_x86_64.whl',
      want: [],
    },
    {
      name: 'name @ git URL has no version',
      text: 'pyannote.audio @ git+https://github.com/pyannote/pyannote-audio.git@develop',
      want: [
        '1 pyannote.audio: pyannote.audio is unpinned: git+https://github.com/pyannote/pyannote-audio.git@develop names no version; pin it exactly with ==',
      ],
    },
    {
      name: 'a bare git URL named by #egg= has no version',
      text: 'git+https://github.com/openai/whisper.git#egg=openai-whisper',
      want: [
        '1 openai-whisper: openai-whisper is unpinned: git+https://github.com/openai/whisper.git#egg=openai-whisper names no version; pin it exactly with ==',
      ],
    },
    {
      name: 'an editable path named like the package has no version',
      text: '-e ./vendor/pyannote-audio',
      want: ['1 pyannote-audio: pyannote-audio is unpinned: ./vendor/pyannote-audio names no version; pin it exactly with =='],
    },
    {
      name: 'a bare wheel URL with another version disagrees',
      text: 'https://download.pytorch.org/whl/cu121/torch-2.1.0%2Bcu121-cp311-cp311-linux_x86_64.whl',
      want: [
        '1 torch: torch from https://download.pytorch.org/whl/cu121/torch-2.1.0%2Bcu121-cp311-cp311-linux_x86_64.whl (2.1.0+cu121) disagrees with the plan (torch 2.2.2)',
      ],
    },
    { name: 'a local path with no package name is not checked', text: text('.', './src'), want: [] },
  ])('$name', ({ text: t, want, planned, packages }) => {
    expect(brief(lintRequirements(t, 'requirements.txt', packages ?? DEFAULT_PINNED, planned ?? PLAN))).toEqual(want);
  });

  test('findings carry the file name given', () => {
    expect(lintRequirements('torch', 'services/api/requirements.txt', DEFAULT_PINNED, PLAN)).toEqual([
      { file: 'services/api/requirements.txt', line: 1, package: 'torch', problem: 'torch is unpinned; pin it exactly (torch==2.2.2)' },
    ]);
  });
});

describe('lintPyproject', () => {
  test.each<Row>([
    // [project]
    {
      name: 'exact [project] dependencies',
      text: text('[project]', 'name = "w"', 'dependencies = [', '  "torch==2.2.2",', '  "torchaudio==2.2.2+cu121",', ']'),
      want: [],
    },
    {
      name: 'a range in a multi-line dependencies array, on its own line',
      text: text('[project]', 'name = "w"', 'dependencies = [', '  "numpy",', '  "torch>=2.1",  # comment', "  'torchaudio',", ']'),
      want: ['5 torch: torch>=2.1 is a range; pin it exactly (torch==2.2.2)', '6 torchaudio: torchaudio is unpinned; pin it exactly (torchaudio==2.2.2)'],
    },
    {
      name: 'two entries on one line are both reported on it',
      text: text('[project]', 'dependencies = ["torch>=2", "torchaudio~=2.2"]'),
      want: ['2 torch: torch>=2 is a range; pin it exactly (torch==2.2.2)', '2 torchaudio: torchaudio~=2.2 is a range; pin it exactly (torchaudio==2.2.2)'],
    },
    {
      name: 'a marker with == inside a dependency string is not a pin',
      text: text('[project]', 'dependencies = [', `  "torch; sys_platform == 'linux'",`, ']'),
      want: ['3 torch: torch is unpinned; pin it exactly (torch==2.2.2)'],
    },
    {
      name: '[project.optional-dependencies] groups',
      text: text('[project.optional-dependencies]', 'gpu = [', '  "torchvision",', ']', 'diarize = ["Pyannote-Audio>=3.1"]'),
      want: ['3 torchvision: torchvision is unpinned; pin it exactly with ==', '5 Pyannote-Audio: Pyannote-Audio>=3.1 is a range; pin it exactly with =='],
    },
    {
      name: 'optional-dependencies as an inline table of [project]',
      text: text('[project]', 'optional-dependencies = { gpu = ["torch<3"] }'),
      want: ['2 torch: torch<3 is a range; pin it exactly (torch==2.2.2)'],
    },
    {
      name: 'PEP 735 [dependency-groups]',
      text: text('[dependency-groups]', 'gpu = [', '  { include-group = "base" },', '  "torchaudio>=2",', ']'),
      want: ['4 torchaudio: torchaudio>=2 is a range; pin it exactly (torchaudio==2.2.2)'],
    },
    {
      name: '[tool.uv] override-dependencies',
      text: text('[tool.uv]', 'override-dependencies = ["torch>=2"]'),
      want: ['2 torch: torch>=2 is a range; pin it exactly (torch==2.2.2)'],
    },
    { name: 'a dependencies key of another table is not read', text: text('[tool.other]', 'dependencies = ["torch"]', '[project]', 'name = "w"'), want: [] },
    {
      name: 'table headers inside a multi-line string are text, not structure',
      text: text('[project]', 'description = """', '[tool.poetry.dependencies]', 'torch = "^2"', '"""', 'dependencies = ["torch==2.2.2"]'),
      want: [],
    },
    {
      name: 'line numbers after a multi-line string',
      text: text('[project]', "readme = '''", 'a', 'b', "'''", 'dependencies = [', '"torch"', ']'),
      want: ['7 torch: torch is unpinned; pin it exactly (torch==2.2.2)'],
    },
    // Poetry
    { name: 'Poetry "2.2.2" is exact', text: text('[tool.poetry.dependencies]', 'python = "^3.11"', 'torch = "2.2.2"'), want: [] },
    { name: 'Poetry "==2.2.2" is exact', text: text('[tool.poetry.dependencies]', 'torch = "==2.2.2"'), want: [] },
    { name: 'Poetry "2.2.2+cu121" is exact', text: text('[tool.poetry.dependencies]', 'torch = "2.2.2+cu121"'), want: [] },
    {
      name: 'Poetry ^ is a range',
      text: text('[tool.poetry.dependencies]', 'torch = "^2.2"'),
      want: ['2 torch: torch = "^2.2" is a range; pin it exactly (torch = "2.2.2")'],
    },
    {
      name: 'Poetry ~ is a range',
      text: text('[tool.poetry.dependencies]', 'torch = "~2.2"'),
      want: ['2 torch: torch = "~2.2" is a range; pin it exactly (torch = "2.2.2")'],
    },
    {
      name: 'Poetry >= is a range',
      text: text('[tool.poetry.dependencies]', 'torch = ">=2.2"'),
      want: ['2 torch: torch = ">=2.2" is a range; pin it exactly (torch = "2.2.2")'],
    },
    {
      name: 'Poetry 2.2.* is a range',
      text: text('[tool.poetry.dependencies]', 'torch = "2.2.*"'),
      want: ['2 torch: torch = "2.2.*" is a range; pin it exactly (torch = "2.2.2")'],
    },
    {
      name: 'Poetry * is unpinned',
      text: text('[tool.poetry.dependencies]', 'torch = "*"'),
      want: ['2 torch: torch is unpinned (torch = "*"); pin it exactly (torch = "2.2.2")'],
    },
    {
      name: 'Poetry exact pin disagreeing with the plan',
      text: text('[tool.poetry.dependencies]', 'torch = "2.1.0"'),
      want: ['2 torch: torch = "2.1.0" disagrees with the plan (torch 2.2.2)'],
    },
    {
      name: 'Poetry table with an exact version',
      text: text('[tool.poetry.dependencies]', 'torch = { version = "2.2.2", source = "pytorch-cu121" }'),
      want: [],
    },
    {
      name: 'Poetry table with a range version',
      text: text('[tool.poetry.dependencies]', 'torchvision = { version = "^0.17", source = "pytorch" }'),
      want: ['2 torchvision: torchvision = { version = "^0.17" } is a range; pin it exactly with =='],
    },
    {
      name: 'Poetry table without a version',
      text: text('[tool.poetry.dependencies]', 'torch = { source = "pytorch" }'),
      want: ['2 torch: torch is unpinned (a table without a version); pin it exactly (torch = "2.2.2")'],
    },
    {
      name: 'Poetry git dependency without a version',
      text: text('[tool.poetry.dependencies]', '"pyannote.audio" = { git = "https://github.com/pyannote/pyannote-audio.git", tag = "3.1.1" }'),
      want: ['2 pyannote.audio: pyannote.audio is unpinned (a git dependency without a version); pin it exactly with =='],
    },
    {
      name: 'Poetry quoted, differently spelled key is normalized',
      text: text('[tool.poetry.dependencies]', '"Pyannote_Audio" = "^3.1"'),
      want: ['2 Pyannote_Audio: Pyannote_Audio = "^3.1" is a range; pin it exactly with =='],
    },
    {
      name: 'Poetry group dependencies',
      text: text('[tool.poetry.group.gpu.dependencies]', 'torchaudio = ">=2.2"'),
      want: ['2 torchaudio: torchaudio = ">=2.2" is a range; pin it exactly (torchaudio = "2.2.2")'],
    },
    {
      name: 'Poetry dev-dependencies',
      text: text('[tool.poetry.dev-dependencies]', 'openai-whisper = "^20231117"'),
      want: ['2 openai-whisper: openai-whisper = "^20231117" is a range; pin it exactly with =='],
    },
    {
      name: 'Poetry multiple constraints: each alternative on its line',
      text: text(
        '[tool.poetry.dependencies]',
        'torch = [',
        '  { version = "2.2.2", markers = "sys_platform == \'linux\'" },',
        '  { version = ">=2.2", platform = "darwin" },',
        ']',
      ),
      want: ['4 torch: torch = { version = ">=2.2" } is a range; pin it exactly (torch = "2.2.2")'],
    },
    {
      name: 'Poetry sub-table with a range version',
      text: text('[tool.poetry.dependencies.torch]', 'source = "pytorch"', 'version = "^2.2"'),
      want: ['3 torch: torch.version = "^2.2" is a range; pin it exactly (torch = "2.2.2")'],
    },
    { name: 'Poetry sub-table with an exact version', text: text('[tool.poetry.group.gpu.dependencies.torch]', 'version = "2.2.2"'), want: [] },
    {
      name: 'Poetry sub-table without a version',
      text: text('[tool.poetry.dependencies.torchaudio]', 'git = "https://github.com/pytorch/audio"'),
      want: ['1 torchaudio: torchaudio is unpinned (a git dependency without a version); pin it exactly (torchaudio = "2.2.2")'],
    },
    {
      name: 'Poetry dotted key version',
      text: text('[tool.poetry.dependencies]', 'torch.version = "~2.2"'),
      want: ['2 torch: torch.version = "~2.2" is a range; pin it exactly (torch = "2.2.2")'],
    },
    // The TOML reader (toml-eslint-parser): positions and syntax
    {
      name: 'items of a multi-line array with comments and a trailing comma, each on its line',
      text: text('[project]', 'dependencies = [', '  # the torch stack', '  "torch>=2",', '', '  """torchaudio""",  # triple-quoted', ']'),
      want: ['4 torch: torch>=2 is a range; pin it exactly (torch==2.2.2)', '6 torchaudio: torchaudio is unpinned; pin it exactly (torchaudio==2.2.2)'],
    },
    {
      name: 'an array spread over lines inside an inline table: the line of the item',
      text: text('[project]', 'optional-dependencies = { gpu = [', '    "torchvision>=0.17",', '] }'),
      want: ['3 torchvision: torchvision>=0.17 is a range; pin it exactly with =='],
    },
    {
      name: 'a dotted key at the top level',
      text: text('project.dependencies = [', '  "openai-whisper",', ']'),
      want: ['2 openai-whisper: openai-whisper is unpinned; pin it exactly with =='],
    },
    {
      name: 'a literal string keeps its backslashes',
      text: text('[project]', "dependencies = ['torch==2.2.2', 'torchaudio>=2']"),
      want: ['2 torchaudio: torchaudio>=2 is a range; pin it exactly (torchaudio==2.2.2)'],
    },
    {
      name: 'escapes in a basic string are read',
      text: text('[project]', 'dependencies = ["torch\\u003e=2"]'),
      want: ['2 torch: torch>=2 is a range; pin it exactly (torch==2.2.2)'],
    },
    {
      name: 'a quoted key with an escape names the package',
      text: text('[tool.poetry.dependencies]', '"pyannote\\u002eaudio" = "^3"'),
      want: ['2 pyannote.audio: pyannote.audio = "^3" is a range; pin it exactly with =='],
    },
    {
      name: 'CRLF line endings and a BOM',
      text: '\ufeff[project]\r\ndependencies = [\r\n  "torch<3",\r\n]\r\n',
      want: ['3 torch: torch<3 is a range; pin it exactly (torch==2.2.2)'],
    },
    {
      name: 'an array of tables holds no dependency list',
      text: text(
        '[[tool.poetry.source]]',
        'name = "pytorch"',
        'url = "https://download.pytorch.org/whl/cu121"',
        '[tool.poetry.dependencies]',
        'torch = "2.2.2"',
      ),
      want: [],
    },
    {
      name: 'Poetry sub-table after other tables keeps the line of its header',
      text: text('[tool.poetry]', 'name = "w"', '', '[tool.poetry.group.gpu.dependencies.torchaudio]', 'source = "pytorch"'),
      want: ['4 torchaudio: torchaudio is unpinned (a table without a version); pin it exactly (torchaudio = "2.2.2")'],
    },
    {
      name: 'an inline table spread over lines is not TOML 1.0, which pip reads',
      text: text('[tool.poetry.dependencies]', 'torch = { source = "pytorch",', '  version = "^2.2" }'),
      want: ['3 : not valid TOML (No newlines are allowed between the curly braces unless they are valid within a value); pin lint cannot read its pins'],
    },
    {
      name: 'a file that is not TOML is one finding where the parser stopped',
      text: text('[project]', 'name = "w"', 'dependencies = ["torch>=2"', '[tool.uv]'),
      want: ['4 : not valid TOML (Expected comma (,) token); pin lint cannot read its pins'],
    },
    {
      name: 'a duplicate key is not TOML',
      text: text('[project]', 'dependencies = []', 'dependencies = ["torch"]'),
      want: ['3 : not valid TOML (Defining a key multiple times is invalid); pin lint cannot read its pins'],
    },
    { name: 'Poetry python and unlisted packages are ignored', text: text('[tool.poetry.dependencies]', 'python = "^3.11"', 'numpy = "*"'), want: [] },
  ])('$name', ({ text: t, want, planned, packages }) => {
    expect(brief(lintPyproject(t, 'pyproject.toml', packages ?? DEFAULT_PINNED, planned ?? PLAN))).toEqual(want);
  });
});

describe('lintDockerfile', () => {
  test('the example worker Dockerfile is clean for the 2.2.2 plan', () => {
    const dockerfile = fs.readFileSync(EXAMPLE_DOCKERFILE, 'utf8');
    expect(dockerfile).toContain('"torch==${TORCH_VERSION}" "torchaudio==${TORCHAUDIO_VERSION}"');
    expect(lintDockerfile(dockerfile, 'examples/worker/Dockerfile', DEFAULT_PINNED, PLAN)).toEqual([]);
  });

  const FROM = 'FROM python:3.11-slim';
  test.each<Row>([
    {
      name: 'exact pins through build-arg placeholders, quoted, with the index option',
      text: text(
        FROM,
        'ARG TORCH_VERSION',
        'RUN python3 -m pip install --index-url "$TORCH_INDEX_URL" \\',
        '      "torch==${TORCH_VERSION}" "torchaudio==${TORCHAUDIO_VERSION}"',
      ),
      want: [],
    },
    {
      name: 'unpinned packages on the RUN line',
      text: text(FROM, 'RUN pip install torch torchaudio'),
      want: ['2 torch: torch is unpinned; pin it exactly (torch==2.2.2)', '2 torchaudio: torchaudio is unpinned; pin it exactly (torchaudio==2.2.2)'],
    },
    ...[
      'pip install',
      'pip3 install',
      'pip3.11 install',
      'python -m pip install',
      'python3 -m pip install',
      'python3.11 -m pip install',
      'uv pip install --system',
      '/opt/venv/bin/pip install',
      'PIP_NO_CACHE_DIR=1 pip install',
      'pip --no-cache-dir install',
    ].map((cmd) => ({
      name: `RUN ${cmd} is read`,
      text: text(FROM, `RUN ${cmd} torchvision`),
      want: ['2 torchvision: torchvision is unpinned; pin it exactly with =='],
    })),
    {
      name: 'other commands are not pip installs',
      text: text(FROM, 'RUN apt-get install -y torch && echo pip install torch && pip download torch && pip uninstall -y torch && conda install torch'),
      want: [],
    },
    {
      name: 'options and their values are skipped',
      text: text(
        FROM,
        'RUN pip install --no-cache-dir --index-url "$TORCH_INDEX_URL" --extra-index-url https://pypi.org/simple \\',
        '      -r requirements.txt -c constraints.txt -f /wheels --target /opt/torch --progress-bar off -U \\',
        '      --config-settings=x=y "torch==2.2.2"',
      ),
      want: [],
    },
    { name: 'an option value is not a package', text: text(FROM, 'RUN pip install -r torch --find-links torchaudio torch==2.2.2'), want: [] },
    {
      name: 'each package argument is reported on its own line',
      text: text(FROM, 'RUN pip install \\', '      numpy \\', '      "torch>=2.1" \\', "      'torchaudio<3'"),
      want: ['4 torch: torch>=2.1 is a range; pin it exactly (torch==2.2.2)', '5 torchaudio: torchaudio<3 is a range; pin it exactly (torchaudio==2.2.2)'],
    },
    {
      name: 'comment lines inside a continuation are skipped and counted',
      text: text(FROM, 'RUN pip install \\', '# the torch stack', '      torch==2.2.2 \\', '', '      torchaudio'),
      want: ['6 torchaudio: torchaudio is unpinned; pin it exactly (torchaudio==2.2.2)'],
    },
    {
      name: 'shell operators separate commands',
      text: text(FROM, 'RUN pip install torch==2.2.2 && pip install "torchaudio==2.1.0"; pip install "torchvision>=0.17" | tee log'),
      want: [
        '2 torchaudio: torchaudio==2.1.0 disagrees with the plan (torchaudio 2.2.2)',
        '2 torchvision: torchvision>=0.17 is a range; pin it exactly with ==',
      ],
    },
    { name: 'redirections are not packages', text: text(FROM, 'RUN pip install torch==2.2.2 > /var/log/pip.log 2>&1 </dev/null'), want: [] },
    {
      name: 'an unquoted > is a range and a shell redirection',
      text: text(FROM, 'RUN pip install torch>=2.1'),
      want: [
        '2 torch: torch>=2.1 is a range; pin it exactly (torch==2.2.2); unquoted, the shell reads the < or > as a redirection and pip installs plain torch: quote it',
      ],
    },
    {
      name: "the seed's fallback: || pip install without a pin",
      text: text(FROM, 'RUN pip install --index-url "$TORCH_INDEX_URL" "torch==${TORCH_VERSION}" \\', ' || pip install torch'),
      want: [
        '3 torch: torch falls back to `|| pip install torch` after `pip install torch==${TORCH_VERSION}` without an exact pin: if the pinned install fails, the build silently installs another torch; drop the fallback so the build fails',
      ],
    },
    {
      name: 'a fallback inside a { } group after ||',
      text: text(FROM, 'RUN pip install torchaudio==2.2.2 || { echo "retrying"; pip install torchaudio; }'),
      want: [
        '2 torchaudio: torchaudio falls back to `|| pip install torchaudio` after `pip install torchaudio==2.2.2` without an exact pin: if the pinned install fails, the build silently installs another torchaudio; drop the fallback so the build fails',
      ],
    },
    {
      name: 'a fallback to another exact version',
      text: text(FROM, 'RUN pip install pyannote.audio==3.1.1 || pip install pyannote.audio==3.0.1'),
      want: [
        '2 pyannote.audio: pyannote.audio falls back to `|| pip install pyannote.audio==3.0.1` after `pip install pyannote.audio==3.1.1`, another version: if the pinned install fails, the build silently installs another pyannote.audio; drop the fallback so the build fails',
      ],
    },
    {
      name: 'a fallback to another index with the same pin',
      text: text(FROM, 'RUN pip install -i "$TORCH_INDEX_URL" torch==2.2.2 || pip install torch==2.2.2'),
      want: [
        '2 torch: torch falls back to `|| pip install torch==2.2.2` after `pip install torch==2.2.2` from another index (the default index instead of $TORCH_INDEX_URL): if the pinned install fails, the build silently installs another torch; drop the fallback so the build fails',
      ],
    },
    {
      name: 'a plain retry of the same pin from the same index is fine',
      text: text(FROM, 'RUN pip install "torch==2.2.2" || (sleep 5 && pip install "torch==2.2.2")'),
      want: [],
    },
    {
      name: '|| after another command is not a fallback of a pin',
      text: text(FROM, 'RUN pip install torch==2.2.2 && (test -f /ok || pip install torchaudio==2.2.2)'),
      want: [],
    },
    {
      name: 'an exact pin disagreeing with the plan',
      text: text(FROM, 'RUN pip install torch==2.1.0'),
      want: ['2 torch: torch==2.1.0 disagrees with the plan (torch 2.2.2)'],
    },
    {
      name: 'RUN flags are not arguments',
      text: text(FROM, 'RUN --mount=type=cache,target=/root/.cache/pip --network=default pip install torch'),
      want: ['2 torch: torch is unpinned; pin it exactly (torch==2.2.2)'],
    },
    { name: 'lowercase run', text: text(FROM, 'run pip install torch'), want: ['2 torch: torch is unpinned; pin it exactly (torch==2.2.2)'] },
    {
      name: 'the exec form',
      text: text(FROM, 'RUN ["pip", "install", "--no-cache-dir", \\', '     "torchaudio>=2"]'),
      want: ['3 torchaudio: torchaudio>=2 is a range; pin it exactly (torchaudio==2.2.2)'],
    },
    {
      name: 'sh -c scripts',
      text: text(FROM, `RUN sh -ec 'pip install torch==2.2.2 || pip install torch'`),
      want: [
        '2 torch: torch falls back to `|| pip install torch` after `pip install torch==2.2.2` without an exact pin: if the pinned install fails, the build silently installs another torch; drop the fallback so the build fails',
      ],
    },
    {
      name: 'a RUN heredoc script is read on its own lines',
      text: text(FROM, 'RUN <<EOT', 'set -e', 'pip install torch==2.2.2', 'pip install openai-whisper', 'EOT', 'RUN pip install torchaudio'),
      want: [
        '5 openai-whisper: openai-whisper is unpinned; pin it exactly with ==',
        '7 torchaudio: torchaudio is unpinned; pin it exactly (torchaudio==2.2.2)',
      ],
    },
    {
      name: 'heredocs that are data (python script, COPY) are not shell',
      text: text(FROM, 'RUN python3 <<EOT', 'print("pip install torch")', 'EOT', 'COPY <<EOT /etc/notes', 'RUN pip install torch', 'EOT'),
      want: [],
    },
    {
      name: 'other instructions are not builds',
      text: text(FROM, 'LABEL note="pip install torch"', 'CMD pip install torch', '# RUN pip install torch'),
      want: [],
    },
    {
      name: 'the backtick escape directive',
      text: text('# escape=`', FROM, 'RUN pip install `', '      torch'),
      want: ['4 torch: torch is unpinned; pin it exactly (torch==2.2.2)'],
    },
    // Instruction splitting (dockerfile-ast): escape directive, continuations, heredocs, flags
    {
      name: 'under escape=` a trailing backslash continues nothing',
      text: text('# escape=`', FROM, 'RUN pip install C:\\wheels\\', 'RUN pip install torch'),
      want: ['4 torch: torch is unpinned; pin it exactly (torch==2.2.2)'],
    },
    { name: 'an escape directive after a comment is a comment', text: text('# syntax note', '# escape=`', FROM, 'RUN pip install `', '      torch'), want: [] },
    {
      name: 'spaces after the continuation backslash',
      text: text(FROM, 'RUN pip install \\  ', '      torch'),
      want: ['3 torch: torch is unpinned; pin it exactly (torch==2.2.2)'],
    },
    {
      name: 'CRLF line endings',
      text: `${FROM}\r\nRUN pip install \\\r\n  numpy \\\r\n  torchaudio\r\n`,
      want: ['4 torchaudio: torchaudio is unpinned; pin it exactly (torchaudio==2.2.2)'],
    },
    {
      name: 'flags on their own continued line',
      text: text(FROM, 'RUN --mount=type=cache,target=/root/.cache/pip \\', '    pip install torch'),
      want: ['3 torch: torch is unpinned; pin it exactly (torch==2.2.2)'],
    },
    { name: 'ONBUILD RUN is read', text: text(FROM, 'ONBUILD RUN pip install torch'), want: ['2 torch: torch is unpinned; pin it exactly (torch==2.2.2)'] },
    {
      name: 'a shell form that starts with [ is shell',
      text: text(FROM, 'RUN [ -f /done ] || pip install torch'),
      want: ['2 torch: torch is unpinned; pin it exactly (torch==2.2.2)'],
    },
    {
      name: 'a <<- heredoc with tab-indented lines and delimiter',
      text: text(FROM, 'RUN <<-EOT', '\tpip install torch==2.2.2', '\tpip install torchaudio', '\tEOT', 'RUN pip install torchvision==0.17.2'),
      want: ['4 torchaudio: torchaudio is unpinned; pin it exactly (torchaudio==2.2.2)'],
    },
    {
      name: 'a quoted heredoc name fed to bash',
      text: text(FROM, 'RUN bash -e <<"EOT"', 'pip install "torch>=2"', 'EOT'),
      want: ['3 torch: torch>=2 is a range; pin it exactly (torch==2.2.2)'],
    },
    {
      name: 'two heredocs: the first is the script, the second is data',
      text: text(FROM, 'RUN <<A bash && cat <<B > /notes', 'pip install torchaudio', 'A', 'pip install torch', 'B', 'RUN pip install openai-whisper'),
      want: [
        '3 torchaudio: torchaudio is unpinned; pin it exactly (torchaudio==2.2.2)',
        '7 openai-whisper: openai-whisper is unpinned; pin it exactly with ==',
      ],
    },
    {
      name: 'a heredoc on a continued RUN line',
      text: text(FROM, 'RUN --network=default \\', '  <<EOT', 'pip install torch', 'EOT'),
      want: ['4 torch: torch is unpinned; pin it exactly (torch==2.2.2)'],
    },
    {
      name: 'another build arg as the pin (the faulty-worker fixture) is accepted',
      text: text(FROM, 'RUN pip install "torch==${FIXTURE_TORCH_PIN:-$TORCH_VERSION}"'),
      want: [],
    },
    { name: 'requirements files named by -r are left to lintContext', text: text(FROM, 'RUN pip install -r requirements.txt'), want: [] },
  ])('$name', ({ text: t, want, planned, packages }) => {
    expect(brief(lintDockerfile(t, 'Dockerfile', packages ?? DEFAULT_PINNED, planned ?? PLAN))).toEqual(want);
  });
});

describe('lintContext', () => {
  const SEED_FALLBACK = (pkg: string) =>
    `${pkg} falls back to \`|| pip install ${pkg}\` after \`pip install ${pkg}==\${${pkg.toUpperCase()}_VERSION}\` without an exact pin: if the pinned install fails, the build silently installs another ${pkg}; drop the fallback so the build fails`;

  test('the fixture context: every scanned file, relative names, in walk order', () => {
    const context = path.join(FIXTURES, 'context');
    const findings = lintContext(context, path.join(context, 'Dockerfile'), DEFAULT_PINNED, PLAN);
    expect(formatFindings(findings).split('\n')).toEqual([
      'a/b/c/d/constraints.txt:2: torchvision>=0.17 is a range; pin it exactly with ==',
      'constraints.txt:3: torch>=2.1,<2.3 is a range; pin it exactly (torch==2.2.2)',
      'constraints.txt:5: openai-whisper is unpinned; pin it exactly with ==',
      'pyproject.toml:11: torchaudio~=2.2 is a range; pin it exactly (torchaudio==2.2.2)',
      'pyproject.toml:20: torchvision = { version = "^0.17" } is a range; pin it exactly with ==',
      'services/api/requirements-gpu.txt:2: torch==2.1.0 disagrees with the plan (torch 2.2.2)',
      `Dockerfile:11: ${SEED_FALLBACK('torch')}`,
      `Dockerfile:11: ${SEED_FALLBACK('torchaudio')}`,
    ]);
  });

  test('a Dockerfile outside the context keeps the path it was given', () => {
    const dockerfile = path.join(FIXTURES, 'outside', 'Dockerfile');
    const findings = lintContext(path.join(FIXTURES, 'context', 'services'), dockerfile, DEFAULT_PINNED, PLAN);
    expect(findings).toEqual([
      { file: 'api/requirements-gpu.txt', line: 2, package: 'torch', problem: 'torch==2.1.0 disagrees with the plan (torch 2.2.2)' },
      { file: dockerfile, line: 5, package: 'torchvision', problem: 'torchvision is unpinned; pin it exactly with ==' },
    ]);
  });

  /** An in-memory tree: paths to file contents; folders are implied. Records which folders were listed. */
  function fakeFs(files: Record<string, string>): FileSystem & { listed: string[] } {
    const listed: string[] = [];
    return {
      listed,
      list(dir) {
        listed.push(dir);
        const prefix = dir.endsWith('/') ? dir : `${dir}/`;
        const names = new Map<string, boolean>();
        for (const p of Object.keys(files)) {
          if (!p.startsWith(prefix)) continue;
          const [head, ...rest] = p.slice(prefix.length).split('/');
          names.set(head, rest.length > 0 || names.get(head) === true);
        }
        return [...names].map(([name, dir]) => ({ name, dir }));
      },
      read(p) {
        if (!(p in files)) throw new Error(`ENOENT: ${p}`);
        return files[p];
      },
    };
  }

  test('a fake FileSystem: names scanned, folders skipped, depth limit', () => {
    const files: Record<string, string> = {
      '/ctx/Dockerfile': text('FROM x', 'RUN pip install torch==2.2.2'),
      '/ctx/requirements-dev.txt': 'torch',
      '/ctx/dev-requirements.txt': text('', 'torchaudio>=2'),
      '/ctx/gpu.requirements.txt': 'torchvision',
      '/ctx/constraints-cpu.txt': 'torch<3',
      '/ctx/requirements/base.txt': text('# base', 'openai-whisper~=20231117'),
      '/ctx/requirements.in': 'torch',
      '/ctx/notes.txt': 'torch',
      '/ctx/svc/pyproject.toml': text('[project]', 'dependencies = ["pyannote.audio"]'),
      '/ctx/1/2/3/4/requirements.txt': 'torch>2',
      '/ctx/1/2/3/4/5/requirements.txt': 'torch',
      '/ctx/.git/requirements.txt': 'torch',
      '/ctx/node_modules/x/requirements.txt': 'torch',
      '/ctx/__pycache__/requirements.txt': 'torch',
      '/ctx/.venv/requirements.txt': 'torch',
      '/ctx/venv/lib/requirements.txt': 'torch',
    };
    const fake = fakeFs(files);
    expect(formatFindings(lintContext('/ctx', '/ctx/Dockerfile', DEFAULT_PINNED, PLAN, fake)).split('\n')).toEqual([
      '1/2/3/4/requirements.txt:1: torch>2 is a range; pin it exactly (torch==2.2.2)',
      'constraints-cpu.txt:1: torch<3 is a range; pin it exactly (torch==2.2.2)',
      'dev-requirements.txt:2: torchaudio>=2 is a range; pin it exactly (torchaudio==2.2.2)',
      'gpu.requirements.txt:1: torchvision is unpinned; pin it exactly with ==',
      'requirements/base.txt:2: openai-whisper~=20231117 is a range; pin it exactly with ==',
      'requirements-dev.txt:1: torch is unpinned; pin it exactly (torch==2.2.2)',
      'svc/pyproject.toml:2: pyannote.audio is unpinned; pin it exactly with ==',
    ]);
    for (const skipped of ['.git', 'node_modules', '__pycache__', '.venv', 'venv', '1/2/3/4/5']) {
      expect(fake.listed).not.toContain(`/ctx/${skipped}`);
    }
    expect(fake.listed).toContain('/ctx/1/2/3/4');
  });

  test('a fake FileSystem: a relative context and a Dockerfile inside it', () => {
    const fake = fakeFs({ 'ctx/docker/Dockerfile': text('FROM x', 'RUN pip install "torch==${TORCH_VERSION}" || pip install torch') });
    expect(lintContext('ctx', 'ctx/docker/Dockerfile', ['torch'], PLAN, fake)).toEqual([
      {
        file: 'docker/Dockerfile',
        line: 2,
        package: 'torch',
        problem:
          'torch falls back to `|| pip install torch` after `pip install torch==${TORCH_VERSION}` without an exact pin: if the pinned install fails, the build silently installs another torch; drop the fallback so the build fails',
      },
    ]);
  });

  describe('.dockerignore: files the build never sees are not linted', () => {
    const DOCKERFILE = text('FROM x', 'RUN pip install -r requirements.txt');
    /** Every file of the tree holds an unpinned torch: a finding names a file the build would see. */
    const tree = (ignoreFiles: Record<string, string>, names: string[]) => ({
      '/ctx/Dockerfile': DOCKERFILE,
      ...Object.fromEntries(names.map((n) => [`/ctx/${n}`, 'torch'])),
      ...ignoreFiles,
    });
    const seen = (files: Record<string, string>) => lintContext('/ctx', '/ctx/Dockerfile', ['torch'], PLAN, fakeFs(files)).map((f) => f.file);
    const NAMES = ['requirements.txt', 'requirements-dev.txt', 'docs/requirements.txt', 'svc/api/requirements.txt', 'svc/api/constraints.txt'];

    test.each([
      { name: 'no .dockerignore: every file', ignore: null, want: NAMES },
      {
        name: 'a file by name',
        ignore: 'requirements-dev.txt',
        want: ['docs/requirements.txt', 'requirements.txt', 'svc/api/constraints.txt', 'svc/api/requirements.txt'],
      },
      { name: 'a directory excludes all under it', ignore: 'docs\nsvc', want: ['requirements-dev.txt', 'requirements.txt'] },
      {
        name: '* stays in one directory',
        ignore: '*/requirements.txt',
        want: ['requirements-dev.txt', 'requirements.txt', 'svc/api/constraints.txt', 'svc/api/requirements.txt'],
      },
      { name: '** crosses directories', ignore: '**/requirements.txt', want: ['requirements-dev.txt', 'svc/api/constraints.txt'] },
      {
        name: 'a leading / and ./ are the context root',
        ignore: '/requirements.txt\n./docs',
        want: ['requirements-dev.txt', 'svc/api/constraints.txt', 'svc/api/requirements.txt'],
      },
      { name: 'comments and blank lines are not rules', ignore: '# requirements.txt\n\n  \n', want: NAMES },
      {
        name: '! re-includes a file',
        ignore: 'requirements*.txt\n!requirements.txt',
        want: ['docs/requirements.txt', 'requirements.txt', 'svc/api/constraints.txt', 'svc/api/requirements.txt'],
      },
      {
        name: '! re-includes a file inside an excluded directory',
        ignore: 'svc\n!svc/api/constraints.txt',
        want: ['docs/requirements.txt', 'requirements-dev.txt', 'requirements.txt', 'svc/api/constraints.txt'],
      },
      {
        name: 'the last matching rule wins',
        ignore: '!requirements.txt\nrequirements.txt',
        want: ['docs/requirements.txt', 'requirements-dev.txt', 'svc/api/constraints.txt', 'svc/api/requirements.txt'],
      },
      {
        name: 'the Dockerfile is sent whatever .dockerignore says (* names every top-level file and directory)',
        ignore: 'Dockerfile\n*',
        want: ['Dockerfile'],
      },
    ])('$name', ({ ignore, want }) => {
      const files: Record<string, string> = tree(ignore === null ? {} : { '/ctx/.dockerignore': ignore }, NAMES);
      // A Dockerfile with a finding of its own, to show it is linted whatever the ignore file says.
      if (want.includes('Dockerfile')) files['/ctx/Dockerfile'] = text('FROM x', 'RUN pip install torch');
      expect(seen(files).sort()).toEqual([...want].sort());
    });

    test('an excluded directory is not even listed when no ! rule could bring a file back', () => {
      const fake = fakeFs(tree({ '/ctx/.dockerignore': 'data\n' }, ['requirements.txt', 'data/big/requirements.txt']));
      expect(lintContext('/ctx', '/ctx/Dockerfile', ['torch'], PLAN, fake).map((f) => f.file)).toEqual(['requirements.txt']);
      expect(fake.listed).not.toContain('/ctx/data');
    });

    test("<Dockerfile>.dockerignore beside the Dockerfile is used instead of the context's .dockerignore", () => {
      const files = {
        '/ctx/docker/gpu.Dockerfile': DOCKERFILE,
        '/ctx/docker/gpu.Dockerfile.dockerignore': 'requirements-dev.txt',
        '/ctx/.dockerignore': 'requirements.txt',
        '/ctx/requirements.txt': 'torch',
        '/ctx/requirements-dev.txt': 'torch',
      };
      expect(lintContext('/ctx', '/ctx/docker/gpu.Dockerfile', ['torch'], PLAN, fakeFs(files)).map((f) => f.file)).toEqual(['requirements.txt']);
    });
  });

  test('a fake FileSystem: a Dockerfile that cannot be read is an error, not a clean result', () => {
    expect(() => lintContext('/ctx', '/ctx/Dockerfile', DEFAULT_PINNED, PLAN, fakeFs({ '/ctx/requirements.txt': 'torch==2.2.2' }))).toThrow(
      'ENOENT: /ctx/Dockerfile',
    );
  });
});

describe('formatFindings', () => {
  test.each([
    { name: 'no findings is empty text', findings: [] as PinFinding[], want: '' },
    {
      name: 'one "file:line: problem" per line, in the order given',
      findings: [
        { file: 'constraints.txt', line: 3, package: 'torch', problem: 'torch>=2.1 is a range; pin it exactly (torch==2.2.2)' },
        { file: 'Dockerfile', line: 11, package: 'torchaudio', problem: 'torchaudio is unpinned; pin it exactly (torchaudio==2.2.2)' },
      ],
      want: 'constraints.txt:3: torch>=2.1 is a range; pin it exactly (torch==2.2.2)\nDockerfile:11: torchaudio is unpinned; pin it exactly (torchaudio==2.2.2)',
    },
  ])('$name', ({ findings, want }) => {
    expect(formatFindings(findings)).toBe(want);
  });
});

describe('repositoryPath: where GitHub places an annotation', () => {
  test.each([
    { name: 'relative to cwd = workspace', file: 'examples/worker/Dockerfile', cwd: '/ws', want: 'examples/worker/Dockerfile' },
    { name: 'absolute inside the workspace', file: '/ws/.e2e-tmp/x/Dockerfile', cwd: '/ws', want: '.e2e-tmp/x/Dockerfile' },
    { name: 'relative to a cwd below the workspace', file: '../Dockerfile', cwd: '/ws/sub/dir', want: 'sub/Dockerfile' },
    { name: 'outside the workspace: no place', file: '/tmp/ctx/Dockerfile', cwd: '/ws', want: undefined },
    { name: 'a sibling whose name starts like the workspace', file: '/ws2/Dockerfile', cwd: '/ws', want: undefined },
    { name: 'the workspace itself is not a file', file: '.', cwd: '/ws', want: undefined },
  ])('$name', ({ file, cwd, want }) => {
    expect(repositoryPath(file, '/ws', cwd)).toBe(want);
  });
});

describe('pinAnnotations: one annotation per finding, placed by the path from the workspace root', () => {
  const finding = (file: string, line = 3): PinFinding => ({ file, line, package: 'torch', problem: 'torch is unpinned; pin it exactly (torch==2.2.2)' });
  const MESSAGE = (file: string, line = 3) => `${file}:${line}: torch is unpinned; pin it exactly (torch==2.2.2)`;
  test.each([
    {
      name: 'error mode: core.error at the file and line',
      mode: 'error' as const,
      findings: [finding('requirements.txt')],
      context: 'worker',
      dockerfile: 'worker/Dockerfile',
      want: [{ level: 'error', message: MESSAGE('requirements.txt'), properties: { title: 'pin lint', file: 'worker/requirements.txt', startLine: 3 } }],
    },
    {
      name: 'warn mode: core.warning',
      mode: 'warn' as const,
      findings: [finding('svc/pyproject.toml', 7)],
      context: '.',
      dockerfile: 'Dockerfile',
      want: [{ level: 'warning', message: MESSAGE('svc/pyproject.toml', 7), properties: { title: 'pin lint', file: 'svc/pyproject.toml', startLine: 7 } }],
    },
    {
      name: 'a Dockerfile inside the context, named relative to it',
      mode: 'error' as const,
      findings: [finding('docker/Dockerfile')],
      context: './apps/worker/',
      dockerfile: 'apps/worker/docker/Dockerfile',
      want: [{ level: 'error', message: MESSAGE('docker/Dockerfile'), properties: { title: 'pin lint', file: 'apps/worker/docker/Dockerfile', startLine: 3 } }],
    },
    {
      name: 'a Dockerfile outside the context, named as given',
      mode: 'error' as const,
      findings: [finding('requirements.txt', 1), finding('docker/gpu.Dockerfile', 9)],
      context: 'app',
      dockerfile: 'docker/gpu.Dockerfile',
      want: [
        { level: 'error', message: MESSAGE('requirements.txt', 1), properties: { title: 'pin lint', file: 'app/requirements.txt', startLine: 1 } },
        { level: 'error', message: MESSAGE('docker/gpu.Dockerfile', 9), properties: { title: 'pin lint', file: 'docker/gpu.Dockerfile', startLine: 9 } },
      ],
    },
    {
      name: 'absolute paths inside the workspace',
      mode: 'error' as const,
      findings: [finding('requirements.txt')],
      context: '/home/runner/work/repo/repo/worker',
      dockerfile: '/home/runner/work/repo/repo/worker/Dockerfile',
      want: [{ level: 'error', message: MESSAGE('requirements.txt'), properties: { title: 'pin lint', file: 'worker/requirements.txt', startLine: 3 } }],
    },
    {
      name: 'a file outside the workspace keeps the message, without a place',
      mode: 'warn' as const,
      findings: [finding('requirements.txt')],
      context: '/tmp/elsewhere',
      dockerfile: '/tmp/elsewhere/Dockerfile',
      want: [{ level: 'warning', message: MESSAGE('requirements.txt'), properties: { title: 'pin lint' } }],
    },
    { name: 'no findings, no annotations', mode: 'error' as const, findings: [], context: '.', dockerfile: 'Dockerfile', want: [] },
  ])('$name', ({ mode, findings, context, dockerfile, want }) => {
    const workspace = '/home/runner/work/repo/repo';
    expect(pinAnnotations(findings, mode, { pathOf: pathInContext(context, dockerfile), workspace, cwd: workspace })).toEqual(want);
  });
});

describe('lintPlan: annotations, then the plan fails on error', () => {
  const CONTEXT = path.relative(process.cwd(), path.join(FIXTURES, 'context'));
  const plan = (pinLint: 'error' | 'warn' | 'off') =>
    ({
      inputs: inputs({
        context: CONTEXT,
        file: `${CONTEXT}/Dockerfile`,
        pinLint,
        torchVersion: '2.2.2',
        torchaudioVersion: '2.2.2',
        torchvisionVersion: '',
        pinnedPackages: [],
      }),
    }) as unknown as Plan;
  const run = (pinLint: 'error' | 'warn' | 'off') => {
    const annotations: Annotation[] = [];
    let error: unknown = null;
    try {
      lintPlan(plan(pinLint), (a) => annotations.push(a));
    } catch (e) {
      error = e;
    }
    return { annotations, error };
  };
  const ANNOTATED = [
    ['a/b/c/d/constraints.txt', 2],
    ['constraints.txt', 3],
    ['constraints.txt', 5],
    ['pyproject.toml', 11],
    ['pyproject.toml', 20],
    ['services/api/requirements-gpu.txt', 2],
    ['Dockerfile', 11],
    ['Dockerfile', 11],
  ].map(([file, line]) => ({ title: 'pin lint', file: `${CONTEXT.split(path.sep).join('/')}/${file}`, startLine: line }));

  test('error: one core.error per finding, placed from the workspace root, then a PhaseError naming them all', () => {
    const { annotations, error } = run('error');
    expect(annotations.map((a) => a.level)).toEqual(Array(8).fill('error'));
    expect(annotations.map((a) => a.properties)).toEqual(ANNOTATED);
    expect(error).toBeInstanceOf(PhaseError);
    expect((error as Error).message).toContain('pin lint: 8 problem(s)');
    expect((error as Error).message).toContain('constraints.txt:3: torch>=2.1,<2.3 is a range; pin it exactly (torch==2.2.2)');
  });

  test('warn: the same places as warnings, and the plan goes on', () => {
    const { annotations, error } = run('warn');
    expect(error).toBeNull();
    expect(annotations.map((a) => a.level)).toEqual(Array(8).fill('warning'));
    expect(annotations.map((a) => a.properties)).toEqual(ANNOTATED);
    expect(annotations[1].message).toBe('constraints.txt:3: torch>=2.1,<2.3 is a range; pin it exactly (torch==2.2.2)');
  });

  test('off: nothing read, nothing said', () => {
    expect(run('off')).toEqual({ annotations: [], error: null });
  });
});

describe('DEFAULT_PINNED', () => {
  test('names the torch stack and its companions', () => {
    expect(DEFAULT_PINNED).toEqual(['torch', 'torchaudio', 'torchvision', 'pyannote.audio', 'openai-whisper']);
  });
});
