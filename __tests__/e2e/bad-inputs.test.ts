import { execFileSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { leaks, runDist, type ActionRun } from './support/action';
import { DOCKER, ROOT, RUN_LABEL } from './support/env';

/*
 * Bad and hostile input, run through dist as a runner would: every case must be refused before any
 * build (no `Build` group, no image made), with an `::error::` line that names the input (or the
 * ml-image.yml file:line and key), and without printing a secret it was given.
 *
 * The runs go 8 at a time in a temporary workspace (GITHUB_WORKSPACE) holding the example worker
 * and the odd files the filesystem cases need; a directory beside it is "outside the workspace".
 */
jest.setTimeout(15 * 60 * 1000);

type Class = 'format' | 'range' | 'injection/newline' | 'non-ASCII' | 'filesystem' | 'workspace escape' | 'secrets' | 'YAML types' | 'mode mismatch';

interface Case {
  cls: Class;
  name: string;
  /** Inputs over the base ones (image, context 'worker', push false). */
  inputs?: Record<string, string>;
  /** ml-image.yml text: written to configs/<n>.yml and given as `config` (the base image and context inputs are left out). */
  config?: string;
  /** The input the error must name, or the line and key of the config file. */
  names: string | { line: number; key: string };
  /** A value that must not be printed anywhere. */
  secret?: string;
}

const IMAGE = '127.0.0.1:5999/bad/worker';
const TOKEN = 'wt-S3cr3tT0ken-d41d8cd98f00';
const BIG = 'x'.repeat(300 * 1024);
const DIGEST = `sha256:${'a'.repeat(64)}`;

/** An ml-image.yml of one image; `lines` are its keys from line 4 on. */
const entry = (...lines: string[]) => ['images:', `  - image: ${IMAGE}`, '    context: worker', ...lines.map((l) => `    ${l}`), ''].join('\n');

const reserved = [
  'DOCKER_HOST',
  'DOCKER_CONFIG',
  'BUILDKIT_PROGRESS',
  'PATH',
  'LD_PRELOAD',
  'LD_LIBRARY_PATH',
  'HOME',
  'HTTP_PROXY',
  'https_proxy',
  'NO_PROXY',
  'PYTHONPATH',
  'GITHUB_TOKEN',
  'RUNNER_TEMP',
  'HF_HUB_OFFLINE',
  'NVIDIA_VISIBLE_DEVICES',
];

const cases: Case[] = [
  // ------------------------------------------------------------------ format
  { cls: 'format', name: 'unknown platform', inputs: { platforms: 'linux/amd64,linux/s390x' }, names: 'platforms' },
  { cls: 'format', name: 'platforms only separators', inputs: { platforms: ' , ,' }, names: 'platforms' },
  { cls: 'format', name: 'platform given twice', inputs: { platforms: 'linux/amd64,linux/x86_64' }, names: 'platforms' },
  { cls: 'format', name: 'torch-variants with a colon', inputs: { 'torch-variants': 'linux/amd64:cu121' }, names: 'torch-variants' },
  { cls: 'format', name: 'unknown torch variant', inputs: { 'torch-variants': 'linux/amd64=cuda12,linux/arm64=cpu' }, names: 'torch-variants' },
  { cls: 'format', name: 'variant missing for a platform', inputs: { 'torch-variants': 'linux/amd64=cu121' }, names: 'torch-variants' },
  { cls: 'format', name: 'empty image', inputs: { image: '' }, names: 'image' },
  { cls: 'format', name: 'image with a tag', inputs: { image: 'ghcr.io/o/worker:latest' }, names: 'image' },
  { cls: 'format', name: 'image with a digest', inputs: { image: `ghcr.io/o/worker@${DIGEST}` }, names: 'image' },
  { cls: 'format', name: 'image with a space', inputs: { image: 'ghcr.io/o/wor ker' }, names: 'image' },
  { cls: 'format', name: 'image component starting with -', inputs: { image: 'ghcr.io/o/-worker' }, names: 'image' },
  { cls: 'format', name: 'image with an empty component', inputs: { image: 'ghcr.io/o//worker' }, names: 'image' },
  { cls: 'format', name: 'torch-version range', inputs: { 'torch-version': '>=2.2' }, names: 'torch-version' },
  { cls: 'format', name: 'torch-version with a local suffix', inputs: { 'torch-version': '2.2.2+cu121' }, names: 'torch-version' },
  { cls: 'format', name: 'torch-version latest', inputs: { 'torch-version': 'latest' }, names: 'torch-version' },
  { cls: 'format', name: 'torchaudio-version wildcard', inputs: { 'torchaudio-version': '2.2.x' }, names: 'torchaudio-version' },
  { cls: 'format', name: 'torchvision-version word', inputs: { 'torchvision-version': 'newest' }, names: 'torchvision-version' },
  { cls: 'format', name: 'torch-index-url ftp', inputs: { 'torch-index-url': 'ftp://mirror/whl' }, names: 'torch-index-url' },
  { cls: 'format', name: 'torch-index-url not a URL', inputs: { 'torch-index-url': 'https://[::1' }, names: 'torch-index-url' },
  { cls: 'format', name: 'expect without a colon', inputs: { expect: 'linux/arm64 torch=2.2.2' }, names: 'expect' },
  { cls: 'format', name: 'expect unknown key', inputs: { expect: 'linux/amd64: python=3.11' }, names: 'expect' },
  { cls: 'format', name: 'expect cuda not a version', inputs: { expect: 'linux/amd64: cuda=twelve' }, names: 'expect' },
  { cls: 'format', name: 'expect cuda given twice', inputs: { expect: 'linux/amd64: cuda=12.1 cuda=none' }, names: 'expect' },
  {
    cls: 'format',
    name: 'expect torch given twice on two lines',
    inputs: { expect: 'linux/amd64: torch=2.2.2+cu121\nlinux/amd64: torch=2.2.2' },
    names: 'expect',
  },
  { cls: 'format', name: 'build-arg without =', inputs: { 'build-args': 'JUST_A_NAME' }, names: 'build-args' },
  { cls: 'format', name: 'build-arg name starting with a digit', inputs: { 'build-args': '1ABC=x' }, names: 'build-args' },
  { cls: 'format', name: 'build-arg given twice', inputs: { 'build-args': 'PIP_INDEX=a\nPIP_INDEX=b' }, names: 'build-args' },
  { cls: 'format', name: 'build-arg set by the action', inputs: { 'build-args': 'TORCH_VERSION=2.1.0' }, names: 'build-args' },
  { cls: 'format', name: 'tag with !', inputs: { tags: 'bad!tag' }, names: 'tags' },
  { cls: 'format', name: 'tag starting with -', inputs: { tags: '-rc' }, names: 'tags' },
  { cls: 'format', name: 'tag-rules value', inputs: { 'tag-rules': 'latest=maybe' }, names: 'tag-rules' },
  { cls: 'format', name: 'tag-rules unknown rule', inputs: { 'tag-rules': 'nightlies=false' }, names: 'tag-rules' },
  { cls: 'format', name: 'pin-lint value', inputs: { 'pin-lint': 'strict' }, names: 'pin-lint' },
  { cls: 'format', name: 'mode value', inputs: { mode: 'both' }, names: 'mode' },
  { cls: 'format', name: 'push value', inputs: { push: 'sometimes' }, names: 'push' },
  { cls: 'format', name: 'dry-run value', inputs: { 'dry-run': 'perhaps' }, names: 'dry-run' },
  { cls: 'format', name: 'gpu value', inputs: { gpu: 'cuda' }, names: 'gpu' },
  { cls: 'format', name: 'non-root value', inputs: { 'non-root': 'nah' }, names: 'non-root' },
  { cls: 'format', name: 'offline value', inputs: { offline: 'sometimes' }, names: 'offline' },
  { cls: 'format', name: 'allow-unknown-torch value', inputs: { 'allow-unknown-torch': 'sure' }, names: 'allow-unknown-torch' },
  { cls: 'format', name: 'healthcheck value', inputs: { healthcheck: 'maybe' }, names: 'healthcheck' },
  { cls: 'format', name: 'model-cache relative', inputs: { 'model-cache': 'models' }, names: 'model-cache' },
  { cls: 'format', name: 'memory words', inputs: { memory: '6 gigs' }, names: 'memory' },
  { cls: 'format', name: 'size-budget word', inputs: { 'size-budget': 'compressed=huge' }, names: 'size-budget' },
  { cls: 'format', name: 'checks not YAML', inputs: { checks: 'not: [valid' }, names: 'checks' },
  { cls: 'format', name: 'checks without exec or http', inputs: { checks: '- name: x' }, names: 'checks' },
  { cls: 'format', name: 'mount-from not an image', inputs: { 'mount-from': 'not an image!' }, names: 'mount-from' },
  { cls: 'format', name: 'token-env with a dash', inputs: { 'token-env': 'MY-TOKEN' }, names: 'token-env' },
  { cls: 'format', name: 'ping-path without /', inputs: { 'ping-path': 'v1/ping' }, names: 'ping-path' },
  { cls: 'format', name: 'ping-path with a space', inputs: { 'ping-path': '/v1/ping now' }, names: 'ping-path' },
  { cls: 'format', name: 'target with a space', inputs: { target: 'build stage' }, names: 'target' },
  { cls: 'format', name: 'target that reads as a flag', inputs: { target: '--no-cache' }, names: 'target' },
  { cls: 'format', name: 'network BuildKit has not', inputs: { network: 'mynet' }, names: 'network' },
  { cls: 'format', name: 'python with an argument', inputs: { python: 'python3 -I' }, names: 'python' },
  { cls: 'format', name: 'python that reads as a flag', inputs: { python: '--privileged' }, names: 'python' },
  { cls: 'format', name: 'startup-timeout word', inputs: { 'startup-timeout': 'ten' }, names: 'startup-timeout' },
  { cls: 'format', name: 'startup-timeout fraction', inputs: { 'startup-timeout': '1.5' }, names: 'startup-timeout' },
  { cls: 'format', name: 'parallel word', inputs: { parallel: 'many' }, names: 'parallel' },
  { cls: 'format', name: 'ping-port hex', inputs: { 'ping-port': '0x1F90' }, names: 'ping-port' },

  // ------------------------------------------------------------------ range
  { cls: 'range', name: 'ping-port 0', inputs: { 'ping-port': '0' }, names: 'ping-port' },
  { cls: 'range', name: 'ping-port 99999', inputs: { 'ping-port': '99999' }, names: 'ping-port' },
  { cls: 'range', name: 'ping-port 1e3', inputs: { 'ping-port': '1e3' }, names: 'ping-port' },
  { cls: 'range', name: 'ping-port negative', inputs: { 'ping-port': '-1' }, names: 'ping-port' },
  { cls: 'range', name: 'startup-timeout 0', inputs: { 'startup-timeout': '0' }, names: 'startup-timeout' },
  { cls: 'range', name: 'startup-timeout over a day', inputs: { 'startup-timeout': '90000' }, names: 'startup-timeout' },
  { cls: 'range', name: 'sha-length 3', inputs: { 'sha-length': '3' }, names: 'sha-length' },
  { cls: 'range', name: 'sha-length 41', inputs: { 'sha-length': '41' }, names: 'sha-length' },
  { cls: 'range', name: 'compression-level 0', inputs: { 'compression-level': '0' }, names: 'compression-level' },
  { cls: 'range', name: 'compression-level 10', inputs: { 'compression-level': '10' }, names: 'compression-level' },
  { cls: 'range', name: 'parallel 0', inputs: { parallel: '0' }, names: 'parallel' },
  { cls: 'range', name: 'parallel 17', inputs: { parallel: '17' }, names: 'parallel' },
  { cls: 'range', name: 'registry port 0', inputs: { image: '127.0.0.1:0/bad/worker' }, names: 'image' },
  { cls: 'range', name: 'registry port 99999', inputs: { image: '127.0.0.1:99999/bad/worker' }, names: 'image' },
  { cls: 'range', name: 'registry port 1e3', inputs: { image: '127.0.0.1:1e3/bad/worker' }, names: 'image' },
  { cls: 'range', name: 'image name of 300 characters', inputs: { image: `ghcr.io/o/${'a'.repeat(290)}` }, names: 'image' },
  { cls: 'range', name: 'registry host label of 64 characters', inputs: { image: `${'h'.repeat(64)}.example.com/o/worker` }, names: 'image' },
  { cls: 'range', name: 'tag of 129 characters', inputs: { tags: 'v'.repeat(129) }, names: 'tags' },
  { cls: 'range', name: 'build-arg of 100 kB', inputs: { 'build-args': `NOTES=${'n'.repeat(100 * 1024)}` }, names: 'build-args' },
  {
    cls: 'range',
    name: 'build-arg of 300 kB in ml-image.yml',
    config: entry('build-args:', `  NOTES: ${BIG}`),
    names: { line: 5, key: 'images[0].build-args.NOTES' },
  },
  {
    cls: 'range',
    name: 'build args over 256 kB together',
    config: entry('build-args:', ...['A', 'B', 'C', 'D', 'E'].map((n) => `  ${n}: ${'y'.repeat(60 * 1024)}`)),
    names: { line: 4, key: 'images[0].build-args' },
  },
  { cls: 'range', name: 'memory under 6m', inputs: { memory: '1m' }, names: 'memory' },
  { cls: 'range', name: 'size-budget of zero', inputs: { 'size-budget': 'compressed=0GB' }, names: 'size-budget' },
  { cls: 'range', name: 'ping-path of 3000 characters', inputs: { 'ping-path': `/${'p'.repeat(3000)}` }, names: 'ping-path' },

  // ------------------------------------------------------------------ injection / newline
  { cls: 'injection/newline', name: 'image with a newline', inputs: { image: `${IMAGE}\nghcr.io/o/other` }, names: 'image' },
  { cls: 'injection/newline', name: 'target with a newline', inputs: { target: 'base\nruntime' }, names: 'target' },
  { cls: 'injection/newline', name: 'network with a newline', inputs: { network: 'host\nnone' }, names: 'network' },
  { cls: 'injection/newline', name: 'python with a newline', inputs: { python: 'python3\nsh' }, names: 'python' },
  { cls: 'injection/newline', name: 'ping-path with a header after a newline', inputs: { 'ping-path': '/v1/ping\nHost: evil' }, names: 'ping-path' },
  {
    cls: 'injection/newline',
    name: 'torch-index-url with a newline',
    inputs: { 'torch-index-url': 'https://a.example/whl\nhttps://b.example/whl' },
    names: 'torch-index-url',
  },
  { cls: 'injection/newline', name: 'token-env with a newline', inputs: { 'token-env': 'WORKER_TOKEN\nPATH' }, names: 'token-env' },
  { cls: 'injection/newline', name: 'registry-username with a newline', inputs: { 'registry-username': 'octo\nadmin' }, names: 'registry-username' },
  { cls: 'injection/newline', name: 'context with a newline', inputs: { context: 'worker\n.' }, names: 'context' },
  { cls: 'injection/newline', name: 'file with a newline', inputs: { file: 'worker/Dockerfile\nx' }, names: 'file' },
  { cls: 'injection/newline', name: 'config with a newline', inputs: { image: '', context: '', config: 'a.yml\nb.yml' }, names: 'config' },
  { cls: 'injection/newline', name: 'build-arg value with a carriage return', inputs: { 'build-args': 'A=1\rB=2' }, names: 'build-args' },
  { cls: 'injection/newline', name: 'build-arg value with an escape character', inputs: { 'build-args': 'A=\u001b[2J' }, names: 'build-args' },
  { cls: 'injection/newline', name: 'target with a bidi override', inputs: { target: 'base\u202e' }, names: 'target' },
  { cls: 'injection/newline', name: 'memory with a newline', inputs: { memory: '6g\n7g' }, names: 'memory' },
  { cls: 'injection/newline', name: 'model-cache with a newline', inputs: { 'model-cache': '/models\n/other' }, names: 'model-cache' },
  {
    cls: 'injection/newline',
    name: 'ml-image.yml target with a newline',
    config: entry('target: "base\\nruntime"'),
    names: { line: 4, key: 'images[0].target' },
  },
  { cls: 'injection/newline', name: 'ml-image.yml tag item with a newline', config: entry('tags: ["v1\\nv2"]'), names: { line: 4, key: 'images[0].tags[0]' } },
  { cls: 'injection/newline', name: 'ml-image.yml tag item with a comma', config: entry('tags: ["v1,v2"]'), names: { line: 4, key: 'images[0].tags[0]' } },
  {
    cls: 'injection/newline',
    name: 'ml-image.yml build-arg value that adds an arg',
    config: entry('build-args:', '  A: "1\\nTORCH_INDEX_URL=https://evil.example"'),
    names: { line: 5, key: 'images[0].build-args.A' },
  },
  {
    cls: 'injection/newline',
    name: 'ml-image.yml build-arg list item with a newline',
    config: entry('build-args:', '  - "A=1\\nB=2"'),
    names: { line: 5, key: 'images[0].build-args[0]' },
  },
  {
    cls: 'injection/newline',
    name: 'ml-image.yml variant with a newline',
    config: entry('torch-variants:', '  linux/amd64: "cu121\\nlinux/arm64=cu121"', '  linux/arm64: cpu'),
    names: { line: 5, key: 'images[0].torch-variants.linux/amd64' },
  },
  {
    cls: 'injection/newline',
    name: 'ml-image.yml expect value with another key',
    config: entry('expect:', '  linux/amd64:', '    torch: "2.2.2+cu121 cuda=none"'),
    names: { line: 6, key: 'images[0].expect.linux/amd64.torch' },
  },
  {
    cls: 'injection/newline',
    name: 'ml-image.yml image with a newline',
    config: ['images:', '  - image: "ghcr.io/o/a\\nghcr.io/o/b"', '    context: worker', ''].join('\n'),
    names: { line: 2, key: 'images[0].image' },
  },
  {
    cls: 'injection/newline',
    name: 'ml-image.yml ping path with a newline',
    config: entry('ping:', '  path: "/v1/ping\\nx"'),
    names: { line: 5, key: 'images[0].ping.path' },
  },

  // ------------------------------------------------------------------ non-ASCII
  { cls: 'non-ASCII', name: 'image with a Kelvin sign that lowercases to k', inputs: { image: '127.0.0.1:5999/bad/wor\u212Aer' }, names: 'image' },
  { cls: 'non-ASCII', name: 'image with a zero-width space', inputs: { image: `${IMAGE}\u200b` }, names: 'image' },
  { cls: 'non-ASCII', name: 'platform with a fullwidth slash', inputs: { platforms: 'linux\uff0famd64' }, names: 'platforms' },
  { cls: 'non-ASCII', name: 'ping-path with an umlaut', inputs: { 'ping-path': '/v1/p\u00efng' }, names: 'ping-path' },
  { cls: 'non-ASCII', name: 'python with an umlaut', inputs: { python: 'pyth\u00f6n3' }, names: 'python' },
  { cls: 'non-ASCII', name: 'target with an accent', inputs: { target: 'stag\u00e9' }, names: 'target' },
  {
    cls: 'non-ASCII',
    name: 'torch-index-url with an accent',
    inputs: { 'torch-index-url': 'https://d\u00f3wnload.pytorch.org/whl' },
    names: 'torch-index-url',
  },
  { cls: 'non-ASCII', name: 'registry-username with an umlaut', inputs: { 'registry-username': 'oct\u00f6' }, names: 'registry-username' },
  { cls: 'non-ASCII', name: 'expect version with an accent', inputs: { expect: 'linux/amd64: torch=2.2.2\u00e9' }, names: 'expect' },
  { cls: 'non-ASCII', name: 'mode with a Kelvin sign', inputs: { mode: 'all\u212A' }, names: 'mode' },
  {
    cls: 'non-ASCII',
    name: 'ml-image.yml image with a Kelvin sign',
    config: ['images:', '  - image: 127.0.0.1:5999/bad/wor\u212Aer', '    context: worker', ''].join('\n'),
    names: { line: 2, key: 'images[0].image' },
  },

  // ------------------------------------------------------------------ filesystem
  { cls: 'filesystem', name: 'missing context', inputs: { context: 'nope' }, names: 'context' },
  { cls: 'filesystem', name: 'context that is a file', inputs: { context: 'notadir' }, names: 'context' },
  { cls: 'filesystem', name: 'context that is a URL', inputs: { context: 'https://github.com/o/r.git' }, names: 'context' },
  { cls: 'filesystem', name: 'file that is a directory', inputs: { file: 'worker' }, names: 'file' },
  { cls: 'filesystem', name: 'missing file', inputs: { file: 'worker/Nope.Dockerfile' }, names: 'file' },
  { cls: 'filesystem', name: 'Dockerfile that is a directory', inputs: { context: 'dockerdir' }, names: 'file' },
  { cls: 'filesystem', name: 'Dockerfile that is a FIFO', inputs: { context: 'dockerfifo' }, names: 'file' },
  { cls: 'filesystem', name: 'Dockerfile -> /dev/zero', inputs: { context: 'dockerzero' }, names: 'file' },
  { cls: 'filesystem', name: 'Dockerfile of 2 MiB', inputs: { context: 'dockerbig' }, names: 'file' },
  { cls: 'filesystem', name: 'requirements.txt that is a FIFO', inputs: { context: 'fifo' }, names: 'context' },
  { cls: 'filesystem', name: 'requirements.txt -> /dev/zero', inputs: { context: 'zero' }, names: 'context' },
  { cls: 'filesystem', name: 'requirements.txt that is a character device', inputs: { context: 'chardev' }, names: 'context' },
  { cls: 'filesystem', name: 'requirements.txt that is a socket', inputs: { context: 'socket' }, names: 'context' },
  { cls: 'filesystem', name: 'requirements.txt of 2 MiB', inputs: { context: 'big' }, names: 'context' },
  { cls: 'filesystem', name: 'requirements.txt linking to itself', inputs: { context: 'linkloop' }, names: 'context' },
  { cls: 'filesystem', name: 'pyproject.toml that is a FIFO', inputs: { context: 'pyfifo' }, names: 'context' },
  { cls: 'filesystem', name: 'requirements/base.txt that is a FIFO', inputs: { context: 'nested' }, names: 'context' },
  { cls: 'filesystem', name: 'missing config', inputs: { image: '', context: '', config: 'configs/nope.yml' }, names: 'config' },
  { cls: 'filesystem', name: 'config that is a directory', inputs: { image: '', context: '', config: 'configs/dir.yml' }, names: 'config' },
  { cls: 'filesystem', name: 'config that is a FIFO', inputs: { image: '', context: '', config: 'configs/fifo.yml' }, names: 'config' },
  { cls: 'filesystem', name: 'config -> /dev/zero', inputs: { image: '', context: '', config: 'configs/zero.yml' }, names: 'config' },
  { cls: 'filesystem', name: 'config of 2 MiB', inputs: { image: '', context: '', config: 'configs/big.yml' }, names: 'config' },
  {
    cls: 'filesystem',
    name: 'ml-image.yml context that is missing',
    config: ['images:', `  - image: ${IMAGE}`, '    context: nope', ''].join('\n'),
    names: { line: 3, key: 'images[0].context' },
  },
  { cls: 'filesystem', name: 'ml-image.yml file that is a directory', config: entry('file: worker'), names: { line: 4, key: 'images[0].file' } },

  // ------------------------------------------------------------------ workspace escape
  { cls: 'workspace escape', name: 'context ..', inputs: { context: '..' }, names: 'context' },
  { cls: 'workspace escape', name: 'context /', inputs: { context: '/' }, names: 'context' },
  { cls: 'workspace escape', name: 'context outside by absolute path', inputs: { context: '<outside>' }, names: 'context' },
  { cls: 'workspace escape', name: 'context through a symlink', inputs: { context: 'escape' }, names: 'context' },
  { cls: 'workspace escape', name: 'context climbing out', inputs: { context: 'worker/../../outside' }, names: 'context' },
  { cls: 'workspace escape', name: 'file outside', inputs: { file: '../outside/Dockerfile' }, names: 'file' },
  { cls: 'workspace escape', name: 'file /etc/hostname', inputs: { file: '/etc/hostname' }, names: 'file' },
  { cls: 'workspace escape', name: 'file through a symlink', inputs: { file: 'links/Dockerfile.out' }, names: 'file' },
  { cls: 'workspace escape', name: 'Dockerfile in the context linking out', inputs: { context: 'dockerlinkout' }, names: 'file' },
  { cls: 'workspace escape', name: 'requirements.txt linking out of the workspace', inputs: { context: 'linkout' }, names: 'context' },
  { cls: 'workspace escape', name: 'requirements.txt linking out of the context', inputs: { context: 'linkside' }, names: 'context' },
  { cls: 'workspace escape', name: 'config outside', inputs: { image: '', context: '', config: '../outside/ml-image.yml' }, names: 'config' },
  { cls: 'workspace escape', name: 'config /etc/hostname', inputs: { image: '', context: '', config: '/etc/hostname' }, names: 'config' },
  { cls: 'workspace escape', name: 'config through a symlink', inputs: { image: '', context: '', config: 'links/config.yml' }, names: 'config' },
  {
    cls: 'workspace escape',
    name: 'ml-image.yml context ..',
    config: ['images:', `  - image: ${IMAGE}`, '    context: ..', ''].join('\n'),
    names: { line: 3, key: 'images[0].context' },
  },
  { cls: 'workspace escape', name: 'ml-image.yml file outside', config: entry('file: /etc/hostname'), names: { line: 4, key: 'images[0].file' } },

  // ------------------------------------------------------------------ secrets
  ...reserved.map((name): Case => ({
    cls: 'secrets',
    name: `token-env ${name}`,
    inputs: { 'token-env': name, 'worker-token': TOKEN },
    names: 'token-env',
    secret: TOKEN,
  })),
  { cls: 'secrets', name: 'worker-token with a newline', inputs: { 'worker-token': `${TOKEN}\nsecond-line` }, names: 'worker-token', secret: TOKEN },
  { cls: 'secrets', name: 'worker-token with a non-ASCII character', inputs: { 'worker-token': `${TOKEN}\u00e9` }, names: 'worker-token', secret: TOKEN },
  { cls: 'secrets', name: 'worker-token with a space', inputs: { 'worker-token': `${TOKEN} x` }, names: 'worker-token', secret: TOKEN },
  { cls: 'secrets', name: 'worker-token with a tab', inputs: { 'worker-token': `${TOKEN}\tx` }, names: 'worker-token', secret: TOKEN },
  { cls: 'secrets', name: 'worker-token of 3 characters', inputs: { 'worker-token': 'Zq7' }, names: 'worker-token', secret: 'Zq7' },
  { cls: 'secrets', name: 'worker-token of 5000 characters', inputs: { 'worker-token': `${TOKEN}${'t'.repeat(5000)}` }, names: 'worker-token', secret: TOKEN },
  {
    cls: 'secrets',
    name: 'registry-password with a newline',
    inputs: { 'registry-password': 'pw-S3cr3tPassw0rd\nx' },
    names: 'registry-password',
    secret: 'pw-S3cr3tPassw0rd',
  },
  {
    cls: 'secrets',
    name: 'registry-password with an escape character',
    inputs: { 'registry-password': 'pw-S3cr3tPassw0rd\u001b' },
    names: 'registry-password',
    secret: 'pw-S3cr3tPassw0rd',
  },
  {
    cls: 'secrets',
    name: 'torch-index-url with credentials',
    inputs: { 'torch-index-url': 'https://user:ix-S3cr3tPw@pypi.example.com/whl' },
    names: 'torch-index-url',
    secret: 'ix-S3cr3tPw',
  },
  {
    cls: 'secrets',
    name: 'ml-image.yml token-env DOCKER_HOST',
    config: entry('ping:', '  token-env: DOCKER_HOST'),
    inputs: { 'worker-token': TOKEN },
    names: { line: 5, key: 'images[0].token-env' },
    secret: TOKEN,
  },
  {
    cls: 'secrets',
    name: 'ml-image.yml token-env LD_PRELOAD',
    config: entry('token-env: LD_PRELOAD'),
    inputs: { 'worker-token': TOKEN },
    names: { line: 4, key: 'images[0].token-env' },
    secret: TOKEN,
  },

  // ------------------------------------------------------------------ YAML types (ml-image.yml)
  { cls: 'YAML types', name: 'torch-version 2.10 read as a float', config: entry('torch-version: 2.10'), names: { line: 4, key: 'images[0].torch-version' } },
  {
    cls: 'YAML types',
    name: 'torchaudio-version 2.10 read as a float',
    config: entry('torch-version: "2.2.2"', 'torchaudio-version: 2.10'),
    names: { line: 5, key: 'images[0].torchaudio-version' },
  },
  {
    cls: 'YAML types',
    name: 'torchvision-version 0.20 read as a float',
    config: entry('torchvision-version: 0.20'),
    names: { line: 4, key: 'images[0].torchvision-version' },
  },
  {
    cls: 'YAML types',
    name: 'torch-version in defaults as a float',
    config: ['defaults:', '  torch-version: 2.10', 'images:', `  - image: ${IMAGE}`, '    context: worker', ''].join('\n'),
    names: { line: 2, key: 'defaults.torch-version' },
  },
  {
    cls: 'YAML types',
    name: 'expect cuda 12.10 read as a float',
    config: entry('expect:', '  linux/amd64:', '    cuda: 12.10'),
    names: { line: 6, key: 'images[0].expect.linux/amd64.cuda' },
  },
  {
    cls: 'YAML types',
    name: 'build-arg 3.10 read as a float',
    config: entry('build-args:', '  PYTHON_VERSION: 3.10'),
    names: { line: 5, key: 'images[0].build-args.PYTHON_VERSION' },
  },
  { cls: 'YAML types', name: 'tag 1.10 read as a float', config: entry('tags: [1.10]'), names: { line: 4, key: 'images[0].tags[0]' } },
  {
    cls: 'YAML types',
    name: 'image that is a boolean',
    config: ['images:', '  - image: true', '    context: worker', ''].join('\n'),
    names: { line: 2, key: 'images[0].image' },
  },
  {
    cls: 'YAML types',
    name: 'image with no value',
    config: ['images:', '  - image:', '    context: worker', ''].join('\n'),
    names: { line: 2, key: 'images[0].image' },
  },
  { cls: 'YAML types', name: 'target that is a boolean', config: entry('target: true'), names: { line: 4, key: 'images[0].target' } },
  { cls: 'YAML types', name: 'tag that is a boolean', config: entry('tags: [true]'), names: { line: 4, key: 'images[0].tags[0]' } },
  { cls: 'YAML types', name: 'ping port 1e3', config: entry('ping:', '  port: 1e3'), names: { line: 5, key: 'images[0].ping.port' } },
  { cls: 'YAML types', name: 'ping port in hex', config: entry('ping:', '  port: 0x1F90'), names: { line: 5, key: 'images[0].ping.port' } },
  { cls: 'YAML types', name: 'ping port that is a boolean', config: entry('ping:', '  port: true'), names: { line: 5, key: 'images[0].ping.port' } },
  { cls: 'YAML types', name: 'sha-length 7.5', config: entry('sha-length: 7.5'), names: { line: 4, key: 'images[0].sha-length' } },
  {
    cls: 'YAML types',
    name: 'startup-timeout .inf',
    config: entry('ping:', '  startup-timeout: .inf'),
    names: { line: 5, key: 'images[0].ping.startup-timeout' },
  },
  { cls: 'YAML types', name: 'gpu that is a word', config: entry('gpu: maybe'), names: { line: 4, key: 'images[0].gpu' } },
  {
    cls: 'YAML types',
    name: 'name that is a boolean',
    config: ['images:', '  - name: true', `    image: ${IMAGE}`, '    context: worker', ''].join('\n'),
    names: { line: 2, key: 'images[0].name' },
  },
  { cls: 'YAML types', name: 'suffix that is not a tag suffix', config: entry('suffix: "-bad suffix"'), names: { line: 4, key: 'images[0].suffix' } },
  { cls: 'YAML types', name: 'duplicate key in an image', config: entry('target: a', 'target: b'), names: { line: 5, key: 'images[0].target' } },
  { cls: 'YAML types', name: 'duplicate top-level key', config: `${entry()}images: []\n`, names: { line: 4, key: 'images' } },
  {
    cls: 'YAML types',
    name: 'duplicate platform in torch-variants',
    config: entry('torch-variants:', '  linux/amd64: cu121', '  linux/amd64: cpu'),
    names: { line: 6, key: 'images[0].torch-variants.linux/amd64' },
  },
  { cls: 'YAML types', name: 'platforms as a map', config: entry('platforms: {a: b}'), names: { line: 4, key: 'images[0].platforms' } },
  { cls: 'YAML types', name: 'unknown key', config: entry('torchversion: 2.2.2'), names: { line: 4, key: 'images[0].torchversion' } },
  { cls: 'YAML types', name: 'undefined alias', config: entry('target: *nothing'), names: { line: 4, key: 'images[0].target' } },
  { cls: 'YAML types', name: 'two documents', config: `${entry()}---\n${entry()}`, names: { line: 4, key: '(syntax)' } },

  // ------------------------------------------------------------------ mode mismatch
  { cls: 'mode mismatch', name: 'digests in mode all', inputs: { digests: `linux/amd64=${DIGEST}` }, names: 'digests' },
  {
    cls: 'mode mismatch',
    name: 'digests in mode platform',
    inputs: { mode: 'platform', platforms: 'linux/amd64', digests: `linux/amd64=${DIGEST}` },
    names: 'digests',
  },
  { cls: 'mode mismatch', name: 'merge without digests', inputs: { mode: 'merge' }, names: 'digests' },
  {
    cls: 'mode mismatch',
    name: 'merge with a digest given twice',
    inputs: { mode: 'merge', digests: `linux/amd64=${DIGEST}\nlinux/amd64=sha256:${'b'.repeat(64)}` },
    names: 'digests',
  },
  { cls: 'mode mismatch', name: 'merge with a malformed digest', inputs: { mode: 'merge', digests: 'linux/amd64=sha256:abc' }, names: 'digests' },
  { cls: 'mode mismatch', name: 'platform mode with two platforms', inputs: { mode: 'platform' }, names: 'platforms' },
  { cls: 'mode mismatch', name: 'select without config', inputs: { select: 'full' }, names: 'select' },
  { cls: 'mode mismatch', name: 'select naming no image of the config', config: entry(), inputs: { select: 'other' }, names: 'select' },
  {
    cls: 'mode mismatch',
    name: 'expect for a platform not built',
    inputs: { platforms: 'linux/amd64', 'torch-variants': 'linux/amd64=cu121', expect: 'linux/arm64: torch=2.2.2' },
    names: 'expect',
  },
  { cls: 'mode mismatch', name: 'CUDA variant on arm64', inputs: { 'torch-variants': 'linux/amd64=cu121,linux/arm64=cu121' }, names: 'torch-variants' },
  { cls: 'mode mismatch', name: 'unknown torch release', inputs: { 'torch-version': '9.9.9' }, names: 'torch-version' },
];

// --------------------------------------------------------------------------------------------
// The workspace and its odd files
// --------------------------------------------------------------------------------------------

let root: string;
let ws: string;
let outside: string;

function makeWorkspace(): void {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'mlib-bad-inputs-'));
  ws = path.join(root, 'ws');
  outside = path.join(root, 'outside');
  const dockerfile = fs.readFileSync(path.join(ROOT, 'examples/worker/Dockerfile'));
  const mk = (rel: string) => fs.mkdirSync(path.join(ws, rel), { recursive: true });
  const file = (rel: string, data: string | Buffer) => fs.writeFileSync(path.join(ws, rel), data);
  const link = (rel: string, target: string) => fs.symlinkSync(target, path.join(ws, rel));
  const fifo = (rel: string) => execFileSync('mkfifo', [path.join(ws, rel)]);

  fs.mkdirSync(outside, { recursive: true });
  fs.writeFileSync(path.join(outside, 'Dockerfile'), dockerfile);
  fs.writeFileSync(path.join(outside, 'requirements.txt'), 'torch==2.2.2\n');
  fs.writeFileSync(path.join(outside, 'ml-image.yml'), `images:\n  - image: ${IMAGE}\n    context: worker\n`);

  mk('worker');
  file('worker/Dockerfile', dockerfile);
  fs.copyFileSync(path.join(ROOT, 'examples/worker/server.py'), path.join(ws, 'worker/server.py'));
  for (const d of ['fifo', 'zero', 'chardev', 'socket', 'big', 'linkout', 'linkside', 'linkloop', 'pyfifo', 'nested/requirements']) {
    mk(d);
    file(`${d.split('/')[0]}/Dockerfile`, dockerfile);
  }
  fifo('fifo/requirements.txt');
  link('zero/requirements.txt', '/dev/zero');
  execFileSync('mknod', [path.join(ws, 'chardev/requirements.txt'), 'c', '1', '5']);
  execFileSync('python3', ['-c', 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])', path.join(ws, 'socket/requirements.txt')]);
  file('big/requirements.txt', `${'# padding\n'.repeat(210 * 1024)}torch==2.2.2\n`);
  link('linkout/requirements.txt', '../../outside/requirements.txt');
  link('linkside/requirements.txt', '../worker/server.py');
  link('linkloop/requirements.txt', 'requirements.txt');
  fifo('pyfifo/pyproject.toml');
  fifo('nested/requirements/base.txt');

  mk('dockerdir/Dockerfile');
  mk('dockerfifo');
  fifo('dockerfifo/Dockerfile');
  mk('dockerzero');
  link('dockerzero/Dockerfile', '/dev/zero');
  mk('dockerbig');
  file('dockerbig/Dockerfile', Buffer.concat([dockerfile, Buffer.from('# padding\n'.repeat(210 * 1024))]));
  mk('dockerlinkout');
  link('dockerlinkout/Dockerfile', '../../outside/Dockerfile');

  file('notadir', 'a file, not a directory\n');
  link('escape', '../outside');
  mk('links');
  link('links/Dockerfile.out', '../../outside/Dockerfile');
  link('links/config.yml', '../../outside/ml-image.yml');

  mk('configs/dir.yml');
  fifo('configs/fifo.yml');
  link('configs/zero.yml', '/dev/zero');
  file('configs/big.yml', `images:\n  - image: ${IMAGE}\n    context: worker\n${'# padding\n'.repeat(210 * 1024)}`);
  cases.forEach((c, i) => {
    if (c.config !== undefined) file(`configs/case-${i}.yml`, c.config);
  });
}

