# frozen_string_literal: true

require "ffi"

module ZenAgent
  # The C ABI (include/zen/zen_agent.h) through Debian's ruby-ffi. Functions
  # the header says may block (a round trip to the master, a join) are
  # attached with `blocking: true`: ffi releases the GVL around them, so the
  # worker's other threads keep running while one waits for the master.
  module Native
    extend FFI::Library

    # The library travels inside the gem, next to this file: no search path,
    # no environment variable.
    LIBRARY_PATH = File.expand_path("libzen_agent.so.1", __dir__)
    ffi_lib LIBRARY_PATH

    # zen_rate_limit, field for field.
    class RateLimit < FFI::Struct
      layout :applies, :int32,
             :throttled, :int32,
             :from_parent, :int32,
             :reserved, :int32,
             :time_remaining_seconds, :int64,
             :time_remaining_ms, :int64,
             :current_requests, :int64,
             :max_requests, :int64,
             :discriminator, :pointer,
             :discriminator_len, :size_t
    end

    # (pointer, length) strings are passed as :pointer with the Ruby String
    # itself; ffi hands the string's bytes to C without a copy.
    STR = [:pointer, :size_t].freeze
    OUT_TEXT = [:pointer, :pointer].freeze # char**, size_t*
    MSG = [:pointer].freeze                # char** message

    attach_function :zen_agent_version, [], :string
    attach_function :zen_status_name, [:int], :string
    attach_function :zen_free, [:pointer], :void

    attach_function :zen_agent_create, [*STR, :pointer, *MSG], :int,
                    blocking: true
    attach_function :zen_agent_stop, [:pointer, *MSG], :int, blocking: true
    attach_function :zen_agent_is_parent, [:pointer], :int
    attach_function :zen_agent_parent_alive, [:pointer], :int

    attach_function :zen_agent_update_config, [:pointer, *STR, *MSG], :int
    attach_function :zen_agent_update_firewall_lists, [:pointer, *STR, *MSG],
                    :int
    attach_function :zen_agent_settings_generations,
                    [:pointer, :pointer, :pointer, *MSG], :int
    attach_function :zen_agent_config_json, [:pointer, *OUT_TEXT, *MSG], :int
    attach_function :zen_agent_firewall_lists_json,
                    [:pointer, *OUT_TEXT, *MSG], :int
    attach_function :zen_agent_poll_settings, [:pointer, *MSG], :int,
                    blocking: true

    attach_function :zen_agent_rate_limit,
                    [:pointer, *STR, *STR, *STR, *STR, RateLimit.by_ref, *MSG],
                    :int, blocking: true
    attach_function :zen_agent_record_attack_wave,
                    [:pointer, *STR, *STR, *STR, *OUT_TEXT, :pointer, *MSG],
                    :int, blocking: true
    attach_function :zen_agent_track, [:pointer, *STR, *MSG], :int
    attach_function :zen_agent_flush, [:pointer, *MSG], :int, blocking: true

    attach_function :zen_agent_heartbeat,
                    [:pointer, :int, *STR, *OUT_TEXT, *MSG], :int
    attach_function :zen_agent_mark_middleware_installed, [:pointer, *MSG],
                    :int
    attach_function :zen_agent_metrics, [:pointer, *OUT_TEXT, *MSG], :int
    attach_function :zen_agent_stats_json, [:pointer, *OUT_TEXT, *MSG], :int

    # Since 1.1. (agent, char** host, size_t* host_len, uint16_t* port,
    # uint8_t* secret, size_t secret_size, char** message)
    SECRET_SIZE = 32 # ZEN_AGENT_SECRET_SIZE
    attach_function :zen_agent_worker_endpoint,
                    [:pointer, *OUT_TEXT, :pointer, :pointer, :size_t, *MSG],
                    :int
  end
end
