// The one place the tests load @actions/workflow-parser: the JSON hook must be registered before the
// package is imported, and a static import would be resolved before any registration could run.
import { register } from 'node:module';
import type * as Parser from '@actions/workflow-parser';
import type * as ActionParser from '@actions/workflow-parser/actions/index';

export type WorkflowParser = typeof Parser & typeof ActionParser;

let loaded: Promise<WorkflowParser> | undefined;

export function loadWorkflowParser(): Promise<WorkflowParser> {
  loaded ??= (async () => {
    register(new URL('./json-module-hook.js', import.meta.url));
    const [workflows, actions] = await Promise.all([
      import('@actions/workflow-parser'),
      import('@actions/workflow-parser/actions/index'),
    ]);
    return { ...workflows, ...actions };
  })();
  return loaded;
}
