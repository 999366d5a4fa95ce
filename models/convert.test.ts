import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { isPicospikeError } from "../runtime/errors.js";
import { annActivations, convertAnn, foldBatchNorm, modelBasedScales, parseAnn, percentile, CONVERT_DEFAULTS } from "./convert.js";
import { prepareLayers, readFloatSnn, simulateFloat, writeFloatSnn, type FloatDense, type FloatSnn } from "./float-snn.js";
import { fileIOHandler } from "./io.js";
import { initTf, tf } from "./tf.js";
import { codeOfAsync as codeOf } from "../runtime/testing/error-code.js";

const write = (p: string, d: Uint8Array | string) => writeFileSync(p, d);

async function save(model: tf.LayersModel): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "ann-"));
  await model.save(fileIOHandler(join(dir, "model.json"), write));
  return join(dir, "model.json");
}

/** Hand-checked MLP: 4 inputs, 2 hidden ReLU units, 2 outputs. */
async function tinyMlp(): Promise<string> {
  const m = tf.sequential();
  m.add(tf.layers.dense({ inputShape: [4], units: 2, activation: "relu", name: "h" }));
  m.add(tf.layers.dense({ units: 2, activation: "softmax", name: "o" }));
  // h0 = relu(x0 + x1 − 0.1), h1 = relu(x2 + x3); o0 = h0 − h1, o1 = h1 − h0 + 0.05
  m.getLayer("h").setWeights([
    tf.tensor2d([
      [1, 0],
      [1, 0],
      [0, 1],
      [0, 1],
    ]),
    tf.tensor1d([-0.1, 0]),
  ]);
  m.getLayer("o").setWeights([
    tf.tensor2d([
      [1, -1],
      [-1, 1],
    ]),
    tf.tensor1d([0, 0.05]),
  ]);
  return save(m);
}

beforeAll(async () => {
  await initTf();
});

describe("normalization and folding arithmetic", () => {
  it("percentile interpolates like numpy", () => {
    expect(percentile(Float32Array.from([0, 1, 2, 3, 4]), 50)).toBe(2);
    expect(percentile(Float32Array.from([4, 1, 3, 2]), 99.9)).toBeCloseTo(3.997, 5);
    expect(percentile(Float32Array.from([5]), 99.9)).toBe(5);
    expect(percentile(Float32Array.from(Array.from({ length: 1001 }, (_, i) => i)), 99.9)).toBeCloseTo(999, 6);
  });

  it("folds batch norm into a dense layer", () => {
    const layer: FloatDense = {
      kind: "dense",
      name: "d",
      inputs: 2,
      outputs: 2,
      weights: Float32Array.from([1, 2, 3, 4]),
      bias: Float32Array.from([0.5, -1]),
      neuron: { model: "if", threshold: 1, leak: 1, reset: "subtract", refractory: 0 },
    };
    // γ = [2, 1], β = [0, 1], μ = [0.5, 1], σ² = [3, 0], ε = 1 → factor [1, 1]·γ/√(σ²+ε) = [1, 1]
    foldBatchNorm(layer, Float32Array.from([2, 1]), Float32Array.from([0, 1]), Float32Array.from([0.5, 1]), Float32Array.from([3, 0]), 1);
    expect(Array.from(layer.weights)).toEqual([1, 2, 3, 4]);
    expect(Array.from(layer.bias!)).toEqual([0, -1]);
    foldBatchNorm(layer, Float32Array.from([4, 1]), Float32Array.from([0, 0]), Float32Array.from([0, 0]), Float32Array.from([3, 3]), 1);
    expect(Array.from(layer.weights)).toEqual([2, 1, 6, 2]);
  });

  it("normalizes a hand-checked MLP by its activations", async () => {
    const ann = parseAnn(await tinyMlp());
    expect(ann.inputShape).toEqual([1, 2, 2]);
    // Images (intensities): x = I/255. h0 = x0 + x1 − 0.1, h1 = x2 + x3.
    const images = Uint8Array.from([255, 255, 0, 0, /**/ 0, 0, 51, 51, /**/ 0, 0, 0, 0]);
    const acts = annActivations(ann, images, 3);
    // positive h values: h0 = 1.9 (image 0); h1 = 0.4 (image 1) → max 1.9
    expect(acts.max[0]).toBeCloseTo(1.9, 5);
    expect(Array.from(acts.predictions)).toEqual([0, 1, 1]);
    const res = convertAnn(ann, images, 3, { ...CONVERT_DEFAULTS, norm: "max" }, "tiny");
    expect(res.scales[0]).toBeCloseTo(1.9, 5);
    const h = res.snn.layers[0] as FloatDense;
    expect(h.weights[0]).toBeCloseTo(1 / 1.9, 6); // W·λ0/λ1 with λ0 = 1
    expect(h.bias![0]).toBeCloseTo(-0.1 / 1.9, 6);
    const o = res.snn.layers[1] as FloatDense;
    // output λ = largest positive output: image 0 gives o0 = 1.9; o = W·(λ1/λ2)
    expect(res.scales[1]).toBeCloseTo(1.9, 5);
    expect(o.weights[0]).toBeCloseTo(1, 5);
    expect(o.neuron.model).toBe("integrator");
    // model-based: h bound = 1+1 (positive weights, inputs ≤ 1); o1 bound = 1·2 + 0.05
    const mb = modelBasedScales(ann);
    expect(mb[0]).toBeCloseTo(2, 6);
    expect(mb[1]).toBeCloseTo(2.05, 6);
  });
});

