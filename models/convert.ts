/**
 * ANN → float SNN conversion, the established recipe (Diehl et al. 2015; Rueckauer et al. 2017):
 * ReLU units become integrate-and-fire neurons with threshold 1 and reset by subtraction (reset to
 * zero as an option); weights and biases are rescaled layer by layer with data-based normalization
 * (a high percentile of each layer's positive activations on calibration data, or the maximum, or
 * model-based bounds from the weights); biases become constant input currents; average pooling
 * becomes a spiking layer with the fixed weight 1/(kh·kw); batch normalization is folded into the
 * preceding Dense/Conv2D; the softmax output becomes a non-spiking integrating readout.
 *
 * Input: a tfjs-layers model.json (saved by tfjs or by the TensorFlow.js converter from Keras),
 * Sequential or a linear chain of a functional model.
 */
import { fail } from "../runtime/errors.js";
import { loadArtifacts } from "./io.js";
import { tf } from "./tf.js";
import { prepareLayers, disposePrepared, inputTensor, type FloatLayer, type FloatSnn, type Shape3 } from "./float-snn.js";
import type { io } from "@tensorflow/tfjs";

/** Normalization methods. */
export type NormMethod = "percentile" | "max" | "model";

/** Conversion settings. */
export interface ConvertOptions {
  readonly norm: NormMethod;
  /** Percentile (0..100] for `percentile`. */
  readonly percentile: number;
  readonly reset: "subtract" | "zero";
  /** Input encoding recorded as the default for quantization. */
  readonly encoding: "current" | "rate";
  /** Shape [C, H, W] given to a vector input (default: square single-channel image when possible). */
  readonly inputShape?: Shape3;
}

/** Defaults: 99.9th percentile, reset by subtraction, current input. */
export const CONVERT_DEFAULTS: ConvertOptions = { norm: "percentile", percentile: 99.9, reset: "subtract", encoding: "current" };

/** A linear stage of the ANN in event-table layout, before normalization. */
interface Stage {
  layer: FloatLayer;
  activation: "relu" | "linear" | "softmax";
  /** Name of the tfjs layer that set the activation (for messages). */
  activationFrom: string;
  foldable: boolean;
}

/** The ANN as parsed: stages in order, input shape, and names for provenance. */
export interface ParsedAnn {
  readonly inputShape: Shape3;
  readonly stages: Array<{ layer: FloatLayer; activation: "relu" | "linear" | "softmax" }>;
  readonly modelName: string;
}

function unsupported(layer: string, cls: string, why: string): never {
  fail("TOOLCHAIN_UNSUPPORTED_LAYER", `layer '${layer}' (${cls}): ${why}`, { layer, class: cls });
}

function badModel(path: string, msg: string): never {
  fail("TOOLCHAIN_BAD_MODEL", `${path}: ${msg}`);
}

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** A config value by its snake_case (Keras, tfjs on disk) or camelCase (tfjs in memory) key. */
function cfg(c: Json, snake: string): unknown {
  if (snake in c) return c[snake];
  const camel = snake.replace(/_([a-z])/g, (_, ch: string) => ch.toUpperCase());
  return c[camel];
}

function pairOf(v: unknown, name: string, cls: string, what: string): [number, number] {
  const a = typeof v === "number" ? [v, v] : v;
  if (!Array.isArray(a) || a.length !== 2 || !a.every((x) => Number.isInteger(x) && x >= 1 && x <= 1024)) {
    unsupported(name, cls, `${what} ${JSON.stringify(v)} is not a pair of positive integers`);
  }
  return [a[0] as number, a[1] as number];
}

function activationName(v: unknown): string {
  if (v === undefined || v === null) return "linear";
  if (typeof v === "string") return v.toLowerCase();
  if (isObj(v) && typeof v["class_name"] === "string") return String(v["class_name"]).toLowerCase();
  return JSON.stringify(v);
}

