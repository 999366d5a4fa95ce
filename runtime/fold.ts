/**
 * The TypeScript-only spike folds of spec/ops.md §12.3, each giving the integers of the IR `…Exact`
 * kernel it replaces wherever the accumulation bound of §12.1 holds (the interpreter uses them only
 * there). Item 2 (spike lists: conv2d, pool, sparse) is documented at SpikeLists below; item 1:
 *
 * A dense int8 or int4 connection on a step of spikes, folded in a cheaper order than the IR's
 * `scatterDense…Exact` kernels.
 *
 * Why it exists: V8 re-checks every typed array's map and reloads its backing store on each iteration
 * of a loop over parameter arrays, so the IR loop `acc[j] += w[base + j] * scale` costs about a dozen
 * instructions per synapse. Here every synaptic event is one double addition that folds three
 * synapses, and the multiply by the step's scale happens once per output:
 *
 * - At load, the weights of row p, outputs 3k..3k+2, are packed biased (w + 128, in 0..255) into the
 *   16-bit lanes of one double: (w0 + 128) + (w1 + 128)·2^16 + (w2 + 128)·2^32 (< 2^48, exact).
 * - On a step of spikes every event has value 1, so Σ_e w[pre_e][j]·2^shift = 2^shift·Σ_e w[pre_e][j].
 *   Over a chunk of at most 256 events, each lane of the sum of the packed rows is at most
 *   255·256 = 65280 < 2^16, so lanes never carry into each other and the double sum (< 2^48) is exact;
 *   lane − 128·events is Σ_e w[pre_e][j].
 * - acc[j] += (that sum)·2^shift[channel of j]: by §12.1 every partial sum of contributions, in any
 *   order, lies inside int32, so this equals the IR's per-event fold.
 */

/** Most events folded before the lanes are emptied into acc: 255 · 256 < 2^16 keeps lanes apart. */
const CHUNK_EVENTS = 256;
/** Outputs per packed double (three 16-bit lanes). */
const LANES = 3;
/** Packed words summed in registers at a time (a tile of 24 outputs). */
const TILE_WORDS = 8;
/** Bias added to each weight so that a lane holds 0..255. */
const WEIGHT_BIAS = 128;
const LANE = 2 ** 16;
const LANE2 = 2 ** 32;

/**
 * Largest packed table built (bytes; 8 per 3 synapses): above it the interpreter keeps the IR kernel
 * rather than hold 2.7 bytes per synapse on top of the stored weights.
 */
export const MAX_PACKED_BYTES = 64 * 2 ** 20;

/** Bytes of the packed rows of an inputs × outputs dense connection (8 per double of 3 outputs). */
export function packedDenseBytes(inputs: number, outputs: number): number {
  return inputs * Math.ceil(outputs / LANES) * 8;
}

/** A dense connection's weights packed for foldDenseSpikes, with the scale 2^shift of each output. */
export interface PackedDenseRows {
  /** Output neurons (row length). */
  readonly outputs: number;
  /** Packed doubles per input row, ceil(outputs / 3). */
  readonly words: number;
  /** inputs × words doubles: row p, word k holds outputs 3k, 3k+1, 3k+2 biased by 128 in 16-bit lanes. */
  readonly lanes: Float64Array;
  /** Per output j, 2^shift of its channel: a spike's contribution scale (spec/ops.md §12.1). */
  readonly scale: Int32Array;
  /** Scratch: the packed sums of one chunk of events, one per word. */
  readonly sums: Float64Array;
}

/**
 * Packs a dense connection of int8 or int4 weights (`weightAt(q)` = the weight of synapse q = p·outputs + j,
 * in −128..127) and per-output shifts for foldDenseSpikes; undefined when the packed table would exceed
 * MAX_PACKED_BYTES.
 */
export function packDenseRows(inputs: number, outputs: number, weightAt: (q: number) => number, shiftOf: (j: number) => number): PackedDenseRows | undefined {
  if (packedDenseBytes(inputs, outputs) > MAX_PACKED_BYTES) return undefined;
  const words = Math.ceil(outputs / LANES);
  const lanes = new Float64Array(inputs * words);
  for (let p = 0; p < inputs; p++) {
    const row = p * outputs;
    for (let k = 0; k < words; k++) {
      let word = 0;
      // lane 2 first, so that each step multiplies the lanes above it by 2^16; missing outputs hold 0
      for (let lane = LANES - 1; lane >= 0; lane--) {
        const j = k * LANES + lane;
        word = word * LANE + (j < outputs ? weightAt(row + j) + WEIGHT_BIAS : 0);
      }
      lanes[p * words + k] = word;
    }
  }
  return { outputs, words, lanes, scale: Int32Array.from({ length: outputs }, (_, j) => 2 ** shiftOf(j)), sums: new Float64Array(words) };
}

