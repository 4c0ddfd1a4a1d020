// The dataset manifest both runtimes read: written by `make data` (tools/data/synthetic.ts) next to
// the images, or by the bench orchestrator for DATASET_DIR. k6 cannot list folders, so it reads this.

export interface DatasetImage {
  /** Sent as X-Image-Id; the file name without extension. */
  id: string;
  /** Path relative to the manifest's folder, or absolute. */
  file: string;
  bytes: number;
  width?: number;
  height?: number;
}

export interface DatasetManifest {
  name: string;
  images: DatasetImage[];
}

export const MANIFEST_FILE = 'manifest.json';

export function contentTypeOf(file: string): string {
  const ext = file.slice(file.lastIndexOf('.') + 1).toLowerCase();
  if (ext === 'png') return 'image/png';
  if (ext === 'webp') return 'image/webp';
  return 'image/jpeg';
}

export function dirnameOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '.' : path.slice(0, i) || '/';
}

/** A manifest entry's file as a path to open: absolute as given, else relative to the manifest's folder. */
export function manifestFilePath(manifestPath: string, file: string): string {
  return file.startsWith('/') ? file : `${dirnameOf(manifestPath)}/${file}`;
}
