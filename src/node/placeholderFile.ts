/**
 * Files that stand where a model file should be but hold none of it: an empty file, or the text
 * pointer Git LFS leaves when a repository is cloned without git-lfs (most Hugging Face
 * repositories keep their graphs and weights in LFS). onnxruntime's own message for them is its
 * parser's ("ModelProto does not have a graph", "Protobuf parsing failed"), which names no fix.
 */
import * as fs from 'fs';

/** A Git LFS pointer is a few lines of text; read no more than this of a file to recognise one. */
const POINTER_MAX_BYTES = 1024;
const POINTER_START = 'version https://git-lfs.github.com/spec/';

/** What the file at `file` is instead of model bytes ("empty", "a Git LFS pointer"), or undefined. */
export function placeholderKind(file: string): 'empty' | 'a Git LFS pointer' | undefined {
  let fd: number | undefined;
  try {
    const stat = fs.statSync(file);
    if (!stat.isFile()) return undefined;
    if (stat.size === 0) return 'empty';
    if (stat.size > POINTER_MAX_BYTES) return undefined;
    fd = fs.openSync(file, 'r');
    const head = Buffer.alloc(POINTER_START.length);
    const n = fs.readSync(fd, head, 0, head.length, 0);
    return head.subarray(0, n).toString('latin1') === POINTER_START ? 'a Git LFS pointer' : undefined;
  } catch {
    return undefined; // unreadable: the loader's own checks say why
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** The error text for such a file: what it is and how to get the real one. */
export function placeholderMessage(kind: 'empty' | 'a Git LFS pointer', what: string): string {
  return kind === 'empty'
    ? `empty, not ${what}: download it again (LM: Download Model), or choose another variant the folder has (lmPlayground.dtype, or lmp --dtype)`
    : `${kind}, not ${what} (the repository was cloned without git-lfs): run \`git lfs pull\` in it, or download the model (LM: Download Model), or choose another variant the folder has (lmPlayground.dtype, or lmp --dtype)`;
}