/**
 * Adds every word of `sums` (the packed rows of `events` spikes summed) to acc: each lane, unbiased,
 * times its output's scale. Written as one loop (not a helper per word) so that V8 need not inline.
 */
function addLanes(rows: PackedDenseRows, events: number, acc: Int32Array): void {
  const { outputs, scale, sums } = rows;
  const bias = WEIGHT_BIAS * events;
  const full = Math.floor(outputs / LANES);
  for (let k = 0; k < full; k++) {
    const sum = sums[k]!;
    const hi = Math.floor(sum / LANE2);
    const low32 = sum - hi * LANE2;
    const mid = Math.floor(low32 / LANE);
    const j = k * LANES;
    acc[j] = acc[j]! + (low32 - mid * LANE - bias) * scale[j]!;
    acc[j + 1] = acc[j + 1]! + (mid - bias) * scale[j + 1]!;
    acc[j + 2] = acc[j + 2]! + (hi - bias) * scale[j + 2]!;
  }
  if (full * LANES < outputs) {
    // the last word holds one or two outputs; its lane 2 is empty
    const sum = sums[full]!;
    const mid = Math.floor(sum / LANE);
    const j = full * LANES;
    acc[j] = acc[j]! + (sum - mid * LANE - bias) * scale[j]!;
    if (j + 1 < outputs) acc[j + 1] = acc[j + 1]! + (mid - bias) * scale[j + 1]!;
  }
}

/**
 * Folds a step of spikes from the presynaptic neurons pre[0..n−1] through the packed rows into acc:
 * the same integers as scatterDenseW8Exact / scatterDenseW4Exact with graded = false (spec/ops.md §12.3),
 * provided the accumulation bound of §12.1 holds. Returns the synaptic updates, n · outputs.
 */
export function foldDenseSpikes(rows: PackedDenseRows, pre: Uint32Array, n: number, acc: Int32Array): number {
  const { words, lanes, sums } = rows;
  for (let e0 = 0; e0 < n; e0 += CHUNK_EVENTS) {
    const e1 = Math.min(n, e0 + CHUNK_EVENTS);
    const events = e1 - e0;
    let k = 0;
    // a tile of 8 words (24 outputs) summed in locals over the chunk's events
    for (; k + TILE_WORDS <= words; k += TILE_WORDS) {
      let s0 = 0,
        s1 = 0,
        s2 = 0,
        s3 = 0,
        s4 = 0,
        s5 = 0,
        s6 = 0,
        s7 = 0;
      for (let e = e0; e < e1; e++) {
        const b = pre[e]! * words + k;
        s0 += lanes[b]!;
        s1 += lanes[b + 1]!;
        s2 += lanes[b + 2]!;
        s3 += lanes[b + 3]!;
        s4 += lanes[b + 4]!;
        s5 += lanes[b + 5]!;
        s6 += lanes[b + 6]!;
        s7 += lanes[b + 7]!;
      }
      sums[k] = s0;
      sums[k + 1] = s1;
      sums[k + 2] = s2;
      sums[k + 3] = s3;
      sums[k + 4] = s4;
      sums[k + 5] = s5;
      sums[k + 6] = s6;
      sums[k + 7] = s7;
    }
    // the last words (fewer than a tile), one at a time
    for (; k < words; k++) {
      let s = 0;
      for (let e = e0; e < e1; e++) s += lanes[pre[e]! * words + k]!;
      sums[k] = s;
    }
    addLanes(rows, events, acc);
  }
  return n * rows.outputs;
}

/**
 * Per presynaptic neuron p, the outputs a spike of p reaches and what it adds to each, in the order
 * of the IR kernel (spec/ops.md §12.3 item 2): entries start[p]..start[p+1]−1 of post and contrib.
 * Each contribution is w·2^shift, an int32 wherever the §12.1 bound holds (one synapse is part of
 * the bound's sum).
 */
export interface SpikeLists {
  /** inputs + 1 offsets into post and contrib. */
  readonly start: Uint32Array;
  /** Output neuron of each entry. */
  readonly post: Uint32Array;
  /** What a spike adds to that output: w·2^shift. */
  readonly contrib: Int32Array;
}

/** Bytes per list entry (post + contrib). */
const LIST_ENTRY_BYTES = 8;

