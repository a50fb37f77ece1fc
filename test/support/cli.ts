import { runCli } from '../../src/cli/feedback';

/** Runs the operator CLI in-process with `env` as its environment; its exit code and what it printed. */
export async function runCliCaptured(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, { out: (l) => out.push(l), err: (l) => err.push(l), env });
  return { code, out: out.join('\n'), err: err.join('\n') };
}
