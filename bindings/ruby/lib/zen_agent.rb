# frozen_string_literal: true

require "json"
require "zen_agent/version"
require "zen_agent/error"
require "zen_agent/native"
require "zen_agent/agent"

# The worker-process agent for pre-forking Ruby servers (Puma cluster mode,
# Unicorn): start it in the master before the workers fork; every worker
# then shares its settings, its one rate limiter and its statistics.
# docs/ruby.md walks through a Puma and a Unicorn setup.
module ZenAgent
  @agent = nil
  @lock = Mutex.new

  class << self
    # Starts the agent in this process (the master), before the workers
    # fork, and returns it. config / firewall_lists: the first settings
    # documents (JSON text or a Hash), applied before any worker exists.
    # Other keywords are the library's options (docs/c_api.md), e.g.
    # `transport: "unix"`, `client: {rate_limit_timeout_ms: 50}`; an
    # unknown one raises Error (INVALID_ARGUMENT) naming it.
    #
    # Raises Error (ALREADY_EXISTS) when an agent was already started in
    # this process or inherited from a master.
    def start(config: nil, firewall_lists: nil, **options)
      @lock.synchronize do
        if @agent
          raise Error.new(:ALREADY_EXISTS,
                          "ZenAgent.start: an agent is already running " \
                          "(started in process #{@started_in})", 6)
        end

        agent = create(options)
        begin
          agent.update_config(config) unless config.nil?
          agent.update_firewall_lists(firewall_lists) unless firewall_lists.nil?
        rescue Error
          agent.stop
          raise
        end
        @started_in = Process.pid
        @agent = agent
        install_exit_hook
        agent
      end
    end

    # The started agent: in the master and in every process forked from it
    # (nil before start, and after stop in the master).
    attr_reader :agent

    # Stops the agent in this process (see Agent#stop). In the master it
    # also forgets it, so ZenAgent.start may be called again.
    def stop
      agent = @agent
      return nil if agent.nil?

      @agent = nil if Process.pid == @started_in
      agent.stop
    end

    # The C library's version ("1.1.0").
    def library_version
      Native.zen_agent_version
    end

    # Raises the Error for a failed call's status and message (char**,
    # freed here). Used by Agent.
    def raise_status(status, message_pointer)
      text = nil
      pointer = message_pointer.read_pointer
      unless pointer.null?
        text = pointer.read_string.force_encoding(Encoding::UTF_8)
        Native.zen_free(pointer)
        message_pointer.write_pointer(nil)
      end
      name = Native.zen_status_name(status)
      raise Error.new(name.to_sym, text || name, status)
    end

    private

    def create(options)
      text = options.empty? ? "" : JSON.generate(options)
      handle = FFI::MemoryPointer.new(:pointer)
      message = FFI::MemoryPointer.new(:pointer)
      status = Native.zen_agent_create(text, text.bytesize, handle, message)
      raise_status(status, message) unless status.zero?
      Agent.new(handle.read_pointer)
    end

    # Every process that exits normally stops its part: a worker sends its
    # last events, the master stops its server before Ruby tears down.
    # (A process ended by exit! or a signal skips this; its master's view
    # of it then ends with its last flush.)
    def install_exit_hook
      return if @exit_hook

      @exit_hook = true
      at_exit do
        begin
          @agent&.stop
        rescue Error
          nil # the master may be gone; nothing left to report to
        end
      end
    end
  end
end
