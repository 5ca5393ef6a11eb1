/** What a model file is for; the neural tier needs one of each. */
export type ModelRole = 'stt' | 'llm' | 'tts';

export interface Checksum {
  algorithm: 'sha1' | 'sha256';
  /** Lower-case hex. */
  digest: string;
}

export interface CatalogueEntry {
  /** What `parley models pull <name>` takes. */
  name: string;
  role: ModelRole;
  description: string;
  licence: string;
  /** Public download address. */
  url: string;
  /** Name inside the cache dir: the file, or the folder an archive unpacks to. */
  file: string;
  /** Set when the download is an archive holding one top-level folder named `file`. */
  archive?: 'tar.bz2';
  /** Bytes of the download, when known (shown before the server says). */
  size?: number;
  /** Downloads without one are refused unless the caller allows unverified files. */
  checksum?: Checksum;
  /** Where the checksum comes from, so an operator can judge it. */
  checksumSource: string;
}

/** The recommended set: one model per role, sized for 2 CPU cores (the README's engine tiers). */
export const CATALOGUE: readonly CatalogueEntry[] = [
  {
    name: 'whisper-base.en',
    role: 'stt',
    description: 'whisper.cpp base.en (English), ggml F16',
    licence: 'MIT',
    url: 'https://huggingface.co/ggerganov/whisper.cpp/resolve/main/ggml-base.en.bin',
    file: 'ggml-base.en.bin',
    size: 147964211,
    checksum: { algorithm: 'sha1', digest: '137c40403d78fd54d454da0f9bd998f78703390c' },
    checksumSource: "SHA-1 published in whisper.cpp's models/README.md",
  },
  {
    name: 'qwen2.5-1.5b-instruct-q4_k_m',
    role: 'llm',
    description: 'Qwen2.5 1.5B Instruct, GGUF Q4_K_M (native tool calling)',
    licence: 'Apache-2.0',
    url: 'https://huggingface.co/Qwen/Qwen2.5-1.5B-Instruct-GGUF/resolve/main/qwen2.5-1.5b-instruct-q4_k_m.gguf',
    file: 'qwen2.5-1.5b-instruct-q4_k_m.gguf',
    size: 1117320736,
    checksum: { algorithm: 'sha256', digest: '6a1a2eb6d15622bf3c96857206351ba97e1af16c30d7a74ee38970e434e9407e' },
    checksumSource: 'SHA-256 of the Git LFS object as pinned by a third-party project; to verify against the publisher',
  },
  {
    name: 'piper-en_US-libritts_r-medium',
    role: 'tts',
    description: 'Piper VITS voice en_US libritts_r medium, sherpa-onnx bundle (model, tokens, espeak-ng-data)',
    licence: 'voice CC-BY-4.0 (LibriTTS-R); espeak-ng data GPL-3.0',
    url: 'https://github.com/k2-fsa/sherpa-onnx/releases/download/tts-models/vits-piper-en_US-libritts_r-medium.tar.bz2',
    file: 'vits-piper-en_US-libritts_r-medium',
    archive: 'tar.bz2',
    checksumSource: 'none published; to verify (pull needs --allow-unverified, which prints the digest it saw)',
  },
];

export function catalogueEntry(name: string, catalogue: readonly CatalogueEntry[] = CATALOGUE): CatalogueEntry | undefined {
  return catalogue.find((e) => e.name === name);
}
