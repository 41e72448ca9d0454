// The same as consumer.c from C++11: the headers must compile as C++ and link with C linkage.
#include <mfpo.h>

#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

// RAII owners, as a C++ user would write them.
struct context_deleter {
    void operator()(mfpo_context *c) const { mfpo_context_destroy(c); }
};
struct replay_deleter {
    void operator()(mfpo_replay *r) const { mfpo_replay_destroy(r); }
};
using context_ptr = std::unique_ptr<mfpo_context, context_deleter>;
using replay_ptr = std::unique_ptr<mfpo_replay, replay_deleter>;

void check(mfpo_status st, const mfpo_context *ctx, const char *what)
{
    if (st != MFPO_OK)
        throw std::runtime_error(std::string(what) + ": " + mfpo_status_string(st) + ": " + mfpo_last_error(ctx));
}

} // namespace

int main()
{
    try {
        static_assert(MFPO_VERSION_NUMBER >= 100, "version macro");
        if (mfpo_version_number() != MFPO_VERSION_NUMBER) throw std::runtime_error("version mismatch");
        if (std::strcmp(mfpo_version_string(), MFPO_VERSION_STRING) != 0) throw std::runtime_error("version string");

        mfpo_context_options options;
        mfpo_context_options_init(&options);
        options.backend = MFPO_BACKEND_CPU;
        options.threads = 1;
        mfpo_context *raw = nullptr;
        check(mfpo_context_create(&options, &raw), nullptr, "mfpo_context_create");
        context_ptr ctx(raw);

        mfpo_replay *raw_replay = nullptr;
        check(mfpo_replay_create(ctx.get(), 4, 1, 32, &raw_replay), ctx.get(), "mfpo_replay_create");
        replay_ptr replay(raw_replay);

        const std::size_t n = 10;
        std::vector<float> obs(n * 4), act(n), rew(n), next(n * 4);
        std::vector<int> term(n, 0);
        for (std::size_t i = 0; i < n; i++) {
            for (std::size_t k = 0; k < 4; k++) obs[i * 4 + k] = next[i * 4 + k] = static_cast<float>(i);
            act[i] = 0.0f;
            rew[i] = static_cast<float>(i);
        }
        check(mfpo_replay_add_batch(replay.get(), n, obs.data(), act.data(), rew.data(), next.data(), term.data()),
              ctx.get(), "mfpo_replay_add_batch");
        if (mfpo_replay_size(replay.get()) != n) throw std::runtime_error("size");

        std::vector<float> s_obs(16 * 4), s_rew(16), s_mask(16);
        check(mfpo_replay_sample(replay.get(), 16, s_obs.data(), nullptr, s_rew.data(), nullptr, s_mask.data()),
              ctx.get(), "mfpo_replay_sample");
        for (std::size_t i = 0; i < 16; i++)
            if (s_obs[i * 4] != s_rew[i] || s_mask[i] != 1.0f) throw std::runtime_error("sample contents");

        std::vector<float> bad(obs);
        bad[7] = std::numeric_limits<float>::quiet_NaN();
        if (mfpo_replay_add_batch(replay.get(), n, bad.data(), act.data(), rew.data(), next.data(), term.data()) !=
            MFPO_ERR_NON_FINITE)
            throw std::runtime_error("non-finite not refused");
        if (mfpo_replay_size(replay.get()) != n) throw std::runtime_error("refused batch changed the buffer");
    } catch (const std::exception &e) {
        std::fprintf(stderr, "consumer (C++): %s\n", e.what());
        return 1;
    }
    std::printf("consumer (C++) ok\n");
    return 0;
}
