/**
 * The shape of an input source (spec/input-formats.md §7): a kind named before the first colon of
 * `kind:detail` that turns its detail into samples of input events. The kinds and their registry
 * are in firmware-host/sources/ (they read files, stdin and ports); the decoding they share is
 * here, pure, so a browser can use it too.
 */
import type { InputSample } from "../events.js";
import type { InputDescription, Shape3 } from "../model.js";

/** What a verb tells a source beyond the input size: the step length and the input's shape. */
export interface SourceContext {
  /** Step length in µs (the stream's --dt); event files bin with it unless they set `dt=`. */
  readonly dtUs?: number;
  /** The model's input shape [channels, height, width], for the automatic event-file mapping. */
  readonly shape?: Shape3;
  /** Stops a live source that is waiting for input (Ctrl-C). */
  readonly signal?: AbortSignal;
  /** Where live sources report detection results and drops (stderr in the CLI). */
  readonly log?: (line: string) => void;
  /** The model's input description: dataset sources encode their images as it says (encoding, seed). */
  readonly input?: InputDescription;
  /** IDX dataset folder for dataset sources (--data-dir) instead of the embedded MNIST. */
  readonly dataDir?: string;
}

/** A source kind: parses its detail (the text after `kind:`) and yields samples. */
export interface SourceKind {
  /** One line for --help: the syntax and what it gives. */
  readonly help: string;
  /** True when the source never runs out of samples (so callers must bound how many they take). */
  readonly endless: boolean;
  /** True when every sample carries a class label (eval scores these). */
  readonly labelled?: boolean;
  /** True for sources that arrive while running (`stream` reads them with openLive, step by step). */
  readonly live?: boolean;
  /** Samples of `steps` steps for a model with `inputSize` inputs. May be endless (callers bound it). */
  open(detail: string, inputSize: number, steps: number, context?: SourceContext): Iterable<InputSample>;
  /** Live sources: samples of `chunkSteps` steps as they arrive, read on demand (backpressure). */
  openLive?(detail: string, inputSize: number, chunkSteps: number, context?: SourceContext): AsyncIterable<InputSample>;
}
