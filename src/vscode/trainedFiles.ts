/**
 * The documents a workspace-trained model learnt from, recorded beside it, so that Compare Models
 * can say when it scores one of them (drive20 L4): by URI, and by content, since a copy or a file
 * renamed since is the same text (hostile22 M2).
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import type * as vscode from 'vscode';

const RECORD = 'trained-files.json';

export interface TrainedFiles {
  /** The documents' URIs. */
  files: string[];
  /** SHA-256 of each one's text (textDigest). */
  digests: string[];
}

/** A UTF-8 byte-order mark: an editor's text does not hold it. */
const bom = (b: Uint8Array) => b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf;

/** SHA-256 of a text's UTF-8 bytes: what a document's text and its file's bytes (less a BOM) both give. */
export function textDigest(text: string): string {
  return crypto.createHash('sha256').update(text, 'utf8').digest('hex');
}

/** textDigest of a file's text, from its bytes (read here whole). */
export function bytesDigest(bytes: Uint8Array): string {
  return crypto
    .createHash('sha256')
    .update(bom(bytes) ? bytes.subarray(3) : bytes)
    .digest('hex');
}

/** textDigest of a file's text, read in pieces (a file of hundreds of megabytes is never one buffer). */
export async function fileDigest(file: string): Promise<string> {
  const hash = crypto.createHash('sha256');
  let first = true;
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 })) {
    const bytes = chunk as Buffer;
    hash.update(first && bom(bytes) ? bytes.subarray(3) : bytes);
    first = false;
  }
  return hash.digest('hex');
}

export function writeTrainedFiles(dir: string, record: TrainedFiles): void {
  fs.writeFileSync(path.join(dir, RECORD), JSON.stringify(record));
}

/**
 * Whether the model trained into `dir` learnt from this document: its URI, or a text of the same
 * digest (`digest`, asked for only when there is a record). False where no record says so.
 */
export function trainedOnDocument(dir: string, uri: vscode.Uri, digest: () => string): boolean {
  let record: Partial<TrainedFiles>;
  try {
    record = JSON.parse(fs.readFileSync(path.join(dir, RECORD), 'utf8')) as Partial<TrainedFiles>;
  } catch {
    return false;
  }
  if (Array.isArray(record.files) && record.files.includes(uri.toString())) return true;
  return Array.isArray(record.digests) && record.digests.includes(digest());
}
