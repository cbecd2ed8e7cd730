# frozen_string_literal: true

require "json"

module ZenAgent
  # One agent per process tree: created in the master before the workers
  # fork, then used by every process with the handle it inherited (a
  # worker's first call connects to the master). Thread-safe; fork-safe.
  # Get it from ZenAgent.start / ZenAgent.agent rather than constructing it.
  class Agent
    EMPTY = "".b.freeze
    APPLIES = Native::RateLimit.offset_of(:applies)
    THROTTLED = Native::RateLimit.offset_of(:throttled)
    TIME_REMAINING = Native::RateLimit.offset_of(:time_remaining_seconds)
    DISCRIMINATOR = Native::RateLimit.offset_of(:discriminator)
    DISCRIMINATOR_LEN = Native::RateLimit.offset_of(:discriminator_len)
    private_constant :EMPTY, :APPLIES, :THROTTLED, :TIME_REMAINING,
                     :DISCRIMINATOR, :DISCRIMINATOR_LEN

    # Per-thread buffers for the per-request calls, so a rate_limit does
    # not allocate ffi memory each time. A forked worker keeps the forking
    # thread's (their contents never outlive a call).
    class Scratch
      attr_reader :rate_limit, :rate_limit_memory, :message, :text, :length,
                  :flag

      def initialize
        @rate_limit = Native::RateLimit.new
        @rate_limit_memory = @rate_limit.pointer
        @message = FFI::MemoryPointer.new(:pointer)
        @text = FFI::MemoryPointer.new(:pointer)
        @length = FFI::MemoryPointer.new(:size_t)
        @flag = FFI::MemoryPointer.new(:int32)
      end
    end
    private_constant :Scratch

    def initialize(handle)
      @handle = handle
      @stopped_in = nil
    end

    # The master's: true in the process that started the agent.
    def parent?
      Native.zen_agent_is_parent(@handle) == 1
    end

    # In a worker: false once the process that forked it has exited.
    def parent_alive?
      Native.zen_agent_parent_alive(@handle) == 1
    end

    # ---- Settings ------------------------------------------------------

    # Master only. The product API's config document (a JSON String, or a
    # Hash to encode). Raises Error (INVALID_ARGUMENT) when it does not
    # parse; the previous settings then stay in force in every process.
    def update_config(json)
      text = document(json)
      check(Native.zen_agent_update_config(@handle, text, text.bytesize,
                                           scratch.message))
      nil
    end

    # Master only. As update_config, for the firewall lists document.
    def update_firewall_lists(json)
      text = document(json)
      check(Native.zen_agent_update_firewall_lists(@handle, text,
                                                   text.bytesize,
                                                   scratch.message))
      nil
    end

    # How many config documents this process applied (0 before the first):
    # a worker's own copy, no round trip.
    def config_generation
      generations[0]
    end

    # As config_generation, for the firewall lists.
    def firewall_lists_generation
      generations[1]
    end

    # The config document's text as the master received it, as this process
    # last applied it; nil before any.
    def config_json
      text_out { |s| Native.zen_agent_config_json(@handle, s.text, s.length, s.message) }
    end

    # As config_json, for the firewall lists.
    def firewall_lists_json
      text_out { |s| Native.zen_agent_firewall_lists_json(@handle, s.text, s.length, s.message) }
    end

    # Asks the master for the current settings now (workers otherwise get
    # changes pushed within milliseconds). Raises Error UNAVAILABLE at once
    # in a worker whose master is gone. Releases the GVL while it waits.
    def poll_settings
      check(Native.zen_agent_poll_settings(@handle, scratch.message))
      nil
    end

    # ---- Per request ---------------------------------------------------

    # Counts one request of (method, route) from `ip` (and `actor_id`)
    # against the limiter all workers share. nil when no limit applies,
    # else {throttled:, discriminator:, time_remaining:} with
    # time_remaining in whole seconds (a throttled client's Retry-After).
    # Releases the GVL while it waits for the master (up to the
    # client's rate_limit_timeout_ms; then this worker decides alone).
    def rate_limit(method:, route:, ip:, actor_id: nil)
      s = scratch
      actor = actor_id.nil? ? EMPTY : actor_id.to_s
      check(Native.zen_agent_rate_limit(@handle, method, method.bytesize,
                                        route, route.bytesize, ip,
                                        ip.bytesize, actor, actor.bytesize,
                                        s.rate_limit, s.message))
      # Typed reads at fixed offsets: a third cheaper than Struct#[].
      r = s.rate_limit_memory
      return nil if r.get_int32(APPLIES).zero?

      pointer = r.get_pointer(DISCRIMINATOR)
      discriminator = pointer.read_string(r.get_uint64(DISCRIMINATOR_LEN))
      Native.zen_free(pointer)
      { throttled: r.get_int32(THROTTLED) == 1,
        discriminator: discriminator.force_encoding(Encoding::UTF_8),
        time_remaining: r.get_int64(TIME_REMAINING) }
    rescue NoMethodError
      # Checked only on failure, to keep the per-request path short.
      strings!(method: method, route: route, ip: ip)
      raise
    end

    # Reports a scanner's probe from `ip` to the master's attack-wave
    # detector. nil, or when this request completes a wave its samples:
    # an Array of {"method" => ..., "url" => ...}.
    def record_attack_wave(ip:, method:, path:)
      strings!(ip: ip, method: method, path: path)
      s = scratch
      check(Native.zen_agent_record_attack_wave(
              @handle, ip, ip.bytesize, method, method.bytesize, path,
              path.bytesize, s.text, s.length, s.flag, s.message
            ))
      text = take_text(s)
      text && JSON.parse(text)
    end

    # Buffers one event (a Hash) or several (an Array of Hashes), or their
    # JSON text, in the reference's event format, e.g.
    # {"type" => "track_request"}; sent to the master with the next flush.
    # Raises Error (INVALID_ARGUMENT) for an event of unknown type or shape
    # (then none of the call's events is kept).
    def track(event)
      text = document(event)
      check(Native.zen_agent_track(@handle, text, text.bytesize,
                                   scratch.message))
      nil
    end

    # Sends this process's buffered events to the master now (a worker does
    # it on its own every heartbeat interval and when it stops). Raises
    # Error UNAVAILABLE at once in a worker whose master is gone.
    def flush
      check(Native.zen_agent_flush(@handle, scratch.message))
      nil
    end

    # ---- Master: statistics and monitoring -----------------------------

    # The reference's heartbeat document (JSON text) for the period so far,
    # folded from every worker's flushed events. Ends the period and starts
    # a new one unless start_new_period: false. agent_info: the document's
    # "agent" block (a Hash or JSON text), written as given.
    def heartbeat(start_new_period: true, agent_info: nil)
      info = agent_info.nil? ? EMPTY : document(agent_info)
      text_out do |s|
        Native.zen_agent_heartbeat(@handle, start_new_period ? 1 : 0, info,
                                   info.bytesize, s.text, s.length, s.message)
      end
    end

    # Master only. Marks the heartbeat's middlewareInstalled.
    def mark_middleware_installed
      check(Native.zen_agent_mark_middleware_installed(@handle,
                                                       scratch.message))
      nil
    end

    # Master only. Prometheus' text format 0.0.4 (serve it with
    # Content-Type "text/plain; version=0.0.4; charset=utf-8").
    def metrics
      text_out { |s| Native.zen_agent_metrics(@handle, s.text, s.length, s.message) }
    end

    # This process's counters (a Hash; docs/c_api.md lists the keys).
    def stats
      JSON.parse(text_out { |s| Native.zen_agent_stats_json(@handle, s.text, s.length, s.message) })
    end

    # Stops this process's part of the agent; idempotent. A worker sends
    # its buffered events first; the master also stops serving its
    # workers. Later calls in this process raise Error (CANCELLED). Raises
    # the flush's Error (e.g. UNAVAILABLE: the master is gone) when those
    # last events could not be sent; the agent is stopped all the same.
    def stop
      return nil if @stopped_in == Process.pid

      @stopped_in = Process.pid
      check(Native.zen_agent_stop(@handle, scratch.message))
      nil
    end

    # ---- Foreign workers -------------------------------------------------

    # What a worker that does not use this gem (e.g. one running the
    # reference aikido-zen agent, docs/ruby.md section 7) needs to reach the
    # master's agent server: {host:, port:, secret:}, host a String
    # ("127.0.0.1"), port an Integer, secret the 32-byte key (a binary
    # String) of every worker's authentication.
    #
    # Whoever holds the secret and can reach the port is trusted as a
    # worker: never log it, put it in ENV, an argument or a file, or send
    # it anywhere; hand it to the worker's client in memory. Every forked
    # worker holds it already (it came with fork); this only copies it into
    # Ruby. The same answer in the master and every worker. Raises Error
    # FAILED_PRECONDITION when the agent listens on a Unix socket
    # (transport: "unix"): the reference speaks TCP only.
    def worker_endpoint
      s = scratch
      port = FFI::MemoryPointer.new(:uint16)
      key = FFI::MemoryPointer.new(:uint8, Native::SECRET_SIZE)
      check(Native.zen_agent_worker_endpoint(@handle, s.text, s.length, port,
                                             key, Native::SECRET_SIZE,
                                             s.message))
      { host: take_text(s).force_encoding(Encoding::UTF_8),
        port: port.read(:uint16),
        secret: key.read_bytes(Native::SECRET_SIZE) }
    ensure
      key&.clear # the ffi buffer's copy; the caller owns the String's
    end

    def inspect
      "#<ZenAgent::Agent #{parent? ? 'master' : 'worker'} pid=#{Process.pid}>"
    end

    private

    def scratch
      Thread.current[:__zen_agent_scratch] ||= Scratch.new
    end

    def generations
      s = scratch
      config = FFI::MemoryPointer.new(:int64, 2)
      check(Native.zen_agent_settings_generations(@handle, config,
                                                  config + 8, s.message))
      config.read_array_of_int64(2)
    end

    def document(value)
      raise TypeError, "expected JSON text, a Hash or an Array, got nil" if value.nil?

      text = value.is_a?(String) ? value : JSON.generate(value)
      text.b
    end

    def strings!(**arguments)
      arguments.each do |name, value|
        next if value.is_a?(String)

        raise TypeError, "#{name} must be a String, got #{value.class}"
      end
    end

    # Calls the block with the scratch buffers for a (char**, size_t*)
    # result, then returns that text (UTF-8) or nil.
    def text_out
      s = scratch
      check(yield(s))
      text = take_text(s)
      text&.force_encoding(Encoding::UTF_8)
    end

    def take_text(scratch)
      pointer = scratch.text.read_pointer
      return nil if pointer.null?

      text = pointer.read_string(scratch.length.read(:size_t))
      Native.zen_free(pointer)
      text
    end

    def check(status)
      return if status.zero?

      ZenAgent.raise_status(status, scratch.message)
    end
  end
end
