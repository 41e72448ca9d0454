# Internal names of lib/ and cuda/ that used the public mfpo_ prefix, renamed to their layer's
# prefix (issue 11: `mfpo_` means public). Apply to C sources and headers written against the old
# names (`sed -i -E -f tests/refactor/rename_internal.sed FILE...`); idempotent.
# core
s/\bmfpo_fail\b/core_fail/g
s/\bmfpo_clear_error\b/core_clear_error/g
s/\bmfpo_host_alloc\b/core_alloc/g
s/\bmfpo_host_free\b/core_free/g
s/\bmfpo_mul_size\b/core_mul_size/g
s/\bmfpo_default_allocator\b/core_default_allocator/g
s/\bmfpo_next_stream\b/core_next_stream/g
# backend
s/\bmfpo_backend_ops\b/be_ops/g
s/\bmfpo_backend\b/be_backend/g
s/\bmfpo_backend_open\b/be_open/g
s/\bmfpo_backend_close\b/be_close/g
s/\bmfpo_backend_parse_env\b/be_parse_env/g
s/\bmfpo_cpu_backend_create\b/be_cpu_create/g
s/\bmfpo_cuda_entry_fn\b/be_cuda_entry_fn/g
s/\bmfpo_reserve_streams\b/be_reserve_streams/g
s/\bmfpo_(atom|clampf|dot|sum|lane_total|dist_mean|c51_project_add|c51_target_row|expected_q_row|expf|flow_times_row|gaussian_candidate|gelu|gelu_grad|ln_apply_jacobian|ln_gelu_row|log_std_normal|normal_at|normal_cdf|normal_quantile|normalize_group|philox_block|sigmoid|snis_row|softmax_stats|sum_sq_dev|truncated_normal|u32_to_open01|uniform_at|xent_row)\b/be_\1/g
s/\bmfpo_cuda_(note|note_blas|use_device|grid|reduce_grid)\b/cu_\1/g
# io
s/\bmfpo_atomic_(file|begin|write|commit|abort)\b/io_atomic_\1/g
s/\bmfpo_errno_text\b/io_errno_text/g
# algo
s/\bmfpo_config_check\b/algo_config_check/g
s/\bmfpo_config_import\b/algo_config_import/g
s/\bmfpo_flow_layout\b/algo_flow_layout/g
s/\bmfpo_critic_layout\b/algo_critic_layout/g
s/\bmfpo_critic_score\b/algo_critic_score/g
s/\bmfpo_critic_release_workspace\b/algo_critic_release_workspace/g
s/\bmfpo_policy_release_workspace\b/algo_policy_release_workspace/g
s/\bmfpo_init_net_params\b/algo_init_net_params/g
s/\bmfpo_check_outputs\b/algo_check_outputs/g
s/\bmfpo_sampler(_init|_free|_run|_set_obs)?\b/algo_sampler\1/g
s/\bmfpo_state_layout(_init)?\b/algo_state_layout\1/g
s/\bmfpo_update_(ws|ws_init|ws_free|hook|run|prepare|stages)\b/algo_update_\1/g
s/\bmfpo_replay_view\b/algo_replay_view/g
s/\bmfpo_replay_raw\b/algo_replay_raw/g
s/\bmfpo_replay_set_position\b/algo_replay_set_position/g
s/\bmfpo_replay_ring_bytes\b/algo_replay_ring_bytes/g
s/\bmfpo_replay_sample_into\b/algo_replay_sample/g
s/\bmfpo_env_map_action\b/algo_env_map_action/g
# api (argument checks shared by the exported functions)
s/\bmfpo_env_validate\b/api_env_validate/g
# row kernels of the MFPO update (lib/algo/kernels_mfpo.h), moved from lib/backend
s/\bmfpo_log_std_normal\b/algo_log_std_normal/g
s/\bbe_log_std_normal\b/algo_log_std_normal/g
s/\bmfpo_flow_times_row\b/algo_flow_times_row/g
s/\bbe_flow_times_row\b/algo_flow_times_row/g
s/\bmfpo_gaussian_candidate\b/algo_gaussian_candidate/g
s/\bbe_gaussian_candidate\b/algo_gaussian_candidate/g
s/\bmfpo_softmax_stats\b/algo_softmax_stats/g
s/\bbe_softmax_stats\b/algo_softmax_stats/g
s/\bmfpo_atom\b/algo_atom/g
s/\bbe_atom\b/algo_atom/g
s/\bmfpo_expected_q_row\b/algo_expected_q_row/g
s/\bbe_expected_q_row\b/algo_expected_q_row/g
s/\bmfpo_c51_project_add\b/algo_c51_project_add/g
s/\bbe_c51_project_add\b/algo_c51_project_add/g
s/\bmfpo_dist_mean\b/algo_dist_mean/g
s/\bbe_dist_mean\b/algo_dist_mean/g
s/\bmfpo_c51_target_row\b/algo_c51_target_row/g
s/\bbe_c51_target_row\b/algo_c51_target_row/g
s/\bmfpo_xent_row\b/algo_xent_row/g
s/\bbe_xent_row\b/algo_xent_row/g
s/\bmfpo_normalize_group\b/algo_normalize_group/g
s/\bbe_normalize_group\b/algo_normalize_group/g
s/\bmfpo_snis_row\b/algo_snis_row/g
s/\bbe_snis_row\b/algo_snis_row/g
