import { DockerfileParser } from 'dockerfile-ast';

/**
 * Build args the action gives a new value on every run (BUILD_TIME) or every commit
 * (BUILD_COMMIT). A RUN after the ARG that declares one sees it in its environment, so its cache
 * key changes each time: the RUN and every layer after it are built again, torch install included.
 */
export const CHANGING_ARGS: Record<string, string> = { BUILD_TIME: 'every run', BUILD_COMMIT: 'every commit' };

export interface CacheFinding {
  /** 1-based line of the ARG. */
  line: number;
  problem: string;
}

/**
 * The ARGs of a changing build arg declared in a stage before a RUN of that stage. (An ARG before
 * the first FROM only names a value for FROM lines; a stage sees it only once it declares it again.)
 * Pure; the Dockerfile is split into instructions by dockerfile-ast.
 */
export function cacheBusters(text: string): CacheFinding[] {
  const out: CacheFinding[] = [];
  let declared = new Map<string, number>();
  let inStage = false;
  for (const ins of DockerfileParser.parse(text).getInstructions()) {
    const keyword = ins.getKeyword().toUpperCase();
    const line = ins.getRange().start.line + 1;
    if (keyword === 'FROM') {
      declared = new Map();
      inStage = true;
    } else if (keyword === 'ARG' && inStage) {
      for (const arg of ins.getArguments()) {
        const name = arg.getValue().split('=')[0];
        if (CHANGING_ARGS[name] && !declared.has(name)) declared.set(name, line);
      }
    } else if (keyword === 'RUN') {
      for (const [name, at] of declared) {
        out.push({
          line: at,
          problem: `ARG ${name} is declared before the RUN at line ${line}; ml-image-build sets ${name} anew ${CHANGING_ARGS[name]}, so that RUN and every layer after it are built again each time (a torch install is gigabytes). Declare it after the expensive steps, just before it is used.`,
        });
      }
      declared.clear();
    }
  }
  return out.sort((a, b) => a.line - b.line);
}
