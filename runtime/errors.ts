/**
 * The one closed list of picospike error codes, shared by the TypeScript side and (through the
 * generated header firmware/include/ps_status_generated.h) the C side. Codes live in bands by
 * layer, as TinyCBOR does: a number tells at a glance where a failure came from.
 *
 * Adding a code: append it to its band with the next free number, write its cause and remedy,
 * then run `npm run gen` so spec/errors.md and the C header follow. Never renumber a code.
 */

/** One entry of the error list. */
export interface ErrorCodeInfo {
  /** Stable numeric value (also the C enum value and the protocol's error payload). */
  readonly num: number;
  /** What went wrong, in one line. */
  readonly cause: string;
  /** What the user can do about it. */
  readonly remedy: string;
}

/** Bands of the error list: the hundreds digit of `num`. */
export const ERROR_BANDS = {
  1: "format: reading and validating event tables",
  2: "semantics: model parameters and the integer arithmetic",
  3: "codegen: emitting and checking generated kernels",
  4: "protocol: framing, handshake and messages on the serial bridge",
  5: "device: boards, firmware builds, flashing and transports",
  6: "cli: command-line usage and input sources",
  7: "toolchain: datasets, training, conversion and quantization",
  8: "interchange: NIR import and export",
} as const;

/** The closed list. Keys are the codes printed as `error <CODE>: <message>`. */
export const ERROR_CODES = {
  // ---- 1xx format ---------------------------------------------------------------------------
  FORMAT_TRUNCATED: {
    num: 101,
    cause: "The CBOR data ends before the item it declares is complete.",
    remedy: "The file was cut short (interrupted copy or upload); produce it again.",
  },
  FORMAT_MALFORMED_CBOR: {
    num: 102,
    cause: "The bytes are not well-formed CBOR (reserved additional info, bad indefinite length, invalid UTF-8, trailing bytes).",
    remedy: "The file is damaged or not an event table; produce it again with `picospike quantize`.",
  },
  FORMAT_NOT_EVENT_TABLE: {
    num: 103,
    cause: "The CBOR is valid but is not a picospike event table (wrong format name or top-level shape).",
    remedy: "Pass a .cbor written by `picospike quantize`.",
  },
  FORMAT_VERSION_UNSUPPORTED: {
    num: 104,
    cause: "The event table's format version is not one this build reads.",
    remedy: "Upgrade picospike, or re-quantize the model with this version.",
  },
  FORMAT_HASH_MISMATCH: {
    num: 105,
    cause: "The content hash stored in the table does not match its body.",
    remedy: "The file was altered or damaged after it was written; produce it again.",
  },
  FORMAT_NON_CANONICAL: {
    num: 106,
    cause: "The table body is not in canonical CBOR encoding, so its hash would not be reproducible.",
    remedy: "Re-encode it with `picospike quantize` (or the runtime's encoder).",
  },
  FORMAT_MISSING_FIELD: { num: 107, cause: "A required field is absent.", remedy: "The table was written by an incompatible tool; re-quantize it." },
  FORMAT_BAD_TYPE: {
    num: 108,
    cause: "A field has the wrong CBOR type or the wrong typed-array tag.",
    remedy: "The table was written by an incompatible tool; re-quantize it.",
  },
  FORMAT_OUT_OF_RANGE: {
    num: 109,
    cause: "A field's value is outside its valid range (see spec/table-format.md).",
    remedy: "Fix the model parameters and re-quantize.",
  },
  FORMAT_SIZE_MISMATCH: {
    num: 110,
    cause: "An array's length disagrees with the dimensions that declare it.",
    remedy: "The table is inconsistent; re-quantize it.",
  },
  FORMAT_INDEX_OUT_OF_BOUNDS: { num: 111, cause: "A synapse index points outside its layer.", remedy: "The table is inconsistent or hostile; re-quantize it." },
  FORMAT_LIMIT_EXCEEDED: {
    num: 112,
    cause: "A declared size exceeds a format limit (bytes, neurons, synapses, layers, nesting depth).",
    remedy: "Shrink the model or split it; limits are listed in spec/table-format.md.",
  },
  FORMAT_UNKNOWN_KIND: {
    num: 113,
    cause: "A layer, neuron, connection, encoding or readout kind is not one this version knows.",
    remedy: "Upgrade picospike or re-quantize with this version.",
  },
  FORMAT_UNKNOWN_FIELD: {
    num: 114,
    cause: "A map in the table holds a field this format version does not define.",
    remedy: "The table was written by a newer or different tool; upgrade picospike or re-quantize it.",
  },

  // ---- 2xx semantics --------------------------------------------------------------------------
  SEMANTICS_SHAPE_MISMATCH: {
    num: 201,
    cause: "Consecutive layers disagree: a connection's input size is not the previous layer's size.",
    remedy: "Check the layer shapes of the model.",
  },
  SEMANTICS_BAD_INPUT: {
    num: 202,
    cause: "An input event names a neuron outside the input layer or carries an invalid value.",
    remedy: "Check the input source matches the model's input size.",
  },
  SEMANTICS_STATE_MISMATCH: {
    num: 203,
    cause: "A state snapshot does not belong to this model (sizes differ).",
    remedy: "Restore snapshots only into the model that produced them.",
  },
  SEMANTICS_HELD_INPUT_PLASTIC: {
    num: 220,
    cause: "Held input (spec/ops.md §7.3) was asked of a model whose first layer learns: its weights change, so its input is not constant.",
    remedy: "Step such a model with ordinary input events (`step`), or turn its plasticity off.",
  },

  // ---- 3xx codegen ----------------------------------------------------------------------------
  CODEGEN_UNSUPPORTED: { num: 301, cause: "The model uses a feature the chosen target cannot emit.", remedy: "Use a supported target or simplify the model." },
  CODEGEN_DRIFT: {
    num: 302,
    cause: "A checked-in generated file differs from what the generator emits now.",
    remedy: "Run `npm run gen` and commit the result.",
  },
  CODEGEN_COMPILE_FAILED: {
    num: 303,
    cause: "The C compiler rejected the generated or firmware sources.",
    remedy: "Read the compiler output printed above; report it if the sources are unmodified.",
  },
  CODEGEN_MISMATCH: {
    num: 304,
    cause: "The C kernels and the TypeScript interpreter disagreed on the same model and input.",
    remedy: "This is a bug in picospike: report the printed seed, step, layer and neuron.",
  },

  // ---- 4xx protocol ---------------------------------------------------------------------------
  PROTOCOL_BAD_FRAME: {
    num: 401,
    cause: "A frame failed COBS decoding or its length field disagrees with its size.",
    remedy: "The link corrupts bytes; check the cable and baud rate. Such frames are dropped and counted.",
  },
  PROTOCOL_BAD_CRC: {
    num: 402,
    cause: "A frame's CRC-16 does not match its contents.",
    remedy: "The link corrupts bytes; such frames are dropped and counted.",
  },
  PROTOCOL_VERSION_MISMATCH: {
    num: 403,
    cause: "Host and device share no protocol version.",
    remedy: "Rebuild and flash the firmware with this picospike version.",
  },
  PROTOCOL_UNKNOWN_MESSAGE: {
    num: 404,
    cause: "A frame carries a message type this side does not know.",
    remedy: "Host and firmware versions differ; rebuild and flash the firmware.",
  },
  PROTOCOL_TIMEOUT: {
    num: 405,
    cause: "The other side did not answer within the timeout, after all retries.",
    remedy: "Check the board is running, the port is right and nothing else holds it.",
  },
  PROTOCOL_HANDSHAKE_FAILED: {
    num: 406,
    cause: "The device did not complete the handshake.",
    remedy: "Reset the board and check it runs picospike firmware on this port.",
  },
  PROTOCOL_MODEL_MISMATCH: {
    num: 407,
    cause: "The device runs a different model than the one given (hashes differ).",
    remedy: "Flash or upload the model, or pass the model the device runs.",
  },
  PROTOCOL_BAD_PAYLOAD: {
    num: 408,
    cause: "A message's payload is malformed for its type.",
    remedy: "Host and firmware versions differ, or the link corrupts data undetected.",
  },
  PROTOCOL_SEQUENCE_GAP: {
    num: 409,
    cause: "Frames were lost: a gap in sequence numbers.",
    remedy: "Informational for spike frames (counted); check the link if frequent.",
  },
  PROTOCOL_BUSY: { num: 410, cause: "The device's buffers are full.", remedy: "Slow down the input, or use lockstep mode." },

  // ---- 5xx device -----------------------------------------------------------------------------
  DEVICE_UNKNOWN_BOARD: { num: 501, cause: "No board of that name is registered.", remedy: "Run `picospike build --help` for the list of boards." },
  DEVICE_TOOL_MISSING: {
    num: 502,
    cause: "A tool the board needs (compiler, QEMU, gdb) is not installed.",
    remedy: "Install it; the message names the Debian package.",
  },
  DEVICE_MODEL_TOO_LARGE: {
    num: 503,
    cause: "The model does not fit the board's flash or RAM.",
    remedy: "Quantize to fewer bits, prune, or pick a larger board.",
  },
  DEVICE_PORT_UNAVAILABLE: {
    num: 504,
    cause: "The serial port cannot be opened.",
    remedy: "Check the path (`picospike ports`), permissions, and that no other program holds it.",
  },
  DEVICE_FLASH_FAILED: { num: 505, cause: "Putting the firmware on the board failed.", remedy: "Read the flash tool's output printed above." },
  DEVICE_DISCONNECTED: { num: 506, cause: "The device went away during a session.", remedy: "Reconnect; learned weights up to the last checkpoint are kept." },
  DEVICE_RESET: { num: 507, cause: "The device reset during a session.", remedy: "picospike re-handshakes and re-uploads; if repeated, check power." },
  DEVICE_OUT_OF_MEMORY: {
    num: 508,
    cause: "The device's static arena cannot hold the uploaded model.",
    remedy: "Compile the model in (flash) or use a smaller model.",
  },
  DEVICE_CANNOT_MONITOR: {
    num: 540,
    cause: "`monitor` cannot attach: the board runs no model, a different model than --model, or cannot step in real time.",
    remedy: "Pass the model the board runs (`picospike inspect` shows its hash), or flash it first; monitor needs firmware with real-time stepping.",
  },
  DEVICE_LEARNING_NOT_BUILT: {
    num: 541,
    cause: "The model learns by a rule (spec/ops.md §11: step or event timing, triplet) that this firmware was built without (PS_NET_LEARNING).",
    remedy: "Rebuild the firmware with every rule (the default) or with the bits the model needs (codegen/kernel-select.ts learningMask).",
  },

  // ---- 6xx cli ----------------------------------------------------------------------------------
  CLI_USAGE: { num: 601, cause: "The command line is not valid for this verb.", remedy: "Run the verb with --help." },
  CLI_FILE_NOT_FOUND: { num: 602, cause: "A named input file does not exist or cannot be read.", remedy: "Check the path." },
  CLI_BAD_SOURCE: { num: 603, cause: "An input source string is not of a known `kind:detail` form.", remedy: "See `picospike run --help` for the sources." },
  CLI_BAD_INPUT_FILE: {
    num: 604,
    cause: "An input file (spike file, event-camera recording, NDJSON) is malformed; the message gives the byte offset or line.",
    remedy: "Check the file's format against spec/.",
  },
  CLI_WRITE_FAILED: {
    num: 605,
    cause: "An output file could not be written; nothing partial was left behind.",
    remedy: "Check the directory exists and is writable and the disk has room.",
  },
  CLI_INTERRUPTED: {
    num: 606,
    cause: "The command was interrupted (Ctrl-C) before finishing.",
    remedy: "Outputs written so far are complete files; rerun to finish.",
  },
  CLI_PACKAGE_DAMAGED: {
    num: 610,
    cause: "A file the picospike package ships (firmware sources, runtime/fixed.ts, bench C) is missing from its install.",
    remedy: "Reinstall picospike (`npm install -g picospike` or from its tarball).",
  },
  CLI_UI_PORT_UNAVAILABLE: {
    num: 640,
    cause: "The live view's server could not listen on the asked --ui-port of 127.0.0.1 (taken, or not allowed).",
    remedy: "Pick another --ui-port, or leave it out so the system chooses a free port.",
  },
  CLI_UI_ASSETS_MISSING: {
    num: 641,
    cause: "The live view's page (dist/ui/app.js, app.css) is not where the command expects it: the package was not built.",
    remedy: "Run `npm run build` in the package (an installed package ships the built page).",
  },

  // ---- 7xx toolchain -----------------------------------------------------------------------------
  TOOLCHAIN_DATASET: {
    num: 701,
    cause: "A dataset file is missing or malformed (bad IDX magic, sizes, truncation).",
    remedy: "Check --data-dir holds standard IDX files.",
  },
  TOOLCHAIN_UNSUPPORTED_LAYER: {
    num: 702,
    cause: "The ANN has a layer or activation the converter cannot turn into spiking form.",
    remedy: "The message names the layer and what to use instead.",
  },
  TOOLCHAIN_BAD_MODEL: {
    num: 703,
    cause: "A model file (tfjs-layers or float SNN) is malformed or inconsistent.",
    remedy: "Check the model was saved by tfjs/Keras or by picospike.",
  },
  TOOLCHAIN_QUANTIZE_RULE: {
    num: 704,
    cause: "A design rule fails at quantization (leak rounds to nothing or to a full wipe, fan-in overflows).",
    remedy: "The message names the layer; change time constants, bits or scaling.",
  },
  TOOLCHAIN_TRAINING: { num: 705, cause: "Training failed (diverged to NaN, or no data).", remedy: "Lower the learning rate or check the data." },
  TOOLCHAIN_CALIBRATION: {
    num: 706,
    cause: "Post-conversion calibration cannot run: the SNN is not a converted one (IF hidden layers, integrator readout), or it has no calibration images.",
    remedy: "Calibrate the float SNN `picospike convert` writes, with calibration images (--calibration N or --calibration-input).",
  },
  // ---- 8xx interchange (NIR) ----------------------------------------------------------------
  INTERCHANGE_NOT_HDF5: {
    num: 801,
    cause: "The file does not start with the HDF5 signature, so it is not a NIR file.",
    remedy: "Pass a .nir file written by `nir.write` (HDF5).",
  },
  INTERCHANGE_TRUNCATED: { num: 802, cause: "The HDF5 file ends before the size its superblock declares.", remedy: "The file was cut short; export it again." },
  INTERCHANGE_FILE_TOO_LARGE: {
    num: 803,
    cause: "The NIR file is larger than the import limit (64 MiB).",
    remedy: "A model that large does not fit a microcontroller; export a smaller one.",
  },
  INTERCHANGE_NOT_NIR: {
    num: 804,
    cause: "The file is HDF5 but not a NIR graph (no `node` group of type NIRGraph).",
    remedy: "Pass a file written by `nir.write`.",
  },
  INTERCHANGE_BAD_DATASET_TYPE: {
    num: 805,
    cause: "A NIR field has the wrong HDF5 type (e.g. a string where numbers are expected, or a compound type).",
    remedy: "The message names the field; export the model again with a NIR 1.x writer.",
  },
  INTERCHANGE_MISSING_FIELD: {
    num: 806,
    cause: "A field the node type requires is absent.",
    remedy: "The message names the node and the field; export the model again with a NIR 1.x writer.",
  },
  INTERCHANGE_SHAPE_OVERFLOW: { num: 807, cause: "A dataset's declared shape has an element count that overflows.", remedy: "The file is damaged or hostile." },
  INTERCHANGE_TOO_DEEP: {
    num: 808,
    cause: "Groups or nested NIR graphs go deeper than the limit (8 nested graphs), or loop back on themselves.",
    remedy: "Flatten the graph before exporting, or check the file is not damaged.",
  },
  INTERCHANGE_DATASET_TOO_LARGE: {
    num: 809,
    cause: "A dataset declares more elements than the import limit (2^24 per dataset, 2^25 in all).",
    remedy: "A model that large does not fit a microcontroller; export a smaller one.",
  },
  INTERCHANGE_GZIP_BOMB: {
    num: 810,
    cause: "A compressed dataset declares more decompressed data than the import limit, from a much smaller file.",
    remedy: "The file is hostile or damaged; it was not decompressed.",
  },
  INTERCHANGE_UNKNOWN_EDGE: { num: 811, cause: "An edge names a node the graph does not have.", remedy: "The message names the edge; export the model again." },
  INTERCHANGE_UNSUPPORTED_NODE: {
    num: 812,
    cause: "A node type (or one of its settings) has no picospike equivalent.",
    remedy: "The message names the node and its type; replace it in the framework before exporting.",
  },
  INTERCHANGE_UNSUPPORTED_GRAPH: {
    num: 813,
    cause:
      "The graph's shape cannot be mapped to a chain of spiking layers (branches, merges, a missing input or output, a cycle other than a one-step recurrence).",
    remedy: "The message names the node where mapping stopped.",
  },
  INTERCHANGE_BAD_PARAMETER: {
    num: 814,
    cause: "A node parameter is out of range or inconsistent (non-finite, tau <= 0, wrong length for the layer).",
    remedy: "The message names the node and the parameter.",
  },
  INTERCHANGE_HDF5_ERROR: {
    num: 815,
    cause: "The HDF5 library could not read the file (damaged structure).",
    remedy: "Export the model again; the message gives the library's reason.",
  },
  INTERCHANGE_TOO_MANY_NODES: {
    num: 816,
    cause: "The graph has more nodes, edges or group entries than the import limit (4096).",
    remedy: "A model that large does not fit a microcontroller.",
  },
  INTERCHANGE_EXPORT_UNSUPPORTED: {
    num: 817,
    cause: "The event table uses a feature NIR cannot express.",
    remedy: "The message names the layer and the feature.",
  },
} as const satisfies Record<string, ErrorCodeInfo>;

