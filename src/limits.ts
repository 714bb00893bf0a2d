/**
 * The limits the action puts on its inputs, in one place (the README's "Limits" table mirrors it).
 * Each keeps a bad value from reaching a place where it fails late or unclearly: the kernel's
 * argv limits, docker's reference grammar, memory.
 */

/** The most bytes read from one file of the repository (ml-image.yml, the Dockerfile, requirements files, pyproject.toml). */
export const MAX_READ_BYTES = 1024 * 1024;

/**
 * One build arg, `NAME=value`, in bytes. Docker gets each as one argv string, and Linux refuses a
 * single one over 128 KiB (E2BIG) before docker even starts.
 */
export const MAX_BUILD_ARG_BYTES = 64 * 1024;

/** All build args of one image together: argv and environment share the kernel's ARG_MAX. */
export const MAX_BUILD_ARGS_BYTES = 256 * 1024;

/** An image name, registry included (docker's reference grammar: 255). */
export const MAX_IMAGE_NAME = 255;

/** Any other one-line input, in characters. */
export const MAX_LINE_CHARS = 4096;

/** The worker token: visible ASCII (it goes into an HTTP header and an env-file line), at least 8 characters so masking it does not mask common words. */
export const WORKER_TOKEN_CHARS = { min: 8, max: 4096 } as const;

/**
 * Labels and annotations the user adds (the `labels` and `annotations` inputs): a key, a value,
 * and all of them together. Every label becomes a `--label` argv word and lands in the image
 * config; annotations land in manifests, which registries cap (Distribution: 4 MiB) and every
 * client reads whole, so both stay far below what a registry or the kernel would refuse.
 */
export const MAX_META_KEY_CHARS = 256;
export const MAX_META_VALUE_BYTES = 8 * 1024;
export const MAX_META_TOTAL_BYTES = 64 * 1024;