/** Layer list of a Sequential or linear functional topology (Keras or tfjs). */
function topologyLayers(topology: unknown, path: string): { name: string; layers: Array<{ cls: string; name: string; config: Json }> } {
  let topo = topology;
  if (isObj(topo) && isObj(topo["model_config"])) topo = topo["model_config"];
  if (!isObj(topo)) badModel(path, "modelTopology is not an object");
  const cls = topo["class_name"];
  const config = topo["config"];
  let rawLayers: unknown;
  let name = "model";
  if (Array.isArray(config))
    rawLayers = config; // old Keras Sequential: config is the layer list
  else if (isObj(config)) {
    rawLayers = config["layers"];
    if (typeof config["name"] === "string") name = config["name"];
  }
  if (!Array.isArray(rawLayers)) badModel(path, "modelTopology has no layer list");
  const layers = rawLayers.map((l, i) => {
    if (!isObj(l) || typeof l["class_name"] !== "string" || !isObj(l["config"])) badModel(path, `layer ${i} lacks class_name or config`);
    const c = l["config"] as Json;
    const lname = typeof c["name"] === "string" ? c["name"] : typeof l["name"] === "string" ? (l["name"] as string) : `layer_${i}`;
    return { cls: l["class_name"] as string, name: lname, config: c, inbound: l["inbound_nodes"] };
  });
  if (cls === "Model" || cls === "Functional") {
    // Accept a functional model only when it is a chain: each layer's single input is the layer before.
    layers.forEach((l, i) => {
      if (i === 0) return;
      const prev = layers[i - 1]!.name;
      const inbound = l.inbound;
      let src: unknown;
      if (Array.isArray(inbound) && inbound.length === 1) {
        const node = inbound[0];
        if (Array.isArray(node) && node.length === 1 && Array.isArray(node[0])) src = node[0][0];
        else if (isObj(node) && Array.isArray(node["args"])) {
          const a = node["args"][0];
          const hist = isObj(a) && isObj(a["config"]) ? a["config"]["keras_history"] : undefined;
          if (Array.isArray(hist)) src = hist[0];
        }
      }
      if (src !== prev)
        unsupported(l.name, l.cls, "the model is not a single chain of layers (branches, merges or reordered inputs); only Sequential-like models convert");
    });
  } else if (cls !== "Sequential") {
    badModel(path, `model class ${JSON.stringify(cls)} is not Sequential or Model`);
  }
  return { name, layers: layers.map(({ cls: c, name: n, config: cf }) => ({ cls: c, name: n, config: cf })) };
}

function batchShape(c: Json): number[] | undefined {
  const s = cfg(c, "batch_input_shape") ?? cfg(c, "batch_shape");
  if (Array.isArray(s)) return s.slice(1) as number[];
  const i = cfg(c, "input_shape");
  if (Array.isArray(i)) return i as number[];
  return undefined;
}

/** Finds the weight `role` (kernel, bias, gamma, ...) of a layer among decoded weights. */
function weightOf(weights: Record<string, tf.Tensor>, layer: string, role: string): tf.Tensor | undefined {
  for (const [name, t] of Object.entries(weights)) {
    const parts = name.split("/");
    if (parts[parts.length - 1] === role && parts[parts.length - 2] === layer) return t;
  }
  return undefined;
}

/**
 * Parses a tfjs-layers model.json and its weights into linear stages in event-table layout
 * (dense [in][out] with channel-major inputs, conv [K][C][kh][kw]), with batch norm folded.
 * Unsupported layers fail with TOOLCHAIN_UNSUPPORTED_LAYER naming the layer and what to use.
 */
export function parseAnn(jsonPath: string, inputShapeOverride?: Shape3): ParsedAnn {
  const artifacts: io.ModelArtifacts = loadArtifacts(jsonPath);
  const topo = topologyLayers(artifacts.modelTopology, jsonPath);
  let named: Record<string, tf.Tensor>;
  try {
    named = tf.io.decodeWeights(artifacts.weightData as ArrayBuffer, artifacts.weightSpecs ?? []);
  } catch (e) {
    badModel(jsonPath, `weights do not decode: ${(e as Error).message}`);
  }
  try {
    return buildStages(topo, named, jsonPath, inputShapeOverride);
  } finally {
    tf.dispose(Object.values(named));
  }
}

