/** `npm start`: the packaged extension with its embedded model in a local VS Code on the sample workspace. */
import * as path from 'path';
import { CACHE_DIR, CodeServer, REPO_ROOT } from './codeServer';

async function main(): Promise<void> {
  const server = new CodeServer({
    stateDir: path.join(CACHE_DIR, 'playground-run'),
    workspace: path.join(REPO_ROOT, 'sample-workspace'),
    vsix: path.join(REPO_ROOT, 'lm-playground.vsix'),
    port: Number(process.env.PORT ?? 8080),
    keepUserData: true,
  });
  await server.start();
  console.log(`\nLM Playground is running in VS Code (code-server) at:\n\n  ${server.url}\n\nOpen it in a browser. Press Ctrl+C to stop.`);
  const stop = () => void server.stop().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((e) => {
  console.error(`npm start failed: ${e instanceof Error ? e.message : e}`);
  process.exit(1);
});
