/* The exported functions of libzen_agent.so, in C: each forwards to its
 * C++ implementation (impl.h). Written in C so that the library's debug
 * info describes its interface with the header's C types only; that is
 * what //capi:abi_check_test compares with the committed baseline. */
#include <stdlib.h>

#include "capi/impl.h"
#include "zen/zen_agent.h"

const char* zen_agent_version(void) { return ZEN_AGENT_VERSION_STRING; }

const char* zen_status_name(zen_status status) {
  switch (status) {
    case ZEN_OK:
      return "OK";
    case ZEN_CANCELLED:
      return "CANCELLED";
    case ZEN_UNKNOWN:
      return "UNKNOWN";
    case ZEN_INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case ZEN_DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case ZEN_NOT_FOUND:
      return "NOT_FOUND";
    case ZEN_ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case ZEN_PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case ZEN_RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case ZEN_FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case ZEN_ABORTED:
      return "ABORTED";
    case ZEN_OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case ZEN_UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case ZEN_INTERNAL:
      return "INTERNAL";
    case ZEN_UNAVAILABLE:
      return "UNAVAILABLE";
    case ZEN_DATA_LOSS:
      return "DATA_LOSS";
    case ZEN_UNAUTHENTICATED:
      return "UNAUTHENTICATED";
  }
  return "UNKNOWN";
}

void zen_free(void* memory) { free(memory); }

zen_status zen_agent_create(const char* options_json, size_t options_json_len,
                            zen_agent** agent_out, char** message) {
  return zen_impl_agent_create(options_json, options_json_len, agent_out,
                               message);
}

zen_status zen_agent_stop(zen_agent* agent, char** message) {
  return zen_impl_agent_stop(agent, message);
}

void zen_agent_destroy(zen_agent* agent) { zen_impl_agent_destroy(agent); }

int zen_agent_is_parent(const zen_agent* agent) {
  return zen_impl_agent_is_parent(agent);
}

int zen_agent_parent_alive(const zen_agent* agent) {
  return zen_impl_agent_parent_alive(agent);
}

zen_status zen_agent_update_config(zen_agent* agent, const char* json,
                                   size_t json_len, char** message) {
  return zen_impl_agent_update_config(agent, json, json_len, message);
}

zen_status zen_agent_update_firewall_lists(zen_agent* agent, const char* json,
                                           size_t json_len, char** message) {
  return zen_impl_agent_update_firewall_lists(agent, json, json_len, message);
}

zen_status zen_agent_settings_generations(zen_agent* agent,
                                          int64_t* config_generation,
                                          int64_t* firewall_lists_generation,
                                          char** message) {
  return zen_impl_agent_settings_generations(
      agent, config_generation, firewall_lists_generation, message);
}

zen_status zen_agent_config_json(zen_agent* agent, char** json_out,
                                 size_t* json_len, char** message) {
  return zen_impl_agent_config_json(agent, json_out, json_len, message);
}

zen_status zen_agent_firewall_lists_json(zen_agent* agent, char** json_out,
                                         size_t* json_len, char** message) {
  return zen_impl_agent_firewall_lists_json(agent, json_out, json_len, message);
}

zen_status zen_agent_poll_settings(zen_agent* agent, char** message) {
  return zen_impl_agent_poll_settings(agent, message);
}

zen_status zen_agent_rate_limit(zen_agent* agent, const char* method,
                                size_t method_len, const char* route,
                                size_t route_len, const char* ip, size_t ip_len,
                                const char* actor_id, size_t actor_id_len,
                                zen_rate_limit* result, char** message) {
  return zen_impl_agent_rate_limit(agent, method, method_len, route, route_len,
                                   ip, ip_len, actor_id, actor_id_len, result,
                                   message);
}

zen_status zen_agent_record_attack_wave(zen_agent* agent, const char* ip,
                                        size_t ip_len, const char* method,
                                        size_t method_len, const char* path,
                                        size_t path_len,
                                        char** samples_json_out,
                                        size_t* samples_json_len,
                                        int32_t* from_parent, char** message) {
  return zen_impl_agent_record_attack_wave(
      agent, ip, ip_len, method, method_len, path, path_len, samples_json_out,
      samples_json_len, from_parent, message);
}

zen_status zen_agent_track(zen_agent* agent, const char* events_json,
                           size_t events_json_len, char** message) {
  return zen_impl_agent_track(agent, events_json, events_json_len, message);
}

zen_status zen_agent_flush(zen_agent* agent, char** message) {
  return zen_impl_agent_flush(agent, message);
}

zen_status zen_agent_heartbeat(zen_agent* agent, int start_new_period,
                               const char* agent_info_json,
                               size_t agent_info_json_len, char** json_out,
                               size_t* json_len, char** message) {
  return zen_impl_agent_heartbeat(agent, start_new_period, agent_info_json,
                                  agent_info_json_len, json_out, json_len,
                                  message);
}

zen_status zen_agent_mark_middleware_installed(zen_agent* agent,
                                               char** message) {
  return zen_impl_agent_mark_middleware_installed(agent, message);
}

zen_status zen_agent_metrics(zen_agent* agent, char** text_out,
                             size_t* text_len, char** message) {
  return zen_impl_agent_metrics(agent, text_out, text_len, message);
}

zen_status zen_agent_stats_json(zen_agent* agent, char** json_out,
                                size_t* json_len, char** message) {
  return zen_impl_agent_stats_json(agent, json_out, json_len, message);
}

zen_status zen_agent_worker_endpoint(zen_agent* agent, char** host_out,
                                     size_t* host_len, uint16_t* port_out,
                                     uint8_t* secret_out,
                                     size_t secret_out_size, char** message) {
  return zen_impl_agent_worker_endpoint(agent, host_out, host_len, port_out,
                                        secret_out, secret_out_size, message);
}