function buildStages(topo: ReturnType<typeof topologyLayers>, named: Record<string, tf.Tensor>, path: string, inputShapeOverride?: Shape3): ParsedAnn {
  const stages: Stage[] = [];
  // Current activity layout: a map [C, H, W] or a vector of n; `flatFrom` is the map a vector was flattened from.
  let map: Shape3 | undefined;
  let vec: number | undefined;
  let flatFrom: Shape3 | undefined;
  let inputShape: Shape3 | undefined;
  // ZeroPadding2D not yet applied (top, bottom, left, right) and the layer that asked for it.
  let zeroPad: [number, number, number, number] | undefined;
  let zeroPadFrom = "";
  const need = (layer: string, role: string, shape: number[]): Float32Array => {
    const t = weightOf(named, layer, role);
    if (!t) badModel(path, `weight ${layer}/${role} is missing from the weights manifest`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]))
      badModel(path, `weight ${layer}/${role} has shape [${t.shape.join(",")}], expected [${shape.join(",")}]`);
    return t.dataSync() as Float32Array;
  };
  const setInput = (shape: number[], lname: string, cls: string) => {
    if (inputShape) return;
    if (shape.some((d) => !Number.isInteger(d) || d < 1)) unsupported(lname, cls, `input shape [${shape.join(",")}] must be fully known`);
    if (shape.length === 3) {
      inputShape = [shape[2]!, shape[0]!, shape[1]!];
      map = inputShape;
    } else if (shape.length === 1) {
      const n = shape[0]!;
      const side = Math.round(Math.sqrt(n));
      inputShape = inputShapeOverride ?? (side * side === n ? [1, side, side] : [1, 1, n]);
      if (inputShape[0] * inputShape[1] * inputShape[2] !== n) unsupported(lname, cls, `--input-shape ${inputShape.join(",")} does not have ${n} elements`);
      vec = n;
      // A vector input is the image flattened channel-major (for one channel this is row-major).
    } else unsupported(lname, cls, `input of rank ${shape.length} is not supported (use [H, W, C] images or flat vectors)`);
  };
  const lastStage = () => stages[stages.length - 1];
  const requireLinearEnd = (lname: string, cls: string, what: string) => {
    const s = lastStage();
    if (s && s.activation === "softmax") unsupported(lname, cls, `${what} after a softmax; softmax must be the last layer`);
  };
  const closeActivation = (lname: string, cls: string) => {
    // A new linear stage starts: the previous one must be done (relu) — a hidden linear stage has no spiking form.
    const s = lastStage();
    if (s && s.activation !== "relu" && s.layer.kind !== "pool") {
      unsupported(
        s.activationFrom,
        "activation",
        `hidden layer '${s.layer.name}' has ${s.activation} activation before layer '${lname}' (${cls}); use relu on every hidden layer`,
      );
    }
  };

  for (const { cls, name, config } of topo.layers) {
    const shape = batchShape(config);
    if (shape && !inputShape) setInput(shape, name, cls);
    if (!inputShape && cls !== "InputLayer") unsupported(name, cls, "the first layer does not declare its input shape");
    // Zero padding becomes the padding of the Conv2D it precedes; anything else in between is refused.
    if (zeroPad !== undefined && !["Conv2D", "ZeroPadding2D", "Dropout", "SpatialDropout2D", "GaussianDropout", "AlphaDropout"].includes(cls)) {
      unsupported(
        zeroPadFrom,
        "ZeroPadding2D",
        `zero padding before ${cls} '${name}'; it converts only directly before a Conv2D (pad inside the Conv2D with padding 'same' instead)`,
      );
    }
    const df = cfg(config, "data_format");
    if (df !== undefined && df !== null && df !== "channels_last") unsupported(name, cls, `data_format ${String(df)}; use channels_last`);
    switch (cls) {
      case "InputLayer":
        if (!shape) badModel(path, `InputLayer ${name} has no input shape`);
        break;
      case "ZeroPadding2D": {
        if (!map) unsupported(name, cls, "zero padding on a flat vector; give the model an [H, W, C] input");
        const p = zeroPadding(cfg(config, "padding"), name, cls);
        zeroPad = zeroPad === undefined ? p : [zeroPad[0] + p[0], zeroPad[1] + p[1], zeroPad[2] + p[2], zeroPad[3] + p[3]];
        zeroPadFrom = name;
        break;
      }
      case "Dropout":
      case "SpatialDropout2D":
      case "GaussianDropout":
      case "AlphaDropout":
        break; // identity at inference
      case "Flatten":
        if (map) {
          flatFrom = map;
          vec = map[0] * map[1] * map[2];
          map = undefined;
        }
        break;
      case "Reshape": {
        const target = cfg(config, "target_shape");
        if (map && Array.isArray(target) && target.length === 1) {
          flatFrom = map;
          vec = map[0] * map[1] * map[2];
          map = undefined;
          break;
        }
        if (vec !== undefined && stages.length === 0 && Array.isArray(target) && target.length === 3) {
          // A flat input reshaped to an [H, W, C] image before any layer (how most Keras MNIST CNNs
          // start): the model's input is that image. The table's input is channel-major, which for one
          // channel is the same order as the flat vector.
          const [h, w, c] = target as number[];
          if (![h, w, c].every((d) => Number.isInteger(d) && d! > 0) || h! * w! * c! !== vec) {
            unsupported(name, cls, `target shape [${target.join(",")}] does not hold the ${vec} inputs; reshape to [H, W, C] with H·W·C = ${vec}`);
          }
          inputShape = [c!, h!, w!];
          map = inputShape;
          vec = undefined;
          break;
        }
        unsupported(
          name,
          cls,
          vec !== undefined && stages.length === 0
            ? `target shape ${JSON.stringify(target)}: a leading Reshape must give an [H, W, C] image`
            : "a Reshape between layers is supported only to a flat vector (or use Flatten); a Reshape to an image is supported only as the first layer",
        );
      }
      // falls through (unreachable: unsupported throws)
      case "Dense": {
        requireLinearEnd(name, cls, "Dense");
        closeActivation(name, cls);
        if (vec === undefined) unsupported(name, cls, "Dense on a feature map; add a Flatten layer before it");
        const units = cfg(config, "units");
        if (!Number.isInteger(units) || (units as number) < 1) badModel(path, `Dense ${name} has bad units ${JSON.stringify(units)}`);
        const out = units as number;
        const k = need(name, "kernel", [vec, out]);
        let weights = k;
        if (flatFrom) {
          // tfjs flattens NHWC maps as (y*W + x)*C + c; the event table is channel-major (c*H + y)*W + x.
          const [C, H, W] = flatFrom;
          weights = new Float32Array(k.length);
          for (let c = 0; c < C; c++)
            for (let y = 0; y < H; y++)
              for (let x = 0; x < W; x++) {
                const src = ((y * W + x) * C + c) * out;
                const dst = ((c * H + y) * W + x) * out;
                weights.set(k.subarray(src, src + out), dst);
              }
        }
        const useBias = cfg(config, "use_bias") !== false;
        const layer: FloatLayer = { kind: "dense", name, inputs: vec, outputs: out, weights, neuron: hidden() };
        if (useBias) layer.bias = Float32Array.from(need(name, "bias", [out]));
        stages.push(stageWithActivation(layer, config, name, cls));
        vec = out;
        flatFrom = undefined;
        break;
      }
      case "Conv2D": {
        requireLinearEnd(name, cls, "Conv2D");
        closeActivation(name, cls);
        if (!map) unsupported(name, cls, "Conv2D on a flat vector; give the model an [H, W, C] input");
        const filters = cfg(config, "filters");
        if (!Number.isInteger(filters) || (filters as number) < 1) badModel(path, `Conv2D ${name} has bad filters`);
        const K = filters as number;
        const [kh, kw] = pairOf(cfg(config, "kernel_size"), name, cls, "kernel_size");
        const [sy, sx] = pairOf(cfg(config, "strides") ?? 1, name, cls, "strides");
        const [dy, dx] = pairOf(cfg(config, "dilation_rate") ?? 1, name, cls, "dilation_rate");
        if (dy !== 1 || dx !== 1) unsupported(name, cls, "dilated convolution; use dilation_rate 1");
        const groups = cfg(config, "groups");
        if (groups !== undefined && groups !== 1) unsupported(name, cls, "grouped convolution; use groups 1");
        const [C, H, W] = map;
        // A ZeroPadding2D before it: the window runs over the padded map; padded positions read as zeros,
        // which is what the convolution's leading padding (and reading past the trailing edge) means.
        const [pt, pb, pl, pr] = zeroPad ?? [0, 0, 0, 0];
        zeroPad = undefined;
        const padded = windowGeometry(cfg(config, "padding"), [H + pt + pb, W + pl + pr], [kh, kw], [sy, sx], name, cls, true);
        const geo = { out: padded.out, pad: [padded.pad[0] + pt, padded.pad[1] + pl] as [number, number] };
        if (geo.pad[0] >= kh || geo.pad[1] >= kw)
          unsupported(
            zeroPadFrom,
            "ZeroPadding2D",
            `padding of ${geo.pad.join("×")} before a ${kh}×${kw} Conv2D '${name}' leaves windows over padding alone; pad less than the kernel`,
          );
        // the event table pads both sides alike (spec/table-format.md §3.4 geometry)
        if (geo.out[0] !== Math.floor((H + 2 * geo.pad[0] - kh) / sy) + 1 || geo.out[1] !== Math.floor((W + 2 * geo.pad[1] - kw) / sx) + 1) {
          const fromPad = pt + pb + pl + pr > 0;
          unsupported(
            fromPad ? zeroPadFrom : name,
            fromPad ? "ZeroPadding2D" : cls,
            "padding that differs between top and bottom (or left and right) does not fit the event table's symmetric padding; pad equally on both sides",
          );
        }
        const k = need(name, "kernel", [kh, kw, C, K]);
        const weights = new Float32Array(K * C * kh * kw);
        for (let a = 0; a < kh; a++)
          for (let b = 0; b < kw; b++)
            for (let c = 0; c < C; c++)
              for (let o = 0; o < K; o++) {
                weights[((o * C + c) * kh + a) * kw + b] = k[((a * kw + b) * C + c) * K + o]!;
              }
        const outShape: Shape3 = [K, geo.out[0], geo.out[1]];
        const layer: FloatLayer = {
          kind: "conv2d",
          name,
          inShape: map,
          outShape,
          kernel: [kh, kw],
          stride: [sy, sx],
          padding: geo.pad,
          weights,
          neuron: hidden(),
        };
        if (cfg(config, "use_bias") !== false) layer.bias = Float32Array.from(need(name, "bias", [K]));
        stages.push(stageWithActivation(layer, config, name, cls));
        map = outShape;
        break;
      }
      case "AveragePooling2D":
      case "GlobalAveragePooling2D": {
        requireLinearEnd(name, cls, cls);
        closeActivation(name, cls);
        if (!map) unsupported(name, cls, "pooling on a flat vector");
        const [C, H, W] = map;
        const global = cls === "GlobalAveragePooling2D";
        if (global && cfg(config, "keepdims") === true) unsupported(name, cls, "keepdims true; use the default keepdims false");
        const [kh, kw] = global ? [H, W] : pairOf(cfg(config, "pool_size") ?? 2, name, cls, "pool_size");
        const stridesRaw = cfg(config, "strides");
        const [sy, sx] = global ? [1, 1] : pairOf(stridesRaw ?? [kh, kw], name, cls, "strides");
        const geo = windowGeometry(global ? "valid" : cfg(config, "padding"), [H, W], [kh, kw], [sy, sx], name, cls, false);
        const outShape: Shape3 = [C, geo.out[0], geo.out[1]];
        const layer: FloatLayer = { kind: "pool", name, inShape: map, outShape, kernel: [kh, kw], stride: [sy, sx], weight: 1 / (kh * kw), neuron: hidden() };
        stages.push({ layer, activation: "relu", activationFrom: name, foldable: false });
        if (global) {
          vec = C;
          flatFrom = outShape;
          map = undefined;
        } else map = outShape;
        break;
      }
      case "BatchNormalization": {
        const s = lastStage();
        if (!s || !s.foldable || s.activation !== "linear" || s.layer.kind === "pool") {
          unsupported(name, cls, "batch normalization can be folded only directly after a Dense or Conv2D without activation; move the activation after it");
        }
        const axis = cfg(config, "axis");
        const ax = Array.isArray(axis) ? axis[0] : axis;
        const rank = map ? 4 : 2;
        if (ax !== -1 && ax !== rank - 1) unsupported(name, cls, `axis ${JSON.stringify(axis)}; only the channel (last) axis folds`);
        const n = s.layer.kind === "dense" ? s.layer.outputs : s.layer.outShape[0];
        const eps = typeof cfg(config, "epsilon") === "number" ? (cfg(config, "epsilon") as number) : 1e-3;
        const gamma = cfg(config, "scale") === false ? new Float32Array(n).fill(1) : need(name, "gamma", [n]);
        const beta = cfg(config, "center") === false ? new Float32Array(n) : need(name, "beta", [n]);
        const mean = need(name, "moving_mean", [n]);
        const variance = need(name, "moving_variance", [n]);
        foldBatchNorm(s.layer, gamma, beta, mean, variance, eps);
        break;
      }
      case "Activation":
      case "ReLU":
      case "Softmax": {
        let act = cls === "ReLU" ? "relu" : cls === "Softmax" ? "softmax" : activationName(cfg(config, "activation"));
        if (cls === "ReLU") {
          const mv = cfg(config, "max_value");
          const ns = cfg(config, "negative_slope");
          const th = cfg(config, "threshold");
          if ((mv !== undefined && mv !== null) || (ns !== undefined && ns !== 0) || (th !== undefined && th !== 0)) {
            unsupported(name, cls, "ReLU with max_value, negative_slope or threshold; use a plain ReLU");
          }
        }
        applyActivation(act, name, cls);
        act = "";
        break;
      }
      case "MaxPooling2D":
      case "MaxPool2D":
      case "GlobalMaxPooling2D":
        unsupported(name, cls, "max pooling has no rate-based spiking equivalent here; use AveragePooling2D (retrain the ANN)");
      // falls through (unreachable)
      default:
        unsupported(
          name,
          cls,
          "layer type not supported by the converter; the converter takes InputLayer, Reshape (leading, to an image), ZeroPadding2D, Conv2D, Dense, BatchNormalization (after Conv2D/Dense), ReLU/Activation('relu'), AveragePooling2D, GlobalAveragePooling2D, Flatten, Dropout/SpatialDropout2D and a softmax or linear output",
        );
    }
  }

  function applyActivation(act: string, lname: string, cls: string): void {
    const s = lastStage();
    if (act === "linear") return;
    if (act !== "relu" && act !== "softmax")
      unsupported(lname, cls, `activation '${act}' has no spiking form; use relu (hidden layers) or softmax/linear (output)`);
    if (!s || s.layer.kind === "pool" || s.activation !== "linear") {
      if (s && act === "relu" && s.activation === "relu") return; // relu after relu (or after pooling of relu outputs) is identity
      unsupported(lname, cls, `${act} must directly follow a Dense or Conv2D layer`);
    }
    s.activation = act;
    s.activationFrom = lname;
    s.foldable = false;
  }

  function stageWithActivation(layer: FloatLayer, config: Json, lname: string, cls: string): Stage {
    const st: Stage = { layer, activation: "linear", activationFrom: lname, foldable: true };
    stages.push(st);
    applyActivation(activationName(cfg(config, "activation")), lname, cls);
    stages.pop();
    // Batch norm may still follow a linear stage; an activated stage is final.
    return st;
  }

  if (zeroPad !== undefined) unsupported(zeroPadFrom, "ZeroPadding2D", "zero padding at the end of the model; it converts only directly before a Conv2D");
  if (!inputShape) badModel(path, "the model declares no input shape");
  if (stages.length === 0) badModel(path, "the model has no Dense or Conv2D layer");
  // Hidden stages must be relu; the output is linear or softmax (replaced by the integrating readout).
  stages.forEach((s, i) => {
    const last = i === stages.length - 1;
    if (!last && s.activation !== "relu")
      unsupported(s.activationFrom, "activation", `hidden layer '${s.layer.name}' has ${s.activation} activation; use relu`);
    if (last && s.layer.kind === "pool")
      unsupported(s.layer.name, "AveragePooling2D", "the model ends with pooling; end with a Dense layer (softmax or linear)");
    if (last && s.activation === "relu")
      unsupported(s.activationFrom, "activation", `the output layer '${s.layer.name}' has relu; use softmax or linear for the output`);
  });
  if (stages[stages.length - 1]!.layer.kind !== "dense" && stages[stages.length - 1]!.layer.kind !== "conv2d") badModel(path, "no output layer");
  return { inputShape, stages: stages.map((s) => ({ layer: s.layer, activation: s.activation })), modelName: topo.name };
}

