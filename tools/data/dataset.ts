// The dataset as the reference sees it: image files sorted by name, each with its size and sha256,
// so a changed, added or removed image makes a stored reference stale.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const IMAGE_EXTENSIONS = /\.(jpe?g|png|webp)$/i;

export interface DatasetFile {
  /** The file name without extension: the image id clients send as X-Image-Id (lib/dataset.ts). */
  id: string;
  /** File name in the dataset folder. */
  file: string;
  bytes: number;
  sha256: string;
}

export function imageId(file: string): string {
  return file.replace(/\.[^.]+$/, '');
}

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Image file names in the folder, sorted, the first maxImages of them (0 = all). */
export function listImages(dir: string, maxImages = 0): string[] {
  if (!existsSync(dir)) {
    throw new Error(`dataset folder ${dir} does not exist: run 'make data' or set DATASET_DIR to a folder of JPEG/PNG/WebP images`);
  }
  const names = readdirSync(dir).filter((f) => IMAGE_EXTENSIONS.test(f)).sort();
  if (names.length === 0) throw new Error(`dataset folder ${dir} holds no .jpg/.png/.webp images: run 'make data' or fix DATASET_DIR`);
  return maxImages > 0 ? names.slice(0, maxImages) : names;
}

export function describeDataset(dir: string, maxImages = 0): DatasetFile[] {
  return listImages(dir, maxImages).map((file) => {
    const data = readFileSync(join(dir, file));
    return { id: imageId(file), file, bytes: data.length, sha256: sha256(data) };
  });
}
