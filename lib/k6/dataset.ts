// Loads the dataset once per VU init, without one copy of the image bytes per VU: k6's
// experimental fs module reads each file into memory once for the whole test and hands every VU a
// handle to it. (SharedArray cannot hold ArrayBuffers, and open(path, 'b') would copy the whole
// dataset into every VU: 50 images x ~60 KB = ~3 MB per VU, ~100 MB at 32 VUs.)
// Cost of this choice: one read of the chosen image into a fresh buffer per request, unless the VU
// kept it (DATASET_CACHE_MB: each VU keeps the images it has read, up to that budget, which holds the
// synthetic dataset; a large dataset is read per request past it).
import { open as openFile, SeekMode, type File } from 'k6/experimental/fs';
import { contentTypeOf, manifestFilePath, type DatasetManifest } from '../dataset.ts';

export interface LoadedImage {
  id: string;
  contentType: string;
  bytes: Uint8Array;
}

export interface Dataset {
  name: string;
  size: number;
  /** The image for a global request counter, round-robin over the dataset. */
  read(index: number): Promise<LoadedImage>;
  /** The same image when this VU already keeps it (no file read, no promise), else undefined. */
  kept(index: number): LoadedImage | undefined;
}

/** Bytes of images each VU keeps after reading them once (DATASET_CACHE_MB): the synthetic set fits. */
const DEFAULT_DATASET_CACHE_MB = 4;

/**
 * Init context only (k6's open() and fs.open() are init-time APIs). `cacheMb`: each VU keeps the
 * images it has read, up to this many MB, and sends the kept bytes again instead of reading the file
 * (a seek and read loop of promises per request cost k6 a few tenths of a ms of CPU each); 0 reads
 * every time. Past the budget images are read per request as before, so a large dataset costs no more
 * memory per VU than the budget.
 */
export async function loadDataset(manifestPath: string, maxImages: number, cacheMb = DEFAULT_DATASET_CACHE_MB): Promise<Dataset> {
  let manifest: DatasetManifest;
  try {
    manifest = JSON.parse(open(manifestPath)) as DatasetManifest;
  } catch (e) {
    throw new Error(`dataset manifest ${manifestPath} cannot be read (${String(e)}): run 'make data' or set DATASET_DIR`);
  }
  const images = manifest.images.slice(0, maxImages > 0 ? maxImages : undefined);
  if (images.length === 0) throw new Error(`dataset manifest ${manifestPath} lists no images: run 'make data' or set DATASET_DIR to a folder of JPEG/PNG files`);
  const files: File[] = await Promise.all(images.map((img) => openFile(manifestFilePath(manifestPath, img.file))));
  const kept = new Map<number, LoadedImage>();
  let keptBytes = 0;
  const budget = cacheMb * 1024 * 1024;
  return {
    name: manifest.name,
    size: images.length,
    kept(index: number): LoadedImage | undefined {
      return kept.get(((index % images.length) + images.length) % images.length);
    },
    async read(index: number): Promise<LoadedImage> {
      const i = ((index % images.length) + images.length) % images.length;
      const hit = kept.get(i);
      if (hit) return hit;
      const loaded = await readImage(i);
      if (keptBytes + loaded.bytes.byteLength <= budget) {
        kept.set(i, loaded);
        keptBytes += loaded.bytes.byteLength;
      }
      return loaded;
    },
  };

  async function readImage(i: number): Promise<LoadedImage> {
    const meta = images[i]!;
    const file = files[i]!;
    const bytes = new Uint8Array(meta.bytes);
    await file.seek(0, SeekMode.Start);
    let read = 0;
    while (read < bytes.length) {
      const n = await file.read(bytes.subarray(read));
      if (n === null || n === 0) break;
      read += n;
    }
    return { id: meta.id, contentType: contentTypeOf(meta.file), bytes: read === bytes.length ? bytes : bytes.subarray(0, read) };
  }
}