/** Keras ZeroPadding2D `padding` (n, [h, w] or [[top, bottom], [left, right]]) as [top, bottom, left, right]. */
function zeroPadding(v: unknown, name: string, cls: string): [number, number, number, number] {
  const ok = (n: unknown): n is number => Number.isInteger(n) && (n as number) >= 0;
  if (ok(v)) return [v, v, v, v];
  if (Array.isArray(v) && v.length === 2 && ok(v[0]) && ok(v[1])) return [v[0], v[0], v[1], v[1]];
  if (Array.isArray(v) && v.length === 2 && v.every((p) => Array.isArray(p) && p.length === 2 && ok(p[0]) && ok(p[1]))) {
    const [[t, b], [l, r]] = v as [[number, number], [number, number]];
    return [t, b, l, r];
  }
  unsupported(name, cls, `padding ${JSON.stringify(v)} is not n, [h, w] or [[top, bottom], [left, right]] of non-negative integers`);
}

function hidden(): FloatLayer["neuron"] {
  return { model: "if", threshold: 1, leak: 1, reset: "subtract", refractory: 0 };
}

/** Output size and leading padding of a window op with Keras padding semantics. */
function windowGeometry(
  padding: unknown,
  inHW: [number, number],
  k: [number, number],
  s: [number, number],
  name: string,
  cls: string,
  allowSame: boolean,
): { out: [number, number]; pad: [number, number] } {
  const mode = padding ?? "valid";
  const out: [number, number] = [0, 0];
  const pad: [number, number] = [0, 0];
  for (const d of [0, 1] as const) {
    if (mode === "valid") {
      if (inHW[d] < k[d]) unsupported(name, cls, `window ${k[d]} is larger than the input ${inHW[d]}`);
      out[d] = Math.floor((inHW[d] - k[d]) / s[d]) + 1;
    } else if (mode === "same") {
      out[d] = Math.ceil(inHW[d] / s[d]);
      const total = Math.max((out[d] - 1) * s[d] + k[d] - inHW[d], 0);
      pad[d] = Math.floor(total / 2);
      if (!allowSame && total > 0) unsupported(name, cls, "padding 'same' that pads the input (padded zeros would count in the average); use padding 'valid'");
    } else unsupported(name, cls, `padding ${JSON.stringify(mode)}; use 'valid' or 'same'`);
  }
  return { out, pad };
}

