/*
 * A program a user would write: C99, -pedantic, only <mfpo.h>, built with
 * `pkg-config --cflags --libs mfpo` against an installed copy (tests/consumer/run.sh).
 */
#include <mfpo.h>

#include <stdio.h>
#include <string.h>

#define CHECK(call)                                                                                                    \
    do {                                                                                                               \
        mfpo_status st_ = (call);                                                                                      \
        if (st_ != MFPO_OK) {                                                                                          \
            fprintf(stderr, "%s:%d: %s -> %s: %s\n", __FILE__, __LINE__, #call, mfpo_status_string(st_),               \
                    mfpo_last_error(ctx));                                                                             \
            return 1;                                                                                                  \
        }                                                                                                              \
    } while (0)

int main(void)
{
    mfpo_context_options options;
    mfpo_context *ctx = NULL;
    mfpo_replay *replay = NULL;
    float obs[3], action[2], next_obs[3];
    float s_obs[8 * 3], s_act[8 * 2], s_rew[8], s_next[8 * 3], s_mask[8];
    int i;

    if (mfpo_version_number() != MFPO_VERSION_NUMBER || strcmp(mfpo_version_string(), MFPO_VERSION_STRING) != 0) {
        fprintf(stderr, "header %s, library %s\n", MFPO_VERSION_STRING, mfpo_version_string());
        return 1;
    }

    mfpo_context_options_init(&options);
    options.backend = MFPO_BACKEND_CPU;
    options.threads = 1;
    options.seed = 42;
    if (mfpo_context_create(&options, &ctx) != MFPO_OK) {
        fprintf(stderr, "mfpo_context_create: %s\n", mfpo_last_error(NULL));
        return 1;
    }
    printf("libmfpo %s on %s\n", mfpo_version_string(), mfpo_context_device_name(ctx));

    CHECK(mfpo_replay_create(ctx, 3, 2, 16, &replay));
    for (i = 0; i < 20; i++) {
        obs[0] = (float)i;
        obs[1] = obs[2] = 0.5f;
        action[0] = 0.25f;
        action[1] = -0.25f;
        next_obs[0] = (float)i + 1;
        next_obs[1] = next_obs[2] = 0.5f;
        CHECK(mfpo_replay_add(replay, obs, action, (float)i, next_obs, i == 19));
    }
    if (mfpo_replay_size(replay) != 16 || mfpo_replay_capacity(replay) != 16) return 1;
    CHECK(mfpo_replay_sample(replay, 8, s_obs, s_act, s_rew, s_next, s_mask));
    for (i = 0; i < 8; i++)
        if (s_obs[i * 3] != s_rew[i] || s_next[i * 3] != s_rew[i] + 1 || s_rew[i] < 4) return 1;

    /* errors come back as statuses with a text naming the argument */
    if (mfpo_replay_add(replay, NULL, action, 0.0f, next_obs, 0) != MFPO_ERR_INVALID_ARGUMENT ||
        strstr(mfpo_last_error(ctx), "obs") == NULL)
        return 1;

    mfpo_replay_destroy(replay);
    mfpo_context_destroy(ctx);
    printf("consumer (C) ok\n");
    return 0;
}