/** Output range [lo, hi) that input coordinate `i` reaches along one axis of a window (spec/ops.md §5.4, as the IR kernel computes it). */
function windowRange(i: number, pad: number, kernel: number, stride: number, out: number): [lo: number, hi: number] {
  const at = i + pad;
  const hi = Math.min(Math.floor(at / stride) + 1, out);
  const lo = Math.min(at + 1 > kernel ? Math.floor((at + 1 - kernel + stride - 1) / stride) : 0, hi);
  return [lo, hi];
}

/** Geometry of a conv2d or pool connection, channel-major shapes (spec/ops.md §5.4, §5.5). */
export interface WindowGeometry {
  readonly inC: number;
  readonly inH: number;
  readonly inW: number;
  /** Output channels (conv2d: K; pool: inC, one output channel per input channel). */
  readonly outK: number;
  readonly outH: number;
  readonly outW: number;
  readonly kh: number;
  readonly kw: number;
  readonly sy: number;
  readonly sx: number;
  readonly py: number;
  readonly px: number;
}

/**
 * The spike lists of a window connection: conv2d (`pool` false: every output channel kk sees input
 * channel c through weight [kk][c][ky][kx]) or pool (`pool` true: channel c reaches only output
 * channel c). `contribAt(kk, c, ky, kx)` is that synapse's w·2^shift. Entries are in the IR kernel's
 * order (output channel, then output row, then column). Undefined above MAX_PACKED_BYTES.
 */
export function windowSpikeLists(
  g: WindowGeometry,
  pool: boolean,
  contribAt: (kk: number, c: number, ky: number, kx: number) => number,
): SpikeLists | undefined {
  const rows = Array.from({ length: g.inH }, (_, y) => windowRange(y, g.py, g.kh, g.sy, g.outH));
  const cols = Array.from({ length: g.inW }, (_, x) => windowRange(x, g.px, g.kw, g.sx, g.outW));
  const reach = (r: [number, number]): number => r[1] - r[0];
  const perChannel = rows.reduce((s, r) => s + reach(r), 0) * cols.reduce((s, r) => s + reach(r), 0);
  const entries = g.inC * (pool ? 1 : g.outK) * perChannel;
  if (entries * LIST_ENTRY_BYTES > MAX_PACKED_BYTES) return undefined;
  const start = new Uint32Array(g.inC * g.inH * g.inW + 1);
  const post = new Uint32Array(entries);
  const contrib = new Int32Array(entries);
  let q = 0;
  for (let c = 0; c < g.inC; c++) {
    for (let y = 0; y < g.inH; y++) {
      const [oyLo, oyHi] = rows[y]!;
      for (let x = 0; x < g.inW; x++) {
        const [oxLo, oxHi] = cols[x]!;
        start[(c * g.inH + y) * g.inW + x] = q;
        for (let kk = pool ? c : 0; kk < (pool ? c + 1 : g.outK); kk++) {
          for (let oy = oyLo; oy < oyHi; oy++) {
            for (let ox = oxLo; ox < oxHi; ox++) {
              post[q] = (kk * g.outH + oy) * g.outW + ox;
              contrib[q++] = contribAt(kk, c, y + g.py - oy * g.sy, x + g.px - ox * g.sx);
            }
          }
        }
      }
    }
  }
  start[start.length - 1] = q;
  return { start, post, contrib };
}

/**
 * The spike lists of a sparse connection: its CSR rows as they are (rowPtr, cols), each entry's
 * contribution `contribAt(q, cols[q])`. Undefined above MAX_PACKED_BYTES.
 */
export function sparseSpikeLists(rowPtr: Uint32Array, cols: ArrayLike<number>, contribAt: (q: number, post: number) => number): SpikeLists | undefined {
  if (cols.length * LIST_ENTRY_BYTES > MAX_PACKED_BYTES) return undefined;
  return { start: rowPtr, post: Uint32Array.from(cols), contrib: Int32Array.from(cols, (j: number, q: number) => contribAt(q, j)) };
}

/**
 * Folds a step of spikes from pre[0..n−1] through spike lists into acc: the same integers as the IR
 * kernel the lists were built from with graded = false, in the same order, provided the §12.1 bound
 * holds (spec/ops.md §12.3 item 2). Returns the synaptic updates (entries visited).
 */
export function foldSpikeLists(lists: SpikeLists, pre: Uint32Array, n: number, acc: Int32Array): number {
  const { start, post, contrib } = lists;
  let updates = 0;
  for (let e = 0; e < n; e++) {
    const p = pre[e]!;
    const q0 = start[p]!;
    const q1 = start[p + 1]!;
    for (let q = q0; q < q1; q++) {
      const j = post[q]!;
      acc[j] = acc[j]! + contrib[q]!;
    }
    updates += q1 - q0;
  }
  return updates;
}