/** Folds y = γ(z − μ)/√(σ² + ε) + β into the weights and bias of the layer producing z. */
export function foldBatchNorm(layer: FloatLayer, gamma: Float32Array, beta: Float32Array, mean: Float32Array, variance: Float32Array, eps: number): void {
  if (layer.kind === "pool") throw new Error("foldBatchNorm: pooling has no weights");
  const n = gamma.length;
  const factor = Float32Array.from(gamma, (g, i) => g / Math.sqrt(variance[i]! + eps));
  const bias = layer.bias ?? new Float32Array(n);
  layer.bias = Float32Array.from(bias, (b, i) => (b - mean[i]!) * factor[i]! + beta[i]!);
  if (layer.kind === "dense") {
    for (let i = 0; i < layer.weights.length; i++) layer.weights[i] = layer.weights[i]! * factor[i % n]!;
  } else {
    const per = layer.weights.length / n;
    for (let i = 0; i < layer.weights.length; i++) layer.weights[i] = layer.weights[i]! * factor[Math.floor(i / per)]!;
  }
}

/** The p-th percentile (0 < p ≤ 100) of values, with linear interpolation between order statistics (as numpy's default). */
export function percentile(values: Float32Array, p: number): number {
  if (values.length === 0) return 0;
  const sorted = Float32Array.from(values).sort();
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo]! + (rank - lo) * (sorted[hi]! - sorted[lo]!);
}