describe("conversion keeps the ANN's decisions", () => {
  it("on the hand-checked MLP (float SNN, 64 steps)", async () => {
    const path = await tinyMlp();
    const ann = parseAnn(path);
    const images = Uint8Array.from([200, 180, 10, 0, /**/ 0, 30, 120, 90, /**/ 90, 40, 60, 50, /**/ 0, 0, 0, 0]);
    const res = convertAnn(ann, images, 4, CONVERT_DEFAULTS, "tiny");
    const model = await tf.loadLayersModel(fileIOHandler(path));
    const x = tf.tensor2d(
      Float32Array.from(images, (v) => v / 255),
      [4, 4],
    );
    const annPred = Array.from((model.predict(x) as tf.Tensor).argMax(-1).dataSync());
    expect(annPred).toEqual([0, 1, 1, 1]);
    const sim = simulateFloat(res.snn, prepareLayers(res.snn), images, 4, [64]);
    expect(Array.from(sim.predictions[0]!)).toEqual(annPred);
  });

  it("on a small CNN (conv same → avgpool → flatten → dense): layouts match tfjs", async () => {
    const m = tf.sequential();
    m.add(
      tf.layers.conv2d({
        inputShape: [6, 6, 1],
        filters: 3,
        kernelSize: 3,
        padding: "same",
        activation: "relu",
        kernelInitializer: tf.initializers.randomNormal({ seed: 3 }),
        biasInitializer: "zeros",
        name: "c1",
      }),
    );
    m.add(tf.layers.averagePooling2d({ poolSize: 2, name: "p1" }));
    m.add(
      tf.layers.conv2d({ filters: 4, kernelSize: 2, strides: 1, activation: "relu", kernelInitializer: tf.initializers.randomNormal({ seed: 4 }), name: "c2" }),
    );
    m.add(tf.layers.flatten({ name: "f" }));
    m.add(tf.layers.dense({ units: 5, activation: "softmax", kernelInitializer: tf.initializers.randomNormal({ seed: 5 }), name: "d" }));
    const path = await save(m);
    const ann = parseAnn(path);
    expect(ann.stages.map((s) => s.layer.kind)).toEqual(["conv2d", "pool", "conv2d", "dense"]);
    const n = 12;
    const images = new Uint8Array(n * 36);
    let seed = 7;
    for (let i = 0; i < images.length; i++) images[i] = (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
    const x = tf.tensor4d(
      Float32Array.from(images, (v) => v / 255),
      [n, 6, 6, 1],
    );
    const annPred = Array.from((m.predict(x) as tf.Tensor).argMax(-1).dataSync());
    // Our forward pass over the parsed (channel-major, permuted) layers must decide as tfjs does.
    expect(Array.from(annActivations(ann, images, n).predictions)).toEqual(annPred);
    const res = convertAnn(ann, images, n, CONVERT_DEFAULTS, "cnn");
    const sim = simulateFloat(res.snn, prepareLayers(res.snn), images, n, [400]);
    const agree = Array.from(sim.predictions[0]!).filter((p, i) => p === annPred[i]).length;
    expect(agree).toBeGreaterThanOrEqual(n - 1);
  });

  it("float SNN files round-trip", async () => {
    const ann = parseAnn(await tinyMlp());
    const res = convertAnn(ann, Uint8Array.from([255, 255, 0, 0]), 1, CONVERT_DEFAULTS, "tiny");
    const dir = mkdtempSync(join(tmpdir(), "snn-"));
    writeFloatSnn(join(dir, "snn.json"), res.snn, write);
    const back = readFloatSnn(join(dir, "snn.json"));
    expect(back.layers.length).toBe(2);
    expect(Array.from((back.layers[0] as FloatDense).weights)).toEqual(Array.from((res.snn.layers[0] as FloatDense).weights));
    expect(back.provenance.normalization).toEqual(res.scales);
  });
});

describe("convert error paths", () => {
  it("max pooling names the layer and AveragePooling2D", async () => {
    const m = tf.sequential();
    m.add(tf.layers.conv2d({ inputShape: [4, 4, 1], filters: 1, kernelSize: 2, activation: "relu", name: "c" }));
    m.add(tf.layers.maxPooling2d({ poolSize: 2, name: "mp" }));
    m.add(tf.layers.flatten());
    m.add(tf.layers.dense({ units: 2, activation: "softmax" }));
    const path = await save(m);
    let message = "";
    try {
      parseAnn(path);
    } catch (e) {
      expect(isPicospikeError(e, "TOOLCHAIN_UNSUPPORTED_LAYER")).toBe(true);
      message = (e as Error).message;
    }
    expect(message).toContain("'mp'");
    expect(message).toContain("AveragePooling2D");
  });

  it("unknown activation, BN after activation, unsupported layer type", async () => {
    const tanh = tf.sequential();
    tanh.add(tf.layers.dense({ inputShape: [4], units: 3, activation: "tanh", name: "t" }));
    tanh.add(tf.layers.dense({ units: 2, activation: "softmax" }));
    expect(await codeOf(async () => parseAnn(await save(tanh)))).toBe("TOOLCHAIN_UNSUPPORTED_LAYER");
    const bn = tf.sequential();
    bn.add(tf.layers.dense({ inputShape: [4], units: 3, activation: "relu" }));
    bn.add(tf.layers.batchNormalization({ name: "bn" }));
    bn.add(tf.layers.dense({ units: 2, activation: "softmax" }));
    expect(await codeOf(async () => parseAnn(await save(bn)))).toBe("TOOLCHAIN_UNSUPPORTED_LAYER");
    const lstm = tf.sequential();
    lstm.add(tf.layers.simpleRNN({ inputShape: [3, 4], units: 2, name: "rnn" }));
    expect(await codeOf(async () => parseAnn(await save(lstm)))).toBe("TOOLCHAIN_UNSUPPORTED_LAYER");
  });

  it("malformed model.json, missing weights, missing model", async () => {
    const path = await tinyMlp();
    const dir = join(path, "..");
    const good = readFileSync(path, "utf8");
    writeFileSync(path, "{ not json");
    expect(await codeOf(() => parseAnn(path))).toBe("TOOLCHAIN_BAD_MODEL");
    writeFileSync(path, JSON.stringify({ weightsManifest: [] }));
    expect(await codeOf(() => parseAnn(path))).toBe("TOOLCHAIN_BAD_MODEL");
    const manifest = JSON.parse(good) as { weightsManifest: Array<{ paths: string[] }> };
    manifest.weightsManifest[0]!.paths = ["../../etc/passwd"];
    writeFileSync(path, JSON.stringify(manifest));
    expect(await codeOf(() => parseAnn(path))).toBe("TOOLCHAIN_BAD_MODEL");
    writeFileSync(path, good);
    writeFileSync(join(dir, "weights.bin"), new Uint8Array(7));
    expect(await codeOf(() => parseAnn(path))).toBe("TOOLCHAIN_BAD_MODEL"); // truncated weights
    rmSync(join(dir, "weights.bin"));
    expect(await codeOf(() => parseAnn(path))).toBe("TOOLCHAIN_BAD_MODEL"); // missing weights
    expect(await codeOf(() => parseAnn(join(dir, "nope.json")))).toBe("CLI_FILE_NOT_FOUND");
  });

  it("accepts a Keras-converter model.json (model_config, snake_case, functional chain, BN)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "keras-"));
    const topology = {
      keras_version: "2.15.0",
      backend: "tensorflow",
      model_config: {
        class_name: "Functional",
        config: {
          name: "model",
          layers: [
            { class_name: "InputLayer", name: "input_1", config: { batch_input_shape: [null, 4], dtype: "float32", name: "input_1" }, inbound_nodes: [] },
            {
              class_name: "Dense",
              name: "dense",
              config: { name: "dense", units: 2, activation: "linear", use_bias: false },
              inbound_nodes: [[["input_1", 0, 0, {}]]],
            },
            {
              class_name: "BatchNormalization",
              name: "batch_normalization",
              config: { name: "batch_normalization", axis: [1], epsilon: 0, center: true, scale: true },
              inbound_nodes: [[["dense", 0, 0, {}]]],
            },
            {
              class_name: "ReLU",
              name: "re_lu",
              config: { name: "re_lu", max_value: null, negative_slope: 0.0, threshold: 0.0 },
              inbound_nodes: [[["batch_normalization", 0, 0, {}]]],
            },
            { class_name: "Dropout", name: "dropout", config: { name: "dropout", rate: 0.5 }, inbound_nodes: [[["re_lu", 0, 0, {}]]] },
            {
              class_name: "Dense",
              name: "dense_1",
              config: { name: "dense_1", units: 2, activation: "softmax", use_bias: true },
              inbound_nodes: [[["dropout", 0, 0, {}]]],
            },
          ],
        },
      },
    };
    const weights = [
      { name: "dense/kernel", shape: [4, 2], dtype: "float32", v: [1, 0, 1, 0, 0, 1, 0, 1] },
      { name: "batch_normalization/gamma", shape: [2], dtype: "float32", v: [2, 1] },
      { name: "batch_normalization/beta", shape: [2], dtype: "float32", v: [0, 0] },
      { name: "batch_normalization/moving_mean", shape: [2], dtype: "float32", v: [0.1, 0] },
      { name: "batch_normalization/moving_variance", shape: [2], dtype: "float32", v: [1, 1] },
      { name: "dense_1/kernel", shape: [2, 2], dtype: "float32", v: [1, -1, -1, 1] },
      { name: "dense_1/bias", shape: [2], dtype: "float32", v: [0, 0] },
    ];
    const floats = Float32Array.from(weights.flatMap((w) => w.v));
    writeFileSync(join(dir, "group1-shard1of1.bin"), new Uint8Array(floats.buffer));
    writeFileSync(
      join(dir, "model.json"),
      JSON.stringify({
        format: "layers-model",
        generatedBy: "keras v2.15.0",
        convertedBy: "TensorFlow.js Converter v4.22.0",
        modelTopology: topology,
        weightsManifest: [{ paths: ["group1-shard1of1.bin"], weights: weights.map(({ v: _v, ...w }) => w) }],
      }),
    );
    const ann = parseAnn(join(dir, "model.json"));
    expect(ann.stages.length).toBe(2);
    const d = ann.stages[0]!.layer as FloatDense;
    // BN folded: first unit ×2, bias −0.1·2
    expect(Array.from(d.weights)).toEqual([2, 0, 2, 0, 0, 1, 0, 1]);
    expect(d.bias![0]).toBeCloseTo(-0.2, 6);
    expect(ann.stages[0]!.activation).toBe("relu");
  });
});

