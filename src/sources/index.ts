import type { BaseSource } from '../core/store/base-source.js';
import type { SourceChoice } from '../inputs/source.js';

export interface SourceSetting {
  /** Where key-files globs and the build command start (the workspace, or the CLI's cwd). */
  workspace: string;
  /** Where a build command's output goes (the CLI: stderr; the action: its log). */
  output: NodeJS.WritableStream;
  onGlobDebug?: (line: string) => void;
}

/**
 * The source a choice names, for either front end. A local image stays a path (the store wraps
 * it); a URL or a build loads its module only when chosen, so that `prepare --image`, whose
 * start-up is on the clock of every cold extraction, does not load them.
 */
export async function sourceFromChoice(choice: SourceChoice, setting: SourceSetting): Promise<string | BaseSource> {
  switch (choice.kind) {
    case 'image':
      return choice.image;
    case 'url': {
      const { urlSource } = await import('./url.js');
      return urlSource({ url: choice.url, sha256: choice.sha256 });
    }
    case 'build': {
      const { buildSource } = await import('./build.js');
      return buildSource({ command: choice.command, keyFiles: choice.keyFiles, workspace: setting.workspace, output: setting.output, onGlobDebug: setting.onGlobDebug });
    }
  }
}
