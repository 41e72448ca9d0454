/*
 * Philox4x32-10 known answers. The vectors are the three "philox4x32 10" lines of Random123's
 * tests/kat_vectors (github.com/DEShawResearch/random123), columns CTR[4] KEY[2] -> OUT[4]:
 *
 *   philox4x32 10 00000000 00000000 00000000 00000000 00000000 00000000  6627e8d5 e169c58d bc57ac4c 9b00dbd8
 *   philox4x32 10 ffffffff ffffffff ffffffff ffffffff ffffffff ffffffff  408f276d 41c83b0e a20bc7c6 6d5451fd
 *   philox4x32 10 243f6a88 85a308d3 13198a2e 03707344 a4093822 299f31d0  d16cfe09 94fdcceb 5001e420 24126ea1
 *
 * Both the raw generator (philox4x32 from the installed headers) and the library's packing
 * be_philox_block(seed, stream, block) are checked: counter = (block lo, block hi, stream lo,
 * stream hi), key = (seed lo, seed hi) (kernels_common.h), so each vector maps to one
 * (seed, stream, block) triple. The uniform and normal element functions are checked against the
 * lanes of those blocks.
 */
#include "engine_common.h"

#include "backend/kernels_common.h"

typedef struct kat {
    uint32_t ctr[4], key[2], out[4];
} kat;

static const kat KATS[] = {
    { { 0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u },
      { 0x00000000u, 0x00000000u },
      { 0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u } },
    { { 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu },
      { 0xffffffffu, 0xffffffffu },
      { 0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu } },
    { { 0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u },
      { 0xa4093822u, 0x299f31d0u },
      { 0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u } },
};
#define N_KATS (sizeof KATS / sizeof KATS[0])

static uint64_t join(uint32_t lo, uint32_t hi)
{
    return (uint64_t)lo | ((uint64_t)hi << 32);
}

static void test_raw_philox(void **state)
{
    (void)state;
    for (size_t v = 0; v < N_KATS; v++) {
        philox4x32_ctr_t c = { { KATS[v].ctr[0], KATS[v].ctr[1], KATS[v].ctr[2], KATS[v].ctr[3] } };
        philox4x32_key_t k = { { KATS[v].key[0], KATS[v].key[1] } };
        philox4x32_ctr_t r = philox4x32(c, k);
        for (int j = 0; j < 4; j++) {
            if (r.v[j] != KATS[v].out[j]) printf("  vector %zu word %d: %08x != %08x\n", v, j, r.v[j], KATS[v].out[j]);
            assert_int_equal(r.v[j], KATS[v].out[j]);
        }
    }
}

static void test_library_block(void **state)
{
    (void)state;
    for (size_t v = 0; v < N_KATS; v++) {
        uint64_t block = join(KATS[v].ctr[0], KATS[v].ctr[1]);
        uint64_t stream = join(KATS[v].ctr[2], KATS[v].ctr[3]);
        uint64_t seed = join(KATS[v].key[0], KATS[v].key[1]);
        philox4x32_ctr_t r = be_philox_block(seed, stream, block);
        for (int j = 0; j < 4; j++) assert_int_equal(r.v[j], KATS[v].out[j]);
    }
}

/* Element i of a fill reads lane i % 4 of block i / 4. An element index reaches blocks below 2^62
 * only, so of the three vectors only the zero one (seed 0, stream 0, block 0) is addressable. */
static void test_element_lanes(void **state)
{
    (void)state;
    const kat *k = &KATS[0];
    uint64_t block = join(k->ctr[0], k->ctr[1]);
    uint64_t stream = join(k->ctr[2], k->ctr[3]);
    uint64_t seed = join(k->key[0], k->key[1]);
    for (unsigned lane = 0; lane < 4; lane++) {
        uint64_t i = block * 4 + lane;
        double u = ((double)k->out[lane] + 0.5) / 4294967296.0;
        float uf = (float)u;
        if (!(uf < 1.0f)) uf = 0.99999994f;
        assert_true(be_uniform_at(seed, stream, i) == uf);
        /* Box-Muller on lanes (0,1) and (2,3): even lane cos, odd lane sin */
        unsigned pair = lane >> 1;
        double u0 = ((double)k->out[2 * pair] + 0.5) / 4294967296.0;
        double u1 = ((double)k->out[2 * pair + 1] + 0.5) / 4294967296.0;
        double rad = sqrt(-2.0 * log(u0)), ang = 2.0 * TEST_PI * u1;
        double z = (lane & 1) ? rad * sin(ang) : rad * cos(ang);
        float got = be_normal_at(seed, stream, i);
        assert_true(fabs((double)got - z) <= 1e-6 * fmax(1.0, fabs(z)));
    }
}

/* The backend's fills are the element functions at positions 0..n-1. */
static void test_backend_fills(void **state)
{
    (void)state;
    enum { N = 37 };
    be_backend *be = test_backend();
    float *d = be->ops->alloc(be, N * sizeof(float)), host[N];
    assert_non_null(d);
    test_rng_fill(be, 0, d, N, 0x299f31d0a4093822ull, 5);
    be->ops->download(be, host, d, sizeof host);
    for (uint64_t i = 0; i < N; i++) assert_true(host[i] == be_uniform_at(0x299f31d0a4093822ull, 5, i));
    test_rng_fill(be, 1, d, N, 17, 0x0370734413198a2eull);
    be->ops->download(be, host, d, sizeof host);
    for (uint64_t i = 0; i < N; i++) assert_true(host[i] == be_normal_at(17, 0x0370734413198a2eull, i));
    /* element 0 of a uniform fill under the zero key and counter is lane 0 of the first vector */
    test_rng_fill(be, 0, d, 4, 0, 0);
    be->ops->download(be, host, d, 4 * sizeof(float));
    for (int j = 0; j < 4; j++) assert_true(host[j] == (float)(((double)KATS[0].out[j] + 0.5) / 4294967296.0));
    be->ops->free(be, d);
    be->ops->destroy(be);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_raw_philox),
        cmocka_unit_test(test_library_block),
        cmocka_unit_test(test_element_lanes),
        cmocka_unit_test(test_backend_fills),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