/**
 * Activations of every stage on calibration images (0..255, flat channel-major), batched: hidden
 * stages after ReLU, the output stage before softmax. Returns one array per stage (positive values
 * only, since normalization looks at positive activity) and the class decisions.
 */
export function annActivations(
  ann: ParsedAnn,
  images: Uint8Array,
  count: number,
  batch = 250,
): { positive: Float32Array[]; max: number[]; predictions: Int32Array } {
  const snn = annAsFloatSnn(ann);
  const prepared = prepareLayers(snn);
  const chunks: Float32Array[][] = ann.stages.map(() => []);
  const max = ann.stages.map(() => 0);
  const predictions = new Int32Array(count);
  const n = ann.inputShape[0] * ann.inputShape[1] * ann.inputShape[2];
  try {
    for (let start = 0; start < count; start += batch) {
      const b = Math.min(batch, count - start);
      tf.tidy(() => {
        let act = inputTensor(snn, images.subarray(start * n, (start + b) * n), b);
        prepared.forEach((p, i) => {
          let z = p.apply(act);
          if (p.bias) z = z.add(p.bias);
          if (ann.stages[i]!.activation === "relu") z = tf.relu(z);
          const vals = z.dataSync() as Float32Array;
          const pos = vals.filter((v) => v > 0);
          chunks[i]!.push(pos);
          for (const v of pos) if (v > max[i]!) max[i] = v;
          act = z;
          if (i === prepared.length - 1) predictions.set(z.reshape([b, -1]).argMax(1).dataSync(), start);
        });
      });
    }
  } finally {
    disposePrepared(prepared);
  }
  const positive = chunks.map((cs) => {
    const out = new Float32Array(cs.reduce((s, c) => s + c.length, 0));
    let off = 0;
    for (const c of cs) {
      out.set(c, off);
      off += c.length;
    }
    return out;
  });
  return { positive, max, predictions };
}

