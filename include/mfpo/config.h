/**
 * @file config.h
 * @brief Agent configuration: every hyper-parameter of MFPO, defaulting to the paper's values.
 */
#ifndef MFPO_CONFIG_H
#define MFPO_CONFIG_H

#include <stddef.h>

#include "export.h"
#include "status.h"

MFPO_BEGIN_DECLS

/**
 * MFPO hyper-parameters. Fill with mfpo_agent_config_init(), then override fields. The struct only
 * grows at its end; `struct_size` records which fields the caller knows. Defaults are the paper's
 * (its JAX code); docs/algorithm.md §2.5 lists them with their bounds.
 */
typedef struct mfpo_agent_config {
    size_t struct_size;        /**< sizeof(mfpo_agent_config), set by the init call. */
    size_t obs_dim;            /**< Observation size S (>= 1). */
    size_t act_dim;            /**< Action size A (>= 1), actions in [-1, 1]^A. */
    size_t hidden_width;       /**< Width of every hidden layer, all networks. Default 256. */
    size_t hidden_depth;       /**< Hidden layers per network (1..8). Default 3. */
    size_t sampling_steps;     /**< Sampler steps T. Default 2. */
    size_t policy_samples;     /**< K1, policy-proposal samples per state. Default 16. */
    size_t gaussian_samples;   /**< K2, Gaussian-proposal samples per state. Default 32. */
    size_t hutchinson_probes;  /**< Probes for the divergence target. Default 2. */
    size_t atoms;              /**< Critic atoms (>= 2). Default 101. */
    float v_min;               /**< Lowest atom. Default -1600. */
    float v_max;               /**< Highest atom. Default 1600. */
    float gamma;               /**< Discount. Default 0.99. */
    float tau;                 /**< Polyak rate of the target critics. Default 0.005. */
    float lr_policy;           /**< Adam learning rate of u. Default 3e-4. */
    float lr_divergence;       /**< Adam learning rate of d. Default 3e-4. */
    float lr_critic;           /**< Adam learning rate of the critics. Default 3e-4. */
    float lr_alpha;            /**< Adam learning rate of log alpha. Default 3e-4. */
    float init_alpha;          /**< Initial temperature alpha (> 0). Default 0.01. */
    int auto_alpha;            /**< 1: learn alpha (§4d); 0: keep init_alpha fixed. Default 1. */
    float target_entropy_coef; /**< Target entropy = coef * act_dim. Default -0.5. */
    int clipped_double_q;      /**< 1: min of the two critics; 0: their mean. Default 1. */
    size_t actor_delay;        /**< Actor/divergence/alpha steps every this many critic steps. Default 1. */
    size_t eval_candidates;    /**< Candidates scored by action selection. Default 10. */
    size_t batch_size;         /**< Update batch B. Default 256. */
    float flow_fraction;       /**< Share of rows with r = t in (b) and (c). Default 0.75. */
    float time_mean;           /**< Mean of the logit-normal (t, r) draws. Default -0.4. */
    float time_std;            /**< Std of the logit-normal draws. Default 1. */
    size_t fourier_features;   /**< Fourier features per time embedder. Default 64. */
    size_t time_embed_dim;     /**< Width of the time embedding. Default 64. */
    float fourier_init_std;    /**< Std of the Fourier frequencies at init. Default 0.2. */
    float adam_beta1;          /**< Default 0.9. */
    float adam_beta2;          /**< Default 0.999. */
    float adam_eps;            /**< Default 1e-8. */
} mfpo_agent_config;

/** Fills @p config with the defaults for the given dimensions. */
MFPO_API void mfpo_agent_config_init(mfpo_agent_config *config, size_t obs_dim, size_t act_dim);

MFPO_END_DECLS

#endif
