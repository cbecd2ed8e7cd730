/* The library's implementations of the C ABI's functions, one per exported
 * function of include/zen/zen_agent.h with the same parameters: C++
 * (capi/zen_agent_*.cc), hidden, called by the exported wrappers of
 * zen_agent_exports.c. */
#ifndef ZEN_CAPI_IMPL_H_
#define ZEN_CAPI_IMPL_H_

#include <stddef.h>
#include <stdint.h>

#include "zen/zen_agent.h"

#ifdef __cplusplus
extern "C" {
#endif

zen_status zen_impl_agent_create(const char* options_json,
                                 size_t options_json_len, zen_agent** agent_out,
                                 char** message);
zen_status zen_impl_agent_stop(zen_agent* agent, char** message);
void zen_impl_agent_destroy(zen_agent* agent);
int zen_impl_agent_is_parent(const zen_agent* agent);
int zen_impl_agent_parent_alive(const zen_agent* agent);
zen_status zen_impl_agent_update_config(zen_agent* agent, const char* json,
                                        size_t json_len, char** message);
zen_status zen_impl_agent_update_firewall_lists(zen_agent* agent,
                                                const char* json,
                                                size_t json_len,
                                                char** message);
zen_status zen_impl_agent_settings_generations(
    zen_agent* agent, int64_t* config_generation,
    int64_t* firewall_lists_generation, char** message);
zen_status zen_impl_agent_config_json(zen_agent* agent, char** json_out,
                                      size_t* json_len, char** message);
zen_status zen_impl_agent_firewall_lists_json(zen_agent* agent, char** json_out,
                                              size_t* json_len, char** message);
zen_status zen_impl_agent_poll_settings(zen_agent* agent, char** message);
zen_status zen_impl_agent_rate_limit(zen_agent* agent, const char* method,
                                     size_t method_len, const char* route,
                                     size_t route_len, const char* ip,
                                     size_t ip_len, const char* actor_id,
                                     size_t actor_id_len,
                                     zen_rate_limit* result, char** message);
zen_status zen_impl_agent_record_attack_wave(
    zen_agent* agent, const char* ip, size_t ip_len, const char* method,
    size_t method_len, const char* path, size_t path_len,
    char** samples_json_out, size_t* samples_json_len, int32_t* from_parent,
    char** message);
zen_status zen_impl_agent_track(zen_agent* agent, const char* events_json,
                                size_t events_json_len, char** message);
zen_status zen_impl_agent_flush(zen_agent* agent, char** message);
zen_status zen_impl_agent_heartbeat(zen_agent* agent, int start_new_period,
                                    const char* agent_info_json,
                                    size_t agent_info_json_len, char** json_out,
                                    size_t* json_len, char** message);
zen_status zen_impl_agent_mark_middleware_installed(zen_agent* agent,
                                                    char** message);
zen_status zen_impl_agent_metrics(zen_agent* agent, char** text_out,
                                  size_t* text_len, char** message);
zen_status zen_impl_agent_stats_json(zen_agent* agent, char** json_out,
                                     size_t* json_len, char** message);
zen_status zen_impl_agent_worker_endpoint(zen_agent* agent, char** host_out,
                                          size_t* host_len, uint16_t* port_out,
                                          uint8_t* secret_out,
                                          size_t secret_out_size,
                                          char** message);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* ZEN_CAPI_IMPL_H_ */