/** Every code in the closed list. */
export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * The one error class picospike throws for anything a user can cause. `code` is from the closed
 * list; `detail` carries structured context (byte offset, layer name, ...) for `--json` output.
 */
export class PicospikeError extends Error {
  /** The error code from the closed list. */
  readonly code: ErrorCode;
  /** Structured context, printed by `--json` and `--debug`. */
  readonly detail: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ErrorCode, message: string, detail?: Record<string, unknown>) {
    super(message);
    this.name = "PicospikeError";
    this.code = code;
    this.detail = detail;
  }

  /** The numeric value of this error's code. */
  get num(): number {
    return ERROR_CODES[this.code].num;
  }
}

/** Throws a PicospikeError; shorthand for validation code. */
export function fail(code: ErrorCode, message: string, detail?: Record<string, unknown>): never {
  throw new PicospikeError(code, message, detail);
}

/** True when `e` is a PicospikeError (optionally with the given code). */
export function isPicospikeError(e: unknown, code?: ErrorCode): e is PicospikeError {
  return e instanceof PicospikeError && (code === undefined || e.code === code);
}

/** Looks a code up by its number (for error payloads arriving from a device). */
export function errorCodeFromNum(num: number): ErrorCode | undefined {
  for (const [code, info] of Object.entries(ERROR_CODES)) if (info.num === num) return code as ErrorCode;
  return undefined;
}