describe("float SNN validation", () => {
  it("rejects malformed files with TOOLCHAIN_BAD_MODEL", async () => {
    const ann = parseAnn(await tinyMlp());
    const res = convertAnn(ann, Uint8Array.from([255, 255, 0, 0]), 1, CONVERT_DEFAULTS, "tiny");
    const dir = mkdtempSync(join(tmpdir(), "snnbad-"));
    const p = join(dir, "snn.json");
    writeFloatSnn(p, res.snn, write);
    const good = JSON.parse(readFileSync(p, "utf8")) as Record<string, unknown> & { layers: Array<Record<string, unknown>> };
    const mutations: Array<(j: typeof good) => void> = [
      (j) => {
        j["format"] = "other";
      },
      (j) => {
        j["version"] = 3;
      },
      (j) => {
        j.layers[0]!["kind"] = "lstm";
      },
      (j) => {
        j.layers[0]!["inputs"] = 5;
      },
      (j) => {
        (j.layers[0]!["neuron"] as Record<string, unknown>)["threshold"] = -1;
      },
      (j) => {
        (j.layers[0]!["neuron"] as Record<string, unknown>)["leak"] = 0.5;
      }, // leak ≠ 1 on an if neuron
      (j) => {
        (j.layers[0]!["weights"] as Record<string, unknown>)["offset"] = 1e6;
      },
      (j) => {
        j["weightsFile"] = "../x.bin";
      },
      (j) => {
        j["readout"] = "vote";
      },
    ];
    for (const mutate of mutations) {
      const j = JSON.parse(JSON.stringify(good)) as typeof good;
      mutate(j);
      writeFileSync(p, JSON.stringify(j));
      expect(await codeOf(() => readFloatSnn(p))).toBe("TOOLCHAIN_BAD_MODEL");
    }
    writeFileSync(p, JSON.stringify(good));
    rmSync(join(dir, "snn.bin"));
    expect(await codeOf(() => readFloatSnn(p))).toBe("TOOLCHAIN_BAD_MODEL");
  });
});