/** The parsed ANN as an (unnormalized) float SNN, for running the ANN with the same layout code. */
function annAsFloatSnn(ann: ParsedAnn, encoding: "current" | "rate" = "current"): FloatSnn {
  const layers = ann.stages.map((s, i) =>
    i === ann.stages.length - 1
      ? { ...s.layer, neuron: { model: "integrator" as const, threshold: 1, leak: 1, reset: "subtract" as const, refractory: 0 } }
      : s.layer,
  );
  return {
    input: { shape: ann.inputShape, encoding, scale: 1 / 255 },
    layers,
    readout: "membrane",
    provenance: { source: ann.modelName, tool: "picospike", settings: {} },
  };
}

/**
 * Model-based scale of each stage (Diehl et al. 2015): the largest input a neuron can receive when
 * every input is at its own bound (inputs ≤ 1, then the previous stage's bound), i.e. the max over
 * neurons of the sum of positive weights times that bound plus the positive bias.
 */
export function modelBasedScales(ann: ParsedAnn): number[] {
  const bounds: number[] = [];
  let prev = 1;
  for (const { layer } of ann.stages) {
    let bound: number;
    if (layer.kind === "pool") bound = prev;
    else {
      const outs = layer.kind === "dense" ? layer.outputs : layer.outShape[0];
      const sums = new Float64Array(outs);
      if (layer.kind === "dense") {
        for (let i = 0; i < layer.weights.length; i++) sums[i % outs] = sums[i % outs]! + Math.max(0, layer.weights[i]!);
      } else {
        const per = layer.weights.length / outs;
        for (let i = 0; i < layer.weights.length; i++) sums[Math.floor(i / per)] = sums[Math.floor(i / per)]! + Math.max(0, layer.weights[i]!);
      }
      bound = 0;
      for (let o = 0; o < outs; o++) bound = Math.max(bound, sums[o]! * prev + Math.max(0, layer.bias?.[o] ?? 0));
    }
    bounds.push(bound > 0 ? bound : 1);
    prev = bound > 0 ? bound : 1;
  }
  return bounds;
}

