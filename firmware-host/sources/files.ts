/**
 * The file sources (spec/input-formats.md §7): `spikes:FILE` (spec/spike-file.md) and the
 * event-camera recordings `nmnist:`, `aedat:`, `evt2:`, `evt3:`, read whole and decoded by the
 * runtime (runtime/spikefile.ts, runtime/sources/event-files.ts).
 */
import { fail } from "../../runtime/errors.js";
import type { EventFileKind } from "../../runtime/eventfiles/index.js";
import type { SourceKind } from "../../runtime/sources/kind.js";
import { eventFileDetail, eventFileSample } from "../../runtime/sources/event-files.js";
import { decodeSpikeFile, sampleToInput } from "../../runtime/spikefile.js";
import { readFileOrFail } from "./read.js";

/** `spikes:FILE`: the samples of a spike file (spec/spike-file.md), cut or padded to `steps`. */
export const spikeFileSource: SourceKind = {
  help: "spikes:FILE  the samples of a spike file (spec/spike-file.md), each cut or padded to --steps",
  endless: false,
  open(detail, inputSize, steps) {
    if (detail === "") fail("CLI_BAD_SOURCE", "spikes source needs a file: spikes:FILE");
    const file = decodeSpikeFile(readFileOrFail(detail));
    if (file.inputSize !== inputSize) {
      fail("SEMANTICS_BAD_INPUT", `spike file ${detail} addresses ${file.inputSize} inputs, the model has ${inputSize}`);
    }
    return {
      *[Symbol.iterator]() {
        for (const sample of file.samples) yield sampleToInput(sample, steps);
      },
    };
  },
};

/** An event-camera file source of `kind`: the file binned into one sample (labelled with `label=N`). */
function eventFileSource(kind: EventFileKind, help: string): SourceKind {
  return {
    help,
    endless: false,
    open(detail, inputSize, steps, context = {}) {
      const parsed = eventFileDetail(kind, detail);
      return [eventFileSample(kind, parsed, readFileOrFail(parsed.path), inputSize, steps, context)];
    },
  };
}

/** The event-camera file sources, by name. */
export const EVENT_FILE_SOURCES: Readonly<Record<EventFileKind, SourceKind>> = {
  nmnist: eventFileSource(
    "nmnist",
    "nmnist:FILE[,dt=µs,crop=X:Y:W:H,downsample=N,polarity=merge|split|on|off,denoise=µs,refractory=µs,accumulate=spike|count,label=N]  N-MNIST binary events binned into steps (default dt: the stream's --dt, else 1000 µs; mapped onto the model's input shape unless crop/downsample are given)",
  ),
  aedat: eventFileSource("aedat", "aedat:FILE[,options as nmnist,width=W,height=H]  AEDAT 2.0/3.1/4.0 polarity events"),
  evt2: eventFileSource("evt2", "evt2:FILE[,options as nmnist]  Prophesee EVT 2.0 raw"),
  evt3: eventFileSource("evt3", "evt3:FILE[,options as nmnist]  Prophesee EVT 3.0 raw"),
};
