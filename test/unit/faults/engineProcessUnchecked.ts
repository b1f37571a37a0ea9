/**
 * A test double of the engine's child process script: the real one, with the refusal of the GGUF
 * header values llama.cpp aborts on turned off, so that llama.cpp really aborts in the process.
 */
import { llamaAbortChecks } from '../../../src/node/gguf/ggufFile';

llamaAbortChecks.enabled = false;
// eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded after the check is off
require('../../../src/node/engineProcess');
