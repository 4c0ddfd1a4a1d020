// Loads the dataset once per VU init, without one copy of the image bytes per VU: k6's
// experimental fs module reads each file into memory once for the whole test and hands every VU a
// handle to it. (SharedArray cannot hold ArrayBuffers, and open(path, 'b') would copy the whole
// dataset into every VU: 50 images x ~60 KB = ~3 MB per VU, ~100 MB at 32 VUs.)
// Cost of this choice: one copy of the chosen image into a fresh buffer per request (tens of KB,
// microseconds), and per VU only the buffers of its in-flight request.
import { open as openFile, SeekMode, type File } from 'k6/experimental/fs';
import { contentTypeOf, dirnameOf, type DatasetManifest } from '../dataset.ts';

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
}

/** Init context only (k6's open() and fs.open() are init-time APIs). */
export async function loadDataset(manifestPath: string, maxImages: number): Promise<Dataset> {
  let manifest: DatasetManifest;
  try {
    manifest = JSON.parse(open(manifestPath)) as DatasetManifest;
  } catch (e) {
    throw new Error(`dataset manifest ${manifestPath} cannot be read (${String(e)}): run 'make data' or set DATASET_DIR`);
  }
  const images = manifest.images.slice(0, maxImages > 0 ? maxImages : undefined);
  if (images.length === 0) throw new Error(`dataset manifest ${manifestPath} lists no images: run 'make data' or set DATASET_DIR to a folder of JPEG/PNG files`);
  const dir = dirnameOf(manifestPath);
  const files: File[] = await Promise.all(images.map((img) => openFile(img.file.startsWith('/') ? img.file : `${dir}/${img.file}`)));
  return {
    name: manifest.name,
    size: images.length,
    async read(index: number): Promise<LoadedImage> {
      const i = ((index % images.length) + images.length) % images.length;
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
    },
  };
}
