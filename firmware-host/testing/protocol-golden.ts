/**
 * Golden bytes: the exact payload of every sample of protocol-samples.ts (same order), pinned from
 * the hand-written codecs the generated ones replaced. The TS codecs must encode each sample to these
 * bytes and decode them back to it (wire/golden.test.ts); the C codecs must decode each and encode it
 * back to the same bytes, with the same field values (wire/protocol-c.test.ts). A change here is a
 * change of the wire format: it needs a new protocol version (spec/protocol.md).
 */

/** [message name, type number, payload hex], one per SAMPLE_MESSAGES entry. */
export const GOLDEN_PAYLOADS: ReadonlyArray<readonly [kind: string, type: number, hex: string]> = [
  ["HELLO", 0x01, "0101efbeadde"],
  [
    "HELLO_ACK",
    0x02,
    "feff010201040302013f000a6d7073322d616e33383601080f161d242b32646b727980878e959ca3aab1b8bfc6cdd4db" +
      "e2e9f0f7fe050c131a21282f363d000200040000030002010240e20100",
  ],
  ["ACK", 0x03, "0700ffffffff"],
  ["NACK", 0x04, "ffff98012a000000"],
  ["ERROR", 0x05, "fb0103000000646576696365207265736574"],
  ["MODEL_BEGIN", 0x10, "31d400000910171e252c333a41484f565d646b727980878e959ca3aab1b8bfc6cdd4dbe2"],
  [
    "MODEL_CHUNK",
    0x11,
    "0010000000070e151c232a31383f464d545b626970777e858c939aa1a8afb6bdc4cbd2d9e0e7eef5fc030a11181f262d" +
      "343b424950575e656c737a81888f969da4abb2b9c0c7ced5dce3eaf1f8ff060d141b222930373e454c535a61686f767d" +
      "848b9299a0a7aeb5bcc3cad1d8dfe6edf4fb020910171e252c333a41484f565d646b727980878e959ca3aab1b8bfc6cd" +
      "d4dbe2e9f0f7fe050c131a21282f363d444b525960676e757c838a91989fa6adb4bbc2c9d0d7dee5ecf3fa01080f161d" +
      "242b323940474e555c636a71787f868d949ba2a9b0b7bec5ccd3dae1e8eff6fd040b121920272e353c434a51585f666d" +
      "747b828990979ea5acb3bac1c8cfd6dde4ebf2f900070e151c232a31383f464d545b626970777e858c939aa1a8afb6bd" +
      "c4cbd2d9e0e7eef5fc030a11181f262d",
  ],
  ["MODEL_END", 0x12, ""],
  ["MODEL_LOADED", 0x13, "0c00c8cfd6dde4ebf2f900070e151c232a31383f464d545b626970777e858c939aa1"],
  ["STEP", 0x20, "1f000000020500060000037c8c05909601"],
  ["STEP", 0x20, "78563412010101030300a70201ff11"],
  ["STEP", 0x20, "0000000000000000"],
  ["STEP_RESULT", 0x21, "63001f0000000200cd8101000200030206f503020107"],
  ["STEP_RESULT", 0x21, "640020000000010300"],
  ["RT_START", 0x22, "e803000002ffffffff0f"],
  ["RT_STOP", 0x23, ""],
  ["RT_INPUT", 0x24, "00030a00b005"],
  ["RT_OUTPUT", 0x25, "4d00000002d2040000020500ffff010104007e00ff7e"],
  ["RT_OUTPUT", 0x25, "4e000000000000"],
  ["REWARD", 0x30, "f40100000080"],
  ["REWARD", 0x30, "ffffffffff7f"],
  ["READ_STATE", 0x40, "000100040000ec01"],
  [
    "STATE_CHUNK",
    0x41,
    "010001000000000000880100030a11181f262d343b424950575e656c737a81888f969da4abb2b9c0c7ced5dce3eaf1f8" +
      "ff060d141b222930373e454c535a61686f767d848b9299a0a7aeb5bcc3cad1d8dfe6edf4fb020910171e252c333a4148" +
      "4f565d646b727980878e959ca3aab1b8bfc6cdd4dbe2e9f0f7fe050c131a21282f363d444b525960676e757c838a9198" +
      "9fa6adb4bbc2c9d0d7dee5ecf3fa01080f161d242b323940474e555c636a71787f868d949ba2a9b0b7bec5ccd3dae1e8" +
      "eff6fd040b121920272e353c434a51585f666d74",
  ],
  ["RESET_STATE", 0x42, "01"],
  ["GET_STATS", 0x50, ""],
  ["STATS", 0x51, "080040420f00020000000300000004000000050000000600000007000000080000000900000000000080"],
];
