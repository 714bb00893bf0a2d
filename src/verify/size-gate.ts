import type { Docker } from '../adapters/docker';
import { formatBytes } from '../publish/progress';
import type { Finding } from './contract';
import {
  budgetFor,
  checkSize,
  largestLayers,
  layerOrigins,
  measureCompressed,
  type PublishedPlatform,
  type PublishedSizes,
  type SizeBudget,
  type SizeReport,
} from './size';

/**
 * The size check of one platform image before anything is pushed. Compressing the image to learn
 * its pushed size costs about as much as the push's own compression (a minute or two for a 5-10 GB
 * torch image on 4 cores), so it is only done when the budget limits the compressed size or its
 * growth; otherwise the check reads the uncompressed sizes and the largest layers from the engine
 * (inspect and history, instant), and the compressed size and growth are filled in from the pushed
 * manifest afterwards (`afterPush`), for the report only.
 */
export async function checkImageSize(
  docker: Docker,
  ref: string,
  platform: string,
  budget: SizeBudget,
  published: PublishedSizes | undefined,
  level: number,
  signal?: AbortSignal,
): Promise<{ findings: Finding[]; report: SizeReport }> {
  const limits = budgetFor(budget, platform);
  if (limits.compressed || limits.growth) {
    return checkSize(await measureCompressed(docker, ref, level, signal), budget, published);
  }
  const t0 = Date.now();
  const image = await docker.inspectImage(ref);
  const origins = await layerOrigins(docker, ref, image.diffIds);
  const uncompressed = image.size;
  const findings: Finding[] = [];
  if (limits.uncompressed && uncompressed > limits.uncompressed.value) {
    findings.push({
      check: 'uncompressed size',
      expected: `at most ${limits.uncompressed.text}`,
      actual: `${formatBytes(uncompressed)} (${uncompressed} bytes)`,
    });
  }
  const layers = origins.map((o, i) => ({
    index: i + 1,
    ...(o.size !== undefined ? { uncompressed: o.size } : {}),
    ...(o.instruction !== undefined ? { instruction: o.instruction } : {}),
  }));
  const before = published?.platforms[platform];
  return {
    findings,
    report: {
      platform,
      uncompressed,
      layers: layers.length,
      level,
      largestLayers: largestLayers(layers, 5, 'uncompressed'),
      ...(before && published ? { published: { ref: published.ref, digest: before.digest, compressed: before.compressed } } : {}),
      budget: limits,
      passed: findings.length === 0,
      seconds: (Date.now() - t0) / 1000,
    },
  };
}

/** Fills in what the push told: the compressed size as pushed, and its growth over the published image. Pure. */
export function afterPush(report: SizeReport, pushed: PublishedPlatform): SizeReport {
  if (report.compressed !== undefined) return report;
  const before = report.published?.compressed;
  const growth = before ? ((pushed.compressed - before) / before) * 100 : undefined;
  return { ...report, compressed: pushed.compressed, compressedBy: 'pushed', ...(growth !== undefined ? { growthPercent: Math.round(growth * 10) / 10 } : {}) };
}

/** The tag whose image growth is measured against: `latest` when the release moves it, else its first tag. */
export function growthTag(tags: string[]): string | undefined {
  return tags.includes('latest') ? 'latest' : tags[0];
}