// --------------------------------------------------------------------------------------------
// The runs, 8 at a time; each case's assertions read its run
// --------------------------------------------------------------------------------------------

interface Outcome {
  run: ActionRun;
  /** Images the engine holds with this case's unique revision label. */
  images: string[];
}

const outcomes = new Map<number, Outcome>();
const CONCURRENCY = 8;

function inputsOf(c: Case, i: number): Record<string, string> {
  const base: Record<string, string> =
    c.config !== undefined ? { config: `configs/case-${i}.yml`, push: 'false' } : { image: IMAGE, context: 'worker', push: 'false' };
  const given = Object.fromEntries(Object.entries(c.inputs ?? {}).map(([k, v]) => [k, v.replace('<outside>', outside)]));
  return { ...base, ...given };
}

/** A commit per case: the images a run builds carry it as their revision label, so none may exist afterwards. */
const shaOf = (i: number) => crypto.createHash('sha1').update(`bad-input-${i}-${process.pid}`).digest('hex');
/** Run ids of this file's runs: containers, volumes and networks a run makes carry it in their run label. */
const RUN_PREFIX = `bad${process.pid}x`;

/** What this file's runs left in the engine (other suites may be running beside it: theirs are not counted). */
function leftovers(): string[] {
  const list = (what: string, args: string[], id: string) =>
    execFileSync(DOCKER, [...args, '--filter', `label=${RUN_LABEL}`, '--format', `{{.${id}}} {{.Label "${RUN_LABEL}"}}`])
      .toString()
      .split('\n')
      .filter((l) => l.split(' ')[1]?.startsWith(RUN_PREFIX))
      .map((l) => `${what} ${l}`);
  return [...list('container', ['ps', '-a'], 'ID'), ...list('volume', ['volume', 'ls'], 'Name'), ...list('network', ['network', 'ls'], 'ID')];
}

