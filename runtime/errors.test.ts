import { describe, expect, it } from "vitest";
import { ERROR_BANDS, ERROR_CODES, PicospikeError, errorCodeFromNum, isPicospikeError } from "./errors.js";

describe("error list", () => {
  it("has unique numbers, each inside a declared band", () => {
    const nums = Object.values(ERROR_CODES).map((i) => i.num);
    expect(new Set(nums).size).toBe(nums.length);
    for (const [code, info] of Object.entries(ERROR_CODES)) {
      const band = String(Math.floor(info.num / 100));
      expect(Object.keys(ERROR_BANDS), code).toContain(band);
      expect(code.startsWith(ERROR_BANDS[Number(band) as keyof typeof ERROR_BANDS].split(":")[0]!.toUpperCase()), code).toBe(true);
      expect(info.cause.length).toBeGreaterThan(10);
      expect(info.remedy.length).toBeGreaterThan(5);
    }
  });

  it("maps numbers back to codes and carries the code on the error", () => {
    expect(errorCodeFromNum(402)).toBe("PROTOCOL_BAD_CRC");
    expect(errorCodeFromNum(9999)).toBeUndefined();
    const e = new PicospikeError("FORMAT_TRUNCATED", "cut at byte 3", { offset: 3 });
    expect(isPicospikeError(e, "FORMAT_TRUNCATED")).toBe(true);
    expect(isPicospikeError(e, "FORMAT_BAD_TYPE")).toBe(false);
    expect(e.num).toBe(101);
    expect(e.detail).toEqual({ offset: 3 });
  });
});