export type { FloatSnn };

describe("Keras/tfjs image models", () => {
  /** Sets every BatchNormalization's moving statistics to values that change the output. */
  function perturbBatchNorm(m: tf.LayersModel): void {
    for (const layer of m.layers) {
      if (layer.getClassName() !== "BatchNormalization") continue;
      const n = layer.getWeights()[0]!.shape[0]!;
      const ramp = (a: number, b: number) => tf.tensor1d(Array.from({ length: n }, (_, i) => a + (b * i) / n));
      layer.setWeights([ramp(0.5, 1), ramp(-0.1, 0.3), ramp(-0.2, 0.4), ramp(0.5, 2)]);
    }
  }

  /** Flat 784-pixel images, deterministic. */
  function images(count: number): Uint8Array {
    let s = 12345;
    return Uint8Array.from({ length: count * 784 }, () => (s = (s * 1103515245 + 12345) >>> 0) >>> 24);
  }

  it("a CNN that starts with Reshape(784 → 28×28×1) and uses ZeroPadding2D, BN, ReLU/Activation layers, Dropout, SpatialDropout2D and GlobalAveragePooling2D converts and computes what tfjs computes", async () => {
    const m = tf.sequential();
    m.add(tf.layers.inputLayer({ inputShape: [784] }));
    m.add(tf.layers.reshape({ targetShape: [28, 28, 1] }));
    m.add(tf.layers.zeroPadding2d({ padding: 1 }));
    m.add(tf.layers.conv2d({ filters: 4, kernelSize: 3, useBias: false, name: "c1" }));
    m.add(tf.layers.batchNormalization({ name: "bn1" }));
    m.add(tf.layers.reLU());
    m.add(tf.layers.dropout({ rate: 0.25, name: "sdrop" }));
    m.add(tf.layers.averagePooling2d({ poolSize: 2 }));
    m.add(tf.layers.conv2d({ filters: 6, kernelSize: 3, padding: "same", name: "c2" }));
    m.add(tf.layers.activation({ activation: "relu" }));
    m.add(tf.layers.globalAveragePooling2d({}));
    m.add(tf.layers.dense({ units: 16, name: "d1" }));
    m.add(tf.layers.batchNormalization({ name: "bn2" }));
    m.add(tf.layers.activation({ activation: "relu" }));
    m.add(tf.layers.dropout({ rate: 0.5 }));
    m.add(tf.layers.dense({ units: 10, activation: "softmax", name: "out" }));
    perturbBatchNorm(m);
    const path = await save(m);
    // tfjs has no SpatialDropout2D; Keras models converted with tensorflowjs_converter carry it
    const json = JSON.parse(readFileSync(path, "utf8")) as {
      modelTopology: { config: { layers: Array<{ class_name: string; config: Record<string, unknown> }> } };
    };
    json.modelTopology.config.layers.find((l) => l.config["name"] === "sdrop")!.class_name = "SpatialDropout2D";
    writeFileSync(path, JSON.stringify(json));

    const ann = parseAnn(path);
    expect(ann.inputShape).toEqual([1, 28, 28]);
    expect(ann.stages.map((s) => s.layer.kind)).toEqual(["conv2d", "pool", "conv2d", "pool", "dense", "dense"]);
    const first = ann.stages[0]!.layer;
    expect(first.kind === "conv2d" && first.padding).toEqual([1, 1]);
    const count = 24;
    const pixels = images(count);
    const ours = annActivations(ann, pixels, count).predictions;
    const theirs = tf.tidy(() =>
      (
        m.predict(
          tf.tensor2d(
            Float32Array.from(pixels, (v) => v / 255),
            [count, 784],
          ),
        ) as tf.Tensor
      )
        .argMax(1)
        .dataSync(),
    );
    expect(Array.from(ours)).toEqual(Array.from(theirs));
  });

  it("refuses what it cannot convert by the layer's name, with advice that applies", async () => {
    const reshapeMid = tf.sequential();
    reshapeMid.add(tf.layers.dense({ inputShape: [16], units: 16, activation: "relu" }));
    reshapeMid.add(tf.layers.reshape({ targetShape: [4, 4, 1], name: "mid" }));
    reshapeMid.add(tf.layers.flatten());
    reshapeMid.add(tf.layers.dense({ units: 2, activation: "softmax" }));
    await expect(async () => parseAnn(await save(reshapeMid))).rejects.toThrow(/'mid'.*first layer/);
    const padPool = tf.sequential();
    padPool.add(tf.layers.zeroPadding2d({ inputShape: [6, 6, 1], padding: 1, name: "zp" }));
    padPool.add(tf.layers.averagePooling2d({ poolSize: 2 }));
    padPool.add(tf.layers.flatten());
    padPool.add(tf.layers.dense({ units: 2, activation: "softmax" }));
    await expect(async () => parseAnn(await save(padPool))).rejects.toThrow(/'zp'.*directly before a Conv2D/);
    const asym = tf.sequential();
    asym.add(
      tf.layers.zeroPadding2d({
        inputShape: [6, 6, 1],
        padding: [
          [1, 0],
          [1, 0],
        ],
        name: "zpa",
      }),
    );
    asym.add(tf.layers.conv2d({ filters: 2, kernelSize: 3 }));
    asym.add(tf.layers.flatten());
    asym.add(tf.layers.dense({ units: 2, activation: "softmax" }));
    await expect(async () => parseAnn(await save(asym))).rejects.toThrow(/'zpa'.*pad equally/);
  });
});
