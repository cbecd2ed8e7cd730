# frozen_string_literal: true

module ZenAgent
  # Every failure the library reports. #code is the canonical status name
  # as a Symbol (:INVALID_ARGUMENT, :UNAVAILABLE, ...: docs/errors.md),
  # #status its number (gRPC's), #message the library's text.
  class Error < StandardError
    attr_reader :code, :status

    def initialize(code, message, status = nil)
      @code = code
      @status = status
      super(message)
    end

    def inspect
      "#<#{self.class.name} #{code}: #{message}>"
    end
  end
end