async function runCase(c: Case, i: number): Promise<void> {
  const sha = shaOf(i);
  // A case that got as far as building would take minutes: cancel it as soon as it starts (and fail).
  const github = { GITHUB_SHA: sha, GITHUB_RUN_ID: `${RUN_PREFIX}${i}` };
  const run = await runDist(inputsOf(c, i), { workspace: ws, github, cancelWhen: '::group::Build', timeoutMs: 60_000 });
  const images = execFileSync(DOCKER, ['images', '-q', '--filter', `label=org.opencontainers.image.revision=${sha}`])
    .toString()
    .split('\n')
    .filter(Boolean);
  outcomes.set(i, { run, images });
}

beforeAll(async () => {
  makeWorkspace();
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const i = next++;
      await runCase(cases[i], i);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
});

afterAll(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true });
  // MLIB_BAD_INPUTS_DUMP=FILE: every case's error line, to read the messages side by side.
  if (process.env.MLIB_BAD_INPUTS_DUMP) {
    const lines = cases.map(
      (c, i) =>
        `[${c.cls}] ${c.name}\n  ${
          outcomes
            .get(i)
            ?.run.output.split('\n')
            .find((l) => l.startsWith('::error::')) ?? '(no error line)'
        }`,
    );
    fs.writeFileSync(process.env.MLIB_BAD_INPUTS_DUMP, `${lines.join('\n')}\n`);
  }
  const byClass = new Map<string, number>();
  for (const c of cases) byClass.set(c.cls, (byClass.get(c.cls) ?? 0) + 1);
  const width = Math.max(...[...byClass.keys()].map((k) => k.length));
  console.log(`bad inputs by class (${cases.length} in all):\n${[...byClass].map(([k, n]) => `  ${k.padEnd(width)}  ${n}`).join('\n')}`);
});

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

test('at least 120 bad inputs', () => {
  expect(cases.length).toBeGreaterThanOrEqual(120);
});

test.each(cases.map((c, i) => ({ ...c, i, title: `[${c.cls}] ${c.name}` })))('$title', ({ i, names, secret, config }) => {
  const { run, images } = outcomes.get(i)!;
  const errors = run.output.split('\n').filter((l) => l.startsWith('::error::'));
  expect(run.timedOut).toBe(false);
  expect(run.code).not.toBe(0);
  expect(run.output).not.toContain('::group::Build');
  expect(images).toEqual([]);
  const want =
    typeof names === 'string'
      ? new RegExp(`^::error::Input '${escape(names)}': `)
      : new RegExp(`^::error::${escape(config !== undefined ? `configs/case-${i}.yml` : '')}:${names.line}: ${escape(names.key)}: `);
  expect(errors).toEqual([expect.stringMatching(want)]);
  if (secret) {
    expect(leaks(run.output, secret)).toEqual([]);
    expect(leaks(run.postOutput, secret)).toEqual([]);
    expect(run.summary).not.toContain(secret);
  }
});

test('no container, volume or network is left', () => {
  expect(leftovers()).toEqual([]);
});