/** Result of a conversion. */
export interface ConvertResult {
  readonly snn: FloatSnn;
  /** λ per stage (the activation that maps to one spike per step). */
  readonly scales: number[];
  /** Agreement of the ANN as parsed with itself after normalization is exact in float; this is the parsed ANN's calibration accuracy when labels are given. */
  readonly calibrationAnnAccuracy: number | undefined;
}

/**
 * Converts a parsed ANN: λ_l from the chosen normalization (pooling keeps its input's λ), then
 * W_l ← W_l·λ_{l−1}/λ_l and b_l ← b_l/λ_l with λ_0 = 1 (inputs in [0, 1]); thresholds 1; the
 * output stage becomes an integrator read out by its membrane.
 */
export function convertAnn(ann: ParsedAnn, images: Uint8Array, count: number, opts: ConvertOptions, source: string, labels?: Uint8Array): ConvertResult {
  let scales: number[];
  let accuracy: number | undefined;
  if (opts.norm === "model") {
    scales = modelBasedScales(ann);
  } else {
    if (count < 1) fail("TOOLCHAIN_TRAINING", "normalization needs calibration images");
    const acts = annActivations(ann, images, count);
    scales = acts.positive.map((v, i) => {
      const s = opts.norm === "max" ? acts.max[i]! : percentile(v, opts.percentile);
      return s > 0 ? s : 1;
    });
    if (labels) accuracy = acts.predictions.reduce((s, p, i) => s + (p === labels[i] ? 1 : 0), 0) / count;
  }
  // Pooling passes its input's scale through: the average of values ≤ λ is ≤ λ.
  ann.stages.forEach((s, i) => {
    if (s.layer.kind === "pool") scales[i] = i === 0 ? 1 : scales[i - 1]!;
  });
  const layers: FloatLayer[] = ann.stages.map((s, i) => {
    const prev = i === 0 ? 1 : scales[i - 1]!;
    const lam = scales[i]!;
    const last = i === ann.stages.length - 1;
    const neuron: FloatLayer["neuron"] = last
      ? { model: "integrator", threshold: 1, leak: 1, reset: opts.reset, refractory: 0 }
      : { model: "if", threshold: 1, leak: 1, reset: opts.reset, refractory: 0 };
    const l = s.layer;
    if (l.kind === "pool") return { ...l, neuron };
    const out: FloatLayer = { ...l, neuron, weights: Float32Array.from(l.weights, (w) => (w * prev) / lam) };
    if (l.bias) out.bias = Float32Array.from(l.bias, (b) => b / lam);
    else delete out.bias;
    return out;
  });
  const settings: Record<string, string | number | boolean> = { norm: opts.norm, reset: opts.reset, calibrationImages: opts.norm === "model" ? 0 : count };
  if (opts.norm === "percentile") settings["percentile"] = opts.percentile;
  const snn: FloatSnn = {
    input: { shape: ann.inputShape, encoding: opts.encoding, scale: 1 / 255 },
    layers,
    readout: "membrane",
    provenance: { source, tool: "picospike convert 0.1.0", settings, normalization: scales },
  };
  return { snn, scales, calibrationAnnAccuracy: accuracy };
}
