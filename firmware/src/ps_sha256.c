/* SHA-256 (FIPS 180-4), compact form for Cortex-M0: rolled rounds, one constant table. */
#include "ps_sha256.h"

static const uint32_t ps_sha256_k[64] = {
    0x428a2f98u, 0x71374491u, 0xb5c0fbcfu, 0xe9b5dba5u, 0x3956c25bu, 0x59f111f1u, 0x923f82a4u, 0xab1c5ed5u,
    0xd807aa98u, 0x12835b01u, 0x243185beu, 0x550c7dc3u, 0x72be5d74u, 0x80deb1feu, 0x9bdc06a7u, 0xc19bf174u,
    0xe49b69c1u, 0xefbe4786u, 0x0fc19dc6u, 0x240ca1ccu, 0x2de92c6fu, 0x4a7484aau, 0x5cb0a9dcu, 0x76f988dau,
    0x983e5152u, 0xa831c66du, 0xb00327c8u, 0xbf597fc7u, 0xc6e00bf3u, 0xd5a79147u, 0x06ca6351u, 0x14292967u,
    0x27b70a85u, 0x2e1b2138u, 0x4d2c6dfcu, 0x53380d13u, 0x650a7354u, 0x766a0abbu, 0x81c2c92eu, 0x92722c85u,
    0xa2bfe8a1u, 0xa81a664bu, 0xc24b8b70u, 0xc76c51a3u, 0xd192e819u, 0xd6990624u, 0xf40e3585u, 0x106aa070u,
    0x19a4c116u, 0x1e376c08u, 0x2748774cu, 0x34b0bcb5u, 0x391c0cb3u, 0x4ed8aa4au, 0x5b9cca4fu, 0x682e6ff3u,
    0x748f82eeu, 0x78a5636fu, 0x84c87814u, 0x8cc70208u, 0x90befffau, 0xa4506cebu, 0xbef9a3f7u, 0xc67178f2u,
};

#define PS_ROTR(x, n) (((x) >> (n)) | ((x) << (32u - (n))))

static void ps_sha256_block(uint32_t h[8], const uint8_t *p)
{
    uint32_t w[64];
    uint32_t v[8];
    uint32_t i;
    for (i = 0; i < 16u; i++) {
        w[i] = ((uint32_t)p[4u * i] << 24) | ((uint32_t)p[4u * i + 1u] << 16) | ((uint32_t)p[4u * i + 2u] << 8) | (uint32_t)p[4u * i + 3u];
    }
    for (i = 16; i < 64u; i++) {
        uint32_t s0 = PS_ROTR(w[i - 15u], 7u) ^ PS_ROTR(w[i - 15u], 18u) ^ (w[i - 15u] >> 3);
        uint32_t s1 = PS_ROTR(w[i - 2u], 17u) ^ PS_ROTR(w[i - 2u], 19u) ^ (w[i - 2u] >> 10);
        w[i] = w[i - 16u] + s0 + w[i - 7u] + s1;
    }
    for (i = 0; i < 8u; i++) v[i] = h[i];
    for (i = 0; i < 64u; i++) {
        uint32_t S1 = PS_ROTR(v[4], 6u) ^ PS_ROTR(v[4], 11u) ^ PS_ROTR(v[4], 25u);
        uint32_t ch = (v[4] & v[5]) ^ (~v[4] & v[6]);
        uint32_t t1 = v[7] + S1 + ch + ps_sha256_k[i] + w[i];
        uint32_t S0 = PS_ROTR(v[0], 2u) ^ PS_ROTR(v[0], 13u) ^ PS_ROTR(v[0], 22u);
        uint32_t maj = (v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]);
        uint32_t t2 = S0 + maj;
        v[7] = v[6];
        v[6] = v[5];
        v[5] = v[4];
        v[4] = v[3] + t1;
        v[3] = v[2];
        v[2] = v[1];
        v[1] = v[0];
        v[0] = t1 + t2;
    }
    for (i = 0; i < 8u; i++) h[i] += v[i];
}

void ps_sha256_init(ps_sha256_t *s)
{
    static const uint32_t iv[8] = {
        0x6a09e667u, 0xbb67ae85u, 0x3c6ef372u, 0xa54ff53au, 0x510e527fu, 0x9b05688cu, 0x1f83d9abu, 0x5be0cd19u,
    };
    uint32_t i;
    for (i = 0; i < 8u; i++) s->h[i] = iv[i];
    s->total = 0;
    s->fill = 0;
}

void ps_sha256_update(ps_sha256_t *s, const uint8_t *data, size_t len)
{
    size_t i = 0;
    s->total += (uint64_t)len;
    if (s->fill > 0u) {
        while (i < len && s->fill < 64u) s->block[s->fill++] = data[i++];
        if (s->fill < 64u) return;
        ps_sha256_block(s->h, s->block);
        s->fill = 0;
    }
    while (len - i >= 64u) {
        ps_sha256_block(s->h, data + i);
        i += 64u;
    }
    while (i < len) s->block[s->fill++] = data[i++];
}

void ps_sha256_final(ps_sha256_t *s, uint8_t out[PS_SHA256_BYTES])
{
    uint64_t bits = s->total * 8u;
    uint32_t i;
    s->block[s->fill++] = 0x80u;
    if (s->fill > 56u) {
        while (s->fill < 64u) s->block[s->fill++] = 0;
        ps_sha256_block(s->h, s->block);
        s->fill = 0;
    }
    while (s->fill < 56u) s->block[s->fill++] = 0;
    for (i = 0; i < 8u; i++) s->block[56u + i] = (uint8_t)(bits >> (56u - 8u * i));
    ps_sha256_block(s->h, s->block);
    for (i = 0; i < 32u; i++) out[i] = (uint8_t)(s->h[i >> 2] >> (24u - 8u * (i & 3u)));
}

void ps_sha256(const uint8_t *data, size_t len, uint8_t out[PS_SHA256_BYTES])
{
    ps_sha256_t s;
    ps_sha256_init(&s);
    ps_sha256_update(&s, data, len);
    ps_sha256_final(&s, out);
}
